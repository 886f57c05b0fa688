/*
 * Unit test of the PRECHECK path on arm64 against the fake KVM (test_arm64_fakekvm.h): a stream written the way a
 * live migration writes it (the VM's description, the PRECHECK section, then the state) is restored with the hooks
 * of a migration's destination. The arm64 check hooks - counter frequency, vCPU 0's registers and ID registers, the
 * GIC's GICD_IIDR and ICC_CTLR_EL1 - answer "ready" on a host that can take the guest and list every problem
 * otherwise, before any saved state reaches the VM; and the checks leave the VM as they found it, though they try
 * writes.
 */
#include "arch.h"
#include "arm64_fake_vm.h"
#include "check.h"
#include "core/component.h"
#include "snapshot/component_walk.h"
#include "snapshot/precheck.h"
#include "snapshot/snapshot.h"
#include "stderr_capture.h"
#include "test_arm64_fakekvm.h"

#include <errno.h>
#include <stdlib.h>
#include <unistd.h>

#define ID_AA64ISAR0_EL1 ARM64_SYS_REG(3, 0, 0, 6, 0)
#define CONTEXTIDR_EL1 ARM64_SYS_REG(3, 0, 13, 0, 1)

/* What the destination's hooks heard, and what the fake VM held when they did. */
struct answer {
	struct vm *vm;
	int calls, problems;
	char report[PRECHECK_REPORT_LEN];
	uint64_t isar0; /* vCPU 0's ID_AA64ISAR0_EL1 */
	uint32_t gic_revision;
};

static void on_prechecked(void *opaque, int problems, const char *report)
{
	struct answer *a = opaque;
	struct fakekvm_vm *fv = fakekvm_vm_by_fd(a->vm->vm_fd);
	a->calls++;
	a->problems = problems;
	snprintf(a->report, sizeof(a->report), "%s", report);
	a->isar0 = fakekvm_reg_get64(fv, &fv->vcpus[0], ID_AA64ISAR0_EL1);
	a->gic_revision = fv->gic.revision;
}

/* Writes a VM that ran its guest to `path` as a live migration's stream: description, PRECHECK, state, END. */
static void save_stream(struct vm *a, char path[64])
{
	const struct component *table[COMPONENT_MAX], *config[COMPONENT_MAX], *state[COMPONENT_MAX];
	int n = component_table(table), nr_config = 0, nr_state = 0;
	for (int i = 0; i < n; i++)
		if (table[i]->flags & COMPONENT_CONFIG)
			config[nr_config++] = table[i];
		else
			state[nr_state++] = table[i];
	struct vm_config cfg = fake_vm_config();
	CHECK_EQ(fake_vm_create(a, &cfg), 0);
	fake_vm_run_guest(a);
	struct snapshot_writer w;
	uint64_t pages;
	CHECK_EQ(snapshot_writer_open_path(&w, fake_vm_temp_path(path, "stream"), arch_name()), 0);
	CHECK_EQ(component_walk_write(a, &w, config, nr_config, &pages), 0);
	CHECK_EQ(precheck_write(a, &w, table, n), 0);
	CHECK_EQ(component_walk_write(a, &w, state, nr_state, &pages), 0);
	CHECK_EQ(snapshot_writer_commit(&w), 0);
}

/* Restores the stream as a destination; returns the result, with what the hooks heard in *heard and roam's log. */
static int receive(struct vm *b, const char *path, struct answer *heard, char **log)
{
	struct component_walk_hooks hooks = {.prechecked = on_prechecked, .opaque = heard};
	struct stderr_capture cap;
	memset(heard, 0, sizeof(*heard));
	heard->vm = b;
	stderr_capture_begin(&cap);
	int ret = fake_vm_restore(b, path, VM_PREFAULT_AUTO, &hooks);
	*log = stderr_capture_end(&cap);
	return ret;
}

/*
 * The source lowered ID_AA64ISAR0_EL1 within KVM's writable fields and runs an older GIC revision: the destination
 * takes both, and its checks tried them without leaving them behind.
 */
static void test_ready(void)
{
	static struct vm a, b;
	static struct answer heard;
	char path[64], *log;
	fakekvm_reset();
	fakekvm.host.idregs[0].id = ID_AA64ISAR0_EL1;
	fakekvm.host.idregs[0].value = 0x11110;
	fakekvm.host.idregs[0].writable = 0xfffffffffffffff0ull;
	fakekvm.host.gic_revision = 2;
	save_stream(&a, path);
	fakekvm.host.idregs[0].id = 0;
	fakekvm.host.gic_revision = 3;
	CHECK_EQ(receive(&b, path, &heard, &log), 0);
	CHECK_EQ(heard.calls, 1);
	CHECK_EQ(heard.problems, 0);
	CHECK_EQ(heard.report[0], 0);
	CHECK_EQ(heard.isar0, 0x11120); /* this host's, as before the checks */
	CHECK_EQ(heard.gic_revision, 3);
	struct fakekvm_vm *fv = fakekvm_vm_by_fd(b.vm_fd);
	CHECK_EQ(fakekvm_reg_get64(fv, &fv->vcpus[1], ID_AA64ISAR0_EL1), 0x11110); /* then the source's */
	CHECK_EQ(fv->gic.revision, 2);
	CHECK_EQ(fake_vm_differences(&a, &b), 0);
	CHECK_EQ(fakekvm.refusals, 0);
	free(log);
	vm_destroy(&a);
	vm_destroy(&b);
	unlink(path);
}

/*
 * A host that differs in five ways: all named (the GIC's priority bits once per CPU interface), before anything of
 * the guest reaches the VM.
 */
static void test_refused(void)
{
	static struct vm a, b;
	static struct answer heard;
	char path[64], *log;
	fakekvm_reset();
	fakekvm.host.icc_pri_bits = 7;
	save_stream(&a, path);
	fakekvm.host.icc_pri_bits = 5;
	fakekvm.host.frequency = 25000000;
	fakekvm.host.unlisted[0] = CONTEXTIDR_EL1;
	fakekvm.host.idregs[0].id = ID_AA64ISAR0_EL1;
	fakekvm.host.idregs[0].value = 0x11110;
	fakekvm.host.idregs[0].writable = 0xfffffffffffffff0ull;
	fakekvm.host.gic_revision = 2;
	CHECK_EQ(receive(&b, path, &heard, &log), -EINVAL);
	CHECK_EQ(heard.calls, 1);
	CHECK_EQ(heard.problems, 6);
	CHECK_CONTAINS(heard.report, "timer: the guest's counter ran at 62500000 Hz on the source host and runs at "
				     "25000000 Hz here");
	CHECK_CONTAINS(heard.report, "vCPU0: register S3_0_C13_C0_1 (0x603000000013c681) does not exist on this host");
	CHECK_CONTAINS(heard.report, "vCPU0: ID_AA64ISAR0_EL1 was 0x11120 on the source; KVM here cannot set that");
	CHECK_CONTAINS(heard.report, "GIC: the source's GICD_IIDR 0x4b00343b (product 0x4b, revision 3) is not one");
	CHECK_CONTAINS(heard.report, "ICC_CTLR_EL1 of CPU 0x0: the source's GIC has 7 priority bits");
	CHECK_CONTAINS(heard.report, "ICC_CTLR_EL1 of CPU 0x1: the source's GIC has 7 priority bits");
	CHECK_CONTAINS(log, "this host cannot take the guest (6 problems):\ntimer: ");
	struct fakekvm_vm *fv = fakekvm_vm_by_fd(b.vm_fd);
	CHECK(fake_vm_untouched(&b));
	CHECK_EQ(fakekvm_gic_get(fv, KVM_DEV_ARM_VGIC_GRP_DIST_REGS, 0) & 2, 0); /* GICD_CTLR as reset */
	CHECK_EQ(fakekvm.refusals, 0);
	free(log);
	vm_destroy(&a);
	vm_destroy(&b);
	unlink(path);
}

int main(void)
{
	fake_vm_setup();
	test_ready();
	test_refused();
	fake_vm_teardown();
	return check_exit();
}
