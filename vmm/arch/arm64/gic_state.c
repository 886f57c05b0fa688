/* GICv3 state for snapshots: see gic_state.h. */
#include "gic_state.h"

#include "arm64.h"
#include "core/component.h"
#include "core/log.h"
#include "core/sys_ioctl.h"
#include "core/vcpu.h"
#include "core/vm.h"
#include "gic_cpuif.h"
#include "layout.h"
#include "snapshot/snap_codec.h"
#include "vcpu_state.h"

#include <errno.h>
#include <inttypes.h>
#include <linux/kvm.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define GIC_MAX_ENTRIES 65536

#define GICD_CTLR 0x0000
#define GICD_IIDR 0x0008
#define GICD_IGROUPR 0x0080
#define GICD_ISENABLER 0x0100
#define GICD_ISPENDR 0x0200
#define GICD_ISACTIVER 0x0300
#define GICD_IPRIORITYR 0x0400
#define GICD_ICFGR 0x0c00
#define GICD_IROUTER 0x6000
#define GICR_CTLR 0x0000
#define GICR_PROPBASER 0x0070
#define GICR_PENDBASER 0x0078
#define GICR_SGI 0x10000

#define SYSREG(op0, op1, crn, crm, op2) (((op0) << 14) | ((op1) << 11) | ((crn) << 7) | ((crm) << 3) | (op2))
#define ICC_CTLR_EL1 ARM64_ICC_CTLR_EL1_ENC

struct gic_entry {
	uint32_t group;
	uint64_t attr;
};

struct gic_list {
	struct gic_entry *e;
	uint32_t n, cap;
};

static void gic_add(struct gic_list *l, uint32_t group, uint64_t attr)
{
	if (l->n == l->cap) {
		uint32_t cap = l->cap ? l->cap * 2 : 256;
		struct gic_entry *e = realloc(l->e, cap * sizeof(*e));
		if (!e)
			return;
		l->e = e;
		l->cap = cap;
	}
	l->e[l->n++] = (struct gic_entry){group, attr};
}

/* The affinity of a vCPU as the GIC attribute groups encode it (Aff3..Aff0 in bits 63..32). */
static uint64_t gic_mpidr_attr(const struct vcpu *vcpu)
{
	uint64_t m = vcpu->arch->mpidr;
	uint64_t packed = ((m >> 32) & 0xff) << 24 | ((m >> 16) & 0xff) << 16 | ((m >> 8) & 0xff) << 8 | (m & 0xff);
	return packed << 32;
}

/* Every register to save, in restore order. */
static void gic_build_list(struct vm *vm, uint32_t nr_irqs, struct gic_list *l)
{
	const uint32_t D = KVM_DEV_ARM_VGIC_GRP_DIST_REGS, R = KVM_DEV_ARM_VGIC_GRP_REDIST_REGS,
		       S = KVM_DEV_ARM_VGIC_GRP_CPU_SYSREGS, L = KVM_DEV_ARM_VGIC_GRP_LEVEL_INFO;
	const uint64_t level = (uint64_t)VGIC_LEVEL_INFO_LINE_LEVEL << KVM_DEV_ARM_VGIC_LINE_LEVEL_INFO_SHIFT;
	gic_add(l, D, GICD_CTLR);
	for (int v = 0; v < vm->nr_vcpus; v++) {
		uint64_t m = gic_mpidr_attr(&vm->vcpus[v]);
		gic_add(l, R, m | GICR_PROPBASER);
		gic_add(l, R, m | (GICR_PROPBASER + 4));
		gic_add(l, R, m | GICR_PENDBASER);
		gic_add(l, R, m | (GICR_PENDBASER + 4));
		gic_add(l, R, m | GICR_CTLR);
		gic_add(l, R, m | (GICR_SGI + GICD_IGROUPR));
		gic_add(l, R, m | (GICR_SGI + GICD_ICFGR));
		gic_add(l, R, m | (GICR_SGI + GICD_ICFGR + 4));
		for (int k = 0; k < 8; k++)
			gic_add(l, R, m | (GICR_SGI + GICD_IPRIORITYR + 4 * (uint64_t)k));
		gic_add(l, L, m | level | 0);
		gic_add(l, R, m | (GICR_SGI + GICD_ISPENDR));
		gic_add(l, R, m | (GICR_SGI + GICD_ISENABLER));
		gic_add(l, R, m | (GICR_SGI + GICD_ISACTIVER));
	}
	for (uint32_t k = 1; k < nr_irqs / 32; k++)
		gic_add(l, D, GICD_IGROUPR + 4 * k);
	for (uint32_t k = 2; k < nr_irqs / 16; k++)
		gic_add(l, D, GICD_ICFGR + 4 * k);
	for (uint32_t k = 8; k < nr_irqs / 4; k++)
		gic_add(l, D, GICD_IPRIORITYR + 4 * k);
	for (uint32_t i = 32; i < nr_irqs; i++) {
		gic_add(l, D, GICD_IROUTER + 8 * i);
		gic_add(l, D, GICD_IROUTER + 8 * i + 4);
	}
	for (uint32_t k = 1; k < nr_irqs / 32; k++)
		gic_add(l, L, level | 32 * k);
	for (uint32_t k = 1; k < nr_irqs / 32; k++)
		gic_add(l, D, GICD_ISPENDR + 4 * k);
	for (uint32_t k = 1; k < nr_irqs / 32; k++)
		gic_add(l, D, GICD_ISENABLER + 4 * k);
	for (uint32_t k = 1; k < nr_irqs / 32; k++)
		gic_add(l, D, GICD_ISACTIVER + 4 * k);
	static const uint32_t icc[] = {
	    SYSREG(3, 0, 12, 12, 5), /* ICC_SRE_EL1 */
	    ICC_CTLR_EL1,
	    SYSREG(3, 0, 4, 6, 0), /* ICC_PMR_EL1 */
	    SYSREG(3, 0, 12, 8, 3), /* ICC_BPR0_EL1 */
	    SYSREG(3, 0, 12, 12, 3), /* ICC_BPR1_EL1 */
	    SYSREG(3, 0, 12, 8, 4),
	    SYSREG(3, 0, 12, 8, 5),
	    SYSREG(3, 0, 12, 8, 6),
	    SYSREG(3, 0, 12, 8, 7), /* AP0R */
	    SYSREG(3, 0, 12, 9, 0),
	    SYSREG(3, 0, 12, 9, 1),
	    SYSREG(3, 0, 12, 9, 2),
	    SYSREG(3, 0, 12, 9, 3), /* AP1R */
	    SYSREG(3, 0, 12, 12, 6), /* ICC_IGRPEN0_EL1 */
	    SYSREG(3, 0, 12, 12, 7), /* ICC_IGRPEN1_EL1 */
	};
	for (int v = 0; v < vm->nr_vcpus; v++)
		for (size_t i = 0; i < sizeof(icc) / sizeof(icc[0]); i++)
			gic_add(l, S, gic_mpidr_attr(&vm->vcpus[v]) | icc[i]);
}

static const char *gic_group_name(uint32_t group)
{
	switch (group) {
	case KVM_DEV_ARM_VGIC_GRP_DIST_REGS:
		return "distributor register";
	case KVM_DEV_ARM_VGIC_GRP_REDIST_REGS:
		return "redistributor register";
	case KVM_DEV_ARM_VGIC_GRP_CPU_SYSREGS:
		return "CPU interface register";
	default:
		return "line level";
	}
}

/* Device-attribute access; 32-bit groups go through a u32. */
static long gic_attr(struct vm *vm, unsigned long request, uint32_t group, uint64_t attr, uint64_t *value)
{
	uint32_t v32 = (uint32_t)*value;
	bool wide = group == KVM_DEV_ARM_VGIC_GRP_CPU_SYSREGS;
	struct kvm_device_attr da = {
	    .group = group, .attr = attr, .addr = (uint64_t)(uintptr_t)(wide ? (void *)value : &v32)};
	long ret = request == KVM_SET_DEVICE_ATTR ? __SYS_IOCTL(vm->arch->gic_fd, KVM_SET_DEVICE_ATTR, &da)
						  : __SYS_IOCTL(vm->arch->gic_fd, KVM_GET_DEVICE_ATTR, &da);
	if (ret == 0 && !wide)
		*value = v32;
	return ret;
}

static int gic_nr_irqs(struct vm *vm, uint32_t *nr)
{
	struct kvm_device_attr da = {.group = KVM_DEV_ARM_VGIC_GRP_NR_IRQS, .addr = (uint64_t)(uintptr_t)nr};
	long ret = SYS_IOCTL(vm->arch->gic_fd, KVM_GET_DEVICE_ATTR, &da, "GIC interrupt count");
	return ret < 0 ? (int)ret : 0;
}

int arm64_gic_save(struct vm *vm, struct snap_writer *w)
{
	uint32_t nr_irqs;
	int ret = gic_nr_irqs(vm, &nr_irqs);
	if (ret)
		return ret;
	uint64_t iidr = 0;
	if (gic_attr(vm, KVM_GET_DEVICE_ATTR, KVM_DEV_ARM_VGIC_GRP_DIST_REGS, GICD_IIDR, &iidr) < 0)
		return log_errno(-EIO, "KVM_GET_DEVICE_ATTR(GIC GICD_IIDR) failed");
	struct gic_list l = {0};
	gic_build_list(vm, nr_irqs, &l);
	snap_put_u32(w, nr_irqs);
	snap_put_u32(w, (uint32_t)iidr);
	snap_put_u32(w, (uint32_t)vm->nr_vcpus);
	/* Entries KVM does not implement (e.g. AP0R1..3 with few priority bits) are left out. */
	uint32_t present = 0;
	uint64_t *values = calloc(l.n ? l.n : 1, sizeof(*values));
	bool *ok = calloc(l.n ? l.n : 1, sizeof(*ok));
	for (uint32_t i = 0; values && ok && i < l.n; i++) {
		long r = gic_attr(vm, KVM_GET_DEVICE_ATTR, l.e[i].group, l.e[i].attr, &values[i]);
		/* Absent registers: ENXIO, or EINVAL for the APnR a GIC with few priority bits does not have. */
		if (r == -ENXIO || (r == -EINVAL && l.e[i].group == KVM_DEV_ARM_VGIC_GRP_CPU_SYSREGS))
			continue;
		if (r < 0) {
			ret = log_errno((int)r, "KVM_GET_DEVICE_ATTR(GIC %s %#" PRIx64 "): %s",
					gic_group_name(l.e[i].group), l.e[i].attr, strerror((int)-r));
			break;
		}
		ok[i] = true;
		present++;
	}
	if (!values || !ok)
		ret = -ENOMEM;
	snap_put_u32(w, present);
	for (uint32_t i = 0; !ret && i < l.n; i++)
		if (ok[i]) {
			snap_put_u32(w, l.e[i].group);
			snap_put_u64(w, l.e[i].attr);
			snap_put_u64(w, values[i]);
		}
	free(values);
	free(ok);
	free(l.e);
	return ret ? ret : w->err;
}

/*
 * Writes why ICC_CTLR_EL1 `want` (the source's, or the targets': `whose`) cannot be given to the CPU interface `attr`
 * of this host, whose own is `here`, into buf, or "" if it can.
 */
static void icc_ctlr_problem(uint64_t attr, const char *whose, uint64_t want, uint64_t here, char *buf, size_t size)
{
	char who[64];
	snprintf(who, sizeof(who), "ICC_CTLR_EL1 of CPU 0x%" PRIx64, attr >> 32);
	arm64_gic_cpuif_problem(who, whose, want, here, buf, size);
}

/* Writes why KVM here refused the source's GICD_IIDR (`saved`) into buf; `here` is its own. */
static void iidr_problem(uint64_t saved, uint64_t here, char *buf, size_t size)
{
	snprintf(buf, size,
		 "GIC: the source's GICD_IIDR %#" PRIx64 " (product %#" PRIx64 ", revision %u) is not one KVM here "
		 "emulates (its own is %#" PRIx64 ", revision %u)",
		 saved, saved >> 24, (unsigned)(saved >> 12) & 0xf, here, (unsigned)(here >> 12) & 0xf);
}

/*
 * Whether KVM here takes the saved GICD_IIDR (its own product, at a revision it emulates): asked by writing it and
 * putting this host's back, before the GIC holds any state. Returns 1 after a line in report if not.
 */
static int gic_iidr_check(struct vm *vm, uint64_t saved, char *report, size_t size)
{
	uint64_t here = 0, value = saved;
	if (gic_attr(vm, KVM_GET_DEVICE_ATTR, KVM_DEV_ARM_VGIC_GRP_DIST_REGS, GICD_IIDR, &here) < 0 || here == saved)
		return 0;
	long tried = gic_attr(vm, KVM_SET_DEVICE_ATTR, KVM_DEV_ARM_VGIC_GRP_DIST_REGS, GICD_IIDR, &value);
	value = here;
	if (tried == 0 && gic_attr(vm, KVM_SET_DEVICE_ATTR, KVM_DEV_ARM_VGIC_GRP_DIST_REGS, GICD_IIDR, &value) == 0)
		return 0;
	char problem[320];
	iidr_problem(saved, here, problem, sizeof(problem));
	component_report_add(report, size, "%s", problem);
	return 1;
}

/* Reads the CPU interface `attr`'s ICC_CTLR_EL1 into *here and checks that it can take `want`. 0 or -errno after a
 * line. */
static int gic_check_icc_ctlr(struct vm *vm, uint64_t attr, const char *whose, uint64_t want, uint64_t *here)
{
	char problem[320];
	*here = 0;
	if (gic_attr(vm, KVM_GET_DEVICE_ATTR, KVM_DEV_ARM_VGIC_GRP_CPU_SYSREGS, attr, here) < 0)
		return log_errno(-EIO, "cannot read ICC_CTLR_EL1 of this host's GIC");
	icc_ctlr_problem(attr, whose, want, *here, problem, sizeof(problem));
	return problem[0] ? log_errno(-EINVAL, "%s", problem) : 0;
}

int arm64_gic_set_cpuif(struct vm *vm, uint64_t icc_ctlr)
{
	for (int v = 0; v < vm->nr_vcpus; v++) {
		const struct vcpu *vcpu = &vm->vcpus[v];
		uint64_t attr = gic_mpidr_attr(vcpu) | ICC_CTLR_EL1, value, back = 0;
		int ret = gic_check_icc_ctlr(vm, attr, "the targets'", icc_ctlr, &value);
		if (ret)
			return ret;
		/* The read-only fields from the targets; CBPR and EOImode stay as they are (reset values). */
		value = (value & ~ARM64_ICC_CTLR_RO_MASK) | (icc_ctlr & ARM64_ICC_CTLR_RO_MASK);
		long e = gic_attr(vm, KVM_SET_DEVICE_ATTR, KVM_DEV_ARM_VGIC_GRP_CPU_SYSREGS, attr, &value);
		if (e < 0)
			return log_errno((int)e, "%s: KVM refused ICC_CTLR_EL1 %#" PRIx64 ": %s", vcpu->name, value,
					 strerror((int)-e));
		if (gic_attr(vm, KVM_GET_DEVICE_ATTR, KVM_DEV_ARM_VGIC_GRP_CPU_SYSREGS, attr, &back) < 0 ||
		    (back & ARM64_ICC_CTLR_RO_MASK) != (icc_ctlr & ARM64_ICC_CTLR_RO_MASK))
			return log_errno(-EIO, "%s: wrote ICC_CTLR_EL1 %#" PRIx64 ", KVM reads back %#" PRIx64,
					 vcpu->name, value, back);
	}
	return 0;
}

int arm64_gic_check(struct vm *vm, struct snap_reader *r, char *report, size_t size)
{
	uint32_t nr_irqs = snap_get_u32(r, "GIC interrupt count");
	uint64_t iidr = snap_get_u32(r, "GICD_IIDR");
	uint32_t nr_vcpus = snap_get_u32(r, "GIC vCPU count");
	uint32_t count = snap_get_u32(r, "GIC register count");
	uint32_t here_irqs = 0;
	if (r->err || count > GIC_MAX_ENTRIES) {
		component_report_add(report, size, "GIC state: cannot be decoded");
		return 1;
	}
	int problems = gic_iidr_check(vm, iidr, report, size);
	if (gic_nr_irqs(vm, &here_irqs) == 0 && (here_irqs != nr_irqs || nr_vcpus != (uint32_t)vm->nr_vcpus)) {
		component_report_add(report, size, "GIC: saved for %u interrupts and %u vCPUs, this VM has %u and %d",
				     nr_irqs, nr_vcpus, here_irqs, vm->nr_vcpus);
		problems++;
	}
	for (uint32_t i = 0; i < count && !r->err; i++) {
		uint32_t group = snap_get_u32(r, "GIC register group");
		uint64_t attr = snap_get_u64(r, "GIC register"), value = snap_get_u64(r, "GIC register value"),
			 here = 0;
		if (r->err || group != KVM_DEV_ARM_VGIC_GRP_CPU_SYSREGS || (attr & 0xffff) != ICC_CTLR_EL1)
			continue;
		char problem[320];
		if (gic_attr(vm, KVM_GET_DEVICE_ATTR, group, attr, &here) < 0)
			continue;
		icc_ctlr_problem(attr, "the source's", value, here, problem, sizeof(problem));
		if (problem[0]) {
			component_report_add(report, size, "%s", problem);
			problems++;
		}
	}
	return problems;
}

int arm64_gic_restore(struct vm *vm, struct snap_reader *r)
{
	uint32_t nr_irqs = snap_get_u32(r, "GIC interrupt count");
	uint64_t iidr = snap_get_u32(r, "GICD_IIDR");
	uint32_t nr_vcpus = snap_get_u32(r, "GIC vCPU count");
	uint32_t count = snap_get_u32(r, "GIC register count");
	if (r->err || count > GIC_MAX_ENTRIES)
		return log_errno(-EBADMSG, "GIC state: bad %s", r->what ? r->what : "register count");
	uint32_t here;
	int ret = gic_nr_irqs(vm, &here);
	if (ret)
		return ret;
	if (here != nr_irqs || nr_vcpus != (uint32_t)vm->nr_vcpus)
		return log_errno(-EINVAL, "GIC state: saved for %u interrupts and %u vCPUs, this VM has %u and %d",
				 nr_irqs, nr_vcpus, here, vm->nr_vcpus);
	/* GICD_IIDR first: it tells KVM which behaviour the saved state expects. */
	uint64_t iidr_here = 0;
	gic_attr(vm, KVM_GET_DEVICE_ATTR, KVM_DEV_ARM_VGIC_GRP_DIST_REGS, GICD_IIDR, &iidr_here);
	if (gic_attr(vm, KVM_SET_DEVICE_ATTR, KVM_DEV_ARM_VGIC_GRP_DIST_REGS, GICD_IIDR, &iidr) < 0) {
		char problem[320];
		iidr_problem(iidr, iidr_here, problem, sizeof(problem));
		return log_errno(-EINVAL, "%s", problem);
	}
	for (uint32_t i = 0; i < count; i++) {
		uint32_t group = snap_get_u32(r, "GIC register group");
		uint64_t attr = snap_get_u64(r, "GIC register");
		uint64_t value = snap_get_u64(r, "GIC register value");
		if (r->err)
			return log_errno(-EBADMSG, "GIC state: truncated at %s", r->what);
		if (group < KVM_DEV_ARM_VGIC_GRP_DIST_REGS || group > KVM_DEV_ARM_VGIC_GRP_LEVEL_INFO ||
		    group == KVM_DEV_ARM_VGIC_GRP_NR_IRQS || group == KVM_DEV_ARM_VGIC_GRP_CTRL)
			return log_errno(-EBADMSG, "GIC state: unknown register group %u", group);
		if (group == KVM_DEV_ARM_VGIC_GRP_CPU_SYSREGS && (attr & 0xffff) == ICC_CTLR_EL1) {
			uint64_t here;
			ret = gic_check_icc_ctlr(vm, attr, "the source's", value, &here);
			if (ret)
				return ret;
		}
		long e = gic_attr(vm, KVM_SET_DEVICE_ATTR, group, attr, &value);
		if (e < 0)
			return log_errno((int)e, "KVM_SET_DEVICE_ATTR(GIC %s %#" PRIx64 " = %#" PRIx64 "): %s",
					 gic_group_name(group), attr, value, strerror((int)-e));
	}
	return snap_reader_done(r) ? 0 : log_errno(-EBADMSG, "GIC state: %s", r->what);
}
