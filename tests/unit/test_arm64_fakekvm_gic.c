/*
 * The fake arm64 KVM's GICv3 (test_arm64_fakekvm.h), through the device attribute groups of
 * Documentation/virt/kvm/devices/arm-vgic-v3.rst: the addresses, the interrupt count and the init, in that order;
 * then the distributor, redistributor and CPU-interface registers and the line levels, in a table of values. Each
 * register keeps the bits KVM keeps (5 priority bits, the edge bit of each ICFGR pair, Aff2..Aff0 of IROUTER), reads
 * what KVM computes (GICD_CTLR's fixed bits, GICD_IIDR, ICC_CTLR_EL1's read-only fields) and refuses the writes KVM
 * refuses (a GICD_IIDR of another GIC or a revision it does not emulate, an ICC_CTLR_EL1 asking for more priority or
 * ID bits than the host's, another SEIS or A3V, an APnR the priority bits leave out).
 */
#include "test_arm64_fakekvm.h"

#include <errno.h>
#include <string.h>

#define GICD_CTLR 0x0000
#define GICD_TYPER 0x0004
#define GICD_IIDR 0x0008
#define GICD_TYPER2 0x000c
#define GICR_SGI 0x10000
#define IIDR_REVISION_MASK (0xfu << 12)
#define IIDR_OF(revision) (0x4bu << 24 | (revision) << 12 | 0x43b) /* KVM's product, Arm as implementer */

#define ICC(op0, op1, crn, crm, op2) (((op0) << 14) | ((op1) << 11) | ((crn) << 7) | ((crm) << 3) | (op2))
#define ICC_PMR ICC(3, 0, 4, 6, 0)
#define ICC_BPR0 ICC(3, 0, 12, 8, 3)
#define ICC_AP0R0 ICC(3, 0, 12, 8, 4)
#define ICC_AP1R0 ICC(3, 0, 12, 9, 0)
#define ICC_BPR1 ICC(3, 0, 12, 12, 3)
#define ICC_CTLR ICC(3, 0, 12, 12, 4)
#define ICC_SRE ICC(3, 0, 12, 12, 5)
#define ICC_IGRPEN0 ICC(3, 0, 12, 12, 6)
#define ICC_IGRPEN1 ICC(3, 0, 12, 12, 7)

/* The distributor's per-interrupt registers: offset, bits per interrupt, bits KVM keeps of each 32-bit word. */
static const struct {
	uint32_t base, bits;
	uint32_t keep;
} dist_ranges[] = {
    {0x0080, 1, 0xffffffff}, /* IGROUPR */
    {0x0100, 1, 0xffffffff}, /* ISENABLER */
    {0x0200, 1, 0xffffffff}, /* ISPENDR */
    {0x0300, 1, 0xffffffff}, /* ISACTIVER */
    {0x0400, 8, 0xf8f8f8f8}, /* IPRIORITYR: 5 priority bits */
    {0x0c00, 2, 0xaaaaaaaa}, /* ICFGR: the edge bit of each pair */
    {0x6000, 64, 0x00ffffff}, /* IROUTER: Aff2..Aff0 in the low word, the high word reads as zero */
};

static uint64_t *stored(struct fakekvm_vm *vm, uint32_t group, uint64_t attr, bool create)
{
	struct fakekvm_gic *g = &vm->gic;
	for (int i = 0; i < g->nr_attrs; i++)
		if (g->attrs[i].group == group && g->attrs[i].attr == attr)
			return &g->attrs[i].value;
	if (!create || g->nr_attrs == FAKEKVM_MAX_GIC_ATTRS)
		return NULL;
	g->attrs[g->nr_attrs] = (struct fakekvm_gic_attr){group, attr, 0};
	return &g->attrs[g->nr_attrs++].value;
}

/* A register that keeps `keep` of what is written and reads it back; *value in, or out. */
static int plain(struct fakekvm_vm *vm, uint32_t group, uint64_t attr, uint64_t keep, bool set, uint64_t *value)
{
	uint64_t *slot = stored(vm, group, attr, set);
	if (set && !slot)
		return fakekvm_refuse("more than %d GIC registers", FAKEKVM_MAX_GIC_ATTRS);
	if (set)
		*slot = *value & keep;
	else
		*value = slot ? *slot : 0;
	return 0;
}

/* KVM takes a GICD_IIDR of its own product only, at a revision it emulates (2 up to its newest). */
static int iidr(struct fakekvm_gic *g, bool set, uint64_t *value)
{
	if (!set) {
		*value = IIDR_OF(g->revision);
		return 0;
	}
	uint32_t revision = (uint32_t)(*value & IIDR_REVISION_MASK) >> 12;
	if ((*value ^ IIDR_OF(g->revision)) & ~(uint64_t)IIDR_REVISION_MASK || revision < 2 ||
	    revision > fakekvm.host.gic_revision)
		return -EINVAL;
	g->revision = revision;
	return 0;
}

static int dist_reg(struct fakekvm_vm *vm, uint32_t offset, bool set, uint64_t *value)
{
	struct fakekvm_gic *g = &vm->gic;
	const uint32_t D = KVM_DEV_ARM_VGIC_GRP_DIST_REGS;
	switch (offset) {
	case GICD_CTLR: /* EnableGrp1A is the state; ARE_NS and DS read as one */
		if (set)
			return plain(vm, D, offset, 0x2, true, value);
		plain(vm, D, offset, 0x2, false, value);
		*value |= 0x50;
		return 0;
	case GICD_TYPER:
		if (!set)
			*value = g->nr_irqs / 32 - 1;
		return 0;
	case GICD_IIDR:
		return iidr(g, set, value);
	case GICD_TYPER2:
		return set && *value ? -EINVAL : (*value = 0, 0);
	}
	for (size_t i = 0; i < sizeof(dist_ranges) / sizeof(dist_ranges[0]); i++) {
		uint32_t base = dist_ranges[i].base, bits = dist_ranges[i].bits;
		if (offset < base || offset >= base + 1024 * bits / 8)
			continue;
		uint32_t irq = (offset - base) * 8 / bits;
		bool high_word = bits == 64 && (offset & 4);
		if (irq < 32 || irq >= g->nr_irqs || high_word) /* private interrupts live in the redistributors */
			return set ? 0 : (*value = 0, 0);
		return plain(vm, D, offset, dist_ranges[i].keep, set, value);
	}
	return -ENXIO;
}

static int redist_reg(struct fakekvm_vm *vm, uint64_t attr, bool set, uint64_t *value)
{
	const uint32_t R = KVM_DEV_ARM_VGIC_GRP_REDIST_REGS;
	uint32_t offset = (uint32_t)attr;
	switch (offset) {
	case 0x0000: /* GICR_CTLR: EnableLPIs needs an ITS, which the fake has not */
		return set ? 0 : (*value = 0, 0);
	case 0x0070: /* GICR_PROPBASER, GICR_PENDBASER: two words each */
	case 0x0074:
	case 0x0078:
	case 0x007c:
	case GICR_SGI + 0x0080: /* IGROUPR0, ISENABLER0, ISPENDR0, ISACTIVER0 */
	case GICR_SGI + 0x0100:
	case GICR_SGI + 0x0200:
	case GICR_SGI + 0x0300:
		return plain(vm, R, attr, 0xffffffff, set, value);
	case GICR_SGI + 0x0c00: /* ICFGR0: SGIs are edge-triggered */
		return set ? 0 : (*value = 0xaaaaaaaa, 0);
	case GICR_SGI + 0x0c04:
		return plain(vm, R, attr, 0xaaaaaaaa, set, value);
	}
	if (offset >= GICR_SGI + 0x0400 && offset < GICR_SGI + 0x0420)
		return plain(vm, R, attr, 0xf8f8f8f8, set, value);
	return -ENXIO;
}

/* KVM's set_gic_ctlr: no more priority or ID bits than the host's (fewer lower the vCPU's), the same SEIS and A3V. */
static int icc_ctlr(struct fakekvm_vm *vm, struct fakekvm_vcpu *c, uint64_t attr, bool set, uint64_t *value)
{
	const uint32_t S = KVM_DEV_ARM_VGIC_GRP_CPU_SYSREGS;
	uint64_t modes; /* CBPR and EOImode */
	if (!set) {
		plain(vm, S, attr, 0x3, false, &modes);
		*value = modes | (uint64_t)(c->icc_pri_bits - 1) << 8 | (uint64_t)c->icc_id_bits << 11 |
			 (uint64_t)fakekvm.host.icc_seis << 14 | (uint64_t)fakekvm.host.icc_a3v << 15;
		return 0;
	}
	uint32_t pri = (uint32_t)(*value >> 8 & 7) + 1, id = (uint32_t)(*value >> 11 & 7);
	if (pri > fakekvm.host.icc_pri_bits || id > fakekvm.host.icc_id_bits ||
	    (*value >> 14 & 1) != fakekvm.host.icc_seis || (*value >> 15 & 1) != fakekvm.host.icc_a3v)
		return -EINVAL;
	c->icc_pri_bits = pri;
	c->icc_id_bits = id;
	return plain(vm, S, attr, 0x3, true, value);
}

static int cpu_sysreg(struct fakekvm_vm *vm, struct fakekvm_vcpu *c, uint64_t attr, bool set, uint64_t *value)
{
	const uint32_t S = KVM_DEV_ARM_VGIC_GRP_CPU_SYSREGS;
	uint32_t enc = (uint32_t)(attr & KVM_DEV_ARM_VGIC_SYSREG_INSTR_MASK);
	uint32_t max_apr = c->icc_pri_bits == 7 ? 3 : c->icc_pri_bits == 6 ? 1 : 0; /* vgic_v3_max_apr_idx */
	switch (enc) {
	case ICC_CTLR:
		return icc_ctlr(vm, c, attr, set, value);
	case ICC_SRE: /* SRE, DFB and DIB are fixed at one */
		if (set && !(*value & 1))
			return -EINVAL;
		return set ? 0 : (*value = 0x7, 0);
	case ICC_PMR:
		return plain(vm, S, attr, 0xffu & ~((1u << (8 - c->icc_pri_bits)) - 1), set, value);
	case ICC_BPR0:
	case ICC_BPR1:
		return plain(vm, S, attr, 0x7, set, value);
	case ICC_IGRPEN0:
	case ICC_IGRPEN1:
		return plain(vm, S, attr, 0x1, set, value);
	}
	if (enc >= ICC_AP0R0 && enc < ICC_AP0R0 + 4)
		return enc - ICC_AP0R0 > max_apr ? -EINVAL : plain(vm, S, attr, 0xffffffff, set, value);
	if (enc >= ICC_AP1R0 && enc < ICC_AP1R0 + 4)
		return enc - ICC_AP1R0 > max_apr ? -EINVAL : plain(vm, S, attr, 0xffffffff, set, value);
	return -ENXIO;
}

/* The vCPU whose MPIDR the attribute names (Aff3..Aff0 in bits 63..32), or NULL. */
static struct fakekvm_vcpu *vcpu_of(struct fakekvm_vm *vm, uint64_t attr)
{
	uint64_t packed = attr >> 32;
	uint64_t mpidr = (packed >> 24 & 0xff) << 32 | (packed & 0xffffff);
	for (int i = 0; i < vm->nr_vcpus; i++)
		if ((fakekvm_reg_get64(vm, &vm->vcpus[i], ARM64_SYS_REG(3, 0, 0, 0, 5)) & 0xff00ffffffull) == mpidr)
			return &vm->vcpus[i];
	return NULL;
}

/* A register of the groups that need the GIC initialized; *value in (set) or out. */
static int state_reg(struct fakekvm_vm *vm, uint32_t group, uint64_t attr, bool set, uint64_t *value)
{
	if (!vm->gic.initialized)
		return -EBUSY;
	if (group == KVM_DEV_ARM_VGIC_GRP_DIST_REGS)
		return dist_reg(vm, (uint32_t)(attr & KVM_DEV_ARM_VGIC_OFFSET_MASK), set, value);
	struct fakekvm_vcpu *c = vcpu_of(vm, attr);
	if (!c)
		return -EINVAL;
	if (group == KVM_DEV_ARM_VGIC_GRP_REDIST_REGS)
		return redist_reg(vm, attr, set, value);
	if (group == KVM_DEV_ARM_VGIC_GRP_CPU_SYSREGS)
		return cpu_sysreg(vm, c, attr, set, value);
	uint64_t info = (attr & KVM_DEV_ARM_VGIC_LINE_LEVEL_INFO_MASK) >> KVM_DEV_ARM_VGIC_LINE_LEVEL_INFO_SHIFT;
	uint32_t intid = (uint32_t)(attr & KVM_DEV_ARM_VGIC_LINE_LEVEL_INTID_MASK);
	if (info != VGIC_LEVEL_INFO_LINE_LEVEL || intid % 32 || intid >= vm->gic.nr_irqs)
		return -EINVAL;
	/* SGIs have no line; private lines are per vCPU, shared ones are the distributor's */
	uint64_t key = intid < 32 ? attr : attr & 0xffffffffull;
	return plain(vm, group, key, intid < 32 ? 0xffff0000 : 0xffffffff, set, value);
}

/* Setup before the init: the addresses and the interrupt count, once each. */
static int setup_attr(struct fakekvm_vm *vm, uint32_t group, uint64_t attr, bool set, void *addr)
{
	struct fakekvm_gic *g = &vm->gic;
	if (group == KVM_DEV_ARM_VGIC_GRP_NR_IRQS) {
		uint32_t n;
		if (!set)
			return memcpy(addr, &g->nr_irqs, 4), 0;
		memcpy(&n, addr, 4);
		if (g->initialized || g->nr_irqs)
			return -EBUSY;
		if (n < 64 || n > 1024 || n % 32)
			return -EINVAL;
		g->nr_irqs = n;
		return 0;
	}
	if (attr != KVM_VGIC_V3_ADDR_TYPE_DIST && attr != KVM_VGIC_V3_ADDR_TYPE_REDIST)
		return -ENXIO;
	bool dist = attr == KVM_VGIC_V3_ADDR_TYPE_DIST;
	uint64_t *base = dist ? &g->dist_base : &g->redist_base;
	bool *done = dist ? &g->dist_set : &g->redist_set;
	if (!set)
		return memcpy(addr, base, 8), 0;
	if (*done)
		return -EEXIST;
	memcpy(base, addr, 8);
	if (*base & 0xffff)
		return -EINVAL;
	*done = true;
	return 0;
}

long fakekvm_gic_ioctl(struct fakekvm_vm *vm, unsigned long request, struct kvm_device_attr *a)
{
	if (request != KVM_GET_DEVICE_ATTR && request != KVM_SET_DEVICE_ATTR)
		return fakekvm_refuse("request %#lx on the GIC is not modelled", request);
	bool set = request == KVM_SET_DEVICE_ATTR;
	switch (a->group) {
	case KVM_DEV_ARM_VGIC_GRP_ADDR:
	case KVM_DEV_ARM_VGIC_GRP_NR_IRQS:
		return setup_attr(vm, a->group, a->attr, set, (void *)(uintptr_t)a->addr);
	case KVM_DEV_ARM_VGIC_GRP_CTRL:
		if (!set || a->attr != KVM_DEV_ARM_VGIC_CTRL_INIT)
			return fakekvm_refuse("GIC control %llu is not modelled", (unsigned long long)a->attr);
		if (!vm->gic.nr_irqs)
			vm->gic.nr_irqs = 256; /* KVM's default */
		vm->gic.initialized = true;
		return 0;
	case KVM_DEV_ARM_VGIC_GRP_DIST_REGS:
	case KVM_DEV_ARM_VGIC_GRP_REDIST_REGS:
	case KVM_DEV_ARM_VGIC_GRP_CPU_SYSREGS:
	case KVM_DEV_ARM_VGIC_GRP_LEVEL_INFO: {
		size_t width = a->group == KVM_DEV_ARM_VGIC_GRP_CPU_SYSREGS ? 8 : 4;
		uint64_t value = 0;
		if (set)
			memcpy(&value, (const void *)(uintptr_t)a->addr, width);
		int ret = state_reg(vm, a->group, a->attr, set, &value);
		if (!ret && !set)
			memcpy((void *)(uintptr_t)a->addr, &value, width);
		return ret;
	}
	default:
		return fakekvm_refuse("GIC attribute group %u is not modelled", a->group);
	}
}

long fakekvm_gic_create(struct fakekvm_vm *vm, struct kvm_create_device *cd)
{
	if (cd->type != KVM_DEV_TYPE_ARM_VGIC_V3)
		return fakekvm_refuse("KVM_CREATE_DEVICE of type %u: only the GICv3 is modelled", cd->type);
	if (!fakekvm.host.gic_v3)
		return -ENODEV;
	if (cd->flags & KVM_CREATE_DEVICE_TEST)
		return 0;
	if (vm->gic.fd >= 0)
		return -EEXIST;
	memset(&vm->gic, 0, sizeof(vm->gic));
	int fd = fakekvm_new_fd("fake-gic", &vm->gic.ino);
	if (fd < 0)
		return vm->gic.fd = -1, fd;
	vm->gic.fd = fd;
	vm->gic.revision = fakekvm.host.gic_revision;
	cd->fd = (uint32_t)fd;
	return 0;
}

uint64_t fakekvm_gic_get(struct fakekvm_vm *vm, uint32_t group, uint64_t attr)
{
	uint64_t value = 0;
	return state_reg(vm, group, attr, false, &value) ? 0 : value;
}

int fakekvm_gic_set(struct fakekvm_vm *vm, uint32_t group, uint64_t attr, uint64_t value)
{
	return state_reg(vm, group, attr, true, &value);
}
