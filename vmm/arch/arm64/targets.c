/* Merging CPU profiles into a targets config and checking a host against one: see targets.h. */
#include "targets.h"

#include "gic_cpuif.h"
#include "idregs.h"
#include "targets/problems.h"
#include "targets/report.h"

#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define HOST_LABEL_LEN 64
#define MAX_PROFILES 256

static const struct arm64_id_reg *profile_reg(const struct arm64_cpu_profile *p, uint32_t enc)
{
	for (int i = 0; i < p->nr_regs && i < ARM64_PROFILE_MAX_REGS; i++)
		if (p->regs[i].enc == enc)
			return &p->regs[i];
	return NULL;
}

/* MIDR implementer and part number: the CPU design, regardless of variant and revision. */
static uint64_t midr_design(uint64_t midr)
{
	return midr & 0xff00fff0ull;
}

struct merge {
	const struct arm64_cpu_profile *p;
	int n;
	char (*label)[HOST_LABEL_LEN];
	bool same_design; /* all hosts share MIDR implementer and part number */
	struct arm64_targets *out;
	int nr_notes; /* notes produced, kept or not */
	struct targets_problems pr;
};

static void add_note(struct merge *m, const char *note)
{
	int i = m->nr_notes++;
	if (i < ARM64_TARGETS_MAX_LOWERED)
		snprintf(m->out->lowered[i], ARM64_TARGETS_NOTE_LEN, "%s", note);
	m->out->nr_lowered = i < ARM64_TARGETS_MAX_LOWERED ? i + 1 : ARM64_TARGETS_MAX_LOWERED;
}

/* One note per distinct old value: "REG.FIELD: 0x1 -> 0x0 (a, b)". */
static void note_changes(struct merge *m, const char *label, const uint64_t *hv, uint64_t safe)
{
	for (int i = 0; i < m->n; i++) {
		if (hv[i] == safe)
			continue;
		bool seen = false;
		for (int j = 0; j < i && !seen; j++)
			seen = hv[j] == hv[i];
		if (seen)
			continue;
		char note[ARM64_TARGETS_NOTE_LEN];
		size_t len =
		    (size_t)snprintf(note, sizeof(note), "%s: 0x%" PRIx64 " -> 0x%" PRIx64 " (", label, hv[i], safe);
		for (int k = i; k < m->n && len < sizeof(note); k++) {
			if (hv[k] != hv[i])
				continue;
			len +=
			    (size_t)snprintf(note + len, sizeof(note) - len, "%s%s", k == i ? "" : ", ", m->label[k]);
		}
		if (len < sizeof(note) - 1) {
			note[len++] = ')';
			note[len] = '\0';
		} else {
			memcpy(note + sizeof(note) - 5, "...)", 5);
		}
		add_note(m, note);
	}
}

/* Merges one field over all hosts into *value; reports conflicts and hosts that cannot take the merged value. */
static void merge_field(struct merge *m, uint32_t enc, const struct arm64_idreg_field *f, uint64_t *value)
{
	char label[ARM64_FIELD_LABEL_MAX];
	uint64_t hv[MAX_PROFILES];
	const struct arm64_id_reg *hr[MAX_PROFILES];
	uint64_t mask = arm64_field_mask(f);
	arm64_field_label(enc, f, label);

	bool conflict = false;
	uint64_t safe = 0;
	for (int i = 0; i < m->n; i++) {
		hr[i] = profile_reg(&m->p[i], enc);
		hv[i] = hr[i] ? arm64_field_get(f, hr[i]->value) : 0;
		safe = i == 0 ? hv[0] : arm64_field_combine(f, safe, hv[i], &conflict);
		if (conflict) {
			targets_problem(
			    &m->pr, "%s must be the same on all hosts, but %s has 0x%" PRIx64 " and %s has 0x%" PRIx64,
			    label, m->label[0], hv[0], m->label[i], hv[i]);
			return;
		}
	}
	if ((f->flags & ARM64_FIELD_IMPDEF_ALGO) && !m->same_design)
		safe = 0;
	*value = arm64_field_set(f, *value, safe);

	for (int i = 0; i < m->n; i++) {
		if (hv[i] == safe)
			continue;
		if (!hr[i]) {
			targets_problem(&m->pr,
					"%s: %s lacks the register (its KVM shows 0), the merge needs 0x%" PRIx64
					", and KVM on that host cannot change it",
					label, m->label[i], safe);
		} else if (mask & ~hr[i]->writable) {
			targets_problem(
			    &m->pr,
			    "%s: %s has 0x%" PRIx64 ", the merge needs 0x%" PRIx64
			    ", and KVM on that host cannot change it%s",
			    label, m->label[i], hv[i], safe,
			    m->p[i].has_writable_masks ? "" : " (its kernel reports no writable ID register masks)");
		}
	}
	note_changes(m, label, hv, safe);
}

static int cmp_u32(const void *a, const void *b)
{
	uint32_t x = *(const uint32_t *)a, y = *(const uint32_t *)b;
	return x < y ? -1 : x > y;
}

/* The sorted union of the profiles' feature registers. Returns the count, or -E2BIG. */
static int register_union(const struct arm64_cpu_profile *p, int n, uint32_t *encs, int max)
{
	int nr = 0;
	for (int i = 0; i < n; i++) {
		for (int r = 0; r < p[i].nr_regs && r < ARM64_PROFILE_MAX_REGS; r++) {
			uint32_t enc = p[i].regs[r].enc;
			bool seen = arm64_idreg_is_identity(enc);
			for (int k = 0; k < nr && !seen; k++)
				seen = encs[k] == enc;
			if (seen)
				continue;
			if (nr == max)
				return -E2BIG;
			encs[nr++] = enc;
		}
	}
	qsort(encs, (size_t)nr, sizeof(encs[0]), cmp_u32);
	return nr;
}

static void merge_identity(struct merge *m, const struct targets_merge_options *opt)
{
	struct arm64_targets *t = m->out;
	t->guest_midr = opt->set_id[0] ? opt->id[0] : m->p[0].midr;
	t->guest_revidr = opt->set_id[1] ? opt->id[1] : m->p[0].revidr;
	t->guest_aidr = opt->set_id[2] ? opt->id[2] : m->p[0].aidr;
	if (t->guest_midr > 0xffffffffull) {
		targets_problem(&m->pr, "guest MIDR_EL1 0x%" PRIx64 " sets bits 63:32, which are RES0", t->guest_midr);
		return;
	}
	const char *whose = opt->set_id[0] || opt->set_id[1] || opt->set_id[2] ? "the override" : m->label[0];
	for (int i = 0; i < m->n; i++) {
		const struct arm64_cpu_profile *h = &m->p[i];
		const char *reg = NULL;
		uint64_t want = 0, have = 0;
		if (h->midr != t->guest_midr)
			reg = "MIDR_EL1", want = t->guest_midr, have = h->midr;
		else if (h->revidr != t->guest_revidr)
			reg = "REVIDR_EL1", want = t->guest_revidr, have = h->revidr;
		else if (h->aidr != t->guest_aidr)
			reg = "AIDR_EL1", want = t->guest_aidr, have = h->aidr;
		if (reg && !h->writable_imp_regs)
			targets_problem(
			    &m->pr,
			    "%s: the guest must see %s 0x%" PRIx64 " (from %s) but this host has 0x%" PRIx64
			    ", and its KVM cannot set MIDR/REVIDR/AIDR (no KVM_CAP_ARM_WRITABLE_IMP_ID_REGS, "
			    "Linux 6.15 or later)",
			    m->label[i], reg, want, whose, have);
	}
}

static void merge_requirements(struct merge *m)
{
	struct arm64_targets *t = m->out;
	t->gic_version = 3;
	t->min_ipa_bits = m->p[0].ipa_bits;
	t->sve_max_vl = m->p[0].sve ? m->p[0].sve_max_vl : 0;
	for (int i = 0; i < m->n; i++) {
		const struct arm64_cpu_profile *h = &m->p[i];
		if (h->ipa_bits < t->min_ipa_bits)
			t->min_ipa_bits = h->ipa_bits;
		uint32_t vl = h->sve ? h->sve_max_vl : 0;
		if (vl < t->sve_max_vl)
			t->sve_max_vl = vl;
		if (h->gic_version != 3)
			targets_problem(&m->pr,
					"%s: KVM there offers no in-kernel GICv3 (gic_version %u), which roam needs",
					m->label[i], h->gic_version);
	}
}

/* "a57 0, a72 1": each host's value of one field, for a refusal. */
static void host_values(const struct merge *m, const uint64_t *v, const char *fmt, char *buf, size_t size)
{
	size_t used = 0;
	buf[0] = '\0';
	for (int i = 0; i < m->n && used < size; i++) {
		used += (size_t)snprintf(buf + used, size - used, "%s%s ", i ? ", " : "", m->label[i]);
		if (used < size)
			used += (size_t)snprintf(buf + used, size - used, fmt, v[i]);
	}
}

/* The GIC CPU interface: fewest priority and ID bits; SEIS and A3V must be equal (KVM refuses any other). */
static void merge_gic_cpuif(struct merge *m)
{
	static const struct {
		uint64_t bit;
		const char *name, *why;
	} equal[] = {
	    {1ull << 14, "SEIS",
	     "a guest told it gets no SError from a locally generated error must never get one on another host"},
	    {1ull << 15, "A3V", "a guest that may use affinity level 3 must find it on every host"},
	};
	uint64_t hv[MAX_PROFILES], mismatch = 0, v = m->p[0].compat.icc_ctlr & ARM64_ICC_CTLR_RO_MASK;
	for (int i = 1; i < m->n; i++) {
		uint64_t diff;
		v = arm64_gic_cpuif_merge(v, m->p[i].compat.icc_ctlr, &diff);
		mismatch |= diff;
	}
	for (size_t k = 0; k < sizeof(equal) / sizeof(equal[0]); k++) {
		if (!(mismatch & equal[k].bit))
			continue;
		char values[512];
		for (int i = 0; i < m->n; i++)
			hv[i] = (m->p[i].compat.icc_ctlr & equal[k].bit) != 0;
		host_values(m, hv, "%" PRIu64, values, sizeof(values));
		targets_problem(&m->pr,
				"ICC_CTLR_EL1.%s (GIC CPU interface) differs: %s; KVM gives a guest its host's %s and "
				"cannot change it, and %s",
				equal[k].name, values, equal[k].name, equal[k].why);
	}
	m->out->compat.icc_ctlr = v;
	for (int i = 0; i < m->n; i++)
		hv[i] = arm64_gic_cpuif_decode(m->p[i].compat.icc_ctlr).pri_bits;
	note_changes(m, "ICC_CTLR_EL1 priority bits", hv, arm64_gic_cpuif_decode(v).pri_bits);
	for (int i = 0; i < m->n; i++)
		hv[i] = arm64_gic_cpuif_decode(m->p[i].compat.icc_ctlr).id_bits;
	note_changes(m, "ICC_CTLR_EL1 interrupt ID bits", hv, arm64_gic_cpuif_decode(v).id_bits);
}

/*
 * What the ID registers do not cover: the GIC CPU interface, the PMU's counter count (the fewest; 0 if a host has
 * no PMU) and the counter frequency (a guest reads CNTFRQ_EL0 from the hardware, so all must be equal). A profile
 * of an older roam lacks them, and its host must be profiled again.
 */
static void merge_compat(struct merge *m)
{
	struct arm64_compat *c = &m->out->compat;
	bool known = true;
	for (int i = 0; i < m->n; i++) {
		if (m->p[i].compat.known)
			continue;
		known = false;
		targets_problem(&m->pr,
				"%s: its profile has no GIC CPU interface, PMU and counter frequency values (an older "
				"roam made it); run roam cpu-profile on that host again",
				m->label[i]);
	}
	if (!known)
		return;
	c->known = true;
	merge_gic_cpuif(m);
	uint64_t hv[MAX_PROFILES];
	c->cntfrq = m->p[0].compat.cntfrq;
	c->pmu_counters = m->p[0].compat.pmu_counters;
	bool freq_differs = false;
	for (int i = 0; i < m->n; i++) {
		hv[i] = m->p[i].compat.cntfrq;
		freq_differs |= hv[i] != c->cntfrq;
		if (m->p[i].compat.pmu_counters < c->pmu_counters)
			c->pmu_counters = m->p[i].compat.pmu_counters;
	}
	if (freq_differs) {
		char values[512];
		host_values(m, hv, "%" PRIu64 " Hz", values, sizeof(values));
		targets_problem(&m->pr,
				"the counter frequency (CNTFRQ_EL0) differs: %s; a guest reads it from the hardware, "
				"KVM cannot change it, and its time would run at another speed after a move",
				values);
	}
	for (int i = 0; i < m->n; i++)
		hv[i] = m->p[i].compat.pmu_counters;
	note_changes(m, "PMCR_EL0.N (PMU event counters)", hv, c->pmu_counters);
}

static int merge_impls(struct merge *m)
{
	struct arm64_targets *t = m->out;
	for (int i = 0; i < m->n; i++) {
		bool dup = false;
		for (int k = 0; k < t->nr_impls && !dup; k++)
			dup = t->impls[k].midr == m->p[i].midr && t->impls[k].revidr == m->p[i].revidr;
		if (dup)
			continue;
		if (t->nr_impls == ARM64_TARGETS_MAX_IMPLS) {
			targets_problem(&m->pr, "more than %d different CPUs (MIDR and REVIDR) among the %d profiles",
					ARM64_TARGETS_MAX_IMPLS, m->n);
			return -E2BIG;
		}
		struct arm64_impl *impl = &t->impls[t->nr_impls++];
		snprintf(impl->name, sizeof(impl->name), "%s", m->label[i]);
		impl->midr = m->p[i].midr;
		impl->revidr = m->p[i].revidr;
		impl->aidr = m->p[i].aidr;
	}
	return 0;
}

int arm64_targets_merge_opts(const struct arm64_cpu_profile *p, int n, const struct targets_merge_options *opt,
			     struct arm64_targets *out, char *err, size_t err_len)
{
	static const struct targets_merge_options defaults;
	struct merge m = {.p = p, .n = n, .out = out, .pr = {err, err_len, 0, 0}, .same_design = true};
	if (!opt)
		opt = &defaults;
	if (err_len)
		err[0] = '\0';
	memset(out, 0, sizeof(*out));
	if (n <= 0) {
		targets_problem(&m.pr, "no CPU profiles to merge");
		return -EINVAL;
	}
	if (n > MAX_PROFILES) {
		targets_problem(&m.pr, "%d CPU profiles are more than the %d roam merges at once", n, MAX_PROFILES);
		return -E2BIG;
	}
	m.label = calloc((size_t)n, sizeof(*m.label));
	if (!m.label) {
		targets_problem(&m.pr, "out of memory");
		return -ENOMEM;
	}
	for (int i = 0; i < n; i++) {
		const char *name = opt->names && opt->names[i] ? opt->names[i] : p[i].name;
		if (name[0])
			snprintf(m.label[i], HOST_LABEL_LEN, "%s", name);
		else
			snprintf(m.label[i], HOST_LABEL_LEN, "profile %d", i + 1);
		if (midr_design(p[i].midr) != midr_design(p[0].midr))
			m.same_design = false;
	}

	int ret = merge_impls(&m);
	if (ret == 0) {
		merge_identity(&m, opt);
		merge_requirements(&m);
		merge_compat(&m);
		uint32_t encs[ARM64_PROFILE_MAX_REGS];
		int nr = register_union(p, n, encs, ARM64_PROFILE_MAX_REGS);
		if (nr < 0) {
			targets_problem(&m.pr, "the profiles have more than %d ID registers between them",
					ARM64_PROFILE_MAX_REGS);
			ret = nr;
			nr = 0;
		}
		for (int r = 0; r < nr; r++) {
			struct arm64_idreg_field fields[ARM64_IDREG_MAX_FIELDS];
			struct arm64_id_reg *reg = &out->regs[out->nr_regs++];
			reg->enc = encs[r];
			int nf = arm64_idreg_layout(encs[r], fields);
			for (int f = 0; f < nf; f++)
				merge_field(&m, encs[r], &fields[f], &reg->value);
			reg->writable = ~0ull;
			for (int i = 0; i < n; i++) {
				const struct arm64_id_reg *hr = profile_reg(&p[i], encs[r]);
				reg->writable &= hr ? hr->writable : 0;
			}
		}
	}
	if (m.nr_notes > ARM64_TARGETS_MAX_LOWERED)
		snprintf(out->lowered[ARM64_TARGETS_MAX_LOWERED - 1], ARM64_TARGETS_NOTE_LEN,
			 "... and %d more changes not listed", m.nr_notes - (ARM64_TARGETS_MAX_LOWERED - 1));
	free(m.label);
	if (m.pr.count && ret == 0)
		ret = -EINVAL;
	return m.pr.count ? targets_problems_finish(&m.pr, ret) : 0;
}

int arm64_targets_merge(const struct arm64_cpu_profile *p, int n, const char *const *names, struct arm64_targets *out,
			char *err, size_t err_len)
{
	struct targets_merge_options opt = {.names = names};
	return arm64_targets_merge_opts(p, n, &opt, out, err, err_len);
}

int arm64_targets_impls(const struct arm64_targets *t, struct targets_impl *out)
{
	int n = t->nr_impls < TARGETS_MAX_IMPLS ? t->nr_impls : TARGETS_MAX_IMPLS;
	for (int i = 0; i < n; i++) {
		snprintf(out[i].name, sizeof(out[i].name), "%s", t->impls[i].name);
		out[i].id[0] = t->impls[i].midr;
		out[i].id[1] = t->impls[i].revidr;
		out[i].id[2] = t->impls[i].aidr;
	}
	return n;
}

/* Whether this host can present the guest identity. */
static void check_guest_identity(const struct arm64_targets *t, const struct arm64_cpu_profile *h,
				 struct targets_report *r)
{
	bool same = h->midr == t->guest_midr && h->revidr == t->guest_revidr && h->aidr == t->guest_aidr;
	if (same)
		targets_report_add(r, TARGETS_OK, "identity-ok",
				   "the guest identity (MIDR 0x%" PRIx64 ") is this host's own", t->guest_midr);
	else if (h->writable_imp_regs)
		targets_report_add(r, TARGETS_OK, "identity-ok",
				   "KVM here can give the guest MIDR 0x%" PRIx64 ", REVIDR 0x%" PRIx64
				   ", AIDR 0x%" PRIx64,
				   t->guest_midr, t->guest_revidr, t->guest_aidr);
	else
		targets_report_add(
		    r, TARGETS_ERROR, "imp-regs-not-writable",
		    "the guest must see MIDR 0x%" PRIx64 ", REVIDR 0x%" PRIx64 ", AIDR 0x%" PRIx64
		    ", but KVM here cannot set them (no KVM_CAP_ARM_WRITABLE_IMP_ID_REGS, Linux 6.15 or later)",
		    t->guest_midr, t->guest_revidr, t->guest_aidr);
}

/* Reports each field where the target value differs from the host's in bits KVM here cannot write. */
static int check_register(const struct arm64_id_reg *tr, const struct arm64_cpu_profile *h, struct targets_report *r)
{
	char name[ARM64_IDREG_NAME_MAX], label[ARM64_FIELD_LABEL_MAX];
	const struct arm64_id_reg *hr = profile_reg(h, tr->enc);
	if (!hr) {
		if (tr->value == 0)
			return 0;
		targets_report_add(
		    r, TARGETS_ERROR, "reg-missing",
		    "%s: KVM here does not list it (a guest reads 0), but the targets need 0x%016" PRIx64,
		    arm64_idreg_name(tr->enc, name), tr->value);
		return 1;
	}
	uint64_t diff = (tr->value ^ hr->value) & ~hr->writable;
	if (!diff)
		return 0;
	struct arm64_idreg_field fields[ARM64_IDREG_MAX_FIELDS];
	int nf = arm64_idreg_layout(tr->enc, fields);
	for (int f = 0; f < nf; f++) {
		if (!(diff & arm64_field_mask(&fields[f])))
			continue;
		targets_report_add(r, TARGETS_ERROR, "reg-not-writable",
				   "%s: this host has 0x%" PRIx64 ", the targets need 0x%" PRIx64
				   ", and KVM here cannot change it%s",
				   arm64_field_label(tr->enc, &fields[f], label),
				   arm64_field_get(&fields[f], hr->value), arm64_field_get(&fields[f], tr->value),
				   h->has_writable_masks ? "" : " (this kernel reports no writable ID register masks)");
	}
	return 1;
}

static void check_registers(const struct arm64_targets *t, const struct arm64_cpu_profile *h, struct targets_report *r)
{
	int bad = 0, changed = 0;
	for (int i = 0; i < t->nr_regs && i < ARM64_PROFILE_MAX_REGS; i++) {
		bad += check_register(&t->regs[i], h, r);
		const struct arm64_id_reg *hr = profile_reg(h, t->regs[i].enc);
		if (hr && hr->value != t->regs[i].value)
			changed++;
	}
	for (int i = 0; i < h->nr_regs && i < ARM64_PROFILE_MAX_REGS; i++) {
		const struct arm64_id_reg *hr = &h->regs[i];
		bool listed = arm64_idreg_is_identity(hr->enc);
		for (int k = 0; k < t->nr_regs && !listed; k++)
			listed = t->regs[k].enc == hr->enc;
		if (listed || hr->value == 0)
			continue;
		char name[ARM64_IDREG_NAME_MAX];
		bad++;
		targets_report_add(r, TARGETS_ERROR, "reg-not-in-targets",
				   "%s: this host has 0x%016" PRIx64
				   ", which the targets do not list (other targets may read 0); "
				   "merge the targets again with this host's profile",
				   arm64_idreg_name(hr->enc, name), hr->value);
	}
	if (!bad)
		targets_report_add(r, TARGETS_OK, "regs-ok",
				   "all %d ID registers can take their target values here (%d differ from this host's)",
				   t->nr_regs, changed);
}

/* The GIC CPU interface, the PMU counters and the counter frequency, when both sides know them. */
static void check_compat(const struct arm64_targets *t, const struct arm64_cpu_profile *h, struct targets_report *r)
{
	const struct arm64_compat *tc = &t->compat, *hc = &h->compat;
	if (!tc->known) {
		targets_report_add(r, TARGETS_OK, "compat-unknown",
				   "the targets were merged from profiles of an older roam, without GIC CPU interface, "
				   "PMU and counter frequency values: merge them again to have those checked");
		return;
	}
	if (!hc->known) {
		targets_report_add(r, TARGETS_ERROR, "profile-old",
				   "this host's profile has no GIC CPU interface, PMU and counter frequency values (an "
				   "older roam made it); profile the host again");
		return;
	}
	if (hc->cntfrq == tc->cntfrq)
		targets_report_add(r, TARGETS_OK, "cntfrq-ok",
				   "the counter runs at %" PRIu64 " Hz, as the targets' does", hc->cntfrq);
	else
		targets_report_add(r, TARGETS_ERROR, "cntfrq-differs",
				   "the counter here runs at %" PRIu64 " Hz, the targets' at %" PRIu64
				   " Hz; a guest reads CNTFRQ_EL0 from the hardware and KVM cannot change it",
				   hc->cntfrq, tc->cntfrq);
	char problem[TARGETS_FINDING_LEN], text[96];
	arm64_gic_cpuif_problem("ICC_CTLR_EL1", "the targets'", tc->icc_ctlr, hc->icc_ctlr, problem, sizeof(problem));
	if (problem[0])
		targets_report_add(r, TARGETS_ERROR, "gic-cpuif", "%s", problem);
	else
		targets_report_add(r, TARGETS_OK, "gic-cpuif-ok", "the GIC CPU interface can be given %s",
				   arm64_gic_cpuif_text(tc->icc_ctlr, text, sizeof(text)));
	if (hc->pmu_counters >= tc->pmu_counters)
		targets_report_add(r, TARGETS_OK, "pmu-ok", "the PMU has %u event counters (the targets need %u)",
				   hc->pmu_counters, tc->pmu_counters);
	else
		targets_report_add(r, TARGETS_ERROR, "pmu-counters",
				   "the PMU here has %u event counters, the targets need %u", hc->pmu_counters,
				   tc->pmu_counters);
}

void arm64_targets_check(const struct arm64_targets *t, const struct arm64_cpu_profile *host, struct targets_report *r)
{
	struct targets_impl impls[TARGETS_MAX_IMPLS];
	const uint64_t id[TARGETS_MAX_IDS] = {host->midr, host->revidr, host->aidr};
	targets_check_identity(&arm64_targets_ops, impls, arm64_targets_impls(t, impls), host->name, id, r);
	check_guest_identity(t, host, r);
	check_registers(t, host, r);

	if (host->ipa_bits >= t->min_ipa_bits)
		targets_report_add(r, TARGETS_OK, "ipa-ok", "IPA size %u bits (the targets need %u)", host->ipa_bits,
				   t->min_ipa_bits);
	else
		targets_report_add(r, TARGETS_ERROR, "ipa-too-small",
				   "KVM here offers %u-bit guest physical addresses, the targets need %u",
				   host->ipa_bits, t->min_ipa_bits);

	if (host->gic_version == 3)
		targets_report_add(r, TARGETS_OK, "gic-ok", "KVM here emulates a GICv3");
	else
		targets_report_add(r, TARGETS_ERROR, "gic-missing",
				   "KVM here offers no in-kernel GICv3 (gic_version %u); the targets need version %u",
				   host->gic_version, t->gic_version);

	uint32_t vl = host->sve ? host->sve_max_vl : 0;
	if (t->sve_max_vl == 0)
		targets_report_add(r, TARGETS_OK, "sve-ok", "the targets give the guest no SVE");
	else if (vl >= t->sve_max_vl)
		targets_report_add(r, TARGETS_OK, "sve-ok", "SVE vector length up to %u bytes (the targets need %u)",
				   vl, t->sve_max_vl);
	else if (!host->sve)
		targets_report_add(r, TARGETS_ERROR, "sve-vl",
				   "KVM here offers no SVE; the targets need vectors of %u bytes", t->sve_max_vl);
	else
		targets_report_add(r, TARGETS_ERROR, "sve-vl",
				   "KVM here offers SVE vectors up to %u bytes, the targets need %u", vl,
				   t->sve_max_vl);
	check_compat(t, host, r);
}
