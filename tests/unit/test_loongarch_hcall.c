/*
 * Unit test of LoongArch hypercall answers and IOCSR emulation on synthetic exits: a kvm_run filled as KVM fills it
 * for `hvcl 0x102` (nr 0x102, args = a0..a5) goes through the shared dispatcher with target discovery and the PV
 * lock registered under roam's LoongArch function IDs; the test checks the status KVM will put in a0 and the
 * a1..a3 values roam must write. Then IOCSR reads and writes as KVM_EXIT_LOONGARCH_IOCSR delivers them.
 */
#include "arch/loongarch/hcall.h"
#include "arch/loongarch/iocsr.h"
#include "arch/loongarch/layout.h"
#include "check.h"
#include "hypercalls/discover_impl.h"
#include "hypercalls/pvlock.h"
#include "test_loongarch_fakekvm.h"

#include <errno.h>
#include <linux/kvm.h>

struct hcall_case {
	const char *what;
	uint64_t nr;
	uint64_t a[4]; /* a0 (function) .. a3 */
	int vcpu;
	int64_t status;
	int nr_out;
	uint64_t out[3];
};

#define VER LOONGARCH_ROAM_DISCOVER_IMPL_VER
#define CPUS LOONGARCH_ROAM_DISCOVER_IMPL_CPUS
#define PVF LOONGARCH_ROAM_PV_LOCK_FEATURES
#define PVP LOONGARCH_ROAM_PV_LOCK_PREEMPTED
#define PVLOCK_GPA 0x1e100000ull

static const struct hcall_case cases[] = {
    {"discovery version", 0x102, {VER}, 0, 0, 3, {0x10000, 2, 0}},
    {"first target", 0x102, {CPUS, 0}, 1, 0, 3, {0x14c010, 0, 0}},
    {"second target", 0x102, {CPUS, 1}, 0, 0, 3, {0x14d000, 0, 0}},
    {"index out of range", 0x102, {CPUS, 2}, 0, -2, 3, {0, 0, 0}},
    {"huge index", 0x102, {CPUS, UINT64_MAX}, 0, -2, 3, {0, 0, 0}},
    {"nonzero a2", 0x102, {CPUS, 0, 1}, 0, -2, 3, {0, 0, 0}},
    {"nonzero a3", 0x102, {CPUS, 0, 0, 1}, 0, -2, 3, {0, 0, 0}},
    {"PV lock: is PREEMPTED there?", 0x102, {PVF, PVP}, 0, 0, 0, {0}},
    {"PV lock: is FEATURES there?", 0x102, {PVF, PVF}, 0, 0, 0, {0}},
    {"PV lock: an unknown function", 0x102, {PVF, 0x1234}, 0, -1, 0, {0}},
    {"PV lock: vCPU 3's struct", 0x102, {PVP}, 3, 0, 3, {PVLOCK_GPA + 3 * 64, 0, 0}},
    {"PV lock: a vCPU beyond the region", 0x102, {PVP}, 4, -2, 3, {0, 0, 0}},
    {"unknown function", 0x102, {LOONGARCH_ROAM_FID(0x77)}, 0, -1, 3, {0, 0, 0}},
    {"arm64's discovery number means nothing here", 0x102, {0xc6000040}, 0, -1, 3, {0, 0, 0}},
    {"not a user-service call", 0x100, {VER}, 0, -1, 0, {0}},
};

static void test_hypercalls(void)
{
	struct hypercall_table t;
	struct discover_impl_service disc = {.nr = 2};
	struct pvlock_service pv = {PVLOCK_GPA, 4, PVF, PVP};
	disc.impl[0].id[0] = 0x14c010;
	disc.impl[1].id[0] = 0x14d000;
	hypercall_table_init(&t);
	CHECK_EQ(discover_impl_register(&t, &disc, VER, CPUS), 0);
	CHECK_EQ(pvlock_register(&t, &pv), 0);
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		const struct hcall_case *c = &cases[i];
		struct kvm_run run;
		uint64_t out[3] = {0xbad, 0xbad, 0xbad};
		memset(&run, 0, sizeof(run));
		run.exit_reason = KVM_EXIT_HYPERCALL;
		run.hypercall.nr = c->nr;
		for (int k = 0; k < 4; k++)
			run.hypercall.args[k] = c->a[k];
		run.hypercall.args[4] = run.hypercall.args[5] = 0x5555;
		run.hypercall.ret = (uint64_t)-1; /* KVM's preset */
		int n = loongarch_hcall_answer(&t, &run, c->vcpu, out);
		if (n != c->nr_out || (int64_t)run.hypercall.ret != c->status)
			fprintf(stderr, "case '%s': n %d status %lld\n", c->what, n, (long long)run.hypercall.ret);
		CHECK_EQ(n, c->nr_out);
		CHECK_EQ(run.hypercall.ret, (uint64_t)c->status);
		for (int k = 0; k < n; k++)
			CHECK_EQ(out[k], c->out[k]);
	}
	/* The IDs carry "ROAM" in their upper half. */
	CHECK_EQ(VER >> 32, 0x524f414d);
}

static void test_iocsr(void)
{
	struct loongarch_iocsr s;
	uint8_t d[8];
	loongarch_iocsr_init(&s);
	CHECK_EQ(loongarch_iocsr_access(&s, 0, LOONGARCH_IOCSR_FEATURES, d, 8, false), 0);
	CHECK_EQ(d[0], 0x1c); /* MSI, EXTIOI, CSRIPI */
	CHECK_EQ(d[1], 0x08); /* VM */
	CHECK_EQ(loongarch_iocsr_access(&s, 0, LOONGARCH_IOCSR_VENDOR, d, 8, false), 0);
	CHECK(!memcmp(d, "Loongson", 8));
	CHECK_EQ(loongarch_iocsr_access(&s, 0, LOONGARCH_IOCSR_CPUNAME, d, 8, false), 0);
	CHECK(!memcmp(d, "3A5000\0\0", 8));
	CHECK_EQ(loongarch_iocsr_access(&s, 0, LOONGARCH_IOCSR_CPUNAME + 4, d, 2, false), 0); /* narrow, offset */
	CHECK(d[0] == '0' && d[1] == '0');
	CHECK_EQ(loongarch_iocsr_access(&s, 0, 0, d, 4, false), 0);
	CHECK_EQ(d[0], 0x11);
	/* MISC_FUNC reads back what was written, a 4-byte write merging into the 8-byte register. */
	uint8_t w[8] = {1, 2, 3, 4, 5, 6, 7, 8};
	CHECK_EQ(loongarch_iocsr_access(&s, 1, LOONGARCH_IOCSR_MISC_FUNC, w, 8, true), 0);
	uint8_t w4[4] = {0xaa, 0xbb, 0xcc, 0xdd};
	CHECK_EQ(loongarch_iocsr_access(&s, 1, LOONGARCH_IOCSR_MISC_FUNC + 4, w4, 4, true), 0);
	CHECK_EQ(loongarch_iocsr_access(&s, 2, LOONGARCH_IOCSR_MISC_FUNC, d, 8, false), 0);
	CHECK(d[0] == 1 && d[3] == 4 && d[4] == 0xaa && d[7] == 0xdd);
	/* Anything else: reads 0, writes dropped, reported (8 times, then quiet). */
	memset(d, 0xff, 8);
	CHECK_EQ(loongarch_iocsr_access(&s, 3, 0x500, d, 8, false), 0);
	CHECK_EQ(d[0] | d[7], 0);
	CHECK_EQ(loongarch_iocsr_access(&s, 3, 0x500, w, 3, true), -EINVAL);
	CHECK_EQ(loongarch_iocsr_access(&s, 3, 0x506, d, 4, false), -EINVAL); /* crosses the register */
	CHECK_EQ(atomic_load(&s.reports), 3);
}

static struct loongarch_iocsr report_state;

static void many_unknown(void *arg)
{
	(void)arg;
	uint8_t d[8];
	loongarch_iocsr_init(&report_state);
	for (int i = 0; i < 10; i++)
		loongarch_iocsr_access(&report_state, 7, 0x600, d, 4, i & 1);
}

static void test_iocsr_reports(void)
{
	const char *text = fakekvm_capture(many_unknown, NULL);
	CHECK_CONTAINS(text,
		       "roam: vCPU7: guest IOCSR read of 4 bytes at 0x600: roam emulates nothing there (reads 0)");
	CHECK_CONTAINS(text, "write of 4 bytes at 0x600: roam emulates nothing there (ignored)");
	CHECK_CONTAINS(text, "further reports suppressed");
	int lines = 0;
	for (const char *p = text; *p; p++)
		lines += *p == '\n';
	CHECK_EQ(lines, LOONGARCH_IOCSR_REPORT_LIMIT);
}

int main(void)
{
	test_hypercalls();
	test_iocsr();
	test_iocsr_reports();
	return check_exit();
}
