/*
 * Captures this host's LoongArch CPU profile: the CPUCFG words of the CPU roam runs on (the cpucfg instruction works
 * in user mode), and from KVM the bits a VMM may set in each word, the paravirtual features a new VM gets, whether
 * the VMM-configurable features USER_HCALL and VIRT_EXTIOI are accepted (tried on scratch VMs: a VM's features are
 * fixed by the first vCPU that sets them), and which VM features (LSX, LASX, PMU, ...) KVM offers.
 */
#include "profile_kvm.h"

#include "arch.h"

#include "core/log.h"
#include "core/sys_ioctl.h"
#include "loongarch.h"
#include "targets/scratch_vm.h"

#include <asm/kvm_para.h>
#include <errno.h>
#include <linux/kvm.h>
#include <string.h>

#define VM_FEATURE_COUNT 16

int loongarch_profile_read(int vm_fd, int vcpu_fd, const char *object, struct loongarch_cpu_profile *p)
{
	for (uint32_t i = 0; i < LOONGARCH_NR_CPUCFG; i++) {
		uint64_t mask = 0;
		p->cpucfg[i] = loongarch_host_cpucfg(i);
		int ret = loongarch_attr(vcpu_fd, false, KVM_LOONGARCH_VCPU_CPUCFG, i, &mask, object);
		if (ret)
			return ret;
		p->writable[i] = (uint32_t)mask;
	}
	uint64_t pv = 0;
	int ret = loongarch_attr(vcpu_fd, false, KVM_LOONGARCH_VCPU_CPUCFG, CPUCFG_KVM_FEATURE, &pv, object);
	if (ret)
		return ret;
	p->pv_features = (uint32_t)pv;
	p->vm_features = 0;
	for (uint32_t f = 0; f < VM_FEATURE_COUNT; f++) {
		struct kvm_device_attr attr = {.group = KVM_LOONGARCH_VM_FEAT_CTRL, .attr = f};
		if (__SYS_IOCTL(vm_fd, KVM_HAS_DEVICE_ATTR, &attr) == 0)
			p->vm_features |= 1u << f;
	}
	return 0;
}

/* Whether KVM accepts PV feature `bit` on top of its defaults (a VM of its own: features are set once per VM). */
static bool profile_probe_pv(const char *kvm_path, uint32_t bit)
{
	struct scratch_vm s;
	uint64_t pv = 0;
	bool ok = scratch_vm_open(&s, kvm_path, "profile", true) == 0 &&
		  __loongarch_attr(s.vcpu_fd, false, KVM_LOONGARCH_VCPU_CPUCFG, CPUCFG_KVM_FEATURE, &pv) == 0;
	if (ok) {
		pv |= bit;
		ok = __loongarch_attr(s.vcpu_fd, true, KVM_LOONGARCH_VCPU_CPUCFG, CPUCFG_KVM_FEATURE, &pv) == 0;
	}
	scratch_vm_close(&s);
	return ok;
}

int loongarch_profile_capture(const char *kvm_path, const char *name, struct loongarch_cpu_profile *p)
{
	struct scratch_vm s;
	memset(p, 0, sizeof(*p));
	int ret = scratch_vm_open(&s, kvm_path, "profile", true);
	if (!ret)
		ret = loongarch_profile_read(s.vm_fd, s.vcpu_fd, "profile vCPU", p);
	scratch_vm_close(&s);
	if (ret)
		return ret;
	p->user_hcall = profile_probe_pv(kvm_path, 1u << KVM_FEATURE_USER_HCALL);
	p->virt_extioi = profile_probe_pv(kvm_path, 1u << KVM_FEATURE_VIRT_EXTIOI);
	targets_host_label(name, p->name, p->kernel, sizeof(p->kernel));
	return 0;
}

const struct targets_arch_ops *arch_targets_ops(void)
{
	return &loongarch_targets_ops;
}

int arch_profile_capture(const char *kvm_path, const char *name, void *profile)
{
	return loongarch_profile_capture(kvm_path, name, profile);
}
