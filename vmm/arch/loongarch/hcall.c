/* LoongArch user-service hypercalls: see hcall.h. */
#include "hcall.h"

#include "core/vcpu.h"
#include "core/vm.h"
#include "hypercalls/hypercall.h"
#include "loongarch.h"
#include "pvlock/pvlock.h"

#include <linux/kvm.h>
#include <stdatomic.h>

static int hcall_read_arg(void *opaque, int n, uint64_t *value)
{
	const struct kvm_run *run = opaque;
	*value = n >= 0 && n < 6 ? run->hypercall.args[n] : 0;
	return 0;
}

int loongarch_hcall_answer(const struct hypercall_table *t, struct kvm_run *run, int vcpu_id, uint64_t out[3])
{
	if (run->hypercall.nr != LOONGARCH_HCALL_USER_SERVICE) {
		run->hypercall.ret = (uint64_t)(int64_t)HYPERCALL_NOT_SUPPORTED;
		return 0;
	}
	struct hypercall_ctx ctx = {
	    .fid = run->hypercall.args[0],
	    .vcpu_id = vcpu_id,
	    .read_arg = hcall_read_arg,
	    .opaque = run,
	    .invalid_parameter = LOONGARCH_HCALL_INVALID_PARAMETER,
	};
	int ret = hypercall_dispatch(t, &ctx);
	if (ret < 0)
		return ret;
	run->hypercall.ret = ctx.ret[0];
	int n = ctx.nr_ret > 4 ? 3 : ctx.nr_ret - 1;
	for (int i = 0; i < n; i++)
		out[i] = ctx.ret[i + 1];
	return n < 0 ? 0 : n;
}

static const struct hypercall_fids loongarch_fids = {
    .discover_ver = LOONGARCH_ROAM_DISCOVER_IMPL_VER,
    .discover_cpus = LOONGARCH_ROAM_DISCOVER_IMPL_CPUS,
    .pvlock_features = LOONGARCH_ROAM_PV_LOCK_FEATURES,
    .pvlock_preempted = LOONGARCH_ROAM_PV_LOCK_PREEMPTED,
};

int loongarch_hcall_register_services(struct vm *vm)
{
	if (!(vm->arch->pv_features & LOONGARCH_PV_USER_HCALL))
		return 0;
	if (vm->pvlock) {
		vm->services.pvlock.region_gpa = vm->pvlock->gpa;
		vm->services.pvlock.nr_vcpus = vm->nr_vcpus;
	}
	return hypercall_services_register(&vm->hypercalls, &vm->services, &loongarch_fids);
}

int loongarch_hcall_exit(struct vcpu *vcpu)
{
	uint64_t out[3];
	atomic_fetch_add(&vcpu->stats.hypercalls, 1);
	int n = loongarch_hcall_answer(&vcpu->vm->hypercalls, vcpu->run, vcpu->id, out);
	if (n <= 0)
		return n;
	struct kvm_regs regs;
	int ret = loongarch_get_regs(vcpu, &regs);
	if (ret)
		return ret;
	for (int i = 0; i < n; i++)
		regs.gpr[5 + i] = out[i]; /* a1.. are r5.. (a0 = r4 gets run->hypercall.ret from KVM) */
	return loongarch_set_regs(vcpu, &regs);
}
