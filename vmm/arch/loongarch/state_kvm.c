/*
 * The LoongArch side of snapshots (arch.h) on KVM: fills and applies the state structs of snapshot.h. vCPU: the
 * GPRs and PC (KVM_GET/SET_REGS), the CSRs and CPUCFG words (ONE_REG), the PV features and steal-time address
 * (vCPU attributes), the FPU at the guest's width (KVM_GET/SET_FPU). Interrupt controllers: the device attribute
 * groups of the IPI, EIOINTC and PCH-PIC (the EIOINTC is told LOAD_FINISHED after a restore, to rebuild its routing).
 * The guest's stable counter is VM-wide: KVM derives the VM's counter offset from vCPU 0's COUNTER register.
 */
#include "arch.h"
#include "core/component.h"
#include "core/log.h"
#include "core/sys_ioctl.h"
#include "core/vcpu.h"
#include "core/vcpu_component.h"
#include "core/vm.h"
#include "cpucfg.h"
#include "loongarch.h"
#include "snapshot.h"
#include "snapshot/snap_codec.h"
#include "snapshot/snapshot.h"
#include "snapshot/snapshot_meta.h"

#include <asm/kvm_para.h>
#include <errno.h>
#include <linux/kvm.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int state_get(struct vcpu *vcpu, struct loongarch_vcpu_state *st)
{
	struct kvm_regs regs;
	memset(st, 0, sizeof(*st));
	int ret = loongarch_get_regs(vcpu, &regs);
	for (int i = 0; !ret && i < 32; i++)
		st->gpr[i] = regs.gpr[i];
	st->pc = regs.pc;
	for (int i = 0; !ret && i < loongarch_csr_count(); i++) {
		char name[16];
		const struct loongarch_csr_desc *d = loongarch_csr_at(i);
		st->csr_num[i] = d->num;
		ret = loongarch_get_one(vcpu, loongarch_csr_reg_id(d->num), &st->csr_val[i],
					loongarch_csr_name(d->num, name));
		st->nr_csrs = (uint32_t)i + 1;
	}
	for (uint32_t i = 0; !ret && i < LOONGARCH_NR_CPUCFG; i++) {
		uint64_t v;
		ret = loongarch_get_one(vcpu, loongarch_cpucfg_reg_id(i), &v, "CPUCFG");
		st->cpucfg[i] = (uint32_t)v;
	}
	uint64_t pv = 0;
	if (!ret)
		ret = loongarch_attr(vcpu->fd, false, KVM_LOONGARCH_VCPU_CPUCFG, CPUCFG_KVM_FEATURE, &pv, vcpu->name);
	st->pv_features = (uint32_t)pv;
	if (!ret && (st->pv_features & LOONGARCH_PV_STEAL_TIME))
		ret = loongarch_attr(vcpu->fd, false, KVM_LOONGARCH_VCPU_PVTIME_CTRL, KVM_LOONGARCH_VCPU_PVTIME_GPA,
				     &st->steal_time_gpa, vcpu->name);
	st->fp_width = loongarch_fp_width(st->cpucfg[2]);
	if (!ret && st->fp_width) {
		struct kvm_fpu fpu;
		long r = SYS_IOCTL(vcpu->fd, KVM_GET_FPU, &fpu, vcpu->name);
		if (r < 0)
			return (int)r;
		st->fcsr = fpu.fcsr;
		st->fcc = fpu.fcc;
		for (int i = 0; i < 32; i++)
			memcpy(st->fpr[i], fpu.fpr[i].val64, sizeof(st->fpr[i]));
	}
	return ret;
}

static int state_set(struct vcpu *vcpu, const struct loongarch_vcpu_state *st)
{
	int ret = 0;
	for (uint32_t i = 0; !ret && i < LOONGARCH_NR_CPUCFG; i++)
		ret = loongarch_set_one(vcpu, loongarch_cpucfg_reg_id(i), st->cpucfg[i], "CPUCFG");
	struct kvm_regs regs;
	memset(&regs, 0, sizeof(regs));
	for (int i = 0; i < 32; i++)
		regs.gpr[i] = st->gpr[i];
	regs.pc = st->pc;
	if (!ret)
		ret = loongarch_set_regs(vcpu, &regs);
	/* CSRs in roam's order (the timer after CNTC), whatever order the snapshot lists them in. */
	for (int k = 0; !ret && k < loongarch_csr_count(); k++)
		for (uint32_t i = 0; !ret && i < st->nr_csrs; i++)
			if (st->csr_num[i] == loongarch_csr_at(k)->num) {
				char name[16];
				ret = loongarch_set_one(vcpu, loongarch_csr_reg_id(st->csr_num[i]), st->csr_val[i],
							loongarch_csr_name(st->csr_num[i], name));
			}
	if (!ret && st->steal_time_gpa) {
		uint64_t gpa = st->steal_time_gpa;
		ret = loongarch_attr(vcpu->fd, true, KVM_LOONGARCH_VCPU_PVTIME_CTRL, KVM_LOONGARCH_VCPU_PVTIME_GPA,
				     &gpa, vcpu->name);
	}
	if (!ret && st->fp_width) {
		struct kvm_fpu fpu;
		memset(&fpu, 0, sizeof(fpu));
		fpu.fcsr = st->fcsr;
		fpu.fcc = st->fcc;
		for (int i = 0; i < 32; i++)
			memcpy(fpu.fpr[i].val64, st->fpr[i], sizeof(st->fpr[i]));
		long r = SYS_IOCTL(vcpu->fd, KVM_SET_FPU, &fpu, vcpu->name);
		ret = r < 0 ? (int)r : 0;
	}
	return ret;
}

int arch_restore_memory_in(struct vm *vm)
{
	(void)vm; /* nothing to do before the guest arrives */
	return 0;
}

uint32_t arch_snapshot_id(void)
{
	return 2;
}

static int vcpu_save(struct vcpu *vcpu, struct snap_writer *w)
{
	struct loongarch_vcpu_state *st = calloc(1, sizeof(*st));
	int ret = st ? state_get(vcpu, st) : -ENOMEM;
	if (!ret)
		loongarch_vcpu_state_save(st, w);
	free(st);
	return ret ? ret : w->err;
}

static int vcpu_load(struct snap_reader *r, uint32_t version, void **state)
{
	(void)version; /* vcpu_component_restore admits only the current one */
	struct loongarch_vcpu_state *st = calloc(1, sizeof(*st));
	if (!st)
		return -ENOMEM;
	if (loongarch_vcpu_state_restore(r, st)) {
		free(st);
		return log_errno(-EBADMSG, "vCPU state: bad %s", r->what ? r->what : "data");
	}
	*state = st;
	return 0;
}

static int vcpu_check(struct vcpu *vcpu, void *state, char *report, size_t size)
{
	const struct loongarch_vcpu_state *st = state;
	int problems = 0;
	size_t used = strlen(report);
	for (uint32_t i = 0; i < LOONGARCH_NR_CPUCFG; i++) {
		uint64_t mask = 0;
		if (__loongarch_attr(vcpu->fd, false, KVM_LOONGARCH_VCPU_CPUCFG, i, &mask) < 0 ||
		    st->cpucfg[i] & ~mask) {
			used += (size_t)snprintf(report + used, used < size ? size - used : 0,
						 "CPUCFG%u: the guest saw 0x%x; KVM here lets a VMM set only 0x%llx\n",
						 i, st->cpucfg[i], (unsigned long long)mask);
			problems++;
		}
	}
	if (st->pv_features != vcpu->vm->arch->pv_features) {
		snprintf(
		    report + used, used < size ? size - used : 0,
		    "PV features: the guest saw 0x%x, this VM offers 0x%x (use the same --targets and vCPU count)\n",
		    st->pv_features, vcpu->vm->arch->pv_features);
		problems++;
	}
	return problems;
}

static int vcpu_apply(struct vcpu *vcpu, void *state)
{
	return state_set(vcpu, state);
}

static const struct vcpu_state_ops vcpu_ops = {
    .save = vcpu_save,
    .load = vcpu_load,
    .check = vcpu_check,
    .apply = vcpu_apply,
    .free = free,
};

/* After everything is restored: the guest's stable counter must not have gone backwards. */
static int vcpu_restore_finish(struct vm *vm)
{
	uint64_t now;
	int ret = loongarch_get_one(&vm->vcpus[0], KVM_REG_LOONGARCH_COUNTER, &now, "COUNTER");
	if (!ret && now < vm->arch->saved_counter)
		ret = log_errno(-EIO, "the guest's stable counter went backwards on restore (%#llx, saved %#llx)",
				(unsigned long long)now, (unsigned long long)vm->arch->saved_counter);
	return ret;
}

static const struct component vcpu_component =
    VCPU_COMPONENT(LOONGARCH_VCPU_STATE_VERSION, &vcpu_ops, vcpu_restore_finish);

static int timer_save(struct component_ctx *ctx, uint32_t instance, struct snap_writer *w)
{
	(void)instance;
	struct vm *vm = ctx->vm;
	uint64_t counter;
	int ret = loongarch_get_one(&vm->vcpus[0], KVM_REG_LOONGARCH_COUNTER, &counter, "COUNTER");
	if (!ret) {
		vm->arch->saved_counter = counter;
		loongarch_timer_state_save(counter, w);
	}
	return ret ? ret : w->err;
}

static int timer_restore(struct component_ctx *ctx, uint32_t instance, uint32_t version, struct snap_reader *r)
{
	(void)instance;
	(void)version; /* only LOONGARCH_TIMER_STATE_VERSION exists */
	struct vm *vm = ctx->vm;
	uint64_t counter;
	if (loongarch_timer_state_restore(r, &counter))
		return log_errno(-EBADMSG, "timer state: bad %s", r->what ? r->what : "data");
	vm->arch->saved_counter = counter;
	/* Only vCPU 0's write moves the VM's counter offset. */
	return loongarch_set_one(&vm->vcpus[0], KVM_REG_LOONGARCH_COUNTER, counter, "COUNTER");
}

static const struct component timer_component = {
    .name = "timer",
    .section = SNAPSHOT_SEC_TIMER,
    .version = LOONGARCH_TIMER_STATE_VERSION,
    .save = timer_save,
    .restore = timer_restore,
};

/* The counter before the vCPUs, the interrupt controllers (IPI, EIOINTC, PCH-PIC) after them. */
static const struct component *const cpu_components[] = {&timer_component, &vcpu_component,
							 &loongarch_irqchip_component};

static const struct arch_components components = {.cpu = cpu_components, .nr_cpu = 3};

const struct arch_components *arch_components(void)
{
	return &components;
}

void arch_host_identity(uint64_t id[2])
{
	id[0] = loongarch_host_cpucfg(0); /* PRID */
	id[1] = 0;
}

const char *arch_targets_text(struct vm *vm)
{
	return vm->targets.text;
}

void arch_targets_summary(struct vm *vm, struct snapshot_targets_info *info)
{
	const struct loongarch_targets *t = vm->targets.config;
	info->count = (uint32_t)t->nr_impls;
	for (int i = 0; i < t->nr_impls && i < SNAPSHOT_TARGETS_MAX; i++) {
		snprintf(info->target[i].name, sizeof(info->target[i].name), "%s", t->impls[i].name);
		info->target[i].midr = t->impls[i].prid; /* the identity field: PRID on LoongArch */
		info->target[i].revidr = 0;
		info->target[i].aidr = 0;
	}
	info->guest_midr = t->guest_prid;
	info->guest_revidr = 0;
	info->guest_aidr = 0;
}
