/* LoongArch vCPU and timer state payloads: see snapshot.h. */
#include "snapshot.h"

#include "cpucfg.h"
#include "snapshot/snap_codec.h"

#include <errno.h>
#include <string.h>

uint32_t loongarch_fp_width(uint32_t cpucfg2)
{
	if (!(cpucfg2 & LOONGARCH_CPUCFG2_FP))
		return 0;
	if (cpucfg2 & LOONGARCH_CPUCFG2_LASX)
		return 256;
	return cpucfg2 & LOONGARCH_CPUCFG2_LSX ? 128 : 64;
}

void loongarch_vcpu_state_save(const struct loongarch_vcpu_state *st, struct snap_writer *w)
{
	for (int i = 0; i < 32; i++)
		snap_put_u64(w, st->gpr[i]);
	snap_put_u64(w, st->pc);
	snap_put_u32(w, st->nr_csrs);
	for (uint32_t i = 0; i < st->nr_csrs && i < LOONGARCH_MAX_CSRS; i++) {
		snap_put_u16(w, st->csr_num[i]);
		snap_put_u64(w, st->csr_val[i]);
	}
	snap_put_u32(w, LOONGARCH_NR_CPUCFG);
	for (int i = 0; i < LOONGARCH_NR_CPUCFG; i++)
		snap_put_u32(w, st->cpucfg[i]);
	snap_put_u32(w, st->pv_features);
	snap_put_u64(w, st->steal_time_gpa);
	snap_put_u32(w, st->fp_width);
	if (st->fp_width) {
		snap_put_u32(w, st->fcsr);
		snap_put_u64(w, st->fcc);
		for (int i = 0; i < 32; i++)
			for (uint32_t k = 0; k < st->fp_width / 64; k++)
				snap_put_u64(w, st->fpr[i][k]);
	}
}

int loongarch_vcpu_state_restore(struct snap_reader *r, struct loongarch_vcpu_state *st)
{
	memset(st, 0, sizeof(*st));
	for (int i = 0; i < 32; i++)
		st->gpr[i] = snap_get_u64(r, "GPR");
	st->pc = snap_get_u64(r, "PC");
	st->nr_csrs = snap_get_u32(r, "CSR count");
	if (st->nr_csrs > LOONGARCH_MAX_CSRS)
		snap_reader_fail(r, "CSR count");
	for (uint32_t i = 0; !r->err && i < st->nr_csrs; i++) {
		st->csr_num[i] = snap_get_u16(r, "CSR number");
		st->csr_val[i] = snap_get_u64(r, "CSR value");
		if (loongarch_csr_index(st->csr_num[i]) < 0)
			snap_reader_fail(r, "CSR number (one roam does not restore)");
		for (uint32_t k = 0; k < i; k++)
			if (st->csr_num[k] == st->csr_num[i])
				snap_reader_fail(r, "CSR number (given twice)");
	}
	if (snap_get_u32(r, "CPUCFG count") != LOONGARCH_NR_CPUCFG)
		snap_reader_fail(r, "CPUCFG count");
	for (int i = 0; !r->err && i < LOONGARCH_NR_CPUCFG; i++)
		st->cpucfg[i] = snap_get_u32(r, "CPUCFG word");
	st->pv_features = snap_get_u32(r, "PV features");
	st->steal_time_gpa = snap_get_u64(r, "steal-time address");
	st->fp_width = snap_get_u32(r, "FPU width");
	if (st->fp_width != 0 && st->fp_width != 64 && st->fp_width != 128 && st->fp_width != 256)
		snap_reader_fail(r, "FPU width");
	if (!r->err && st->fp_width) {
		st->fcsr = snap_get_u32(r, "FCSR");
		st->fcc = snap_get_u64(r, "FCC");
		for (int i = 0; i < 32; i++)
			for (uint32_t k = 0; k < st->fp_width / 64; k++)
				st->fpr[i][k] = snap_get_u64(r, "FPU register");
	}
	return snap_reader_done(r) ? 0 : -EBADMSG;
}

void loongarch_timer_state_save(uint64_t counter, struct snap_writer *w)
{
	snap_put_u64(w, counter);
}

int loongarch_timer_state_restore(struct snap_reader *r, uint64_t *counter)
{
	*counter = snap_get_u64(r, "stable counter");
	return snap_reader_done(r) ? 0 : -EBADMSG;
}
