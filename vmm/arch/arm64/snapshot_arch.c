/*
 * The arm64 side of snapshots (arch.h): vCPU registers and state (vcpu_state.c), the GICv3 and the counter
 * (gic_state.c), the host identity and the targets text for the snapshot's HOST and TARGETS sections.
 */
#include "arch.h"
#include "arm64.h"
#include "core/log.h"
#include "core/vcpu.h"
#include "core/vm.h"
#include "gic_state.h"
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

uint32_t arch_section_version(uint32_t id)
{
	return id == SNAPSHOT_SEC_TIMER	    ? ARM64_TIMER_STATE_VERSION
	       : id == SNAPSHOT_SEC_IRQCHIP ? ARM64_GIC_STATE_VERSION
					    : ARM64_VCPU_STATE_VERSION;
}

int arch_save_vcpu(struct vcpu *vcpu, struct snap_writer *w)
{
	return arm64_vcpu_state_save(vcpu, w);
}

int arch_load_vcpu(struct snap_reader *r, uint32_t version, void **state)
{
	if (version != ARM64_VCPU_STATE_VERSION)
		return log_errno(-EBADMSG, "vCPU state version %u is not %u, the one this roam reads", version,
				 ARM64_VCPU_STATE_VERSION);
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

int arch_check_vcpu(struct vcpu *vcpu, void *state, char *report, size_t size)
{
	return arm64_vcpu_state_check(vcpu, state, report, size);
}

int arch_apply_vcpu(struct vcpu *vcpu, void *state)
{
	return arm64_vcpu_state_apply(vcpu, state, vcpu->vm->arch->counter_restored);
}

void arch_free_vcpu_state(void *state)
{
	if (state)
		arm64_vcpu_state_free(state);
	free(state);
}

int arch_save_irqchip(struct vm *vm, struct snap_writer *w)
{
	return arm64_gic_save(vm, w);
}

int arch_restore_irqchip(struct vm *vm, struct snap_reader *r, uint32_t version)
{
	if (version != ARM64_GIC_STATE_VERSION)
		return log_errno(-EBADMSG, "GIC state version %u is not %u, the one this roam reads", version,
				 ARM64_GIC_STATE_VERSION);
	return arm64_gic_restore(vm, r);
}

int arch_save_timer(struct vm *vm, struct snap_writer *w)
{
	return arm64_timer_save(vm, w);
}

int arch_restore_timer(struct vm *vm, struct snap_reader *r, uint32_t version)
{
	if (version < 1 || version > ARM64_TIMER_STATE_VERSION)
		return log_errno(-EBADMSG, "timer state version %u is not one this roam reads (1 to %u)", version,
				 ARM64_TIMER_STATE_VERSION);
	return arm64_timer_restore(vm, r, version, &vm->arch->counter_restored);
}

int arch_finish_restore(struct vm *vm)
{
	int ret = arm64_restore_prefault(vm);
	return ret ? ret : arm64_timer_verify(vm);
}

void arch_host_identity(uint64_t id[2])
{
	arm64_host_id_reg(0, "midr_el1", &id[0]);
	arm64_host_id_reg(0, "revidr_el1", &id[1]);
}

const char *arch_targets_text(struct vm *vm)
{
	return vm->arch->targets_text;
}

void arch_targets_summary(struct vm *vm, struct snapshot_targets_info *info)
{
	const struct arm64_targets *t = vm->arch->targets;
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
