/*
 * hostile_hcall: hypercalls with every argument all-ones (docs/hypercalls.md, docs/security.md), driven by
 * tests/lab/hostile.sh with `roam run -c 2`, once plain and once with --targets. Each of roam's function IDs (PV
 * lock, target discovery) and KVM's vendor FEATURES call is made with x1..x4 all ones, with the function ID's upper
 * 32 bits set too, and 10,000 times in a row; so are IDs nobody implements (all ones, roam's range past its own).
 * Every answer must be a documented status (0, NOT_SUPPORTED -1, INVALID_PARAMETER -3), PV_LOCK_PREEMPTED must still
 * name the caller's own struct, and roam must log nothing and let the guest finish (DONE).
 */
#include "guest.h"

#include "arch/arm64/layout.h"

#include <stdbool.h>

#define PV_LOCK_FEATURES 0xc6000060u
#define PV_LOCK_PREEMPTED 0xc6000061u
#define DISCOVER_IMPL_VER 0xc6000040u
#define DISCOVER_IMPL_CPUS 0xc6000041u
#define VENDOR_HYP_FEATURES 0x86000000u
#define NOT_SUPPORTED ((uint64_t)-1)
#define INVALID_PARAMETER ((uint64_t)-3)
#define ONES (~0ull)

static struct smccc_res ones(uint64_t fid)
{
	return smccc_hvc(fid, ONES, ONES, ONES, ONES);
}

static void expect_status(const char *what, uint64_t got, uint64_t want)
{
	if (got != want)
		GUEST_ABORT("%s: status 0x%llx, expected 0x%llx", what, (unsigned long long)got,
			    (unsigned long long)want);
}

static uint64_t own_struct(void)
{
	struct smccc_res r = smccc_hvc(PV_LOCK_PREEMPTED, 0, 0, 0, 0);
	expect_status("PV_LOCK_PREEMPTED", r.a0, 0);
	return r.a1;
}

void guest_main(uint64_t dtb)
{
	(void)dtb;
	uint64_t mine = own_struct();
	GUEST_ASSERT(mine >= ARM64_PVLOCK_BASE && mine + 64 <= ARM64_PVLOCK_BASE + ARM64_PVLOCK_SIZE);

	/* roam's PV-lock calls: FEATURES of an all-ones function is NOT_SUPPORTED; PREEMPTED ignores its arguments. */
	expect_status("PV_LOCK_FEATURES(all ones)", ones(PV_LOCK_FEATURES).a0, NOT_SUPPORTED);
	expect_status("PV_LOCK_FEATURES(PV_LOCK_PREEMPTED with its upper bits set)",
		      smccc_hvc(PV_LOCK_FEATURES, PV_LOCK_PREEMPTED | 0xffffffff00000000ull, ONES, ONES, ONES).a0,
		      NOT_SUPPORTED);
	struct smccc_res r = ones(PV_LOCK_PREEMPTED);
	expect_status("PV_LOCK_PREEMPTED(all ones)", r.a0, 0);
	GUEST_ASSERT_EQ(r.a1, mine);
	/* The function ID is w0: x0's upper 32 bits set still name roam's call. */
	r = smccc_hvc(0xffffffff00000000ull | PV_LOCK_PREEMPTED, ONES, ONES, ONES, ONES);
	expect_status("PV_LOCK_PREEMPTED (x0 upper bits set)", r.a0, 0);
	GUEST_ASSERT_EQ(r.a1, mine);

	/* Target discovery: NOT_SUPPORTED without --targets (KVM answers), INVALID_PARAMETER for junk with them. */
	r = ones(DISCOVER_IMPL_VER);
	bool targets = r.a0 == 0;
	if (targets) {
		GUEST_ASSERT_EQ(r.a1, 0x00010000);
		GUEST_ASSERT(r.a2 >= 1 && r.a2 <= 16);
		expect_status("DISCOVER_IMPL_CPUS(all ones)", ones(DISCOVER_IMPL_CPUS).a0, INVALID_PARAMETER);
		expect_status("DISCOVER_IMPL_CPUS(index past the end)", smccc_hvc(DISCOVER_IMPL_CPUS, r.a2, 0, 0, 0).a0,
			      INVALID_PARAMETER);
		expect_status("DISCOVER_IMPL_CPUS(0, all ones)", smccc_hvc(DISCOVER_IMPL_CPUS, 0, ONES, ONES, ONES).a0,
			      INVALID_PARAMETER);
		expect_status("DISCOVER_IMPL_CPUS(0)", smccc_hvc(DISCOVER_IMPL_CPUS, 0, 0, 0, 0).a0, 0);
	} else {
		expect_status("DISCOVER_IMPL_VER(all ones)", r.a0, NOT_SUPPORTED);
		expect_status("DISCOVER_IMPL_CPUS(all ones)", ones(DISCOVER_IMPL_CPUS).a0, NOT_SUPPORTED);
	}

	/* KVM's vendor FEATURES (roam adds its bits): arguments are ignored. */
	r = ones(VENDOR_HYP_FEATURES);
	GUEST_ASSERT(r.a0 & 1);
	GUEST_ASSERT_EQ(r.a3 & 3, 3);

	/* IDs nobody implements: all ones, and the vendor-hypervisor numbers after roam's. */
	expect_status("function 0xffffffff", ones(0xffffffffull).a0, NOT_SUPPORTED);
	expect_status("function ~0", ones(ONES).a0, NOT_SUPPORTED);
	for (uint64_t fid = 0xc6000062u; fid <= 0xc600007fu; fid++)
		expect_status("an unused vendor function", ones(fid).a0, NOT_SUPPORTED);

	/* A flood: the answers stay the same. */
	for (int i = 0; i < 10000; i++) {
		r = ones(i & 1 ? PV_LOCK_PREEMPTED : PV_LOCK_FEATURES);
		if (i & 1 ? r.a0 != 0 || r.a1 != mine : r.a0 != NOT_SUPPORTED)
			GUEST_ABORT("call %d of the flood answered 0x%llx 0x%llx", i, (unsigned long long)r.a0,
				    (unsigned long long)r.a1);
	}
	guest_printf("hostile-hcall: all-ones hypercalls answered as documented%s, 10000 in a row too\n",
		     targets ? " (with targets)" : "");
	GUEST_DONE();
}
