/*
 * Saving and restoring the in-kernel LoongArch interrupt controllers through their KVM device attribute groups
 * (arch/loongarch/include/uapi/asm/kvm.h): the IPI's per-vCPU registers ((vCPU << 16) | offset), the EIOINTC's
 * registers (4 bytes each, in-service bits per vCPU) and software state, and the PCH-PIC's registers.
 */
#include "arch.h"
#include "core/component.h"
#include "core/log.h"
#include "core/vm.h"
#include "loongarch.h"
#include "snapshot.h"
#include "snapshot/snap_codec.h"
#include "snapshot/snapshot.h"

#include <errno.h>
#include <linux/kvm.h>
#include <stdlib.h>

/* EIOINTC register ranges (arch/loongarch/include/asm/kvm_eiointc.h) and where they live in the state struct. */
static uint32_t *eiointc_reg(struct loongarch_eiointc_state *e, int block, int i)
{
	uint32_t *blocks[6] = {e->nodetype, e->ipmap, e->enable, e->bounce, e->isr, e->coremap};
	return &blocks[block][i];
}

static const struct {
	uint32_t start;
	int count;
} eiointc_blocks[6] = {{0xa0, 8}, {0xc0, 2}, {0x200, 8}, {0x280, 8}, {0x300, 8}, {0x800, 64}};

#define EIOINTC_COREISR_START 0x400

static int irqchip_access(struct vm *vm, struct loongarch_irqchip_state *st, bool set)
{
	struct arch_vm *a = vm->arch;
	static const uint32_t ipi_off[4] = {0x0, 0x4, 0x8, 0xc};
	int ret = 0;
	for (uint32_t c = 0; !ret && c < st->nr_cpus; c++) {
		struct loongarch_ipi_state *ipi = &st->ipi[c];
		uint32_t *r32[4] = {&ipi->status, &ipi->en, &ipi->set, &ipi->clear};
		for (int i = 0; !ret && i < 4; i++)
			ret = loongarch_attr(a->ipi_fd, set, KVM_DEV_LOONGARCH_IPI_GRP_REGS, (c << 16) | ipi_off[i],
					     r32[i], "IPI register");
		for (int i = 0; !ret && i < 4; i++)
			ret = loongarch_attr(a->ipi_fd, set, KVM_DEV_LOONGARCH_IPI_GRP_REGS,
					     (c << 16) | (0x20u + 8u * i), &ipi->buf[i], "IPI mailbox");
	}
	struct loongarch_eiointc_state *e = &st->eiointc;
	for (int b = 0; !ret && b < 6; b++)
		for (int i = 0; !ret && i < eiointc_blocks[b].count; i++)
			ret = loongarch_attr(a->eiointc_fd, set, KVM_DEV_LOONGARCH_EXTIOI_GRP_REGS,
					     eiointc_blocks[b].start + 4u * (uint32_t)i, eiointc_reg(e, b, i),
					     "EIOINTC register");
	for (uint32_t c = 0; !ret && c < st->nr_cpus; c++)
		for (int i = 0; !ret && i < LOONGARCH_EIOINTC_COREISR_WORDS; i++)
			ret = loongarch_attr(a->eiointc_fd, set, KVM_DEV_LOONGARCH_EXTIOI_GRP_REGS,
					     (c << 16) | (EIOINTC_COREISR_START + 4u * (uint32_t)i), &e->coreisr[c][i],
					     "EIOINTC in-service bits");
	uint32_t *sw[3] = {&e->num_cpu, &e->features, &e->status};
	for (int i = 0; !ret && i < 3; i++)
		ret = loongarch_attr(a->eiointc_fd, set, KVM_DEV_LOONGARCH_EXTIOI_GRP_SW_STATUS, (uint64_t)i, sw[i],
				     "EIOINTC software state");
	if (!ret && set)
		ret = loongarch_attr(a->eiointc_fd, true, KVM_DEV_LOONGARCH_EXTIOI_GRP_CTRL,
				     KVM_DEV_LOONGARCH_EXTIOI_CTRL_LOAD_FINISHED, NULL, "EIOINTC load finished");
	struct loongarch_pch_pic_state *p = &st->pch_pic;
	static const uint32_t pic_off[8] = {0x20, 0x40, 0x60, 0xc0, 0xe0, 0x380, 0x3a0, 0x3e0};
	uint64_t *regs[8] = {&p->mask,	     &p->htmsi_en, &p->edge, &p->auto_ctrl0,
			     &p->auto_ctrl1, &p->irr,	   &p->isr,  &p->polarity};
	for (int i = 0; !ret && i < 8; i++)
		ret = loongarch_attr(a->pch_pic_fd, set, KVM_DEV_LOONGARCH_PCH_PIC_GRP_REGS, pic_off[i], regs[i],
				     "PCH-PIC register");
	for (uint32_t i = 0; !ret && i < 64; i++)
		ret = loongarch_attr(a->pch_pic_fd, set, KVM_DEV_LOONGARCH_PCH_PIC_GRP_REGS, 0x100 + i,
				     &p->route_entry[i], "PCH-PIC route entry");
	for (uint32_t i = 0; !ret && i < 64; i++)
		ret = loongarch_attr(a->pch_pic_fd, set, KVM_DEV_LOONGARCH_PCH_PIC_GRP_REGS, 0x200 + i,
				     &p->htmsi_vector[i], "PCH-PIC vector");
	return ret;
}

static int irqchip_save(struct component_ctx *ctx, uint32_t instance, struct snap_writer *w)
{
	(void)instance;
	struct vm *vm = ctx->vm;
	struct loongarch_irqchip_state *st = calloc(1, sizeof(*st));
	if (!st)
		return -ENOMEM;
	st->nr_cpus = (uint32_t)vm->nr_vcpus;
	int ret = irqchip_access(vm, st, false);
	if (!ret)
		loongarch_irqchip_state_save(st, w);
	free(st);
	return ret ? ret : w->err;
}

static int irqchip_restore(struct component_ctx *ctx, uint32_t instance, uint32_t version, struct snap_reader *r)
{
	(void)instance;
	struct vm *vm = ctx->vm;
	if (version != LOONGARCH_IRQCHIP_STATE_VERSION)
		return log_errno(-EBADMSG, "interrupt controller state version %u is not %u, the one this roam reads",
				 version, LOONGARCH_IRQCHIP_STATE_VERSION);
	struct loongarch_irqchip_state *st = calloc(1, sizeof(*st));
	if (!st)
		return -ENOMEM;
	int ret = loongarch_irqchip_state_restore(r, st);
	if (ret)
		ret = log_errno(ret, "interrupt controller state: bad %s", r->what ? r->what : "data");
	else if (st->nr_cpus != (uint32_t)vm->nr_vcpus)
		ret = log_errno(-EINVAL, "the snapshot's interrupt controllers serve %u vCPUs, this VM has %d",
				st->nr_cpus, vm->nr_vcpus);
	else
		ret = irqchip_access(vm, st, true);
	free(st);
	return ret;
}

const struct component loongarch_irqchip_component = {
    .name = "irqchip",
    .section = SNAPSHOT_SEC_IRQCHIP,
    .version = LOONGARCH_IRQCHIP_STATE_VERSION,
    .save = irqchip_save,
    .restore = irqchip_restore,
};
