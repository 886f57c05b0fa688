/* Checking a LoongArch host against a targets config, and the report for people: see cpucfg.h. */
#include "cpucfg.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static void finding(struct loongarch_check_report *r, bool error, const char *code, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));
static void finding(struct loongarch_check_report *r, bool error, const char *code, const char *fmt, ...)
{
	if (error)
		r->nr_errors++;
	if (r->nr_findings == LOONGARCH_CHECK_MAX_FINDINGS) {
		r->nr_dropped++;
		return;
	}
	struct loongarch_finding *f = &r->findings[r->nr_findings++];
	f->error = error;
	f->code = code;
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(f->message, sizeof(f->message), fmt, ap);
	va_end(ap);
}

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
		      const uint32_t *guest, uint32_t w, struct loongarch_check_report *r)
{
	int errors = 0;
	uint32_t want = t->cpucfg[w], extra = want & ~host->writable[w];
	if (extra) {
		finding(r, true, "cpucfg-not-writable",
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
			finding(r, true, "cpucfg-differs",
				"%s: the targets have 0x%x, this host 0x%x; they must be equal", label, tv, hv);
			errors++;
		} else if (f[i].rule == LOONGARCH_FIELD_LOWER && tv > hv) {
			finding(r, true, "cpucfg-above-host", "%s: the targets need 0x%x, this host has only 0x%x",
				label, tv, hv);
			errors++;
		}
	}
	return errors;
}

void loongarch_targets_check(const struct loongarch_targets *t, const struct loongarch_cpu_profile *host,
			     struct loongarch_check_report *r)
{
	memset(r, 0, sizeof(*r));
	snprintf(r->host, sizeof(r->host), "%s", host->name);
	const struct loongarch_impl *match = NULL;
	for (int i = 0; i < t->nr_impls && !match; i++)
		if (t->impls[i].prid == host->cpucfg[0])
			match = &t->impls[i];
	if (match)
		finding(r, false, "host-in-targets", "this host's PRID 0x%x is that of target \"%s\"", host->cpucfg[0],
			match->name);
	else {
		char list[400] = "";
		size_t used = 0;
		for (int i = 0; i < t->nr_impls && used < sizeof(list); i++)
			used +=
			    (size_t)snprintf(list + used, sizeof(list) - used, "%s%s", i ? ", " : "", t->impls[i].name);
		finding(r, true, "host-not-in-targets",
			"this host (PRID 0x%x) is not one of the targets (%s); add its profile with roam targets merge",
			host->cpucfg[0], list);
	}
	uint32_t guest[LOONGARCH_NR_CPUCFG];
	const char *why;
	int errors = 0;
	if (loongarch_guest_cpucfg(host, guest, &why) < 0) {
		finding(r, true, "cpucfg-unusable", "%s", why);
		errors++;
	}
	for (uint32_t w = 0; w < LOONGARCH_NR_CPUCFG; w++)
		errors += check_word(t, host, guest, w, r);
	if (!errors)
		finding(r, false, "cpucfg-ok", "all %d CPUCFG words can take their target values here",
			LOONGARCH_NR_CPUCFG);
	if (host->user_hcall)
		finding(r, false, "user-hcall-ok",
			"KVM here passes user-service hypercalls to roam (target discovery)");
	else
		finding(r, true, "user-hcall-missing",
			"KVM here cannot pass user-service hypercalls to roam (the USER_HCALL feature), so the guest "
			"cannot discover its targets; the host needs a newer kernel");
}

bool loongarch_check_has(const struct loongarch_check_report *r, bool other)
{
	for (int i = 0; i < r->nr_findings; i++)
		if (r->findings[i].error && (strcmp(r->findings[i].code, "host-not-in-targets") != 0) == other)
			return true;
	return other && r->nr_dropped > 0;
}

char *loongarch_check_report_text(const struct loongarch_check_report *r, const char *targets_label)
{
	size_t cap = 512 + (size_t)r->nr_findings * (LOONGARCH_FINDING_LEN + 40), len = 0;
	char *out = malloc(cap);
	if (!out)
		return NULL;
	for (int i = 0; i < r->nr_findings; i++)
		len += (size_t)snprintf(out + len, cap - len, "%-5s %-21s %s\n", r->findings[i].error ? "error" : "ok",
					r->findings[i].code, r->findings[i].message);
	if (r->nr_dropped)
		len += (size_t)snprintf(out + len, cap - len, "(%d more findings not shown)\n", r->nr_dropped);
	if (r->nr_errors)
		snprintf(out + len, cap - len, "%s cannot run guests made for %s: %d problem%s\n", r->host,
			 targets_label, r->nr_errors, r->nr_errors > 1 ? "s" : "");
	else
		snprintf(out + len, cap - len, "%s can run guests made for %s\n", r->host, targets_label);
	return out;
}
