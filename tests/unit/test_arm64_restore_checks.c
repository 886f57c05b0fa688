/*
 * Unit test of what an arm64 restore refuses, against the fake KVM (test_arm64_fakekvm.h): a snapshot of a VM that
 * ran on one fake host is restored on a fake host that differs in one thing - a register its KVM does not list, an
 * ID register value its KVM does not let userspace set, the identity of another CPU without a targets config, another
 * counter frequency, a GIC CPU interface with fewer priority bits (ICC_CTLR_EL1), a GIC whose KVM emulates an older
 * revision (GICD_IIDR), no GICv3 at all. Each is refused with one line naming the thing, and where the check comes
 * before the vCPUs are written, nothing of the saved state reached them. What KVM takes is not refused: fewer
 * priority bits on the source than here, an ID register lowered within the writable fields.
 */
#include "arm64_fake_vm.h"
#include "check.h"
#include "stderr_capture.h"
#include "test_arm64_fakekvm.h"

#include <errno.h>
#include <stdlib.h>
#include <unistd.h>

#define ID_AA64ISAR0_EL1 ARM64_SYS_REG(3, 0, 0, 6, 0)
#define CONTEXTIDR_EL1 ARM64_SYS_REG(3, 0, 13, 0, 1)
#define ICC_CTLR_EL1_OF_CPU0 ((3 << 14) | (0 << 11) | (12 << 7) | (12 << 3) | 4)
#define NEOVERSE_N1 0x414fd0c1ull

static char snapshot_path[64];

/* A snapshot of a VM that ran on the fake host as the knobs are now (the restores then change them). */
static void save_source(void)
{
	static struct vm a;
	struct vm_config cfg = fake_vm_config();
	CHECK_EQ(fake_vm_create(&a, &cfg), 0);
	fake_vm_run_guest(&a);
	CHECK_EQ(fake_vm_save(&a, fake_vm_temp_path(snapshot_path, "checks")), 0);
	vm_destroy(&a);
}

/* Restores the snapshot on the fake host as the test set it; returns the result, *log what roam said. */
static int restore(struct vm *b, char **log)
{
	struct stderr_capture cap;
	stderr_capture_begin(&cap);
	int ret = fake_vm_restore(b, snapshot_path, VM_PREFAULT_AUTO, NULL);
	*log = stderr_capture_end(&cap);
	return ret;
}

/*
 * Restores with the fake host the default one but for `change`, expecting -EINVAL, `line` in roam's words and the
 * restore's last line naming what could not be restored.
 */
static void refused(void (*change)(void), const char *line, const char *last, bool before_vcpus)
{
	static struct vm b;
	char *log;
	fakekvm_reset();
	save_source();
	change();
	CHECK_EQ(restore(&b, &log), -EINVAL);
	CHECK_CONTAINS(log, line);
	CHECK_CONTAINS(log, last);
	if (before_vcpus)
		CHECK(fake_vm_untouched(&b));
	CHECK_EQ(fakekvm.refusals, 0);
	free(log);
	vm_destroy(&b);
	unlink(snapshot_path);
}

static void no_contextidr(void)
{
	fakekvm.host.unlisted[0] = CONTEXTIDR_EL1;
}

static void older_isar0(void)
{
	/* AES 1 (no PMULL) instead of 2: KVM can lower the field, not raise it */
	fakekvm.host.idregs[0].id = ID_AA64ISAR0_EL1;
	fakekvm.host.idregs[0].value = 0x11110;
	fakekvm.host.idregs[0].writable = 0xfffffffffffffff0ull;
}

static void neoverse_n1(void)
{
	fakekvm.host.midr = NEOVERSE_N1;
}

static void faster_counter(void)
{
	fakekvm.host.frequency = 1000000000;
}

static void older_gic(void)
{
	fakekvm.host.gic_revision = 2;
}

static void fewer_priority_bits(void)
{
	fakekvm.host.icc_pri_bits = 5;
}

static void test_refusals(void)
{
	/* A whole snapshot carries PRECHECK: every problem is found there, before anything of the state is applied. */
	const char *vcpus = "section \"precheck\": this host cannot take the guest (1 problem)\n";
	refused(no_contextidr, "vCPU0: register S3_0_C13_C0_1 (0x603000000013c681) does not exist on this host", vcpus,
		true);
	refused(older_isar0,
		"vCPU0: ID_AA64ISAR0_EL1 was 0x11120 on the source; KVM here cannot set that (this host has 0x11110)",
		vcpus, true);
	refused(neoverse_n1,
		"vCPU0: MIDR_EL1 was 0x410fd083 on the source; KVM here cannot set that (this host has 0x414fd0c1)",
		vcpus, true);
	refused(faster_counter,
		"timer: the guest's counter ran at 62500000 Hz on the source host and runs at 1000000000 Hz here; the "
		"guest reads the frequency from the hardware, so its clocks would run 16x as fast\n",
		vcpus, true);
	refused(
	    older_gic,
	    "GIC: the source's GICD_IIDR 0x4b00343b (product 0x4b, revision 3) is not one KVM here emulates (its own "
	    "is 0x4b00243b, revision 2)",
	    vcpus, true);

	/* Three differences at once: one list of all of them (the GIC's priority bits once per CPU interface). */
	static struct vm b;
	char *log;
	fakekvm_reset();
	fakekvm.host.icc_pri_bits = 7;
	save_source();
	faster_counter();
	older_gic();
	fewer_priority_bits();
	CHECK_EQ(restore(&b, &log), -EINVAL);
	CHECK_CONTAINS(log, "this host cannot take the guest (4 problems):\ntimer: ");
	CHECK_CONTAINS(log, "GIC: the source's GICD_IIDR 0x4b00343b");
	CHECK_CONTAINS(log, "ICC_CTLR_EL1 of CPU 0x0: the source's GIC has 7 priority bits");
	CHECK_CONTAINS(log, "ICC_CTLR_EL1 of CPU 0x1: the source's GIC has 7 priority bits");
	CHECK(fake_vm_untouched(&b));
	free(log);
	vm_destroy(&b);
	unlink(snapshot_path);

	/* A source with 7 priority bits (4 active-priority registers per group), a destination with 5. */
	fakekvm_reset();
	fakekvm.host.icc_pri_bits = 7;
	save_source();
	fewer_priority_bits();
	CHECK_EQ(restore(&b, &log), -EINVAL);
	CHECK_CONTAINS(log, "ICC_CTLR_EL1 of CPU 0x0: the source's GIC has 7 priority bits, 16-bit IDs, SEIS 0, A3V 1, "
			    "this host's 5 priority bits, 16-bit IDs, SEIS 0, A3V 1");
	free(log);
	vm_destroy(&b);
	unlink(snapshot_path);

	/* No GICv3 on the host at all: the VM is not even created. */
	fakekvm_reset();
	save_source();
	fakekvm.host.gic_v3 = false;
	CHECK_EQ(restore(&b, &log), -ENODEV);
	CHECK_CONTAINS(log, "KVM_CREATE_DEVICE(GICv3): this host's KVM cannot emulate a GICv3");
	free(log);
	vm_destroy(&b);
	unlink(snapshot_path);
}

/* What KVM takes is restored: fewer priority bits on the source than here, an ID register lowered on the source. */
static void test_accepted(void)
{
	static struct vm b;
	char *log;
	fakekvm_reset();
	fewer_priority_bits();
	older_isar0();
	save_source();
	fakekvm.host.icc_pri_bits = 7;
	fakekvm.host.idregs[0].id = 0;
	CHECK_EQ(restore(&b, &log), 0);
	struct fakekvm_vm *fv = fakekvm_vm_by_fd(b.vm_fd);
	CHECK_EQ(fv->vcpus[1].icc_pri_bits, 5); /* KVM lowered the CPU interface to the source's */
	CHECK_EQ(fakekvm_gic_get(fv, KVM_DEV_ARM_VGIC_GRP_CPU_SYSREGS, 1ull << 32 | ICC_CTLR_EL1_OF_CPU0) >> 8 & 7, 4);
	CHECK_EQ(fakekvm_reg_get64(fv, &fv->vcpus[1], ID_AA64ISAR0_EL1), 0x11110);
	CHECK_EQ(fakekvm.refusals, 0);
	free(log);
	vm_destroy(&b);
	unlink(snapshot_path);
}

int main(void)
{
	fake_vm_setup();
	test_refusals();
	test_accepted();
	fake_vm_teardown();
	return check_exit();
}
