/*
 * Captures this host's LoongArch CPU profile: the CPUCFG words of the CPU roam runs on (the cpucfg instruction works
 * in user mode), and from KVM the bits a VMM may set in each word, the paravirtual features a new VM gets, whether
 * the VMM-configurable features USER_HCALL and VIRT_EXTIOI are accepted (tried on scratch VMs: a VM's features are
 * fixed by the first vCPU that sets them), and which VM features (LSX, LASX, PMU, ...) KVM offers.
 */
#include "profile_kvm.h"

#include "core/log.h"
#include "core/sys_ioctl.h"
#include "loongarch.h"

#include <asm/kvm_para.h>
#include <errno.h>
#include <fcntl.h>
#include <linux/kvm.h>
#include <stdio.h>
#include <string.h>
#include <sys/utsname.h>
#include <unistd.h>

#define VM_FEATURE_COUNT 16

struct scratch_vm {
	int kvm_fd, vm_fd, vcpu_fd;
};

static void scratch_close(struct scratch_vm *s)
{
	if (s->vcpu_fd >= 0)
		close(s->vcpu_fd);
	if (s->vm_fd >= 0)
		close(s->vm_fd);
	if (s->kvm_fd >= 0)
		close(s->kvm_fd);
}

static int scratch_open(struct scratch_vm *s, const char *kvm_path)
{
	s->kvm_fd = s->vm_fd = s->vcpu_fd = -1;
	s->kvm_fd = open(kvm_path, O_RDWR | O_CLOEXEC);
	if (s->kvm_fd < 0)
		return log_errno(-errno, "cannot open %s: %s", kvm_path, strerror(errno));
	long fd = SYS_IOCTL_VALUE(s->kvm_fd, KVM_CREATE_VM, 0, "profile VM");
	if (fd < 0)
		return (int)fd;
	s->vm_fd = (int)fd;
	fd = SYS_IOCTL_VALUE(s->vm_fd, KVM_CREATE_VCPU, 0, "profile vCPU");
	if (fd < 0)
		return (int)fd;
	s->vcpu_fd = (int)fd;
	return 0;
}

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
	bool ok = scratch_open(&s, kvm_path) == 0 &&
		  __loongarch_attr(s.vcpu_fd, false, KVM_LOONGARCH_VCPU_CPUCFG, CPUCFG_KVM_FEATURE, &pv) == 0;
	if (ok) {
		pv |= bit;
		ok = __loongarch_attr(s.vcpu_fd, true, KVM_LOONGARCH_VCPU_CPUCFG, CPUCFG_KVM_FEATURE, &pv) == 0;
	}
	scratch_close(&s);
	return ok;
}

int loongarch_profile_capture(const char *kvm_path, const char *name, struct loongarch_cpu_profile *p)
{
	struct scratch_vm s;
	struct utsname uts;
	memset(p, 0, sizeof(*p));
	int ret = scratch_open(&s, kvm_path);
	if (!ret)
		ret = loongarch_profile_read(s.vm_fd, s.vcpu_fd, "profile vCPU", p);
	scratch_close(&s);
	if (ret)
		return ret;
	p->user_hcall = profile_probe_pv(kvm_path, 1u << KVM_FEATURE_USER_HCALL);
	p->virt_extioi = profile_probe_pv(kvm_path, 1u << KVM_FEATURE_VIRT_EXTIOI);
	if (uname(&uts) == 0)
		snprintf(p->kernel, sizeof(p->kernel), "%s", uts.release);
	if (name)
		snprintf(p->name, sizeof(p->name), "%s", name);
	else if (gethostname(p->name, sizeof(p->name) - 1) < 0)
		snprintf(p->name, sizeof(p->name), "host");
	return 0;
}
