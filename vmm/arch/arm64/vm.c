/*
 * arm64 VM setup on KVM: the VM type (IPA size), required capabilities, the in-kernel GICv3 and interrupt lines,
 * and vCPU initialization (PSCI 0.2+, secondaries powered off until PSCI CPU_ON).
 */
#include "core/vm.h"
#include "arch.h"
#include "arm64.h"
#include "core/log.h"
#include "core/sys_ioctl.h"
#include "core/vcpu.h"
#include "core/vcpu_reg.h"
#include "layout.h"
#include "smccc.h"
#include "targets/targets_vm.h"
#include "targets_kvm.h"

#include <errno.h>
#include <linux/kvm.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* KVM_CHECK_EXTENSION on the KVM or VM fd; 0 when unsupported or on error. */
static long arm64_check_cap(int fd, long cap)
{
	long ret = __SYS_IOCTL_VALUE(fd, KVM_CHECK_EXTENSION, cap);
	return ret < 0 ? 0 : ret;
}

static uint32_t bits_for(uint64_t end)
{
	uint32_t bits = 32; /* KVM's smallest IPA size */
	while (bits < 64 && (1ull << bits) < end)
		bits++;
	return bits;
}

int arch_vm_type(struct vm *vm)
{
	uint64_t ram_end = ARM64_RAM_BASE + vm->cfg.ram_size;
	uint32_t needed = bits_for(ram_end);
	long max = arm64_check_cap(vm->kvm_fd, KVM_CAP_ARM_VM_IPA_SIZE);
	if (max == 0)
		max = 40; /* KVM without the capability gives every VM 40 bits */
	if (needed > (uint32_t)max)
		return log_errno(-EINVAL,
				 "--mem %llu MiB needs a %u-bit guest physical address space; KVM on this host "
				 "supports %ld bits",
				 (unsigned long long)(vm->cfg.ram_size >> 20), needed, max);
	/* The smallest IPA size that fits keeps the VM movable to hosts with fewer IPA bits. */
	return (int)KVM_VM_TYPE_ARM_IPA_SIZE(needed);
}

static const struct {
	long cap;
	const char *name;
	const char *why;
} arm64_required_caps[] = {
    {KVM_CAP_ONE_REG, "KVM_CAP_ONE_REG", "register access"},
    {KVM_CAP_DEVICE_CTRL, "KVM_CAP_DEVICE_CTRL", "the in-kernel GIC"},
    {KVM_CAP_ARM_PSCI_0_2, "KVM_CAP_ARM_PSCI_0_2", "PSCI firmware for vCPU power control"},
    {KVM_CAP_USER_MEMORY, "KVM_CAP_USER_MEMORY", "guest memory"},
};

int arch_vm_init(struct vm *vm)
{
	for (size_t i = 0; i < sizeof(arm64_required_caps) / sizeof(arm64_required_caps[0]); i++)
		if (!arm64_check_cap(vm->vm_fd, arm64_required_caps[i].cap))
			return log_errno(-ENOTSUP, "KVM on this host lacks %s, which roam needs for %s",
					 arm64_required_caps[i].name, arm64_required_caps[i].why);
	vm->arch = calloc(1, sizeof(*vm->arch));
	if (!vm->arch)
		return -ENOMEM;
	vm->arch->gic_fd = -1;
	vm->arch->ipa_bits = bits_for(ARM64_RAM_BASE + vm->cfg.ram_size);

	/* Without this, a guest store KVM cannot decode (no syndrome) makes KVM_RUN fail with ENOSYS. */
	if (arm64_check_cap(vm->vm_fd, KVM_CAP_ARM_NISV_TO_USER)) {
		struct kvm_enable_cap cap = {.cap = KVM_CAP_ARM_NISV_TO_USER};
		long ret = SYS_IOCTL(vm->vm_fd, KVM_ENABLE_CAP, &cap, "KVM_CAP_ARM_NISV_TO_USER");
		if (ret < 0)
			return (int)ret;
	}
	return arm64_targets_prepare(vm);
}

void arch_vm_fini(struct vm *vm)
{
	if (!vm->arch)
		return;
	targets_vm_release(vm);
	if (vm->arch->gic_fd >= 0)
		close(vm->arch->gic_fd);
	free(vm->arch);
	vm->arch = NULL;
}

static int arm64_gic_set(int gic_fd, uint32_t group, uint64_t attr, void *value, const char *what)
{
	struct kvm_device_attr da = {.group = group, .attr = attr, .addr = (uint64_t)(uintptr_t)value};
	long ret = SYS_IOCTL(gic_fd, KVM_SET_DEVICE_ATTR, &da, what);
	return ret < 0 ? (int)ret : 0;
}

int arm64_gic_create(int vm_fd, uint32_t nr_irqs)
{
	struct kvm_create_device dev = {.type = KVM_DEV_TYPE_ARM_VGIC_V3};
	long ret = __SYS_IOCTL(vm_fd, KVM_CREATE_DEVICE, &dev);
	if (ret == -ENODEV)
		return log_errno((int)ret, "KVM_CREATE_DEVICE(GICv3): this host's KVM cannot emulate a GICv3");
	if (ret < 0)
		return log_errno((int)ret, "KVM_CREATE_DEVICE(GICv3): %s", strerror((int)-ret));
	int fd = (int)dev.fd;
	uint64_t dist = ARM64_GIC_DIST_BASE, redist = ARM64_GIC_REDIST_BASE;
	int err = arm64_gic_set(fd, KVM_DEV_ARM_VGIC_GRP_ADDR, KVM_VGIC_V3_ADDR_TYPE_DIST, &dist, "GIC distributor");
	if (!err)
		err = arm64_gic_set(fd, KVM_DEV_ARM_VGIC_GRP_ADDR, KVM_VGIC_V3_ADDR_TYPE_REDIST, &redist,
				    "GIC redistributors");
	if (!err && nr_irqs)
		err = arm64_gic_set(fd, KVM_DEV_ARM_VGIC_GRP_NR_IRQS, 0, &nr_irqs, "GIC interrupt count");
	if (!err)
		err = arm64_gic_set(fd, KVM_DEV_ARM_VGIC_GRP_CTRL, KVM_DEV_ARM_VGIC_CTRL_INIT, NULL, "GIC init");
	if (err) {
		close(fd);
		return err;
	}
	return fd;
}

int arch_irqchip_init(struct vm *vm)
{
	if ((uint64_t)vm->nr_vcpus * ARM64_GIC_REDIST_STRIDE > ARM64_GIC_REDIST_SIZE)
		return log_errno(-EINVAL, "--cpus %d: the GIC redistributor region holds at most %d", vm->nr_vcpus,
				 (int)(ARM64_GIC_REDIST_SIZE / ARM64_GIC_REDIST_STRIDE));
	int fd = arm64_gic_create(vm->vm_fd, 32 + ARM64_NR_SPIS);
	if (fd < 0)
		return fd;
	vm->arch->gic_fd = fd;
	return arm64_targets_apply_gic(vm);
}

int arch_irq_line(struct vm *vm, uint32_t irq, bool level)
{
	struct kvm_irq_level line = {
	    .irq = (KVM_ARM_IRQ_TYPE_SPI << KVM_ARM_IRQ_TYPE_SHIFT) | (irq + 32),
	    .level = level,
	};
	long ret = SYS_IOCTL(vm->vm_fd, KVM_IRQ_LINE, &line, "SPI");
	return ret < 0 ? (int)ret : 0;
}

int arch_vcpu_init(struct vcpu *vcpu)
{
	struct vm *vm = vcpu->vm;
	struct kvm_vcpu_init init;
	memset(&init, 0, sizeof(init));
	long ret = SYS_IOCTL(vm->vm_fd, KVM_ARM_PREFERRED_TARGET, &init, vcpu->name);
	if (ret < 0)
		return (int)ret;
	init.features[0] |= 1u << KVM_ARM_VCPU_PSCI_0_2;
	if (vcpu->id > 0)
		init.features[0] |= 1u << KVM_ARM_VCPU_POWER_OFF; /* secondaries wait for PSCI CPU_ON */
	ret = SYS_IOCTL(vcpu->fd, KVM_ARM_VCPU_INIT, &init, vcpu->name);
	if (ret < 0)
		return (int)ret;
	vcpu->arch = calloc(1, sizeof(*vcpu->arch));
	if (!vcpu->arch)
		return -ENOMEM;
	ret = arm64_get_reg(vcpu, ARM64_SYS_REG(3, 0, 0, 0, 5), &vcpu->arch->mpidr, "MPIDR_EL1");
	return ret ? (int)ret : arm64_targets_apply(vcpu);
}

void arch_vcpu_fini(struct vcpu *vcpu)
{
	free(vcpu->arch);
	vcpu->arch = NULL;
}

int arch_handle_exit(struct vcpu *vcpu)
{
	struct kvm_run *run = vcpu->run;
	switch (run->exit_reason) {
	case KVM_EXIT_HYPERCALL:
		return arm64_smccc_handle_exit(vcpu);
	case KVM_EXIT_ARM_NISV:
		return log_errno(-EIO,
				 "%s: the guest accessed %#llx with an instruction that has no valid syndrome (ESR ISS "
				 "%#llx), so neither KVM nor roam can emulate it; stopping the VM",
				 vcpu->name, (unsigned long long)run->arm_nisv.fault_ipa,
				 (unsigned long long)run->arm_nisv.esr_iss);
	default:
		return log_errno(-EIO, "%s: unexpected KVM exit reason %u; stopping the VM", vcpu->name,
				 run->exit_reason);
	}
}

int arm64_get_reg(struct vcpu *vcpu, uint64_t id, uint64_t *value, const char *what)
{
	return vcpu_get_one_reg(vcpu, id, value, what);
}

int arm64_set_reg(struct vcpu *vcpu, uint64_t id, uint64_t value, const char *what)
{
	return vcpu_set_one_reg(vcpu, id, value, what);
}

uint64_t arm64_core_reg_x(int n)
{
	return KVM_REG_ARM64 | KVM_REG_SIZE_U64 | KVM_REG_ARM_CORE |
	       (offsetof(struct kvm_regs, regs.regs) / sizeof(uint32_t) + 2 * (uint64_t)n);
}

uint64_t arm64_core_reg_pc(void)
{
	return KVM_REG_ARM64 | KVM_REG_SIZE_U64 | KVM_REG_ARM_CORE |
	       (offsetof(struct kvm_regs, regs.pc) / sizeof(uint32_t));
}

uint64_t arm64_core_reg_pstate(void)
{
	return KVM_REG_ARM64 | KVM_REG_SIZE_U64 | KVM_REG_ARM_CORE |
	       (offsetof(struct kvm_regs, regs.pstate) / sizeof(uint32_t));
}
