/* CPU profile and targets JSON files, and the JSON form of check reports: see targets_json.h. */
#include "targets_json.h"

#include "core/file_util.h"
#include "idregs.h"
#include "targets_json_util.h"

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

char *arm64_profile_to_json(const struct arm64_cpu_profile *p)
{
	json_t *root = tjson_header(ARM64_PROFILE_FORMAT);
	json_object_set_new(root, "name", tjson_string(p->name));
	json_object_set_new(root, "kernel", tjson_string(p->kernel));
	json_object_set_new(root, "midr", tjson_hex(p->midr));
	json_object_set_new(root, "revidr", tjson_hex(p->revidr));
	json_object_set_new(root, "aidr", tjson_hex(p->aidr));
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
					   "revidr", "aidr",	"kvm",	"id_registers", NULL};
	struct tjson_ctx c = {origin, err, err_len};
	json_t *root, *kvm, *regs;
	memset(p, 0, sizeof(*p));
	int ret = tjson_load_root(&c, text, len, ARM64_PROFILE_FORMAT, ARM64_TARGETS_FORMAT,
				  "this is a targets file; roam targets merge takes CPU profiles", &root);
	if (ret == 0)
		ret = tjson_check_keys(&c, root, "", keys);
	if (ret == 0)
		ret = tjson_get_string(&c, root, "", "name", p->name, sizeof(p->name));
	if (ret == 0)
		ret = tjson_get_string(&c, root, "", "kernel", p->kernel, sizeof(p->kernel));
	if (ret == 0)
		ret = tjson_get_hex(&c, root, "", "midr", 0xffffffffull, &p->midr);
	if (ret == 0)
		ret = tjson_get_hex(&c, root, "", "revidr", UINT64_MAX, &p->revidr);
	if (ret == 0)
		ret = tjson_get_hex(&c, root, "", "aidr", UINT64_MAX, &p->aidr);
	if (ret == 0 && (ret = tjson_get_object(&c, root, "", "kvm", &kvm)) == 0)
		ret = parse_profile_kvm(&c, kvm, p);
	if (ret == 0 && (ret = tjson_get_object(&c, root, "", "id_registers", &regs)) == 0)
		ret = parse_profile_regs(&c, regs, p);
	json_decref(root);
	return ret;
}

char *arm64_targets_to_json(const struct arm64_targets *t)
{
	json_t *root = tjson_header(ARM64_TARGETS_FORMAT);
	json_t *impls = json_array();
	for (int i = 0; i < t->nr_impls && i < ARM64_TARGETS_MAX_IMPLS; i++) {
		json_t *o = json_object();
		json_object_set_new(o, "name", tjson_string(t->impls[i].name));
		json_object_set_new(o, "midr", tjson_hex(t->impls[i].midr));
		json_object_set_new(o, "revidr", tjson_hex(t->impls[i].revidr));
		json_object_set_new(o, "aidr", tjson_hex(t->impls[i].aidr));
		json_array_append_new(impls, o);
	}
	json_object_set_new(root, "targets", impls);
	json_t *guest = json_object();
	json_object_set_new(guest, "midr", tjson_hex(t->guest_midr));
	json_object_set_new(guest, "revidr", tjson_hex(t->guest_revidr));
	json_object_set_new(guest, "aidr", tjson_hex(t->guest_aidr));
	json_object_set_new(root, "guest", guest);
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
	json_t *lowered = json_array();
	for (int i = 0; i < t->nr_lowered && i < ARM64_TARGETS_MAX_LOWERED; i++)
		json_array_append_new(lowered, tjson_string(t->lowered[i]));
	json_object_set_new(root, "lowered", lowered);
	return tjson_dump(root);
}

static int parse_targets_impls(struct tjson_ctx *c, json_t *arr, struct arm64_targets *t)
{
	static const char *const keys[] = {"name", "midr", "revidr", "aidr", NULL};
	if (!json_is_array(arr))
		return tjson_fail(c, "targets", "not an array");
	if (json_array_size(arr) == 0)
		return tjson_fail(c, "targets", "empty; list at least one host");
	if (json_array_size(arr) > ARM64_TARGETS_MAX_IMPLS)
		return tjson_fail(c, "targets", "%zu entries, more than the %d roam supports", json_array_size(arr),
				  ARM64_TARGETS_MAX_IMPLS);
	size_t i;
	json_t *v;
	json_array_foreach(arr, i, v)
	{
		char path[32];
		snprintf(path, sizeof(path), "targets[%zu]", i);
		if (!json_is_object(v))
			return tjson_fail(c, path, "not an object with name, midr, revidr and aidr");
		struct arm64_impl *impl = &t->impls[i];
		int ret;
		if ((ret = tjson_get_string(c, v, path, "name", impl->name, sizeof(impl->name))) ||
		    (ret = tjson_get_hex(c, v, path, "midr", 0xffffffffull, &impl->midr)) ||
		    (ret = tjson_get_hex(c, v, path, "revidr", UINT64_MAX, &impl->revidr)) ||
		    (ret = tjson_get_hex(c, v, path, "aidr", UINT64_MAX, &impl->aidr)) ||
		    (ret = tjson_check_keys(c, v, path, keys)))
			return ret;
		for (size_t k = 0; k < i; k++)
			if (t->impls[k].midr == impl->midr && t->impls[k].revidr == impl->revidr)
				return tjson_fail(c, path, "the same MIDR and REVIDR as targets[%zu] (\"%s\")", k,
						  t->impls[k].name);
		t->nr_impls++;
	}
	return 0;
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
	static const char *const guest_keys[] = {"midr", "revidr", "aidr", NULL};
	static const char *const req_keys[] = {"min_ipa_bits", "gic_version", "sve_max_vl", NULL};
	json_t *guest, *req, *lowered;
	int ret;
	if ((ret = tjson_get_object(c, root, "", "guest", &guest)) ||
	    (ret = tjson_get_hex(c, guest, "guest", "midr", 0xffffffffull, &t->guest_midr)) ||
	    (ret = tjson_get_hex(c, guest, "guest", "revidr", UINT64_MAX, &t->guest_revidr)) ||
	    (ret = tjson_get_hex(c, guest, "guest", "aidr", UINT64_MAX, &t->guest_aidr)) ||
	    (ret = tjson_check_keys(c, guest, "guest", guest_keys)))
		return ret;
	if ((ret = tjson_get_object(c, root, "", "requirements", &req)) ||
	    (ret = tjson_get_uint(c, req, "requirements", "min_ipa_bits", 32, 52, &t->min_ipa_bits)) ||
	    (ret = tjson_get_uint(c, req, "requirements", "gic_version", 3, 3, &t->gic_version)) ||
	    (ret = tjson_get_uint(c, req, "requirements", "sve_max_vl", 0, 256, &t->sve_max_vl)) ||
	    (ret = check_vl(c, "requirements.sve_max_vl", t->sve_max_vl)) ||
	    (ret = tjson_check_keys(c, req, "requirements", req_keys)))
		return ret;
	lowered = json_object_get(root, "lowered");
	if (!lowered)
		return 0;
	if (!json_is_array(lowered))
		return tjson_fail(c, "lowered", "not an array of strings");
	if (json_array_size(lowered) > ARM64_TARGETS_MAX_LOWERED)
		return tjson_fail(c, "lowered", "more than %d notes", ARM64_TARGETS_MAX_LOWERED);
	size_t i;
	json_t *v;
	json_array_foreach(lowered, i, v)
	{
		char path[32];
		snprintf(path, sizeof(path), "lowered[%zu]", i);
		if (!json_is_string(v))
			return tjson_fail(c, path, "not a string");
		if (json_string_length(v) >= ARM64_TARGETS_NOTE_LEN ||
		    strlen(json_string_value(v)) != json_string_length(v))
			return tjson_fail(c, path, "longer than %d bytes or with a NUL character",
					  ARM64_TARGETS_NOTE_LEN - 1);
		memcpy(t->lowered[i], json_string_value(v), json_string_length(v) + 1);
		t->nr_lowered++;
	}
	return 0;
}

int arm64_targets_from_json(const char *text, size_t len, const char *origin, struct arm64_targets *t, char *err,
			    size_t err_len)
{
	static const char *const keys[] = {"format",	   "version",	   "arch",    "targets", "guest",
					   "id_registers", "requirements", "lowered", NULL};
	struct tjson_ctx c = {origin, err, err_len};
	json_t *root, *v, *regs;
	memset(t, 0, sizeof(*t));
	int ret = tjson_load_root(&c, text, len, ARM64_TARGETS_FORMAT, ARM64_PROFILE_FORMAT,
				  "this is one host's CPU profile; make a targets file with roam targets merge", &root);
	if (ret == 0)
		ret = tjson_check_keys(&c, root, "", keys);
	if (ret == 0 && (ret = tjson_get_member(&c, root, "", "targets", &v)) == 0)
		ret = parse_targets_impls(&c, v, t);
	if (ret == 0 && (ret = tjson_get_object(&c, root, "", "id_registers", &regs)) == 0)
		ret = parse_targets_regs(&c, regs, t);
	if (ret == 0)
		ret = parse_targets_rest(&c, root, t);
	json_decref(root);
	return ret;
}

char *arm64_check_report_json(const struct arm64_check_report *r, const char *targets_label)
{
	json_t *root = json_object();
	json_object_set_new(root, "host", tjson_string(r->host));
	json_object_set_new(root, "targets", tjson_string(targets_label));
	json_object_set_new(root, "ok", json_boolean(r->nr_errors == 0));
	json_object_set_new(root, "errors", json_integer(r->nr_errors));
	json_t *arr = json_array();
	for (int i = 0; i < r->nr_findings && i < ARM64_CHECK_MAX_FINDINGS; i++) {
		const struct arm64_finding *f = &r->findings[i];
		json_t *o = json_object();
		json_object_set_new(o, "severity", json_string(f->severity == ARM64_FINDING_OK ? "ok" : "error"));
		json_object_set_new(o, "code", json_string(f->code));
		json_object_set_new(o, "message", tjson_string(f->message));
		json_array_append_new(arr, o);
	}
	json_object_set_new(root, "findings", arr);
	json_object_set_new(root, "dropped", json_integer(r->nr_dropped));
	return tjson_dump(root);
}

/* Loads `path` and hands its text to `parse`; file errors become "<path>: <reason>". */
static int load_file(const char *path, char *err, size_t err_len,
		     int (*parse)(const char *, size_t, const char *, void *, char *, size_t), void *out)
{
	char *text;
	size_t len;
	const char *label = strcmp(path, "-") == 0 ? "(standard input)" : path;
	int ret = read_file_all(path, ARM64_JSON_MAX_FILE, &text, &len);
	if (ret == -EFBIG) {
		snprintf(err, err_len, "%s: larger than %u bytes; not a roam JSON file", label, ARM64_JSON_MAX_FILE);
		return ret;
	}
	if (ret) {
		snprintf(err, err_len, "%s: cannot read: %s", label, strerror(-ret));
		return ret;
	}
	ret = parse(text, len, label, out, err, err_len);
	free(text);
	return ret;
}

static int save_file(const char *path, char *text, char *err, size_t err_len)
{
	if (!text) {
		snprintf(err, err_len, "%s: out of memory while making the JSON text", path);
		return -ENOMEM;
	}
	int ret = write_file_atomic(path, text, strlen(text));
	if (ret)
		snprintf(err, err_len, "%s: cannot write: %s", path, strerror(-ret));
	free(text);
	return ret;
}

static int parse_profile(const char *text, size_t len, const char *origin, void *out, char *err, size_t err_len)
{
	return arm64_profile_from_json(text, len, origin, out, err, err_len);
}

static int parse_targets(const char *text, size_t len, const char *origin, void *out, char *err, size_t err_len)
{
	return arm64_targets_from_json(text, len, origin, out, err, err_len);
}

int arm64_profile_load(const char *path, struct arm64_cpu_profile *p, char *err, size_t err_len)
{
	return load_file(path, err, err_len, parse_profile, p);
}

int arm64_profile_save(const char *path, const struct arm64_cpu_profile *p, char *err, size_t err_len)
{
	return save_file(path, arm64_profile_to_json(p), err, err_len);
}

int arm64_targets_load(const char *path, struct arm64_targets *t, char *err, size_t err_len)
{
	return load_file(path, err, err_len, parse_targets, t);
}

int arm64_targets_save(const char *path, const struct arm64_targets *t, char *err, size_t err_len)
{
	return save_file(path, arm64_targets_to_json(t), err, err_len);
}
