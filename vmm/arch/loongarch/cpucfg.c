/* CPUCFG fields, the guest's words, merging profiles and checking a host: see cpucfg.h. */
#include "cpucfg.h"

#include "targets/problems.h"

#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define L LOONGARCH_FIELD_LOWER
#define X LOONGARCH_FIELD_EXACT

/* Named fields; every other bit of words 1..20 is an unnamed one-bit LOWER field. */
static const struct loongarch_cpucfg_field named_fields[] = {
    {0, 0, 31, X, "CPUCFG0.PRID"},	 {1, 0, 1, X, "CPUCFG1.ARCH"},	      {1, 2, 2, L, "CPUCFG1.PGMMU"},
    {1, 3, 3, L, "CPUCFG1.IOCSR"},	 {1, 4, 11, L, "CPUCFG1.PALEN"},      {1, 12, 19, L, "CPUCFG1.VALEN"},
    {1, 20, 20, L, "CPUCFG1.UAL"},	 {1, 21, 21, L, "CPUCFG1.RI"},	      {1, 22, 22, L, "CPUCFG1.EP"},
    {1, 23, 23, L, "CPUCFG1.RPLV"},	 {1, 24, 24, L, "CPUCFG1.HP"},	      {1, 25, 25, L, "CPUCFG1.CRC32"},
    {1, 26, 26, L, "CPUCFG1.MSGINT"},	 {2, 0, 0, L, "CPUCFG2.FP"},	      {2, 1, 1, L, "CPUCFG2.FP_SP"},
    {2, 2, 2, L, "CPUCFG2.FP_DP"},	 {2, 3, 5, L, "CPUCFG2.FP_VER"},      {2, 6, 6, L, "CPUCFG2.LSX"},
    {2, 7, 7, L, "CPUCFG2.LASX"},	 {2, 8, 8, L, "CPUCFG2.COMPLEX"},     {2, 9, 9, L, "CPUCFG2.CRYPTO"},
    {2, 10, 10, L, "CPUCFG2.LVZ"},	 {2, 11, 13, L, "CPUCFG2.LVZ_VER"},   {2, 14, 14, L, "CPUCFG2.LLFTP"},
    {2, 15, 17, L, "CPUCFG2.LLFTP_VER"}, {2, 18, 18, L, "CPUCFG2.LBT_X86"},   {2, 19, 19, L, "CPUCFG2.LBT_ARM"},
    {2, 20, 20, L, "CPUCFG2.LBT_MIPS"},	 {2, 21, 21, L, "CPUCFG2.LSPW"},      {2, 22, 22, L, "CPUCFG2.LAM"},
    {2, 24, 24, L, "CPUCFG2.PTW"},	 {3, 0, 0, L, "CPUCFG3.CCDMA"},	      {3, 1, 1, L, "CPUCFG3.SFB"},
    {3, 2, 2, L, "CPUCFG3.UCACC"},	 {3, 3, 3, L, "CPUCFG3.LLEXC"},	      {3, 4, 4, L, "CPUCFG3.SCDLY"},
    {3, 5, 5, L, "CPUCFG3.LLDBAR"},	 {3, 6, 6, L, "CPUCFG3.ITLBHMC"},     {3, 7, 7, L, "CPUCFG3.ICHMC"},
    {3, 8, 10, L, "CPUCFG3.SPW_LVL"},	 {3, 11, 11, L, "CPUCFG3.SPW_HP_HF"}, {3, 12, 12, L, "CPUCFG3.RVA"},
    {3, 13, 16, L, "CPUCFG3.RVAMAX"},	 {4, 0, 31, X, "CPUCFG4.CC_FREQ"},    {5, 0, 15, X, "CPUCFG5.CC_MUL"},
    {5, 16, 31, X, "CPUCFG5.CC_DIV"},	 {6, 0, 0, L, "CPUCFG6.PMP"},	      {6, 1, 3, L, "CPUCFG6.PMVER"},
    {6, 4, 7, L, "CPUCFG6.PMNUM"},	 {6, 8, 13, X, "CPUCFG6.PMBITS"},     {6, 14, 14, L, "CPUCFG6.UPM"},
    {16, 0, 31, X, "CPUCFG16"},		 {17, 0, 31, X, "CPUCFG17"},	      {18, 0, 31, X, "CPUCFG18"},
    {19, 0, 31, X, "CPUCFG19"},		 {20, 0, 31, X, "CPUCFG20"},
};

#undef L
#undef X

int loongarch_cpucfg_fields(uint32_t word, struct loongarch_cpucfg_field out[32])
{
	int n = 0;
	for (unsigned bit = 0; bit < 32;) {
		const struct loongarch_cpucfg_field *named = NULL;
		for (size_t i = 0; i < sizeof(named_fields) / sizeof(named_fields[0]) && !named; i++)
			if (named_fields[i].word == word && named_fields[i].lo == bit)
				named = &named_fields[i];
		if (named) {
			out[n++] = *named;
			bit = named->hi + 1u;
		} else {
			out[n++] = (struct loongarch_cpucfg_field){(uint8_t)word, (uint8_t)bit, (uint8_t)bit,
								   LOONGARCH_FIELD_LOWER, NULL};
			bit++;
		}
	}
	return n;
}

uint32_t loongarch_cpucfg_policy(uint32_t word)
{
	switch (word) {
	case 1:
		return ~(1u << 26); /* no message-signalled interrupts (DMSINTC) */
	case 2:
		/* no virtualization for the guest, no binary translation (its registers are not saved) */
		return ~((1u << 10) | (7u << 11) | (7u << 18));
	case 6:
		return 0; /* no PMU: its counters are not saved */
	case 0:
	case 3:
	case 4:
	case 5:
	case 16:
	case 17:
	case 18:
	case 19:
	case 20:
		return 0xffffffffu;
	default:
		return 0;
	}
}

static uint32_t field_get(const struct loongarch_cpucfg_field *f, uint32_t v)
{
	uint32_t width = f->hi - f->lo + 1u;
	return width == 32 ? v : (v >> f->lo) & ((1u << width) - 1u);
}

static uint32_t field_set(const struct loongarch_cpucfg_field *f, uint32_t v, uint32_t x)
{
	uint32_t width = f->hi - f->lo + 1u;
	uint32_t mask = width == 32 ? 0xffffffffu : ((1u << width) - 1u) << f->lo;
	return (v & ~mask) | ((x << f->lo) & mask);
}

static void field_label(const struct loongarch_cpucfg_field *f, char *buf, size_t len)
{
	if (f->name)
		snprintf(buf, len, "%s", f->name);
	else
		snprintf(buf, len, "CPUCFG%u[%u]", (unsigned)f->word, (unsigned)f->lo);
}

int loongarch_guest_cpucfg(const struct loongarch_cpu_profile *p, uint32_t out[LOONGARCH_NR_CPUCFG], const char **why)
{
	for (uint32_t i = 0; i < LOONGARCH_NR_CPUCFG; i++)
		out[i] = p->cpucfg[i] & p->writable[i] & loongarch_cpucfg_policy(i);
	uint32_t *w2 = &out[2];
	/* Keep the dependencies KVM checks: FP needs single and double precision, LASX needs LSX needs FP. */
	if ((*w2 & LOONGARCH_CPUCFG2_FP) && (*w2 & (LOONGARCH_CPUCFG2_FPSP | LOONGARCH_CPUCFG2_FPDP)) !=
						(LOONGARCH_CPUCFG2_FPSP | LOONGARCH_CPUCFG2_FPDP))
		*w2 &= ~LOONGARCH_CPUCFG2_FP;
	if (!(*w2 & LOONGARCH_CPUCFG2_FP))
		*w2 &= ~LOONGARCH_CPUCFG2_LSX;
	if (!(*w2 & LOONGARCH_CPUCFG2_LSX))
		*w2 &= ~LOONGARCH_CPUCFG2_LASX;
	if (!(*w2 & LOONGARCH_CPUCFG2_LLFTP)) {
		*why = "KVM here does not let a guest see the constant timer (CPUCFG2.LLFTP), which every guest needs";
		return -EINVAL;
	}
	return 0;
}

struct merge_state {
	struct loongarch_targets *out;
	struct targets_problems pr;
};

/* One note per field and old value: "CPUCFG2.LASX: 0x1 -> 0x0 (a, b)". */
static void merge_notes(struct merge_state *m, const char *field, const uint32_t *old, uint32_t merged,
			const char *const *label, int n)
{
	struct loongarch_targets *t = m->out;
	for (int h = 0; h < n; h++) {
		bool seen = false;
		for (int k = 0; k < h && !seen; k++)
			seen = old[k] == old[h];
		if (old[h] == merged || seen || t->nr_notes == LOONGARCH_TARGETS_MAX_NOTES)
			continue;
		char *note = t->notes[t->nr_notes++];
		size_t len =
		    (size_t)snprintf(note, LOONGARCH_TARGETS_NOTE_LEN, "%s: 0x%x -> 0x%x (", field, old[h], merged);
		for (int k = h; k < n && len < LOONGARCH_TARGETS_NOTE_LEN; k++)
			if (old[k] == old[h])
				len += (size_t)snprintf(note + len, LOONGARCH_TARGETS_NOTE_LEN - len, "%s%s",
							k == h ? "" : ", ", label[k]);
		if (len < LOONGARCH_TARGETS_NOTE_LEN - 1)
			snprintf(note + len, LOONGARCH_TARGETS_NOTE_LEN - len, ")");
		else
			memcpy(note + LOONGARCH_TARGETS_NOTE_LEN - 5, "...)", 5);
	}
}

static void merge_word(struct merge_state *m, uint32_t word, uint32_t (*g)[LOONGARCH_NR_CPUCFG],
		       const char *const *label, int n, uint32_t *old)
{
	struct loongarch_cpucfg_field f[32];
	int nf = loongarch_cpucfg_fields(word, f);
	uint32_t value = 0;
	for (int i = 0; i < nf; i++) {
		char name[48];
		field_label(&f[i], name, sizeof(name));
		uint32_t merged = field_get(&f[i], g[0][word]);
		for (int h = 0; h < n; h++) {
			old[h] = field_get(&f[i], g[h][word]);
			if (f[i].rule == LOONGARCH_FIELD_EXACT && old[h] != merged)
				targets_problem(&m->pr,
						"%s must be the same on all hosts, but %s has 0x%x and %s has 0x%x",
						name, label[0], merged, label[h], old[h]);
			else if (old[h] < merged)
				merged = old[h];
		}
		if (f[i].rule == LOONGARCH_FIELD_LOWER)
			merge_notes(m, name, old, merged, label, n);
		value = field_set(&f[i], value, merged);
	}
	m->out->cpucfg[word] = value;
}

int loongarch_targets_merge_opts(const struct loongarch_cpu_profile *p, int n, const struct targets_merge_options *opt,
				 struct loongarch_targets *out, char *err, size_t err_len)
{
	static const struct targets_merge_options none = {0};
	struct merge_state m = {out, {err, err_len, 0, 0}};
	if (!opt)
		opt = &none;
	memset(out, 0, sizeof(*out));
	if (err_len)
		err[0] = '\0';
	if (n < 1) {
		snprintf(err, err_len, "no profiles to merge");
		return -EINVAL;
	}
	uint32_t(*g)[LOONGARCH_NR_CPUCFG] = calloc((size_t)n, sizeof(*g));
	const char **label = calloc((size_t)n, sizeof(*label));
	uint32_t *old = calloc((size_t)n, sizeof(*old));
	if (!g || !label || !old) {
		free(g);
		free(label);
		free(old);
		snprintf(err, err_len, "out of memory");
		return -ENOMEM;
	}
	int ret = 0;
	for (int h = 0; h < n && !ret; h++) {
		const char *why;
		label[h] = opt->names && opt->names[h] ? opt->names[h] : p[h].name;
		if (loongarch_guest_cpucfg(&p[h], g[h], &why) < 0) {
			snprintf(err, err_len, "%s: %s", label[h], why);
			ret = -EINVAL;
		}
	}
	for (int h = 0; h < n && !ret; h++) {
		bool seen = false;
		for (int k = 0; k < out->nr_impls && !seen; k++)
			seen = out->impls[k].prid == p[h].cpucfg[0];
		if (seen)
			continue;
		if (out->nr_impls == LOONGARCH_TARGETS_MAX_IMPLS) {
			snprintf(err, err_len, "more than %d different CPUs (PRID) among the %d profiles",
				 LOONGARCH_TARGETS_MAX_IMPLS, n);
			ret = -E2BIG;
			break;
		}
		struct loongarch_impl *impl = &out->impls[out->nr_impls++];
		snprintf(impl->name, sizeof(impl->name), "%s", label[h]);
		impl->prid = p[h].cpucfg[0];
	}
	for (uint32_t w = 1; w < LOONGARCH_NR_CPUCFG && !ret; w++)
		merge_word(&m, w, g, label, n, old);
	if (!ret && m.pr.count)
		ret = targets_problems_finish(&m.pr, -EINVAL);
	out->guest_prid = opt->set_id[0] ? (uint32_t)opt->id[0] : p[0].cpucfg[0];
	out->cpucfg[0] = out->guest_prid;
	free(g);
	free(label);
	free(old);
	return ret;
}
