/*
 * Unit test of the arm64 VM glue against the fake KVM (test_arm64_fakekvm.h): vm_create() of roam's own core runs
 * arch_vm_init, arch_vcpu_init, arch_irqchip_init and the boot setup for arm64, and the test checks what reached
 * "KVM": the IPA size, the vCPUs (PSCI 0.2, secondaries powered off, distinct MPIDRs), the GICv3's addresses and
 * interrupt count from the layout, the memory slots, the boot registers (PC at the Image, X0 at a device tree), the
 * SMCCC filter. Two VMs live side by side. Then every refusal with its message: no GICv3, a missing capability,
 * more memory than the host's IPA size, a failing ioctl named with its object.
 */
#include "arch/arm64/arm64.h"
#include "arch/arm64/layout.h"
#include "arm64_fake_vm.h"
#include "check.h"
#include "core/vcpu.h"
#include "pvlock/pvlock.h"
#include "stderr_capture.h"
#include "test_arm64_fakekvm.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

/* vm_create with roam's messages captured: returns its result, *log what it said. */
static int create(struct vm *vm, const struct vm_config *cfg, char **log)
{
	struct stderr_capture cap;
	stderr_capture_begin(&cap);
	int ret = fake_vm_create(vm, cfg);
	*log = stderr_capture_end(&cap);
	return ret;
}

/* The first `len` bytes of the file at `path` equal guest memory at `host`. */
static bool same_as_file(const char *path, const uint8_t *host, size_t len)
{
	uint8_t *buf = malloc(len);
	FILE *f = fopen(path, "rb");
	bool same = buf && f && fread(buf, 1, len, f) == len && host && !memcmp(buf, host, len);
	if (f)
		fclose(f);
	free(buf);
	return same;
}

static bool has_slot_at(struct fakekvm_vm *fv, uint64_t gpa, uint64_t size)
{
	for (int s = 0; s < FAKEKVM_MAX_SLOTS; s++)
		if (fv->slots[s].region.memory_size == size && fv->slots[s].region.guest_phys_addr == gpa)
			return true;
	return false;
}

static void check_vm(struct vm *vm, const struct vm_config *cfg)
{
	struct fakekvm_vm *fv = fakekvm_vm_by_fd(vm->vm_fd);
	CHECK(fv != NULL);
	if (!fv)
		return;
	CHECK_EQ(fv->ipa_bits, 32); /* the smallest that holds RAM: the VM stays movable */
	CHECK(fv->nisv_to_user);
	CHECK_EQ(fv->nr_vcpus, cfg->nr_vcpus);
	for (int v = 0; v < fv->nr_vcpus; v++) {
		struct fakekvm_vcpu *c = fakekvm_vcpu_by_fd(vm->vcpus[v].fd, NULL);
		CHECK(c && c->initialized);
		if (!c)
			continue;
		CHECK(c->features & 1u << KVM_ARM_VCPU_PSCI_0_2);
		CHECK_EQ(!!(c->features & 1u << KVM_ARM_VCPU_POWER_OFF), v > 0); /* secondaries wait for CPU_ON */
		CHECK_EQ(vm->vcpus[v].arch->mpidr, fakekvm_reg_get64(fv, c, ARM64_SYS_REG(3, 0, 0, 0, 5)));
		for (int w = 0; w < v; w++)
			CHECK(vm->vcpus[v].arch->mpidr != vm->vcpus[w].arch->mpidr);
	}
	CHECK(fv->gic.fd >= 0 && fv->gic.initialized);
	CHECK_EQ(fv->gic.dist_base, ARM64_GIC_DIST_BASE);
	CHECK_EQ(fv->gic.redist_base, ARM64_GIC_REDIST_BASE);
	CHECK_EQ(fv->gic.nr_irqs, 32 + ARM64_NR_SPIS);
	CHECK(has_slot_at(fv, ARM64_RAM_BASE, cfg->ram_size));
	CHECK(vm->pvlock != NULL);
	CHECK(vm->pvlock && has_slot_at(fv, vm->pvlock->gpa, vm->pvlock->size));
	CHECK(fv->nr_filters > 0); /* roam's hypercalls are forwarded to it */

	struct fakekvm_vcpu *c0 = fakekvm_vcpu_by_fd(vm->vcpus[0].fd, NULL);
	uint64_t pc = fakekvm_reg_get64(fv, c0, arm64_core_reg_pc());
	uint64_t x0 = fakekvm_reg_get64(fv, c0, arm64_core_reg_x(0));
	CHECK(pc >= ARM64_RAM_BASE && pc < ARM64_RAM_BASE + cfg->ram_size);
	CHECK(same_as_file(cfg->kernel_path, fakekvm_guest(fv, pc, 0x10000), 0x10000));
	const uint8_t *dtb = fakekvm_guest(fv, x0, 4);
	CHECK(dtb && !memcmp(dtb, "\xd0\x0d\xfe\xed", 4));
	if (cfg->dump_dtb_path && dtb) { /* --dump-dtb: the very blob the guest gets */
		uint32_t size = (uint32_t)dtb[4] << 24 | (uint32_t)dtb[5] << 16 | (uint32_t)dtb[6] << 8 | dtb[7];
		struct stat st;
		CHECK(stat(cfg->dump_dtb_path, &st) == 0 && (uint64_t)st.st_size == size);
		CHECK(same_as_file(cfg->dump_dtb_path, fakekvm_guest(fv, x0, size), size));
	}
}

/* Two VMs of different sizes at once, each with its own vCPUs, GIC and memory. */
static void test_create(void)
{
	static struct vm a, b;
	char *log;
	fakekvm_reset();
	struct vm_config cfg_a = fake_vm_config(), cfg_b = fake_vm_config();
	char dtb_path[64];
	cfg_a.dump_dtb_path = fake_vm_temp_path(dtb_path, "dtb");
	cfg_b.nr_vcpus = 3;
	cfg_b.ram_size = 32ull << 20;
	CHECK_EQ(create(&a, &cfg_a, &log), 0);
	free(log);
	CHECK_EQ(create(&b, &cfg_b, &log), 0);
	free(log);
	CHECK(a.vm_fd != b.vm_fd);
	check_vm(&a, &cfg_a);
	check_vm(&b, &cfg_b);
	CHECK_EQ(fakekvm.refusals, 0);
	vm_destroy(&a);
	CHECK(fakekvm_vm_by_fd(b.vm_fd) != NULL); /* the other VM lives on */
	check_vm(&b, &cfg_b);
	vm_destroy(&b);
	unlink(dtb_path);
}

/* Creates a VM on the fake host as the test changed it, expecting `err` and `line`. */
static void refused(struct vm_config cfg, int err, const char *line)
{
	static struct vm vm;
	char *log;
	CHECK_EQ(create(&vm, &cfg, &log), err);
	CHECK_CONTAINS(log, line);
	CHECK_EQ(fakekvm.refusals, 0);
	free(log);
	vm_destroy(&vm);
}

static void test_failures(void)
{
	fakekvm_reset();
	fakekvm.host.gic_v3 = false;
	refused(fake_vm_config(), -ENODEV, "KVM_CREATE_DEVICE(GICv3): this host's KVM cannot emulate a GICv3");

	fakekvm_reset();
	fakekvm.host.missing_caps[0] = KVM_CAP_ARM_PSCI_0_2;
	refused(fake_vm_config(), -ENOTSUP,
		"KVM on this host lacks KVM_CAP_ARM_PSCI_0_2, which roam needs for PSCI firmware for vCPU power "
		"control");

	fakekvm_reset();
	fakekvm.host.max_ipa_bits = 32;
	struct vm_config big = fake_vm_config();
	big.ram_size = 3ull << 30 | 1ull << 20; /* up to 0x100100000: 33 bits */
	refused(big, -EINVAL,
		"--mem 3073 MiB needs a 33-bit guest physical address space; KVM on this host supports "
		"32 bits");

	/* A failing ioctl is named with its object (sys_ioctl_named over the fake's sys_ioctl_raw). */
	fakekvm_reset();
	fakekvm.host.fail_request = KVM_ARM_VCPU_INIT;
	fakekvm.host.fail_after = 2;
	fakekvm.host.fail_errno = EINVAL;
	refused(fake_vm_config(), -EINVAL, "KVM_ARM_VCPU_INIT(vCPU1): Invalid argument");
}

int main(void)
{
	fake_vm_setup();
	test_create();
	test_failures();
	fake_vm_teardown();
	return check_exit();
}
