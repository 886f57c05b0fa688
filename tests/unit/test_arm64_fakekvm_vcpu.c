/*
 * The fake arm64 KVM's vCPUs (test_arm64_fakekvm.h): KVM_ARM_VCPU_INIT, the register file behind KVM_GET_REG_LIST
 * and KVM_GET/SET_ONE_REG, the MP state and the vCPU events. The registers are those of a small Cortex-A72-like
 * host: the core registers, the firmware pseudo-registers, the timers and a set of system registers, each with
 * the rule KVM applies to a userspace write.
 */
#include "test_arm64_fakekvm.h"

#include <errno.h>
#include <stddef.h>
#include <string.h>

enum reg_kind {
	REG_PLAIN, /* any value */
	REG_ID, /* VM-wide feature ID register: KVM's writable fields, no higher than the host's */
	REG_IMP_ID, /* MIDR, REVIDR, AIDR: VM-wide, writable with KVM_CAP_ARM_WRITABLE_IMP_ID_REGS only */
	REG_MPIDR, /* per vCPU, any value */
	REG_VCOUNT, /* the virtual counter: reads and writes go through the VM's offset */
	REG_PCOUNT, /* the physical counter: the same */
	REG_FW_BITMAP, /* a firmware service bitmap: a subset of what KVM offers */
	REG_FW_LEVEL, /* a mitigation level: at most the host's */
	REG_PSCI, /* the PSCI version: one KVM implements */
};

struct reg_desc {
	uint64_t id;
	uint64_t reset;
	uint64_t writable; /* REG_ID: KVM_ARM_GET_REG_WRITABLE_MASKS */
	enum reg_kind kind;
};

#define SYS(op0, op1, crn, crm, op2) ARM64_SYS_REG(op0, op1, crn, crm, op2)

/* After the core registers, in KVM_GET_REG_LIST's order: firmware, timers, then system registers by encoding. */
static const struct reg_desc catalogue[] = {
    {KVM_REG_ARM_PSCI_VERSION, 0x10001, 0, REG_PSCI}, /* PSCI 1.1 */
    {KVM_REG_ARM_SMCCC_ARCH_WORKAROUND_1, KVM_REG_ARM_SMCCC_ARCH_WORKAROUND_1_AVAIL, 0, REG_FW_LEVEL},
    {KVM_REG_ARM_SMCCC_ARCH_WORKAROUND_2, KVM_REG_ARM_SMCCC_ARCH_WORKAROUND_2_AVAIL, 0, REG_FW_LEVEL},
    {KVM_REG_ARM_SMCCC_ARCH_WORKAROUND_3, KVM_REG_ARM_SMCCC_ARCH_WORKAROUND_3_AVAIL, 0, REG_FW_LEVEL},
    {KVM_REG_ARM_STD_BMAP, 0x1, 0, REG_FW_BITMAP},
    {KVM_REG_ARM_STD_HYP_BMAP, 0x1, 0, REG_FW_BITMAP},
    {KVM_REG_ARM_VENDOR_HYP_BMAP, 0x3, 0, REG_FW_BITMAP},
    {KVM_REG_ARM_VENDOR_HYP_BMAP_2, 0x3, 0, REG_FW_BITMAP},
    {KVM_REG_ARM_TIMER_CTL, 0, 0, REG_PLAIN},
    {KVM_REG_ARM_TIMER_CNT, 0, 0, REG_VCOUNT},
    {KVM_REG_ARM_TIMER_CVAL, 0, 0, REG_PLAIN},
    {KVM_REG_ARM_PTIMER_CTL, 0, 0, REG_PLAIN},
    {KVM_REG_ARM_PTIMER_CNT, 0, 0, REG_PCOUNT},
    {KVM_REG_ARM_PTIMER_CVAL, 0, 0, REG_PLAIN},
    {SYS(3, 0, 0, 0, 0), 0, 0, REG_IMP_ID}, /* MIDR_EL1: fakekvm.host.midr */
    {SYS(3, 0, 0, 0, 5), 0, 0, REG_MPIDR},
    {SYS(3, 0, 0, 0, 6), 0, 0, REG_IMP_ID}, /* REVIDR_EL1: fakekvm.host.revidr */
    {SYS(3, 0, 0, 4, 0), 0x0000000001002222ull, 0xff0f00000000ffffull, REG_ID}, /* ID_AA64PFR0_EL1 */
    {SYS(3, 0, 0, 4, 1), 0, 0xf0ull, REG_ID}, /* ID_AA64PFR1_EL1 */
    {SYS(3, 0, 0, 5, 0), 0x0000000010305106ull, 0x00000000f0f0f0ffull, REG_ID}, /* ID_AA64DFR0_EL1 */
    {SYS(3, 0, 0, 6, 0), 0x0000000000011120ull, 0xfffffffffffffff0ull, REG_ID}, /* ID_AA64ISAR0_EL1 */
    {SYS(3, 0, 0, 6, 1), 0, 0xffffffffffffffffull, REG_ID}, /* ID_AA64ISAR1_EL1 */
    {SYS(3, 0, 0, 7, 0), 0x0000000000001124ull, 0x00000000000000f0ull, REG_ID}, /* ID_AA64MMFR0_EL1 */
    {SYS(3, 0, 0, 7, 1), 0, 0x00000000f000f0ffull, REG_ID}, /* ID_AA64MMFR1_EL1 */
    {SYS(3, 0, 0, 7, 2), 0, 0x000000000000f0ffull, REG_ID}, /* ID_AA64MMFR2_EL1 */
    {SYS(3, 0, 1, 0, 0), 0x30d00800, 0, REG_PLAIN}, /* SCTLR_EL1 (its RES1 bits) */
    {SYS(3, 0, 1, 0, 2), 0, 0, REG_PLAIN}, /* CPACR_EL1 */
    {SYS(3, 0, 2, 0, 0), 0, 0, REG_PLAIN}, /* TTBR0_EL1 */
    {SYS(3, 0, 2, 0, 1), 0, 0, REG_PLAIN}, /* TTBR1_EL1 */
    {SYS(3, 0, 2, 0, 2), 0, 0, REG_PLAIN}, /* TCR_EL1 */
    {SYS(3, 0, 5, 1, 0), 0, 0, REG_PLAIN}, /* AFSR0_EL1 */
    {SYS(3, 0, 5, 1, 1), 0, 0, REG_PLAIN}, /* AFSR1_EL1 */
    {SYS(3, 0, 5, 2, 0), 0, 0, REG_PLAIN}, /* ESR_EL1 */
    {SYS(3, 0, 6, 0, 0), 0, 0, REG_PLAIN}, /* FAR_EL1 */
    {SYS(3, 0, 7, 4, 0), 0, 0, REG_PLAIN}, /* PAR_EL1 */
    {SYS(3, 0, 10, 2, 0), 0, 0, REG_PLAIN}, /* MAIR_EL1 */
    {SYS(3, 0, 10, 3, 0), 0, 0, REG_PLAIN}, /* AMAIR_EL1 */
    {SYS(3, 0, 12, 0, 0), 0, 0, REG_PLAIN}, /* VBAR_EL1 */
    {SYS(3, 0, 13, 0, 1), 0, 0, REG_PLAIN}, /* CONTEXTIDR_EL1 */
    {SYS(3, 0, 13, 0, 4), 0, 0, REG_PLAIN}, /* TPIDR_EL1 */
    {SYS(3, 0, 14, 1, 0), 0, 0, REG_PLAIN}, /* CNTKCTL_EL1 */
    {SYS(3, 1, 0, 0, 7), 0, 0, REG_IMP_ID}, /* AIDR_EL1 */
    {SYS(3, 2, 0, 0, 0), 0, 0, REG_PLAIN}, /* CSSELR_EL1 */
    {SYS(3, 3, 0, 0, 1), 0x8444c004, 0, REG_ID}, /* CTR_EL0 */
    {SYS(3, 3, 13, 0, 2), 0, 0, REG_PLAIN}, /* TPIDR_EL0 */
    {SYS(3, 3, 13, 0, 3), 0, 0, REG_PLAIN}, /* TPIDRRO_EL0 */
};

#define NR_CATALOGUE (int)(sizeof(catalogue) / sizeof(catalogue[0]))
#define MIDR_ID SYS(3, 0, 0, 0, 0)
#define REVIDR_ID SYS(3, 0, 0, 0, 6)

static const struct reg_desc *desc_of(uint64_t id)
{
	for (int i = 0; i < NR_CATALOGUE; i++)
		if (catalogue[i].id == id)
			return &catalogue[i];
	return NULL;
}

bool fakekvm_idreg_host(uint64_t id, uint64_t *value, uint64_t *writable)
{
	const struct reg_desc *d = desc_of(id);
	if (!d || (d->kind != REG_ID && d->kind != REG_IMP_ID))
		return false;
	*value = id == MIDR_ID ? fakekvm.host.midr : id == REVIDR_ID ? fakekvm.host.revidr : d->reset;
	*writable = d->kind == REG_IMP_ID ? ~0ull : d->writable;
	for (int i = 0; i < FAKEKVM_MAX_KNOBS; i++)
		if (fakekvm.host.idregs[i].id == id)
			*value = fakekvm.host.idregs[i].value, *writable = fakekvm.host.idregs[i].writable;
	return true;
}

static bool unlisted(uint64_t id)
{
	for (int i = 0; i < FAKEKVM_MAX_KNOBS; i++)
		if (fakekvm.host.unlisted[i] == id)
			return true;
	return false;
}

static void add_reg(struct fakekvm_vcpu *c, uint64_t id, uint64_t value)
{
	if (!unlisted(id) && c->nr_regs < FAKEKVM_MAX_REGS)
		c->regs[c->nr_regs++] = (struct fakekvm_reg){id, {value, 0}};
}

uint64_t fakekvm_core_reg(size_t offset, uint64_t size)
{
	return KVM_REG_ARM64 | size | KVM_REG_ARM_CORE | (offset / sizeof(uint32_t));
}

void fakekvm_vcpu_create(struct fakekvm_vm *vm, struct fakekvm_vcpu *c)
{
	for (int n = 0; n < 31; n++)
		add_reg(c, fakekvm_core_reg(offsetof(struct kvm_regs, regs.regs) + 8 * (size_t)n, KVM_REG_SIZE_U64), 0);
	add_reg(c, fakekvm_core_reg(offsetof(struct kvm_regs, regs.sp), KVM_REG_SIZE_U64), 0);
	add_reg(c, fakekvm_core_reg(offsetof(struct kvm_regs, regs.pc), KVM_REG_SIZE_U64), 0);
	add_reg(c, fakekvm_core_reg(offsetof(struct kvm_regs, regs.pstate), KVM_REG_SIZE_U64), 0);
	add_reg(c, fakekvm_core_reg(offsetof(struct kvm_regs, sp_el1), KVM_REG_SIZE_U64), 0);
	add_reg(c, fakekvm_core_reg(offsetof(struct kvm_regs, elr_el1), KVM_REG_SIZE_U64), 0);
	for (int n = 0; n < KVM_NR_SPSR; n++)
		add_reg(c, fakekvm_core_reg(offsetof(struct kvm_regs, spsr) + 8 * (size_t)n, KVM_REG_SIZE_U64), 0);
	for (int n = 0; n < 32; n++)
		add_reg(c,
			fakekvm_core_reg(offsetof(struct kvm_regs, fp_regs.vregs) + 16 * (size_t)n, KVM_REG_SIZE_U128),
			0);
	add_reg(c, fakekvm_core_reg(offsetof(struct kvm_regs, fp_regs.fpsr), KVM_REG_SIZE_U32), 0);
	add_reg(c, fakekvm_core_reg(offsetof(struct kvm_regs, fp_regs.fpcr), KVM_REG_SIZE_U32), 0);
	for (int i = 0; i < NR_CATALOGUE; i++) {
		const struct reg_desc *d = &catalogue[i];
		uint64_t value = d->reset, writable;
		if (d->kind == REG_MPIDR) /* KVM's reset_mpidr: Aff0 from the low 4 bits of the id, RES1 bit 31 */
			value = 1ull << 31 | ((uint64_t)c->id & 0xf) | ((uint64_t)(c->id >> 4) & 0xff) << 8;
		else if (fakekvm_idreg_host(d->id, &value, &writable) && c != &vm->vcpus[0])
			value = fakekvm_reg_get64(vm, &vm->vcpus[0], d->id); /* ID registers are VM-wide */
		add_reg(c, d->id, value);
	}
	c->icc_pri_bits = fakekvm.host.icc_pri_bits;
	c->icc_id_bits = fakekvm.host.icc_id_bits;
}

struct fakekvm_reg *fakekvm_reg(struct fakekvm_vcpu *c, uint64_t id)
{
	for (int i = 0; i < c->nr_regs; i++)
		if (c->regs[i].id == id)
			return &c->regs[i];
	return NULL;
}

uint64_t fakekvm_reg_get64(struct fakekvm_vm *vm, struct fakekvm_vcpu *c, uint64_t id)
{
	const struct reg_desc *d = desc_of(id);
	if (d && d->kind == REG_VCOUNT)
		return fakekvm.host.counter - vm->voffset;
	if (d && d->kind == REG_PCOUNT)
		return fakekvm.host.counter - vm->poffset;
	struct fakekvm_reg *r = fakekvm_reg(c, id);
	return r ? r->value[0] : 0;
}

void fakekvm_reg_put64(struct fakekvm_vcpu *c, uint64_t id, uint64_t value)
{
	struct fakekvm_reg *r = fakekvm_reg(c, id);
	if (r)
		r->value[0] = value;
}

/*
 * KVM's check of an ID register write (arm64_check_features): the fields KVM reports writable may take a value no
 * higher than the host's (the fake treats every writable nibble as an unsigned "lower is safe" field), every other
 * bit must be the host's. Once the VM ran, only the current value is accepted.
 */
static long id_write_check(struct fakekvm_vm *vm, const struct reg_desc *d, uint64_t value, uint64_t current)
{
	uint64_t limit, writable;
	if (value == current)
		return 0;
	if (vm->ran)
		return -EBUSY;
	if (d->kind == REG_IMP_ID)
		return vm->writable_imp_regs ? 0 : -EINVAL;
	fakekvm_idreg_host(d->id, &limit, &writable);
	if ((value ^ limit) & ~writable)
		return -E2BIG;
	for (int shift = 0; shift < 64; shift += 4) {
		uint64_t field = 0xfull << shift;
		if ((writable & field) == field && (value & field) > (limit & field))
			return -E2BIG;
	}
	return 0;
}

static long set_reg(struct fakekvm_vm *vm, struct fakekvm_reg *r, const uint64_t v[2])
{
	const struct reg_desc *d = desc_of(r->id);
	long ret = 0;
	switch (d ? d->kind : REG_PLAIN) {
	case REG_PLAIN:
	case REG_MPIDR:
		memcpy(r->value, v, sizeof(r->value));
		return 0;
	case REG_ID:
	case REG_IMP_ID:
		ret = id_write_check(vm, d, v[0], r->value[0]);
		for (int i = 0; !ret && i < vm->nr_vcpus; i++)
			fakekvm_reg_put64(&vm->vcpus[i], r->id, v[0]);
		return ret;
	case REG_VCOUNT:
	case REG_PCOUNT: /* ignored once KVM_ARM_SET_COUNTER_OFFSET set the offset (the KVM API's rule) */
		if (!vm->counter_offset_set)
			*(d->kind == REG_VCOUNT ? &vm->voffset : &vm->poffset) = fakekvm.host.counter - v[0];
		return 0;
	case REG_FW_BITMAP:
		ret = v[0] & ~d->reset ? -EINVAL : vm->ran && v[0] != r->value[0] ? -EBUSY : 0;
		break;
	case REG_FW_LEVEL:
		ret = v[0] > d->reset ? -EINVAL : 0;
		break;
	case REG_PSCI:
		ret = v[0] == 0x2 || v[0] == 0x10000 || v[0] == 0x10001 ? 0 : -EINVAL;
		break;
	}
	if (!ret)
		r->value[0] = v[0];
	return ret;
}

static long one_reg(struct fakekvm_vm *vm, struct fakekvm_vcpu *c, const struct kvm_one_reg *one, bool set)
{
	if (!c->initialized)
		return -ENOEXEC;
	struct fakekvm_reg *r = fakekvm_reg(c, one->id);
	if (!r)
		return -ENOENT;
	size_t size = (size_t)1 << ((one->id & KVM_REG_SIZE_MASK) >> KVM_REG_SIZE_SHIFT);
	uint64_t v[2] = {0, 0};
	if (set) {
		memcpy(v, (const void *)(uintptr_t)one->addr, size);
		return set_reg(vm, r, v);
	}
	memcpy(v, r->value, sizeof(v));
	v[0] = size == 16 ? v[0] : fakekvm_reg_get64(vm, c, one->id);
	memcpy((void *)(uintptr_t)one->addr, v, size);
	return 0;
}

static long vcpu_init(struct fakekvm_vcpu *c, const struct kvm_vcpu_init *init)
{
	const uint32_t known = 1u << KVM_ARM_VCPU_POWER_OFF | 1u << KVM_ARM_VCPU_PSCI_0_2;
	if (init->target != KVM_ARM_TARGET_GENERIC_V8 || (init->features[0] & ~known))
		return -EINVAL; /* SVE, PMU, pointer auth: the fake host has none */
	for (int i = 1; i < 7; i++)
		if (init->features[i])
			return -ENOENT;
	if (c->initialized && init->features[0] != c->features)
		return -EINVAL;
	c->initialized = true;
	c->features = init->features[0];
	fakekvm_reg_put64(c, fakekvm_core_reg(offsetof(struct kvm_regs, regs.pstate), KVM_REG_SIZE_U64),
			  0x3c5); /* EL1h */
	c->mp_state = c->features & (1u << KVM_ARM_VCPU_POWER_OFF) ? KVM_MP_STATE_STOPPED : KVM_MP_STATE_RUNNABLE;
	return 0;
}

static long set_events(struct fakekvm_vcpu *c, const struct kvm_vcpu_events *ev)
{
	for (size_t i = 0; i < sizeof(ev->reserved) / sizeof(ev->reserved[0]); i++)
		if (ev->reserved[i])
			return -EINVAL;
	for (size_t i = 0; i < sizeof(ev->exception.pad); i++)
		if (ev->exception.pad[i])
			return -EINVAL;
	if (ev->exception.serror_has_esr)
		return -EINVAL; /* no RAS extension on the fake host (KVM_CAP_ARM_INJECT_SERROR_ESR) */
	c->events = *ev;
	return 0;
}

long fakekvm_vcpu_ioctl(struct fakekvm_vm *vm, struct fakekvm_vcpu *c, unsigned long request, void *arg)
{
	switch (request) {
	case KVM_ARM_VCPU_INIT:
		return vcpu_init(c, arg);
	case KVM_GET_ONE_REG:
	case KVM_SET_ONE_REG:
		return one_reg(vm, c, arg, request == KVM_SET_ONE_REG);
	case KVM_GET_REG_LIST: {
		struct kvm_reg_list *list = arg;
		uint64_t room = list->n;
		if (!c->initialized)
			return -ENOEXEC;
		list->n = (uint64_t)c->nr_regs;
		if (room < list->n)
			return -E2BIG;
		for (int i = 0; i < c->nr_regs; i++)
			list->reg[i] = c->regs[i].id;
		return 0;
	}
	case KVM_GET_MP_STATE:
		((struct kvm_mp_state *)arg)->mp_state = c->mp_state;
		return 0;
	case KVM_SET_MP_STATE: {
		uint32_t s = ((const struct kvm_mp_state *)arg)->mp_state;
		if (s != KVM_MP_STATE_RUNNABLE && s != KVM_MP_STATE_STOPPED && s != KVM_MP_STATE_SUSPENDED)
			return -EINVAL;
		c->mp_state = s;
		return 0;
	}
	case KVM_GET_VCPU_EVENTS:
		*(struct kvm_vcpu_events *)arg = c->events;
		return 0;
	case KVM_SET_VCPU_EVENTS:
		return set_events(c, arg);
	case KVM_RUN:
		return fakekvm_run(vm, c);
	default:
		return fakekvm_refuse("request %#lx on vCPU %d is not modelled", request, c->id);
	}
}
