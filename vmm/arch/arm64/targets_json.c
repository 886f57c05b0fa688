/* CPU profile and targets JSON files, and the JSON form of check reports: see targets_json.h. */
#include "targets_json.h"

#include "gic_cpuif.h"
#include "idregs.h"
#include "targets/report.h"
#include "targets/tjson.h"

#include <errno.h>
#include <inttypes.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* The register a key of "id_registers" names; refuses unknown names, registers outside the ID range, duplicates. */
static int parse_reg_name(struct tjson_ctx *c, const char *key, const struct arm64_id_reg *regs, int nr, uint32_t *enc)
{
	char p[128], other[ARM64_IDREG_NAME_MAX];
	snprintf(p, sizeof(p), "id_registers.%s", key);
	if (arm64_idreg_parse(key, enc) != 0)
		return tjson_fail(c, p,
				  "unknown register (use an architectural name such as ID_AA64PFR0_EL1, or "
				  "S3_<op1>_C0_C<CRm>_<op2>)");
	if (!arm64_idreg_in_id_range(*enc))
		return tjson_fail(c, p, "not an ID register (op0 3, op1 0, 1 or 3, CRn 0, CRm 0 to 7)");
	for (int i = 0; i < nr; i++)
		if (regs[i].enc == *enc)
			return tjson_fail(c, p, "the same register as %s, given twice", arm64_idreg_name(*enc, other));
	if (nr == ARM64_PROFILE_MAX_REGS)
		return tjson_fail(c, "id_registers", "more than %d registers", ARM64_PROFILE_MAX_REGS);
	return 0;
}

static int cmp_reg(const void *a, const void *b)
{
	const struct arm64_id_reg *x = a, *y = b;
	return x->enc < y->enc ? -1 : x->enc > y->enc;
}

/* "compat": {"icc_ctlr_el1", "pmu_counters", ["pmu_version", "pmu_counters_settable",] "cntfrq"}, when known. */
static void compat_to_json(json_t *root, const struct arm64_compat *c, bool profile)
{
	if (!c->known)
		return;
	json_t *o = json_object();
	json_object_set_new(o, "icc_ctlr_el1", tjson_hex(c->icc_ctlr));
	json_object_set_new(o, "pmu_counters", json_integer(c->pmu_counters));
	if (profile) {
		json_object_set_new(o, "pmu_version", json_integer(c->pmu_version));
		json_object_set_new(o, "pmu_counters_settable", json_boolean(c->pmu_counters_settable));
	}
	json_object_set_new(o, "cntfrq", json_integer((json_int_t)c->cntfrq));
	json_object_set_new(root, "compat", o);
}

/* "compat" if present (a version-1 file has none: then unknown). */
static int parse_compat(struct tjson_ctx *c, json_t *root, struct arm64_compat *out, bool profile)
{
	static const char *const profile_keys[] = {"icc_ctlr_el1",	    "pmu_counters", "pmu_version",
						   "pmu_counters_settable", "cntfrq",	    NULL};
	static const char *const targets_keys[] = {"icc_ctlr_el1", "pmu_counters", "cntfrq", NULL};
	json_t *o;
	uint32_t cntfrq = 0;
	if (!json_object_get(root, "compat"))
		return 0;
	int ret;
	if ((ret = tjson_get_object(c, root, "", "compat", &o)) ||
	    (ret = tjson_get_hex(c, o, "compat", "icc_ctlr_el1", UINT64_MAX, &out->icc_ctlr)) ||
	    (ret = tjson_get_uint(c, o, "compat", "pmu_counters", 0, 31, &out->pmu_counters)) ||
	    (profile && (ret = tjson_get_uint(c, o, "compat", "pmu_version", 0, 15, &out->pmu_version))) ||
	    (profile && (ret = tjson_get_bool(c, o, "compat", "pmu_counters_settable", &out->pmu_counters_settable))) ||
	    (ret = tjson_get_uint(c, o, "compat", "cntfrq", 1, UINT32_MAX, &cntfrq)) ||
	    (ret = tjson_check_keys(c, o, "compat", profile ? profile_keys : targets_keys)))
		return ret;
	if (out->icc_ctlr & ~ARM64_ICC_CTLR_RO_MASK)
		return tjson_fail(c, "compat.icc_ctlr_el1",
				  "0x%" PRIx64 " sets bits other than the read-only fields (mask 0x%llx)",
				  out->icc_ctlr, ARM64_ICC_CTLR_RO_MASK);
	out->cntfrq = cntfrq;
	out->known = true;
	return 0;
}

char *arm64_profile_to_json(const struct arm64_cpu_profile *p)
{
	const uint64_t id[TARGETS_MAX_IDS] = {p->midr, p->revidr, p->aidr};
	json_t *root = tjson_profile_head(&arm64_targets_ops, p->name, p->kernel, id);
	json_t *kvm = json_object();
	json_object_set_new(kvm, "writable_masks", json_boolean(p->has_writable_masks));
	json_object_set_new(kvm, "writable_imp_regs", json_boolean(p->writable_imp_regs));
	json_object_set_new(kvm, "ipa_bits", json_integer(p->ipa_bits));
	json_object_set_new(kvm, "gic_version", json_integer(p->gic_version));
	json_object_set_new(kvm, "sve", json_boolean(p->sve));
	json_object_set_new(kvm, "sve_max_vl", json_integer(p->sve_max_vl));
	json_object_set_new(kvm, "ptrauth", json_boolean(p->ptrauth));
	json_object_set_new(kvm, "mte", json_boolean(p->mte));
	json_object_set_new(kvm, "pmu", json_boolean(p->pmu));
	json_object_set_new(kvm, "counter_offset", json_boolean(p->counter_offset));
	json_object_set_new(kvm, "smccc_filter", json_boolean(p->smccc_filter));
	json_object_set_new(root, "kvm", kvm);
	json_t *regs = json_object();
	for (int i = 0; i < p->nr_regs && i < ARM64_PROFILE_MAX_REGS; i++) {
		char name[ARM64_IDREG_NAME_MAX];
		json_t *r = json_object();
		json_object_set_new(r, "value", tjson_hex(p->regs[i].value));
		json_object_set_new(r, "writable", tjson_hex(p->regs[i].writable));
		json_object_set_new(regs, arm64_idreg_name(p->regs[i].enc, name), r);
	}
	json_object_set_new(root, "id_registers", regs);
	compat_to_json(root, &p->compat, true);
	return tjson_dump(root);
}

/* The SVE vector length rules shared by profiles and targets: 0, or a multiple of 16 bytes up to 256. */
static int check_vl(struct tjson_ctx *c, const char *path, uint32_t vl)
{
	if (vl % 16)
		return tjson_fail(c, path, "%u is not a multiple of 16 bytes", vl);
	return 0;
}

static int parse_profile_kvm(struct tjson_ctx *c, json_t *kvm, struct arm64_cpu_profile *p)
{
	static const char *const keys[] = {"writable_masks",
					   "writable_imp_regs",
					   "ipa_bits",
					   "gic_version",
					   "sve",
					   "sve_max_vl",
					   "ptrauth",
					   "mte",
					   "pmu",
					   "counter_offset",
					   "smccc_filter",
					   NULL};
	uint32_t gic = 0;
	int ret;
	if ((ret = tjson_get_bool(c, kvm, "kvm", "writable_masks", &p->has_writable_masks)) ||
	    (ret = tjson_get_bool(c, kvm, "kvm", "writable_imp_regs", &p->writable_imp_regs)) ||
	    (ret = tjson_get_uint(c, kvm, "kvm", "ipa_bits", 32, 52, &p->ipa_bits)) ||
	    (ret = tjson_get_uint(c, kvm, "kvm", "gic_version", 0, 3, &gic)) ||
	    (ret = tjson_get_bool(c, kvm, "kvm", "sve", &p->sve)) ||
	    (ret = tjson_get_uint(c, kvm, "kvm", "sve_max_vl", 0, 256, &p->sve_max_vl)) ||
	    (ret = tjson_get_bool(c, kvm, "kvm", "ptrauth", &p->ptrauth)) ||
	    (ret = tjson_get_bool(c, kvm, "kvm", "mte", &p->mte)) ||
	    (ret = tjson_get_bool(c, kvm, "kvm", "pmu", &p->pmu)) ||
	    (ret = tjson_get_bool(c, kvm, "kvm", "counter_offset", &p->counter_offset)) ||
	    (ret = tjson_get_bool(c, kvm, "kvm", "smccc_filter", &p->smccc_filter)) ||
	    (ret = tjson_check_keys(c, kvm, "kvm", keys)))
		return ret;
	if (gic != 0 && gic != 3)
		return tjson_fail(c, "kvm.gic_version", "%u is neither 0 (no GICv3) nor 3", gic);
	p->gic_version = gic;
	if ((ret = check_vl(c, "kvm.sve_max_vl", p->sve_max_vl)))
		return ret;
	if (!p->sve && p->sve_max_vl)
		return tjson_fail(c, "kvm.sve_max_vl", "%u, but kvm.sve is false", p->sve_max_vl);
	return 0;
}

static int parse_profile_regs(struct tjson_ctx *c, json_t *regs, struct arm64_cpu_profile *p)
{
	static const char *const keys[] = {"value", "writable", NULL};
	const char *key;
	json_t *v;
	json_object_foreach(regs, key, v)
	{
		char path[128];
		uint32_t enc;
		int ret = parse_reg_name(c, key, p->regs, p->nr_regs, &enc);
		if (ret)
			return ret;
		snprintf(path, sizeof(path), "id_registers.%s", key);
		if (!json_is_object(v))
			return tjson_fail(c, path, "not an object with \"value\" and \"writable\"");
		struct arm64_id_reg *r = &p->regs[p->nr_regs];
		if ((ret = tjson_get_hex(c, v, path, "value", UINT64_MAX, &r->value)) ||
		    (ret = tjson_get_hex(c, v, path, "writable", UINT64_MAX, &r->writable)) ||
		    (ret = tjson_check_keys(c, v, path, keys)))
			return ret;
		r->enc = enc;
		p->nr_regs++;
		uint64_t own = enc == ARM64_MIDR_EL1 ? p->midr : enc == ARM64_REVIDR_EL1 ? p->revidr : p->aidr;
		bool ident = enc == ARM64_MIDR_EL1 || enc == ARM64_REVIDR_EL1 || enc == ARM64_AIDR_EL1;
		if (ident && r->value != own)
			return tjson_fail(c, path, "value 0x%" PRIx64 " differs from the profile's %s 0x%" PRIx64,
					  r->value,
					  enc == ARM64_MIDR_EL1	    ? "midr"
					  : enc == ARM64_REVIDR_EL1 ? "revidr"
								    : "aidr",
					  own);
	}
	qsort(p->regs, (size_t)p->nr_regs, sizeof(p->regs[0]), cmp_reg);
	return 0;
}

int arm64_profile_from_json(const char *text, size_t len, const char *origin, struct arm64_cpu_profile *p, char *err,
			    size_t err_len)
{
	static const char *const keys[] = {"format", "version", "arch", "name",		"kernel", "midr",
					   "revidr", "aidr",	"kvm",	"id_registers", "compat", NULL};
	struct tjson_ctx c = {origin, err, err_len};
	json_t *root, *kvm, *regs;
	memset(p, 0, sizeof(*p));
	uint64_t id[TARGETS_MAX_IDS];
	int ret = tjson_load_profile(&c, text, len, &arm64_targets_ops, keys, &root);
	if (ret == 0 && (ret = tjson_get_profile_head(&c, root, &arm64_targets_ops, p->name, p->kernel,
						      sizeof(p->kernel), id)) == 0) {
		p->midr = id[0];
		p->revidr = id[1];
		p->aidr = id[2];
	}
	if (ret == 0 && (ret = tjson_get_object(&c, root, "", "kvm", &kvm)) == 0)
		ret = parse_profile_kvm(&c, kvm, p);
	if (ret == 0 && (ret = tjson_get_object(&c, root, "", "id_registers", &regs)) == 0)
		ret = parse_profile_regs(&c, regs, p);
	if (ret == 0)
		ret = parse_compat(&c, root, &p->compat, true);
	json_decref(root);
	return ret;
}

char *arm64_targets_to_json(const struct arm64_targets *t)
{
	struct targets_impl impls[TARGETS_MAX_IMPLS];
	const uint64_t guest[TARGETS_MAX_IDS] = {t->guest_midr, t->guest_revidr, t->guest_aidr};
	json_t *root = tjson_targets_head(&arm64_targets_ops, impls, arm64_targets_impls(t, impls), guest);
	json_t *regs = json_object();
	for (int i = 0; i < t->nr_regs && i < ARM64_PROFILE_MAX_REGS; i++) {
		char name[ARM64_IDREG_NAME_MAX];
		json_object_set_new(regs, arm64_idreg_name(t->regs[i].enc, name), tjson_hex(t->regs[i].value));
	}
	json_object_set_new(root, "id_registers", regs);
	json_t *req = json_object();
	json_object_set_new(req, "min_ipa_bits", json_integer(t->min_ipa_bits));
	json_object_set_new(req, "gic_version", json_integer(t->gic_version));
	json_object_set_new(req, "sve_max_vl", json_integer(t->sve_max_vl));
	json_object_set_new(root, "requirements", req);
	compat_to_json(root, &t->compat, false);
	int nr_notes = t->nr_lowered < ARM64_TARGETS_MAX_LOWERED ? t->nr_lowered : ARM64_TARGETS_MAX_LOWERED;
	json_object_set_new(root, "lowered", tjson_notes(t->lowered[0], nr_notes, ARM64_TARGETS_NOTE_LEN));
	return tjson_dump(root);
}

/* "targets" and "guest". */
static int parse_targets_head(struct tjson_ctx *c, json_t *root, struct arm64_targets *t)
{
	struct targets_impl impls[TARGETS_MAX_IMPLS];
	uint64_t guest[TARGETS_MAX_IDS];
	int ret =
	    tjson_get_targets_head(c, root, &arm64_targets_ops, impls, ARM64_TARGETS_MAX_IMPLS, &t->nr_impls, guest);
	t->guest_midr = guest[0];
	t->guest_revidr = guest[1];
	t->guest_aidr = guest[2];
	for (int i = 0; i < t->nr_impls; i++) {
		memcpy(t->impls[i].name, impls[i].name, sizeof(t->impls[i].name));
		t->impls[i].midr = impls[i].id[0];
		t->impls[i].revidr = impls[i].id[1];
		t->impls[i].aidr = impls[i].id[2];
	}
	return ret;
}

static int parse_targets_regs(struct tjson_ctx *c, json_t *regs, struct arm64_targets *t)
{
	const char *key;
	json_t *v;
	json_object_foreach(regs, key, v)
	{
		char path[128];
		uint32_t enc;
		int ret = parse_reg_name(c, key, t->regs, t->nr_regs, &enc);
		if (ret)
			return ret;
		snprintf(path, sizeof(path), "id_registers.%s", key);
		if (enc == ARM64_MPIDR_EL1)
			return tjson_fail(c, path, "MPIDR_EL1 is per vCPU and set by roam; remove it");
		if (arm64_idreg_is_identity(enc))
			return tjson_fail(c, path, "the guest's MIDR, REVIDR and AIDR belong in \"guest\"");
		if ((ret = tjson_parse_hex(c, v, path, UINT64_MAX, &t->regs[t->nr_regs].value)))
			return ret;
		t->regs[t->nr_regs].enc = enc;
		t->regs[t->nr_regs].writable = 0;
		t->nr_regs++;
	}
	qsort(t->regs, (size_t)t->nr_regs, sizeof(t->regs[0]), cmp_reg);
	return 0;
}

static int parse_targets_rest(struct tjson_ctx *c, json_t *root, struct arm64_targets *t)
{
	static const char *const req_keys[] = {"min_ipa_bits", "gic_version", "sve_max_vl", NULL};
	json_t *req;
	int ret;
	if ((ret = tjson_get_object(c, root, "", "requirements", &req)) ||
	    (ret = tjson_get_uint(c, req, "requirements", "min_ipa_bits", 32, 52, &t->min_ipa_bits)) ||
	    (ret = tjson_get_uint(c, req, "requirements", "gic_version", 3, 3, &t->gic_version)) ||
	    (ret = tjson_get_uint(c, req, "requirements", "sve_max_vl", 0, 256, &t->sve_max_vl)) ||
	    (ret = check_vl(c, "requirements.sve_max_vl", t->sve_max_vl)) ||
	    (ret = tjson_check_keys(c, req, "requirements", req_keys)))
		return ret;
	return tjson_get_notes(c, root, t->lowered[0], ARM64_TARGETS_MAX_LOWERED, ARM64_TARGETS_NOTE_LEN,
			       &t->nr_lowered);
}

int arm64_targets_from_json(const char *text, size_t len, const char *origin, struct arm64_targets *t, char *err,
			    size_t err_len)
{
	static const char *const keys[] = {"format",	   "version",	   "arch",    "targets", "guest",
					   "id_registers", "requirements", "lowered", "compat",	 NULL};
	struct tjson_ctx c = {origin, err, err_len};
	json_t *root, *regs;
	memset(t, 0, sizeof(*t));
	int ret = tjson_load_targets(&c, text, len, &arm64_targets_ops, keys, &root);
	if (ret == 0)
		ret = parse_targets_head(&c, root, t);
	if (ret == 0 && (ret = tjson_get_object(&c, root, "", "id_registers", &regs)) == 0)
		ret = parse_targets_regs(&c, regs, t);
	if (ret == 0)
		ret = parse_targets_rest(&c, root, t);
	if (ret == 0)
		ret = parse_compat(&c, root, &t->compat, false);
	json_decref(root);
	return ret;
}

void arm64_profile_ids(const struct arm64_cpu_profile *p, uint64_t id[TARGETS_MAX_IDS])
{
	id[0] = p->midr;
	id[1] = p->revidr;
	id[2] = p->aidr;
}

TARGETS_OPS_ADAPTERS(arm64)

static const struct targets_ident arm64_ids[] = {
    {"MIDR", "midr", 0xffffffffull},
    {"REVIDR", "revidr", UINT64_MAX},
    {"AIDR", "aidr", UINT64_MAX},
};

const struct targets_arch_ops arm64_targets_ops = {
    .arch = "arm64",
    .help = {"docs/targets.md",
	     "MIDR/REVIDR/AIDR, every feature ID\n"
	     "register with KVM's writable mask, and the VM features that decide whether a guest can move here.\n",
	     "the CPU every profiled host can present", "can set every value"},
    .id = {arm64_ids, 3, 2, "MIDR and REVIDR"},
    TARGETS_OPS_FUNCTIONS(arm64, struct arm64_cpu_profile, struct arm64_targets),
};
