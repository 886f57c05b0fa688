/*
 * pvlock: the PV-lock guest ABI (docs/hypercalls.md) on two vCPUs, driven by tests/lab/pvlock.sh.
 *
 *  1. vCPU0 checks PV_LOCK_FEATURES (both roam functions known, others not), the vendor FEATURES bitmap (KVM's own
 *     services plus roam's bits 96/97), and PV_LOCK_PREEMPTED: status 0 and a 64-byte aligned struct address inside
 *     the PV-lock window, different for each vCPU; its own flag reads 0 while it runs.
 *  2. vCPU1 spins in the guest forever. vCPU0 prints "ready for pause" and waits until vCPU1's flag reads 1 (the
 *     host paused vCPU1 through the control socket), checks vCPU1 makes no progress while paused, then waits for 0
 *     (resumed).
 *  3. vCPU0 writes to its own and vCPU1's struct: roam reports the writes and nothing changes.
 *  4. vCPU0 prints "ready for hogs" and samples vCPU1's flag for HOG_SECONDS while the host runs CPU hogs: vCPU1
 *     never leaves the guest, so a flag of 1 can only come from roam following the host scheduler.
 * Every wait is bounded; a timeout is a GUEST_ABORT naming the phase.
 */
#include "guest.h"

#include "arch/arm64/layout.h"

#include <stdatomic.h>

#define PV_LOCK_FEATURES 0xc6000060u
#define PV_LOCK_PREEMPTED 0xc6000061u
#define VENDOR_HYP_FEATURES 0x86000000u
#define NOT_SUPPORTED ((uint64_t)-1)
#define WAIT_SECONDS 120
#define HOG_SECONDS 15

static atomic_ulong vcpu1_struct;
static atomic_ulong vcpu1_progress;

static uint64_t now(void)
{
	isb();
	return read_sysreg(cntvct_el0);
}

static uint64_t flag_of(uint64_t ipa)
{
	/* The region is identity-mapped; a load-acquire is what a waiter uses. */
	return __atomic_load_n((volatile uint64_t *)(uintptr_t)ipa, __ATOMIC_ACQUIRE);
}

static uint64_t preempted_struct(void)
{
	struct smccc_res r = smccc_hvc(PV_LOCK_PREEMPTED, 0, 0, 0, 0);
	GUEST_ASSERT_EQ(r.a0, 0);
	GUEST_ASSERT(r.a1 >= ARM64_PVLOCK_BASE && r.a1 + 64 <= ARM64_PVLOCK_BASE + ARM64_PVLOCK_SIZE);
	GUEST_ASSERT_EQ(r.a1 % 64, 0);
	return r.a1;
}

static void vcpu1_spin(unsigned int cpu)
{
	(void)cpu;
	atomic_store(&vcpu1_struct, preempted_struct());
	for (;;)
		atomic_fetch_add_explicit(&vcpu1_progress, 1, memory_order_relaxed);
}

static void wait_flag(uint64_t ipa, uint64_t want, const char *phase)
{
	uint64_t deadline = now() + WAIT_SECONDS * read_sysreg(cntfrq_el0);
	while (flag_of(ipa) != want)
		if (now() > deadline)
			GUEST_ABORT("%s: the flag stayed %llu for %d s", phase, (unsigned long long)flag_of(ipa),
				    WAIT_SECONDS);
}

/* Waits until vCPU1's flag has read 1 for a whole second in which vCPU1 made no progress: the host paused it. */
static void wait_paused(uint64_t ipa, uint64_t freq)
{
	uint64_t deadline = now() + WAIT_SECONDS * freq;
	for (;;) {
		wait_flag(ipa, 1, "pause");
		uint64_t progress = atomic_load(&vcpu1_progress), start = now();
		while (flag_of(ipa) == 1 && atomic_load(&vcpu1_progress) == progress)
			if (now() - start > freq)
				return;
		if (now() > deadline)
			GUEST_ABORT("pause: vCPU1 was never held for a second");
	}
}

void guest_main(uint64_t dtb)
{
	(void)dtb;
	uint64_t freq = read_sysreg(cntfrq_el0);
	GUEST_ASSERT_EQ(smccc_hvc(PV_LOCK_FEATURES, PV_LOCK_PREEMPTED, 0, 0, 0).a0, 0);
	GUEST_ASSERT_EQ(smccc_hvc(PV_LOCK_FEATURES, PV_LOCK_FEATURES, 0, 0, 0).a0, 0);
	GUEST_ASSERT_EQ(smccc_hvc(PV_LOCK_FEATURES, 0xc6000062u, 0, 0, 0).a0, NOT_SUPPORTED);
	struct smccc_res f = smccc_hvc(VENDOR_HYP_FEATURES, 0, 0, 0, 0);
	GUEST_ASSERT(f.a0 & 1); /* KVM's FEATURES itself */
	GUEST_ASSERT_EQ(f.a3 & 3, 3); /* roam's functions 96 and 97 */
	guest_printf("pvlock-guest: vendor features 0x%llx 0x%llx 0x%llx 0x%llx\n", (unsigned long long)f.a0,
		     (unsigned long long)f.a1, (unsigned long long)f.a2, (unsigned long long)f.a3);

	uint64_t mine = preempted_struct();
	/*
	 * Running, so 0 - eventually: the host's scheduler tracking writes the flag a few ms after a switch (docs/
	 * hypercalls.md), so a vCPU switched out and back in just now may still read 1 for that long.
	 */
	wait_flag(mine, 0, "vCPU0 running (its own flag)");
	GUEST_ASSERT_EQ(guest_smp_start(vcpu1_spin), 2);
	uint64_t deadline = now() + WAIT_SECONDS * freq;
	while (!atomic_load(&vcpu1_struct))
		if (now() > deadline)
			GUEST_ABORT("vCPU1 did not report its struct");
	uint64_t theirs = atomic_load(&vcpu1_struct);
	GUEST_ASSERT(theirs != mine);
	wait_flag(theirs, 0, "vCPU1 running");
	guest_printf("pvlock-guest: structs at 0x%llx and 0x%llx\n", (unsigned long long)mine,
		     (unsigned long long)theirs);

	/* Ordinary preemption also sets the flag, for milliseconds; a pause holds it at 1 with no progress. */
	guest_printf("pvlock-guest: ready for pause\n");
	wait_paused(theirs, freq);
	guest_printf("pvlock-guest: saw vCPU1 preempted=1 while paused\n");
	wait_flag(theirs, 0, "resume");
	uint64_t resumed_at = atomic_load(&vcpu1_progress);
	deadline = now() + WAIT_SECONDS * freq;
	while (atomic_load(&vcpu1_progress) == resumed_at)
		if (now() > deadline)
			GUEST_ABORT("resume: vCPU1 makes no progress");
	guest_printf("pvlock-guest: saw vCPU1 preempted=0 after resume\n");

	*(volatile uint64_t *)(uintptr_t)mine = 0x5a5a;
	*(volatile uint64_t *)(uintptr_t)theirs = 1;
	*(volatile uint64_t *)(uintptr_t)(mine + 8) = 7;
	GUEST_ASSERT_EQ(flag_of(mine), 0);
	GUEST_ASSERT_EQ(*(volatile uint64_t *)(uintptr_t)(mine + 8), 0);
	guest_printf("pvlock-guest: guest writes had no effect\n");

	guest_printf("pvlock-guest: ready for hogs\n");
	uint64_t seen = 0, samples = 0;
	for (uint64_t end = now() + HOG_SECONDS * freq; now() < end; samples++)
		seen += flag_of(theirs);
	guest_printf("pvlock-guest: hogs: vCPU1 preempted in %llu of %llu samples\n", (unsigned long long)seen,
		     (unsigned long long)samples);
	GUEST_ASSERT(seen > 0);
	GUEST_DONE();
}
