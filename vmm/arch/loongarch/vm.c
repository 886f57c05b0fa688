/*
 * LoongArch VM setup on KVM: capabilities, the three in-kernel interrupt controllers (IPI and EIOINTC in IOCSR
 * space, PCH-PIC at its MMIO base), vCPU initialization (CSR.CPUID, the CPUCFG words, the paravirtual features
 * with USER_HCALL when roam answers hypercalls and VIRT_EXTIOI beyond 4 vCPUs), interrupt lines and the exits KVM
 * leaves to the VMM (user-service hypercalls, IOCSR accesses).
 */
#include "core/vm.h"

#include "arch.h"
#include "core/log.h"
#include "core/sys_ioctl.h"
#include "core/vcpu.h"
#include "csr.h"
#include "hcall.h"
#include "layout.h"
#include "loongarch.h"
#include "power.h"
#include "targets/targets_vm.h"
#include "targets_kvm.h"

#include <asm/kvm_para.h>
#include <errno.h>
#include <linux/kvm.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* EIOINTC features (arch/loongarch/include/asm/kvm_eiointc.h): the virtualization extension and what it offers. */
#define EIOINTC_VIRT_FEATURES 0xfu /* HAS_VIRT_EXTENSION | HAS_ENABLE_OPTION | HAS_INT_ENCODE | HAS_CPU_ENCODE */

int arch_vm_type(struct vm *vm)
{
	(void)vm;
	return 0;
}

static const struct {
	long cap;
	const char *name;
	const char *why;
} loongarch_required_caps[] = {
    {KVM_CAP_ONE_REG, "KVM_CAP_ONE_REG", "register access"},
    {KVM_CAP_IMMEDIATE_EXIT, "KVM_CAP_IMMEDIATE_EXIT", "pausing vCPUs"},
    {KVM_CAP_USER_MEMORY, "KVM_CAP_USER_MEMORY", "guest memory"},
};

int arch_vm_init(struct vm *vm)
{
	for (size_t i = 0; i < sizeof(loongarch_required_caps) / sizeof(loongarch_required_caps[0]); i++)
		if (__SYS_IOCTL_VALUE(vm->vm_fd, KVM_CHECK_EXTENSION, loongarch_required_caps[i].cap) <= 0)
			return log_errno(-ENOTSUP, "KVM on this host lacks %s, which roam needs for %s",
					 loongarch_required_caps[i].name, loongarch_required_caps[i].why);
	vm->arch = calloc(1, sizeof(*vm->arch));
	if (!vm->arch)
		return -ENOMEM;
	vm->arch->ipi_fd = vm->arch->eiointc_fd = vm->arch->pch_pic_fd = -1;
	loongarch_iocsr_init(&vm->arch->iocsr);
	/* Beyond 4 vCPUs the EIOINTC routes with its virtualization extension (the guest sees VIRT_EXTIOI). */
	vm->arch->eiointc_features = vm->cfg.nr_vcpus > LOONGARCH_EIOINTC_PLAIN_MAX_VCPUS ? EIOINTC_VIRT_FEATURES : 0;
	int ret = loongarch_power_create(vm);
	return ret ? ret : targets_vm_load(vm, &loongarch_targets_ops);
}

void arch_vm_fini(struct vm *vm)
{
	if (!vm->arch)
		return;
	targets_vm_release(vm);
	int fds[3] = {vm->arch->ipi_fd, vm->arch->eiointc_fd, vm->arch->pch_pic_fd};
	for (int i = 0; i < 3; i++)
		if (fds[i] >= 0)
			close(fds[i]);
	free(vm->arch);
	vm->arch = NULL;
}

/*
 * The paravirtual features every vCPU gets: KVM's defaults plus the VMM-configurable ones roam uses, decided by
 * vCPU 0 (KVM fixes a VM's features at the first vCPU that sets them) and repeated by the others.
 */
static int loongarch_set_pv_features(struct vcpu *vcpu)
{
	struct arch_vm *a = vcpu->vm->arch;
	bool hcalls = vcpu->vm->targets.config || vcpu->vm->pvlock;
	uint64_t pv = a->pv_features;
	int ret = 0;
	if (vcpu->id == 0) {
		ret = loongarch_attr(vcpu->fd, false, KVM_LOONGARCH_VCPU_CPUCFG, CPUCFG_KVM_FEATURE, &pv, vcpu->name);
		if (ret)
			return ret;
		if (a->eiointc_features)
			pv |= 1u << KVM_FEATURE_VIRT_EXTIOI;
		if (hcalls)
			pv |= 1u << KVM_FEATURE_USER_HCALL;
	}
	ret = __loongarch_attr(vcpu->fd, true, KVM_LOONGARCH_VCPU_CPUCFG, CPUCFG_KVM_FEATURE, &pv);
	if (ret == -EINVAL && vcpu->id == 0 && hcalls && !vcpu->vm->targets.config) {
		/* Only the PV lock wanted hypercalls: run without them rather than not at all. */
		log_info("KVM on this host cannot pass user-service hypercalls to roam (USER_HCALL); the guest gets no "
			 "PV-lock hypercalls");
		pv &= ~(uint64_t)(1u << KVM_FEATURE_USER_HCALL);
		ret = __loongarch_attr(vcpu->fd, true, KVM_LOONGARCH_VCPU_CPUCFG, CPUCFG_KVM_FEATURE, &pv);
	}
	if (ret)
		return log_errno(ret, "KVM_SET_DEVICE_ATTR(%s CPUCFG_KVM_FEATURE %#llx): %s%s", vcpu->name,
				 (unsigned long long)pv, strerror(-ret),
				 ret == -EINVAL ? " (this host's KVM does not offer a paravirtual feature roam needs: "
						  "USER_HCALL for --targets, VIRT_EXTIOI for more than 4 vCPUs)"
						: "");
	a->pv_features = (uint32_t)pv;
	return 0;
}

int arch_vcpu_init(struct vcpu *vcpu)
{
	struct vm *vm = vcpu->vm;
	vcpu->arch = calloc(1, sizeof(*vcpu->arch));
	if (!vcpu->arch)
		return -ENOMEM;
	vcpu->arch->cpuid = (uint32_t)vcpu->id;
	int ret = 0;
	if (!vm->arch->guest_words_ready)
		ret = loongarch_guest_words_prepare(vcpu);
	if (!ret)
		ret = loongarch_cpucfg_apply(vcpu);
	/* IPIs find their target by CSR.CPUID; KVM starts every vCPU without one. */
	if (!ret)
		ret =
		    loongarch_set_one(vcpu, loongarch_csr_reg_id(LOONGARCH_CSR_CPUID), vcpu->arch->cpuid, "CSR.CPUID");
	if (!ret)
		ret = loongarch_set_pv_features(vcpu);
	return ret;
}

void arch_vcpu_fini(struct vcpu *vcpu)
{
	free(vcpu->arch);
	vcpu->arch = NULL;
}

static int loongarch_create_device(struct vm *vm, uint32_t type, const char *name, int *fd)
{
	struct kvm_create_device dev = {.type = type};
	long ret = __SYS_IOCTL(vm->vm_fd, KVM_CREATE_DEVICE, &dev);
	if (ret < 0)
		return log_errno((int)ret, "KVM_CREATE_DEVICE(%s): %s%s", name, strerror((int)-ret),
				 ret == -ENODEV ? " (this host's KVM has no in-kernel LoongArch interrupt controllers; "
						  "they need a newer host kernel)"
						: "");
	*fd = (int)dev.fd;
	return 0;
}

int arch_irqchip_init(struct vm *vm)
{
	struct arch_vm *a = vm->arch;
	uint32_t nr_cpus = (uint32_t)vm->nr_vcpus, features = a->eiointc_features;
	uint64_t pch_pic_base = LOONGARCH_PCH_PIC_BASE;
	int ret = loongarch_create_device(vm, KVM_DEV_TYPE_LOONGARCH_IPI, "IPI", &a->ipi_fd);
	if (!ret)
		ret = loongarch_create_device(vm, KVM_DEV_TYPE_LOONGARCH_EIOINTC, "EIOINTC", &a->eiointc_fd);
	if (!ret)
		ret = loongarch_attr(a->eiointc_fd, true, KVM_DEV_LOONGARCH_EXTIOI_GRP_CTRL,
				     KVM_DEV_LOONGARCH_EXTIOI_CTRL_INIT_NUM_CPU, &nr_cpus, "EIOINTC vCPU count");
	if (!ret)
		ret = loongarch_attr(a->eiointc_fd, true, KVM_DEV_LOONGARCH_EXTIOI_GRP_CTRL,
				     KVM_DEV_LOONGARCH_EXTIOI_CTRL_INIT_FEATURE, &features, "EIOINTC features");
	if (!ret)
		ret = loongarch_create_device(vm, KVM_DEV_TYPE_LOONGARCH_PCHPIC, "PCH-PIC", &a->pch_pic_fd);
	if (!ret)
		ret = loongarch_attr(a->pch_pic_fd, true, KVM_DEV_LOONGARCH_PCH_PIC_GRP_CTRL,
				     KVM_DEV_LOONGARCH_PCH_PIC_CTRL_INIT, &pch_pic_base, "PCH-PIC base");
	return ret;
}

int arch_irq_line(struct vm *vm, uint32_t irq, bool level)
{
	struct kvm_irq_level line = {.irq = irq, .level = level};
	long ret = SYS_IOCTL(vm->vm_fd, KVM_IRQ_LINE, &line, "PCH-PIC input");
	return ret < 0 ? (int)ret : 0;
}

static int loongarch_iocsr_exit(struct vcpu *vcpu)
{
	struct kvm_run *run = vcpu->run;
	loongarch_iocsr_access(&vcpu->vm->arch->iocsr, vcpu->id, run->iocsr_io.phys_addr, run->iocsr_io.data,
			       run->iocsr_io.len, run->iocsr_io.is_write);
	return 0; /* KVM puts read data into the register on the next KVM_RUN */
}

int arch_handle_exit(struct vcpu *vcpu)
{
	struct kvm_run *run = vcpu->run;
	switch (run->exit_reason) {
	case KVM_EXIT_HYPERCALL:
		return loongarch_hcall_exit(vcpu);
	case KVM_EXIT_LOONGARCH_IOCSR:
		return loongarch_iocsr_exit(vcpu);
	default:
		return log_errno(-EIO, "%s: unexpected KVM exit reason %u; stopping the VM", vcpu->name,
				 run->exit_reason);
	}
}
