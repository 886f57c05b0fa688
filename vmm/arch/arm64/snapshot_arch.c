/*
 * The arm64 side of snapshots (arch.h): the components for the counter (timer_state.c), the vCPUs' registers and
 * state (vcpu_state.c) and the GICv3 (gic_state.c); the host identity and the targets text for the snapshot's HOST
 * and TARGETS sections.
 */
#include "arch.h"
#include "arm64.h"
#include "core/component.h"
#include "core/log.h"
#include "core/vcpu.h"
#include "core/vcpu_component.h"
#include "core/vm.h"
#include "gic_state.h"
#include "host_cpu.h"
#include "restore_prefault.h"
#include "snapshot/snap_codec.h"
#include "snapshot/snapshot.h"
#include "snapshot/snapshot_meta.h"
#include "targets.h"
#include "timer_state.h"
#include "vcpu_state.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>

uint32_t arch_snapshot_id(void)
{
	return 1;
}

static int vcpu_load(struct snap_reader *r, uint32_t version, void **state)
{
	(void)version; /* vcpu_component_restore admits only the current one */
	struct arm64_vcpu_state *st = calloc(1, sizeof(*st));
	if (!st)
		return -ENOMEM;
	int ret = arm64_vcpu_state_parse(r, st);
	if (ret) {
		free(st);
		return log_errno(ret, "vCPU state: bad %s", r->what ? r->what : "data");
	}
	*state = st;
	return 0;
}

static int vcpu_check(struct vcpu *vcpu, void *state, char *report, size_t size)
{
	return arm64_vcpu_state_check(vcpu, state, report, size);
}

static int vcpu_apply(struct vcpu *vcpu, void *state)
{
	return arm64_vcpu_state_apply(vcpu, state, vcpu->vm->arch->counter_restored);
}

static void vcpu_free(void *state)
{
	arm64_vcpu_state_free(state);
	free(state);
}

static const struct vcpu_state_ops vcpu_ops = {
    .save = arm64_vcpu_state_save,
    .load = vcpu_load,
    .check = vcpu_check,
    .apply = vcpu_apply,
    .free = vcpu_free,
};

int arch_restore_memory_in(struct vm *vm)
{
	return arm64_restore_prefault(vm); /* the end's prefault then maps only the pages that came later */
}

/* After everything is restored: the stage-2 prefault erratum-834220 hosts need, then the counter check. */
static int vcpu_restore_finish(struct vm *vm)
{
	int ret = arm64_restore_prefault(vm);
	return ret ? ret : arm64_timer_verify(vm);
}

static const struct component vcpu_component = VCPU_COMPONENT(ARM64_VCPU_STATE_VERSION, &vcpu_ops, vcpu_restore_finish);

static int gic_save(struct component_ctx *ctx, uint32_t instance, struct snap_writer *p)
{
	(void)instance;
	return arm64_gic_save(ctx->vm, p);
}

static int gic_restore(struct component_ctx *ctx, uint32_t instance, uint32_t version, struct snap_reader *p)
{
	(void)instance;
	if (version != ARM64_GIC_STATE_VERSION)
		return log_errno(-EBADMSG, "GIC state version %u is not %u, the one this roam reads", version,
				 ARM64_GIC_STATE_VERSION);
	return arm64_gic_restore(ctx->vm, p);
}

static int gic_check(struct component_ctx *ctx, uint32_t instance, uint32_t version, struct snap_reader *p,
		     char *report, size_t size)
{
	(void)instance;
	(void)version;
	return arm64_gic_check(ctx->vm, p, report, size);
}

static const struct component irqchip_component = {
    .name = "irqchip",
    .section = SNAPSHOT_SEC_IRQCHIP,
    .version = ARM64_GIC_STATE_VERSION,
    .save = gic_save,
    .restore = gic_restore,
    .check = gic_check,
};

static int timer_save(struct component_ctx *ctx, uint32_t instance, struct snap_writer *p)
{
	(void)instance;
	return arm64_timer_save(ctx->vm, p);
}

/* Reads every version up to ARM64_TIMER_STATE_VERSION (1 lacks the counter frequency). */
static int timer_restore(struct component_ctx *ctx, uint32_t instance, uint32_t version, struct snap_reader *p)
{
	(void)instance;
	struct vm *vm = ctx->vm;
	return arm64_timer_restore(vm, p, version, &vm->arch->counter_restored);
}

static int timer_check(struct component_ctx *ctx, uint32_t instance, uint32_t version, struct snap_reader *p,
		       char *report, size_t size)
{
	(void)ctx;
	(void)instance;
	return arm64_timer_check(p, version, report, size);
}

static const struct component timer_component = {
    .name = "timer",
    .section = SNAPSHOT_SEC_TIMER,
    .version = ARM64_TIMER_STATE_VERSION,
    .save = timer_save,
    .restore = timer_restore,
    .check = timer_check,
};

/* The counter before the vCPUs (their timers are relative to it), the GIC after them (its redistributors). */
static const struct component *const cpu_components[] = {&timer_component, &vcpu_component, &irqchip_component};

static const struct arch_components components = {.cpu = cpu_components, .nr_cpu = 3};

const struct arch_components *arch_components(void)
{
	return &components;
}

void arch_host_identity(uint64_t id[2])
{
	arm64_host_id_reg(0, "midr_el1", &id[0]);
	arm64_host_id_reg(0, "revidr_el1", &id[1]);
}

const char *arch_targets_text(struct vm *vm)
{
	return vm->targets.text;
}

void arch_targets_summary(struct vm *vm, struct snapshot_targets_info *info)
{
	const struct arm64_targets *t = vm->targets.config;
	info->count = (uint32_t)t->nr_impls;
	for (int i = 0; i < t->nr_impls && i < SNAPSHOT_TARGETS_MAX; i++) {
		snprintf(info->target[i].name, sizeof(info->target[i].name), "%s", t->impls[i].name);
		info->target[i].midr = t->impls[i].midr;
		info->target[i].revidr = t->impls[i].revidr;
		info->target[i].aidr = t->impls[i].aidr;
	}
	info->guest_midr = t->guest_midr;
	info->guest_revidr = t->guest_revidr;
	info->guest_aidr = t->guest_aidr;
}
