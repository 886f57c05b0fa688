/* Applying a targets config to a VM on KVM: see targets_kvm.h. */
#include "targets_kvm.h"

#include "arm64.h"
#include "core/log.h"
#include "core/sys_ioctl.h"
#include "core/vcpu.h"
#include "core/vm.h"
#include "gic_state.h"
#include "idregs.h"
#include "profile_kvm.h"
#include "targets.h"
#include "targets/targets_vm.h"

#include <errno.h>
#include <inttypes.h>
#include <linux/kvm.h>
#include <stdlib.h>

int arm64_targets_prepare(struct vm *vm)
{
	int ret = targets_vm_load(vm, &arm64_targets_ops);
	if (ret || !vm->targets.config)
		return ret;
	struct arm64_cpu_profile *host = calloc(1, sizeof(*host));
	ret = host ? arm64_profile_capture(vm->cfg.kvm_path, NULL, host) : -ENOMEM;
	if (!ret)
		ret = targets_vm_check_host(vm, &arm64_targets_ops, host);
	free(host);
	if (ret)
		return ret;

	/* MIDR, REVIDR and AIDR are writable only with this capability, enabled before any vCPU exists. */
	struct kvm_enable_cap cap = {.cap = KVM_CAP_ARM_WRITABLE_IMP_ID_REGS};
	if (__SYS_IOCTL_VALUE(vm->vm_fd, KVM_CHECK_EXTENSION, KVM_CAP_ARM_WRITABLE_IMP_ID_REGS) > 0) {
		long r = SYS_IOCTL(vm->vm_fd, KVM_ENABLE_CAP, &cap, "KVM_CAP_ARM_WRITABLE_IMP_ID_REGS");
		if (r < 0)
			return (int)r;
	}
	return 0;
}

/* Writes one register and reads it back; a difference is an error naming the register. */
static int targets_set_verified(struct vcpu *vcpu, uint32_t enc, uint64_t value)
{
	char name[ARM64_IDREG_NAME_MAX];
	arm64_idreg_name(enc, name);
	uint64_t current;
	struct kvm_one_reg probe = {.id = arm64_sysreg_id(enc), .addr = (uint64_t)(uintptr_t)&current};
	if (__SYS_IOCTL(vcpu->fd, KVM_GET_ONE_REG, &probe) == -ENOENT && value == 0)
		return 0; /* this KVM does not know the register and shows it to the guest as 0 anyway */
	int ret = arm64_set_reg(vcpu, arm64_sysreg_id(enc), value, name);
	if (ret)
		return ret;
	uint64_t back;
	ret = arm64_get_reg(vcpu, arm64_sysreg_id(enc), &back, name);
	if (ret)
		return ret;
	if (back != value)
		return log_errno(-EIO, "%s %s: wrote %#" PRIx64 ", KVM reads back %#" PRIx64, vcpu->name, name, value,
				 back);
	return 0;
}

int arm64_targets_apply(struct vcpu *vcpu)
{
	const struct arm64_targets *t = vcpu->vm->targets.config;
	if (!t)
		return 0;
	int ret = targets_set_verified(vcpu, ARM64_MIDR_EL1, t->guest_midr);
	if (!ret)
		ret = targets_set_verified(vcpu, ARM64_REVIDR_EL1, t->guest_revidr);
	if (!ret)
		ret = targets_set_verified(vcpu, ARM64_AIDR_EL1, t->guest_aidr);
	for (int i = 0; !ret && i < t->nr_regs; i++) {
		uint32_t enc = t->regs[i].enc;
		if (enc == ARM64_MIDR_EL1 || enc == ARM64_REVIDR_EL1 || enc == ARM64_AIDR_EL1 || enc == ARM64_MPIDR_EL1)
			continue;
		ret = targets_set_verified(vcpu, enc, t->regs[i].value);
	}
	return ret;
}

int arm64_targets_apply_gic(struct vm *vm)
{
	const struct arm64_targets *t = vm->targets.config;
	return t && t->compat.known ? arm64_gic_set_cpuif(vm, t->compat.icc_ctlr) : 0;
}
