/*
 * Unit test of `roam run --targets` beyond the ID registers, against the fake KVM (test_arm64_fakekvm.h): the
 * profile records the GIC CPU interface and the counter frequency of the fake host; a targets config that lowered
 * the priority and ID bits gets them into every vCPU's ICC_CTLR_EL1 (read back from the fake GIC); and a host that
 * differs in several ways is refused with one report that lists all of them.
 */
#include "arch/arm64/gic_cpuif.h"
#include "arch/arm64/profile_kvm.h"
#include "arch/arm64/targets.h"
#include "arm64_fake_vm.h"
#include "check.h"
#include "stderr_capture.h"
#include "targets/targets.h"
#include "test_arm64_fakekvm.h"

#include <errno.h>
#include <stdlib.h>
#include <unistd.h>

#define ICC_CTLR_OF(aff0) ((uint64_t)(aff0) << 32 | ARM64_ICC_CTLR_EL1_ENC)

static char targets_path[64];

/*
 * A targets config of this fake host and another whose GIC CPU interface is `icc`; then its GIC CPU interface and
 * counter frequency are set to `icc` and `cntfrq`, as a config made for other hosts would have them.
 */
static void write_targets(uint64_t icc, uint64_t cntfrq)
{
	static struct arm64_cpu_profile p[2];
	static struct arm64_targets t;
	char err[2048];
	CHECK_EQ(arm64_profile_capture("/dev/null", "here", &p[0]), 0);
	p[1] = p[0];
	snprintf(p[1].name, sizeof(p[1].name), "other");
	p[1].compat.icc_ctlr = icc;
	CHECK_EQ(arm64_targets_merge(p, 2, NULL, &t, err, sizeof(err)), 0);
	t.compat.icc_ctlr = icc;
	t.compat.cntfrq = cntfrq;
	fake_vm_temp_path(targets_path, "targets");
	CHECK_EQ(targets_save_targets(&arm64_targets_ops, targets_path, &t, err, sizeof(err)), 0);
}

static void test_profile(void)
{
	static struct arm64_cpu_profile p;
	fakekvm_reset();
	CHECK_EQ(arm64_profile_capture("/dev/null", "here", &p), 0);
	CHECK(p.compat.known);
	struct arm64_gic_cpuif f = arm64_gic_cpuif_decode(p.compat.icc_ctlr);
	CHECK_EQ(f.pri_bits, fakekvm.host.icc_pri_bits);
	CHECK_EQ(f.a3v, fakekvm.host.icc_a3v);
	CHECK_EQ(p.compat.cntfrq, fakekvm.host.frequency);
	CHECK_EQ(p.compat.pmu_counters, 0); /* the fake host has no PMU */
}

/* Fewer priority and ID bits than the host's: every vCPU gets them, and KVM keeps them. */
static void test_lowered(void)
{
	static struct vm vm;
	fakekvm_reset();
	fakekvm.host.icc_pri_bits = 7;
	fakekvm.host.icc_id_bits = 1;
	write_targets((4ull << 8) | ((uint64_t)fakekvm.host.icc_a3v << 15), fakekvm.host.frequency);
	struct vm_config cfg = fake_vm_config();
	cfg.targets_path = targets_path;
	CHECK_EQ(fake_vm_create(&vm, &cfg), 0);
	struct fakekvm_vm *fv = fakekvm_vm_by_fd(vm.vm_fd);
	for (int v = 0; v < FAKE_VM_CPUS; v++) {
		uint64_t icc = fakekvm_gic_get(fv, KVM_DEV_ARM_VGIC_GRP_CPU_SYSREGS, ICC_CTLR_OF(v));
		CHECK_EQ(icc >> 8 & 7, 4);
		CHECK_EQ(icc >> 11 & 7, 0);
		CHECK_EQ(fv->vcpus[v].icc_pri_bits, 5);
	}
	vm_destroy(&vm);
	unlink(targets_path);
}

/* More priority bits than this host has and another frequency: both in one report, nothing runs. */
static void test_refused(void)
{
	static struct vm vm;
	struct stderr_capture cap;
	fakekvm_reset();
	write_targets((6ull << 8) | ((uint64_t)fakekvm.host.icc_a3v << 15), fakekvm.host.frequency * 2);
	fakekvm.host.icc_pri_bits = 5;
	struct vm_config cfg = fake_vm_config();
	cfg.targets_path = targets_path;
	stderr_capture_begin(&cap);
	int ret = fake_vm_create(&vm, &cfg);
	char *log = stderr_capture_end(&cap);
	CHECK_EQ(ret, -EINVAL);
	CHECK_CONTAINS(log, "this host cannot present the CPU of ");
	CHECK_CONTAINS(log, ": 2 problems; the check says:");
	CHECK_CONTAINS(log, "error cntfrq-differs ");
	CHECK_CONTAINS(log, "error gic-cpuif ");
	CHECK_CONTAINS(log, "ICC_CTLR_EL1: the targets' GIC has 7 priority bits");
	free(log);
	vm_destroy(&vm);
	unlink(targets_path);
}

int main(void)
{
	fake_vm_setup();
	test_profile();
	test_lowered();
	test_refused();
	fake_vm_teardown();
	return check_exit();
}
