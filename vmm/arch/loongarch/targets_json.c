/* LoongArch CPU profile and targets JSON files: see targets_json.h. */
#include "targets_json.h"

#include "arch/arm64/targets_json_util.h"
#include "core/file_util.h"

#include <errno.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define ARCH "loongarch64"
#define PROFILE_FORMAT "roam-cpu-profile"
#define TARGETS_FORMAT "roam-targets"

static const char *word_name(uint32_t w, char buf[16])
{
	snprintf(buf, 16, "CPUCFG%u", w);
	return buf;
}

/* "CPUCFG<n>" with n in 0..20 written without leading zeros; returns n or -1. */
static int parse_word_name(const char *key)
{
	if (strncmp(key, "CPUCFG", 6) != 0 || !key[6] || (key[6] == '0' && key[7]))
		return -1;
	int n = 0;
	for (const char *s = key + 6; *s; s++) {
		if (*s < '0' || *s > '9' || n > 100)
			return -1;
		n = n * 10 + (*s - '0');
	}
	return n < LOONGARCH_NR_CPUCFG ? n : -1;
}

char *loongarch_profile_to_json(const struct loongarch_cpu_profile *p)
{
	json_t *root = tjson_header_arch(PROFILE_FORMAT, ARCH);
	json_object_set_new(root, "name", tjson_string(p->name));
	json_object_set_new(root, "kernel", tjson_string(p->kernel));
	json_object_set_new(root, "prid", tjson_hex(p->cpucfg[0]));
	json_t *kvm = json_object();
	json_object_set_new(kvm, "pv_features", tjson_hex(p->pv_features));
	json_object_set_new(kvm, "user_hcall", json_boolean(p->user_hcall));
	json_object_set_new(kvm, "virt_extioi", json_boolean(p->virt_extioi));
	json_object_set_new(kvm, "vm_features", tjson_hex(p->vm_features));
	json_object_set_new(root, "kvm", kvm);
	json_t *words = json_object();
	for (uint32_t w = 0; w < LOONGARCH_NR_CPUCFG; w++) {
		char name[16];
		json_t *o = json_object();
		json_object_set_new(o, "value", tjson_hex(p->cpucfg[w]));
		json_object_set_new(o, "writable", tjson_hex(p->writable[w]));
		json_object_set_new(words, word_name(w, name), o);
	}
	json_object_set_new(root, "cpucfg", words);
	return tjson_dump(root);
}

/* Reads every key of the "cpucfg" object; `value`/`writable` receive the words, `seen` which were given. */
static int parse_words(struct tjson_ctx *c, json_t *obj, bool with_masks, bool allow_word0, uint32_t *value,
		       uint32_t *writable)
{
	static const char *const keys[] = {"value", "writable", NULL};
	bool seen[LOONGARCH_NR_CPUCFG] = {false};
	const char *key;
	json_t *v;
	json_object_foreach(obj, key, v)
	{
		char path[64];
		uint64_t x;
		int w = parse_word_name(key), ret;
		snprintf(path, sizeof(path), "cpucfg.%s", key);
		if (w < 0)
			return tjson_fail(c, path, "unknown word (use CPUCFG0 to CPUCFG20)");
		if (w == 0 && !allow_word0)
			return tjson_fail(c, path, "the guest's PRID belongs in \"guest\"");
		if (!with_masks) {
			if ((ret = tjson_parse_hex(c, v, path, 0xffffffffull, &x)))
				return ret;
			value[w] = (uint32_t)x;
		} else {
			if (!json_is_object(v))
				return tjson_fail(c, path, "not an object with \"value\" and \"writable\"");
			if ((ret = tjson_get_hex(c, v, path, "value", 0xffffffffull, &x)))
				return ret;
			value[w] = (uint32_t)x;
			if ((ret = tjson_get_hex(c, v, path, "writable", 0xffffffffull, &x)) ||
			    (ret = tjson_check_keys(c, v, path, keys)))
				return ret;
			writable[w] = (uint32_t)x;
		}
		seen[w] = true;
	}
	for (int w = allow_word0 ? 0 : 1; w < LOONGARCH_NR_CPUCFG; w++)
		if (!seen[w]) {
			char name[16];
			return tjson_fail(c, "cpucfg", "%s is missing (every word from CPUCFG%d to CPUCFG20 is needed)",
					  word_name((uint32_t)w, name), allow_word0 ? 0 : 1);
		}
	return 0;
}

static int parse_profile_kvm(struct tjson_ctx *c, json_t *kvm, struct loongarch_cpu_profile *p)
{
	static const char *const keys[] = {"pv_features", "user_hcall", "virt_extioi", "vm_features", NULL};
	uint64_t pv, vmf;
	int ret;
	if ((ret = tjson_get_hex(c, kvm, "kvm", "pv_features", 0xffffffffull, &pv)) ||
	    (ret = tjson_get_bool(c, kvm, "kvm", "user_hcall", &p->user_hcall)) ||
	    (ret = tjson_get_bool(c, kvm, "kvm", "virt_extioi", &p->virt_extioi)) ||
	    (ret = tjson_get_hex(c, kvm, "kvm", "vm_features", 0xffffffffull, &vmf)) ||
	    (ret = tjson_check_keys(c, kvm, "kvm", keys)))
		return ret;
	p->pv_features = (uint32_t)pv;
	p->vm_features = (uint32_t)vmf;
	return 0;
}

int loongarch_profile_from_json(const char *text, size_t len, const char *origin, struct loongarch_cpu_profile *p,
				char *err, size_t err_len)
{
	static const char *const keys[] = {"format", "version", "arch",	  "name", "kernel",
					   "prid",   "kvm",	"cpucfg", NULL};
	struct tjson_ctx c = {origin, err, err_len};
	json_t *root, *kvm, *words;
	uint64_t prid = 0;
	memset(p, 0, sizeof(*p));
	int ret = tjson_load_root_arch(&c, text, len, PROFILE_FORMAT, TARGETS_FORMAT,
				       "this is a targets file; roam targets merge takes CPU profiles", ARCH, &root);
	if (!ret)
		ret = tjson_check_keys(&c, root, "", keys);
	if (!ret)
		ret = tjson_get_string(&c, root, "", "name", p->name, sizeof(p->name));
	if (!ret)
		ret = tjson_get_string(&c, root, "", "kernel", p->kernel, sizeof(p->kernel));
	if (!ret)
		ret = tjson_get_hex(&c, root, "", "prid", 0xffffffffull, &prid);
	if (!ret && !(ret = tjson_get_object(&c, root, "", "kvm", &kvm)))
		ret = parse_profile_kvm(&c, kvm, p);
	if (!ret && !(ret = tjson_get_object(&c, root, "", "cpucfg", &words)))
		ret = parse_words(&c, words, true, true, p->cpucfg, p->writable);
	if (!ret && p->cpucfg[0] != prid)
		ret = tjson_fail(&c, "cpucfg.CPUCFG0", "value %#x differs from the profile's prid %#x", p->cpucfg[0],
				 (unsigned)prid);
	json_decref(root);
	return ret;
}

char *loongarch_targets_to_json(const struct loongarch_targets *t)
{
	json_t *root = tjson_header_arch(TARGETS_FORMAT, ARCH);
	json_t *impls = json_array();
	for (int i = 0; i < t->nr_impls && i < LOONGARCH_TARGETS_MAX_IMPLS; i++) {
		json_t *o = json_object();
		json_object_set_new(o, "name", tjson_string(t->impls[i].name));
		json_object_set_new(o, "prid", tjson_hex(t->impls[i].prid));
		json_array_append_new(impls, o);
	}
	json_object_set_new(root, "targets", impls);
	json_t *guest = json_object();
	json_object_set_new(guest, "prid", tjson_hex(t->guest_prid));
	json_object_set_new(root, "guest", guest);
	json_t *words = json_object();
	for (uint32_t w = 1; w < LOONGARCH_NR_CPUCFG; w++) {
		char name[16];
		json_object_set_new(words, word_name(w, name), tjson_hex(t->cpucfg[w]));
	}
	json_object_set_new(root, "cpucfg", words);
	json_t *notes = json_array();
	for (int i = 0; i < t->nr_notes && i < LOONGARCH_TARGETS_MAX_NOTES; i++)
		json_array_append_new(notes, tjson_string(t->notes[i]));
	json_object_set_new(root, "lowered", notes);
	return tjson_dump(root);
}

static int parse_impls(struct tjson_ctx *c, json_t *arr, struct loongarch_targets *t)
{
	static const char *const keys[] = {"name", "prid", NULL};
	if (!json_is_array(arr))
		return tjson_fail(c, "targets", "not an array");
	if (json_array_size(arr) == 0)
		return tjson_fail(c, "targets", "empty; list at least one host");
	if (json_array_size(arr) > LOONGARCH_TARGETS_MAX_IMPLS)
		return tjson_fail(c, "targets", "%zu entries, more than the %d roam supports", json_array_size(arr),
				  LOONGARCH_TARGETS_MAX_IMPLS);
	size_t i;
	json_t *v;
	json_array_foreach(arr, i, v)
	{
		char path[32];
		uint64_t prid;
		int ret;
		snprintf(path, sizeof(path), "targets[%zu]", i);
		if (!json_is_object(v))
			return tjson_fail(c, path, "not an object with name and prid");
		struct loongarch_impl *impl = &t->impls[i];
		if ((ret = tjson_get_string(c, v, path, "name", impl->name, sizeof(impl->name))) ||
		    (ret = tjson_get_hex(c, v, path, "prid", 0xffffffffull, &prid)) ||
		    (ret = tjson_check_keys(c, v, path, keys)))
			return ret;
		impl->prid = (uint32_t)prid;
		for (size_t k = 0; k < i; k++)
			if (t->impls[k].prid == impl->prid)
				return tjson_fail(c, path, "the same PRID as targets[%zu] (\"%s\")", k,
						  t->impls[k].name);
		t->nr_impls++;
	}
	return 0;
}

static int parse_notes(struct tjson_ctx *c, json_t *root, struct loongarch_targets *t)
{
	json_t *notes = json_object_get(root, "lowered"), *v;
	size_t i;
	if (!notes)
		return 0;
	if (!json_is_array(notes))
		return tjson_fail(c, "lowered", "not an array of strings");
	if (json_array_size(notes) > LOONGARCH_TARGETS_MAX_NOTES)
		return tjson_fail(c, "lowered", "more than %d notes", LOONGARCH_TARGETS_MAX_NOTES);
	json_array_foreach(notes, i, v)
	{
		char path[32];
		snprintf(path, sizeof(path), "lowered[%zu]", i);
		if (!json_is_string(v) || json_string_length(v) >= LOONGARCH_TARGETS_NOTE_LEN ||
		    strlen(json_string_value(v)) != json_string_length(v))
			return tjson_fail(c, path, "not a string of at most %d bytes", LOONGARCH_TARGETS_NOTE_LEN - 1);
		memcpy(t->notes[i], json_string_value(v), json_string_length(v) + 1);
		t->nr_notes++;
	}
	return 0;
}

int loongarch_targets_from_json(const char *text, size_t len, const char *origin, struct loongarch_targets *t,
				char *err, size_t err_len)
{
	static const char *const keys[] = {"format", "version", "arch", "targets", "guest", "cpucfg", "lowered", NULL};
	static const char *const guest_keys[] = {"prid", NULL};
	struct tjson_ctx c = {origin, err, err_len};
	json_t *root, *v, *guest, *words;
	uint64_t prid;
	memset(t, 0, sizeof(*t));
	int ret = tjson_load_root_arch(&c, text, len, TARGETS_FORMAT, PROFILE_FORMAT,
				       "this is one host's CPU profile; make a targets file with roam targets merge",
				       ARCH, &root);
	if (!ret)
		ret = tjson_check_keys(&c, root, "", keys);
	if (!ret && !(ret = tjson_get_member(&c, root, "", "targets", &v)))
		ret = parse_impls(&c, v, t);
	if (!ret && !(ret = tjson_get_object(&c, root, "", "guest", &guest)) &&
	    !(ret = tjson_get_hex(&c, guest, "guest", "prid", 0xffffffffull, &prid)))
		ret = tjson_check_keys(&c, guest, "guest", guest_keys);
	if (!ret && !(ret = tjson_get_object(&c, root, "", "cpucfg", &words)))
		ret = parse_words(&c, words, false, false, t->cpucfg, NULL);
	if (!ret)
		ret = parse_notes(&c, root, t);
	if (!ret) {
		t->guest_prid = (uint32_t)prid;
		t->cpucfg[0] = t->guest_prid;
	}
	json_decref(root);
	return ret;
}

char *loongarch_check_report_json(const struct loongarch_check_report *r, const char *targets_label)
{
	json_t *root = json_object();
	json_object_set_new(root, "host", tjson_string(r->host));
	json_object_set_new(root, "targets", tjson_string(targets_label));
	json_object_set_new(root, "ok", json_boolean(r->nr_errors == 0));
	json_object_set_new(root, "errors", json_integer(r->nr_errors));
	json_t *arr = json_array();
	for (int i = 0; i < r->nr_findings && i < LOONGARCH_CHECK_MAX_FINDINGS; i++) {
		json_t *o = json_object();
		json_object_set_new(o, "severity", json_string(r->findings[i].error ? "error" : "ok"));
		json_object_set_new(o, "code", json_string(r->findings[i].code));
		json_object_set_new(o, "message", tjson_string(r->findings[i].message));
		json_array_append_new(arr, o);
	}
	json_object_set_new(root, "findings", arr);
	json_object_set_new(root, "dropped", json_integer(r->nr_dropped));
	return tjson_dump(root);
}

typedef int (*parse_fn)(const char *text, size_t len, const char *origin, void *out, char *err, size_t err_len);

static int load_file(const char *path, char *err, size_t err_len, parse_fn parse, void *out)
{
	char *text;
	size_t len;
	const char *label = strcmp(path, "-") == 0 ? "(standard input)" : path;
	int ret = read_file_all(path, LOONGARCH_JSON_MAX_FILE, &text, &len);
	if (ret == -EFBIG) {
		snprintf(err, err_len, "%s: larger than %u bytes; not a roam JSON file", label,
			 LOONGARCH_JSON_MAX_FILE);
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
	return loongarch_profile_from_json(text, len, origin, out, err, err_len);
}

static int parse_targets(const char *text, size_t len, const char *origin, void *out, char *err, size_t err_len)
{
	return loongarch_targets_from_json(text, len, origin, out, err, err_len);
}

int loongarch_profile_load(const char *path, struct loongarch_cpu_profile *p, char *err, size_t err_len)
{
	return load_file(path, err, err_len, parse_profile, p);
}

int loongarch_profile_save(const char *path, const struct loongarch_cpu_profile *p, char *err, size_t err_len)
{
	return save_file(path, loongarch_profile_to_json(p), err, err_len);
}

int loongarch_targets_load(const char *path, struct loongarch_targets *t, char *err, size_t err_len)
{
	return load_file(path, err, err_len, parse_targets, t);
}

int loongarch_targets_save(const char *path, const struct loongarch_targets *t, char *err, size_t err_len)
{
	return save_file(path, loongarch_targets_to_json(t), err, err_len);
}
