/* Saving and restoring an arm64 vCPU's state: see vcpu_state.h. */
#include "vcpu_state.h"

#include "arm64.h"
#include "core/component.h"
#include "core/log.h"
#include "core/sys_ioctl.h"
#include "core/vcpu.h"
#include "idregs.h"
#include "snapshot/snap_codec.h"

#include <errno.h>
#include <inttypes.h>
#include <linux/kvm.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define ARM64_MAX_REG_BYTES 256 /* KVM_REG_SIZE_U2048 (SVE Z registers) */
#define ARM64_MAX_REGS 4096

static uint32_t reg_size(uint64_t id)
{
	return 1u << ((id & KVM_REG_SIZE_MASK) >> KVM_REG_SIZE_SHIFT);
}

static bool reg_is_fw(uint64_t id)
{
	uint64_t coproc = id & KVM_REG_ARM_COPROC_MASK;
	return coproc == KVM_REG_ARM_FW || coproc == KVM_REG_ARM_FW_FEAT_BMAP;
}

/* The vCPU's register list (malloc'd). */
static int reg_list(struct vcpu *vcpu, struct kvm_reg_list **out)
{
	struct kvm_reg_list probe = {.n = 0};
	long ret = __SYS_IOCTL(vcpu->fd, KVM_GET_REG_LIST, &probe);
	if (ret != -E2BIG)
		return log_errno(ret < 0 ? (int)ret : -EIO, "KVM_GET_REG_LIST(%s): unexpected answer", vcpu->name);
	if (probe.n > ARM64_MAX_REGS)
		return log_errno(-E2BIG, "KVM_GET_REG_LIST(%s): %llu registers", vcpu->name,
				 (unsigned long long)probe.n);
	struct kvm_reg_list *list = calloc(1, sizeof(*list) + probe.n * sizeof(uint64_t));
	if (!list)
		return -ENOMEM;
	list->n = probe.n;
	ret = SYS_IOCTL(vcpu->fd, KVM_GET_REG_LIST, list, vcpu->name);
	if (ret < 0) {
		free(list);
		return (int)ret;
	}
	*out = list;
	return 0;
}

static int one_reg(struct vcpu *vcpu, unsigned long request, uint64_t id, void *value, const char *what)
{
	char object[64];
	struct kvm_one_reg reg = {.id = id, .addr = (uint64_t)(uintptr_t)value};
	snprintf(object, sizeof(object), "%s register %#" PRIx64, vcpu->name, id);
	long ret = request == KVM_SET_ONE_REG ? SYS_IOCTL_AS(vcpu->fd, KVM_SET_ONE_REG, &reg, what, object)
					      : SYS_IOCTL_AS(vcpu->fd, KVM_GET_ONE_REG, &reg, what, object);
	return ret < 0 ? (int)ret : 0;
}

int arm64_vcpu_state_save(struct vcpu *vcpu, struct snap_writer *w)
{
	struct kvm_reg_list *list;
	int ret = reg_list(vcpu, &list);
	if (ret)
		return ret;
	snap_put_u32(w, (uint32_t)list->n);
	for (uint64_t i = 0; i < list->n && !ret; i++) {
		uint8_t value[ARM64_MAX_REG_BYTES];
		uint64_t id = list->reg[i];
		uint32_t size = reg_size(id);
		if (size > sizeof(value)) {
			ret = log_errno(-E2BIG, "%s: register %#" PRIx64 " is %u bytes", vcpu->name, id, size);
			break;
		}
		ret = one_reg(vcpu, KVM_GET_ONE_REG, id, value, "KVM_GET_ONE_REG");
		snap_put_u64(w, id);
		snap_put_u32(w, size);
		snap_put_bytes(w, value, size);
	}
	free(list);
	if (ret)
		return ret;

	struct kvm_mp_state mp;
	long r = SYS_IOCTL(vcpu->fd, KVM_GET_MP_STATE, &mp, vcpu->name);
	if (r < 0)
		return (int)r;
	struct kvm_vcpu_events ev;
	memset(&ev, 0, sizeof(ev));
	r = SYS_IOCTL(vcpu->fd, KVM_GET_VCPU_EVENTS, &ev, vcpu->name);
	if (r < 0)
		return (int)r;
	snap_put_u32(w, mp.mp_state);
	snap_put_u8(w, ev.exception.serror_pending);
	snap_put_u8(w, ev.exception.serror_has_esr);
	snap_put_u8(w, ev.exception.ext_dabt_pending);
	snap_put_u64(w, ev.exception.serror_esr);
	return w->err;
}

int arm64_vcpu_state_parse(struct snap_reader *r, struct arm64_vcpu_state *st)
{
	memset(st, 0, sizeof(*st));
	st->nr_regs = snap_get_u32(r, "register count");
	if (st->nr_regs > ARM64_MAX_REGS)
		snap_reader_fail(r, "register count");
	if (r->err)
		return r->err;
	st->regs = calloc(st->nr_regs ? st->nr_regs : 1, sizeof(*st->regs));
	st->values = malloc((size_t)st->nr_regs * ARM64_MAX_REG_BYTES + 1);
	if (!st->regs || !st->values) {
		arm64_vcpu_state_free(st);
		return -ENOMEM;
	}
	uint32_t offset = 0;
	for (uint32_t i = 0; i < st->nr_regs && !r->err; i++) {
		uint64_t id = snap_get_u64(r, "register id");
		uint32_t size = snap_get_u32(r, "register size");
		if (size != reg_size(id) || size > ARM64_MAX_REG_BYTES) {
			snap_reader_fail(r, "register size");
			break;
		}
		st->regs[i] = (struct arm64_reg_value){id, size, offset};
		snap_get_bytes(r, st->values + offset, size, "register value");
		offset += size;
	}
	st->mp_state = snap_get_u32(r, "MP state");
	st->serror_pending = snap_get_u8(r, "SError pending");
	st->serror_has_esr = snap_get_u8(r, "SError ESR flag");
	st->ext_dabt_pending = snap_get_u8(r, "external abort pending");
	st->serror_esr = snap_get_u64(r, "SError ESR");
	if (!snap_reader_done(r)) {
		arm64_vcpu_state_free(st);
		return r->err;
	}
	return 0;
}

void arm64_vcpu_state_free(struct arm64_vcpu_state *st)
{
	free(st->regs);
	free(st->values);
	st->regs = NULL;
	st->values = NULL;
}

static bool value_is_zero(const uint8_t *v, uint32_t size)
{
	for (uint32_t i = 0; i < size; i++)
		if (v[i])
			return false;
	return true;
}

/* Says that a saved register does not exist here, by its name where it is a system register. */
static void report_missing(const struct vcpu *vcpu, uint64_t id, char *report, size_t size)
{
	char name[ARM64_IDREG_NAME_MAX];
	if ((id & KVM_REG_ARM_COPROC_MASK) == KVM_REG_ARM64_SYSREG)
		component_report_add(report, size, "%s: register %s (%#" PRIx64 ") does not exist on this host",
				     vcpu->name, arm64_idreg_name((uint32_t)(id & 0xffff), name), id);
	else
		component_report_add(report, size, "%s: %s %#" PRIx64 " does not exist on this host", vcpu->name,
				     reg_is_fw(id) ? "firmware pseudo-register" : "register", id);
}

/*
 * A saved ID register whose value differs from this vCPU's: KVM takes it only where it could offer it here (fields
 * it reports writable, no higher than the host's; MIDR/REVIDR/AIDR only with a targets config). Rather than model
 * those rules, ask KVM: write the saved value and put this vCPU's back (it has never run, so KVM allows both).
 * Returns 1 after a line in `report` if KVM refuses.
 */
static int id_reg_problem(struct vcpu *vcpu, uint64_t id, uint64_t saved, char *report, size_t size)
{
	uint32_t enc = (uint32_t)(id & 0xffff);
	uint64_t here = 0;
	struct kvm_one_reg one = {.id = id, .addr = (uint64_t)(uintptr_t)&here};
	if ((id & KVM_REG_ARM_COPROC_MASK) != KVM_REG_ARM64_SYSREG || !arm64_idreg_in_id_range(enc) ||
	    enc == ARM64_MPIDR_EL1)
		return 0; /* not an ID register (MPIDR is one per vCPU, and KVM takes any) */
	if (__SYS_IOCTL(vcpu->fd, KVM_GET_ONE_REG, &one) < 0 || here == saved)
		return 0; /* equal, or unreadable: the restore's own write will say why */
	one.addr = (uint64_t)(uintptr_t)&saved;
	long tried = __SYS_IOCTL(vcpu->fd, KVM_SET_ONE_REG, &one);
	one.addr = (uint64_t)(uintptr_t)&here;
	if (tried == 0 && __SYS_IOCTL(vcpu->fd, KVM_SET_ONE_REG, &one) == 0)
		return 0;
	char name[ARM64_IDREG_NAME_MAX];
	arm64_idreg_name(enc, name);
	if (tried == 0)
		component_report_add(
		    report, size, "%s: %s: KVM here took the source's %#" PRIx64 " but not its own %#" PRIx64 " back",
		    vcpu->name, name, saved, here);
	else
		component_report_add(report, size,
				     "%s: %s was %#" PRIx64
				     " on the source; KVM here cannot set that (this host has %#" PRIx64 ")",
				     vcpu->name, name, saved, here);
	return 1;
}

int arm64_vcpu_state_check(struct vcpu *vcpu, const struct arm64_vcpu_state *st, char *report, size_t size)
{
	struct kvm_reg_list *list;
	if (reg_list(vcpu, &list) < 0) {
		component_report_add(report, size, "%s: cannot list its registers", vcpu->name);
		return 1;
	}
	int problems = 0;
	for (uint32_t i = 0; i < st->nr_regs; i++) {
		const struct arm64_reg_value *reg = &st->regs[i];
		const uint8_t *value = st->values + reg->offset;
		bool known = false;
		for (uint64_t j = 0; j < list->n && !known; j++)
			known = list->reg[j] == reg->id;
		if (known && reg->size == sizeof(uint64_t)) {
			uint64_t v;
			memcpy(&v, value, sizeof(v));
			problems += id_reg_problem(vcpu, reg->id, v, report, size);
		} else if (!known && !(reg_is_fw(reg->id) && value_is_zero(value, reg->size))) {
			report_missing(vcpu, reg->id, report, size);
			problems++;
		}
	}
	free(list);
	return problems;
}

int arm64_vcpu_state_apply(struct vcpu *vcpu, const struct arm64_vcpu_state *st, bool skip_counter)
{
	for (uint32_t i = 0; i < st->nr_regs; i++) {
		const struct arm64_reg_value *reg = &st->regs[i];
		if (skip_counter && (reg->id == KVM_REG_ARM_TIMER_CNT || reg->id == KVM_REG_ARM_PTIMER_CNT))
			continue;
		uint8_t value[ARM64_MAX_REG_BYTES];
		memcpy(value, st->values + reg->offset, reg->size);
		/* A firmware register this KVM lacks and that only said "not available" is skipped (see check). */
		struct kvm_one_reg probe = {.id = reg->id, .addr = (uint64_t)(uintptr_t)value};
		if (reg_is_fw(reg->id) && value_is_zero(value, reg->size) &&
		    __SYS_IOCTL(vcpu->fd, KVM_GET_ONE_REG, &probe) == -ENOENT)
			continue;
		memcpy(value, st->values + reg->offset, reg->size);
		int ret = one_reg(vcpu, KVM_SET_ONE_REG, reg->id, value, "KVM_SET_ONE_REG");
		if (ret)
			return ret;
	}
	struct kvm_vcpu_events ev;
	memset(&ev, 0, sizeof(ev));
	ev.exception.serror_pending = st->serror_pending;
	ev.exception.serror_has_esr = st->serror_has_esr;
	ev.exception.ext_dabt_pending = st->ext_dabt_pending;
	ev.exception.serror_esr = st->serror_esr;
	long ret = SYS_IOCTL(vcpu->fd, KVM_SET_VCPU_EVENTS, &ev, vcpu->name);
	if (ret < 0)
		return (int)ret;
	struct kvm_mp_state mp = {.mp_state = st->mp_state};
	ret = SYS_IOCTL(vcpu->fd, KVM_SET_MP_STATE, &mp, vcpu->name);
	return ret < 0 ? (int)ret : 0;
}

int arm64_read_guest_counter(struct vcpu *vcpu, uint64_t *value)
{
	return arm64_get_reg(vcpu, KVM_REG_ARM_TIMER_CNT, value, "CNTVCT (KVM_REG_ARM_TIMER_CNT)");
}
