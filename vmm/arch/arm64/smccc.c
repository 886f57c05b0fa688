/* SMCCC hypercall glue for arm64: see smccc.h. */
#include "smccc.h"

#include "arm64.h"
#include "core/log.h"
#include "core/sys_ioctl.h"
#include "core/vcpu.h"
#include "core/vm.h"
#include "pvlock/pvlock.h"

#include <errno.h>
#include <linux/kvm.h>
#include <stdio.h>
#include <string.h>

int arm64_smccc_install_filters(struct vm *vm)
{
	const struct hypercall_table *t = &vm->hypercalls;
	if (t->nr == 0)
		return 0;
	struct kvm_device_attr probe = {.group = KVM_ARM_VM_SMCCC_CTRL, .attr = KVM_ARM_VM_SMCCC_FILTER};
	if (__SYS_IOCTL(vm->vm_fd, KVM_HAS_DEVICE_ATTR, &probe) < 0)
		return log_errno(-ENOTSUP, "KVM on this host cannot forward hypercalls to roam (no SMCCC filter, which "
					   "needs Linux 6.4 or later)");
	for (int i = 0; i < t->nr; i++) {
		struct kvm_smccc_filter filter = {
		    .base = (uint32_t)t->handlers[i].fid,
		    .nr_functions = 1,
		    .action = KVM_SMCCC_FILTER_FWD_TO_USER,
		};
		struct kvm_device_attr attr = {.group = KVM_ARM_VM_SMCCC_CTRL,
					       .attr = KVM_ARM_VM_SMCCC_FILTER,
					       .addr = (uint64_t)(uintptr_t)&filter};
		char object[64];
		snprintf(object, sizeof(object), "SMCCC filter for %s", t->handlers[i].name);
		long ret = SYS_IOCTL(vm->vm_fd, KVM_SET_DEVICE_ATTR, &attr, object);
		if (ret < 0)
			return (int)ret;
	}
	return 0;
}

static int arm64_read_arg(void *opaque, int n, uint64_t *value)
{
	return arm64_get_reg(opaque, arm64_core_reg_x(n), value, "hypercall argument");
}

int arm64_smccc_handle_exit(struct vcpu *vcpu)
{
	struct kvm_run *run = vcpu->run;
	struct hypercall_ctx ctx = {
	    .fid = (uint32_t)run->hypercall.nr, /* SMCCC function IDs are 32-bit (w0) */
	    .vcpu_id = vcpu->id,
	    .read_arg = arm64_read_arg,
	    .opaque = vcpu,
	    .invalid_parameter = SMCCC_RET_INVALID_PARAMETER,
	};
	atomic_fetch_add(&vcpu->stats.hypercalls, 1);
	int ret = hypercall_dispatch(&vcpu->vm->hypercalls, &ctx);
	if (ret < 0)
		return ret;
	static const char *const names[4] = {"x0", "x1", "x2", "x3"};
	for (int i = 0; i < ctx.nr_ret && i < 4; i++) {
		ret = arm64_set_reg(vcpu, arm64_core_reg_x(i), ctx.ret[i], names[i]);
		if (ret < 0)
			return ret;
	}
	return 0; /* KVM has already advanced the PC past the hvc */
}

int arm64_smccc_set_discover_bits(struct vcpu *vcpu, bool enable)
{
	const uint64_t bits = (1ull << KVM_REG_ARM_VENDOR_HYP_BIT_DISCOVER_IMPL_VER) |
			      (1ull << KVM_REG_ARM_VENDOR_HYP_BIT_DISCOVER_IMPL_CPUS);
	uint64_t bmap;
	struct kvm_one_reg reg = {.id = KVM_REG_ARM_VENDOR_HYP_BMAP_2, .addr = (uint64_t)(uintptr_t)&bmap};
	long ret = __SYS_IOCTL(vcpu->fd, KVM_GET_ONE_REG, &reg);
	if (ret == -ENOENT && !enable)
		return 0; /* a KVM older than 6.15 has no such services to hide */
	if (ret < 0)
		return log_errno((int)ret, "KVM_GET_ONE_REG(%s KVM_REG_ARM_VENDOR_HYP_BMAP_2): %s%s", vcpu->name,
				 strerror((int)-ret),
				 ret == -ENOENT ? " (target discovery needs Linux 6.15 or later on the host)" : "");
	uint64_t want = enable ? bmap | bits : bmap & ~bits;
	return want == bmap ? 0
			    : arm64_set_reg(vcpu, KVM_REG_ARM_VENDOR_HYP_BMAP_2, want, "KVM_REG_ARM_VENDOR_HYP_BMAP_2");
}

/* roam's services under their SMCCC function IDs; FEATURES lists them next to KVM's own. */
static const struct hypercall_fids arm64_fids = {
    .discover_ver = SMCCC_KVM_DISCOVER_IMPL_VER,
    .discover_cpus = SMCCC_KVM_DISCOVER_IMPL_CPUS,
    .pvlock_features = ROAM_PV_LOCK_FEATURES,
    .pvlock_preempted = ROAM_PV_LOCK_PREEMPTED,
    .features = SMCCC_VENDOR_HYP_KVM_FEATURES,
};

int arm64_smccc_register_services(struct vcpu *vcpu)
{
	struct vm *vm = vcpu->vm;
	struct hypercall_services *s = &vm->services;
	if (vm->pvlock) {
		/* The FEATURES answer starts from KVM's service bitmaps: functions 0-31 in x0, 32-63 in x1, 64-95 in
		 * x2, 96-127 in x3. A KVM without the second bitmap (before 6.15) offers nothing in functions 64-127.
		 */
		uint64_t bmap, bmap_2;
		int ret = arm64_get_reg(vcpu, KVM_REG_ARM_VENDOR_HYP_BMAP, &bmap, "KVM_REG_ARM_VENDOR_HYP_BMAP");
		if (ret)
			return ret;
		struct kvm_one_reg reg = {.id = KVM_REG_ARM_VENDOR_HYP_BMAP_2, .addr = (uint64_t)(uintptr_t)&bmap_2};
		if (__SYS_IOCTL(vcpu->fd, KVM_GET_ONE_REG, &reg) < 0)
			bmap_2 = 0;
		s->features[0] = (uint32_t)bmap;
		s->features[1] = (uint32_t)(bmap >> 32);
		s->features[2] = (uint32_t)bmap_2;
		s->features[3] = (uint32_t)(bmap_2 >> 32);
		s->pvlock.region_gpa = vm->pvlock->gpa;
		s->pvlock.nr_vcpus = vm->nr_vcpus;
	}
	return hypercall_services_register(&vm->hypercalls, s, &arm64_fids);
}
