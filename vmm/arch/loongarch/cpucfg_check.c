/* Checking a LoongArch host against a targets config, and the report for people: see cpucfg.h. */
#include "cpucfg.h"

#include "targets/report.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static uint32_t bits(const struct loongarch_cpucfg_field *f, uint32_t v)
{
	uint32_t width = f->hi - f->lo + 1u;
	return width == 32 ? v : (v >> f->lo) & ((1u << width) - 1u);
}

/*
 * Checks one word; returns the number of errors found. LOWER fields may not exceed the host's own value; EXACT
 * fields must equal what a guest on this host would see (`guest`: the host's word within KVM's mask and roam's
 * policy), so a word roam's policy empties compares as 0.
 */
static int check_word(const struct loongarch_targets *t, const struct loongarch_cpu_profile *host,
		      const uint32_t *guest, uint32_t w, struct targets_report *r)
{
	int errors = 0;
	uint32_t want = t->cpucfg[w], extra = want & ~host->writable[w];
	if (extra) {
		targets_report_add(
		    r, TARGETS_ERROR, "cpucfg-not-writable",
		    "CPUCFG%u: the targets need bits 0x%x that KVM here does not let a VMM set (it allows 0x%x)", w,
		    extra, host->writable[w]);
		errors++;
	}
	if (w == 0)
		return errors; /* the guest PRID is an identity, not a feature level */
	struct loongarch_cpucfg_field f[32];
	int nf = loongarch_cpucfg_fields(w, f);
	for (int i = 0; i < nf; i++) {
		uint32_t tv = bits(&f[i], want);
		uint32_t hv = bits(&f[i], f[i].rule == LOONGARCH_FIELD_EXACT ? guest[w] : host->cpucfg[w]);
		char label[48];
		if (f[i].name)
			snprintf(label, sizeof(label), "%s", f[i].name);
		else
			snprintf(label, sizeof(label), "CPUCFG%u[%u]", w, (unsigned)f[i].lo);
		if (f[i].rule == LOONGARCH_FIELD_EXACT && tv != hv) {
			targets_report_add(r, TARGETS_ERROR, "cpucfg-differs",
					   "%s: the targets have 0x%x, this host 0x%x; they must be equal", label, tv,
					   hv);
			errors++;
		} else if (f[i].rule == LOONGARCH_FIELD_LOWER && tv > hv) {
			targets_report_add(r, TARGETS_ERROR, "cpucfg-above-host",
					   "%s: the targets need 0x%x, this host has only 0x%x", label, tv, hv);
			errors++;
		}
	}
	return errors;
}

void loongarch_targets_check(const struct loongarch_targets *t, const struct loongarch_cpu_profile *host,
			     struct targets_report *r)
{
	struct targets_impl impls[TARGETS_MAX_IMPLS];
	const uint64_t id[TARGETS_MAX_IDS] = {host->cpucfg[0]};
	targets_check_identity(&loongarch_targets_ops, impls, loongarch_targets_impls(t, impls), host->name, id, r);
	uint32_t guest[LOONGARCH_NR_CPUCFG];
	const char *why;
	int errors = 0;
	if (loongarch_guest_cpucfg(host, guest, &why) < 0) {
		targets_report_add(r, TARGETS_ERROR, "cpucfg-unusable", "%s", why);
		errors++;
	}
	for (uint32_t w = 0; w < LOONGARCH_NR_CPUCFG; w++)
		errors += check_word(t, host, guest, w, r);
	if (!errors)
		targets_report_add(r, TARGETS_OK, "cpucfg-ok", "all %d CPUCFG words can take their target values here",
				   LOONGARCH_NR_CPUCFG);
	if (host->user_hcall)
		targets_report_add(r, TARGETS_OK, "user-hcall-ok",
				   "KVM here passes user-service hypercalls to roam (target discovery)");
	else
		targets_report_add(
		    r, TARGETS_ERROR, "user-hcall-missing",
		    "KVM here cannot pass user-service hypercalls to roam (the USER_HCALL feature), so the guest "
		    "cannot discover its targets; the host needs a newer kernel");
}

int loongarch_targets_impls(const struct loongarch_targets *t, struct targets_impl *out)
{
	int n = t->nr_impls < TARGETS_MAX_IMPLS ? t->nr_impls : TARGETS_MAX_IMPLS;
	for (int i = 0; i < n; i++) {
		memset(&out[i], 0, sizeof(out[i]));
		snprintf(out[i].name, sizeof(out[i].name), "%s", t->impls[i].name);
		out[i].id[0] = t->impls[i].prid;
	}
	return n;
}
