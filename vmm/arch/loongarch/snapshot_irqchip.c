/* LoongArch interrupt-controller state payloads (IPI, EIOINTC, PCH-PIC): see snapshot.h. */
#include "snapshot.h"

#include "snapshot/snap_codec.h"

#include <errno.h>
#include <string.h>

static void put_u32s(struct snap_writer *w, const uint32_t *v, int n)
{
	for (int i = 0; i < n; i++)
		snap_put_u32(w, v[i]);
}

static void get_u32s(struct snap_reader *r, uint32_t *v, int n, const char *what)
{
	for (int i = 0; i < n; i++)
		v[i] = snap_get_u32(r, what);
}

#define COUNT(a) ((int)(sizeof(a) / sizeof((a)[0])))

void loongarch_irqchip_state_save(const struct loongarch_irqchip_state *st, struct snap_writer *w)
{
	uint32_t n = st->nr_cpus <= LOONGARCH_MAX_VCPUS ? st->nr_cpus : LOONGARCH_MAX_VCPUS;
	snap_put_u32(w, n);
	for (uint32_t c = 0; c < n; c++) {
		const struct loongarch_ipi_state *ipi = &st->ipi[c];
		snap_put_u32(w, ipi->status);
		snap_put_u32(w, ipi->en);
		snap_put_u32(w, ipi->set);
		snap_put_u32(w, ipi->clear);
		for (int i = 0; i < 4; i++)
			snap_put_u64(w, ipi->buf[i]);
	}
	const struct loongarch_eiointc_state *e = &st->eiointc;
	snap_put_u32(w, e->num_cpu);
	snap_put_u32(w, e->features);
	snap_put_u32(w, e->status);
	put_u32s(w, e->nodetype, COUNT(e->nodetype));
	put_u32s(w, e->ipmap, COUNT(e->ipmap));
	put_u32s(w, e->enable, COUNT(e->enable));
	put_u32s(w, e->bounce, COUNT(e->bounce));
	put_u32s(w, e->isr, COUNT(e->isr));
	put_u32s(w, e->coremap, COUNT(e->coremap));
	for (uint32_t c = 0; c < n; c++)
		put_u32s(w, e->coreisr[c], LOONGARCH_EIOINTC_COREISR_WORDS);
	const struct loongarch_pch_pic_state *p = &st->pch_pic;
	const uint64_t regs[8] = {p->mask,	 p->htmsi_en, p->edge, p->auto_ctrl0,
				  p->auto_ctrl1, p->irr,      p->isr,  p->polarity};
	for (int i = 0; i < 8; i++)
		snap_put_u64(w, regs[i]);
	snap_put_bytes(w, p->route_entry, sizeof(p->route_entry));
	snap_put_bytes(w, p->htmsi_vector, sizeof(p->htmsi_vector));
}

int loongarch_irqchip_state_restore(struct snap_reader *r, struct loongarch_irqchip_state *st)
{
	memset(st, 0, sizeof(*st));
	st->nr_cpus = snap_get_u32(r, "vCPU count");
	if (st->nr_cpus == 0 || st->nr_cpus > LOONGARCH_MAX_VCPUS)
		snap_reader_fail(r, "vCPU count");
	for (uint32_t c = 0; !r->err && c < st->nr_cpus; c++) {
		struct loongarch_ipi_state *ipi = &st->ipi[c];
		ipi->status = snap_get_u32(r, "IPI status");
		ipi->en = snap_get_u32(r, "IPI enable");
		ipi->set = snap_get_u32(r, "IPI set");
		ipi->clear = snap_get_u32(r, "IPI clear");
		for (int i = 0; i < 4; i++)
			ipi->buf[i] = snap_get_u64(r, "IPI mailbox");
	}
	struct loongarch_eiointc_state *e = &st->eiointc;
	e->num_cpu = snap_get_u32(r, "EIOINTC vCPU count");
	e->features = snap_get_u32(r, "EIOINTC features");
	e->status = snap_get_u32(r, "EIOINTC status");
	if (!r->err && e->num_cpu != st->nr_cpus)
		snap_reader_fail(r, "EIOINTC vCPU count");
	get_u32s(r, e->nodetype, COUNT(e->nodetype), "EIOINTC nodetype");
	get_u32s(r, e->ipmap, COUNT(e->ipmap), "EIOINTC ipmap");
	get_u32s(r, e->enable, COUNT(e->enable), "EIOINTC enable");
	get_u32s(r, e->bounce, COUNT(e->bounce), "EIOINTC bounce");
	get_u32s(r, e->isr, COUNT(e->isr), "EIOINTC isr");
	get_u32s(r, e->coremap, COUNT(e->coremap), "EIOINTC coremap");
	for (uint32_t c = 0; !r->err && c < st->nr_cpus; c++)
		get_u32s(r, e->coreisr[c], LOONGARCH_EIOINTC_COREISR_WORDS, "EIOINTC coreisr");
	struct loongarch_pch_pic_state *p = &st->pch_pic;
	uint64_t *regs[8] = {&p->mask,	     &p->htmsi_en, &p->edge, &p->auto_ctrl0,
			     &p->auto_ctrl1, &p->irr,	   &p->isr,  &p->polarity};
	for (int i = 0; i < 8; i++)
		*regs[i] = snap_get_u64(r, "PCH-PIC register");
	snap_get_bytes(r, p->route_entry, sizeof(p->route_entry), "PCH-PIC route entries");
	snap_get_bytes(r, p->htmsi_vector, sizeof(p->htmsi_vector), "PCH-PIC vectors");
	return snap_reader_done(r) ? 0 : -EBADMSG;
}
