/* LoongArch CPU profile and targets JSON files: see targets_json.h. */
#include "targets_json.h"

#include "targets/report.h"
#include "targets/tjson.h"

#include <errno.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define ARCH "loongarch64"

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
	const uint64_t id[TARGETS_MAX_IDS] = {p->cpucfg[0]};
	json_t *root = tjson_profile_head(&loongarch_targets_ops, p->name, p->kernel, id);
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
	uint64_t id[TARGETS_MAX_IDS] = {0};
	memset(p, 0, sizeof(*p));
	int ret = tjson_load_profile(&c, text, len, &loongarch_targets_ops, keys, &root);
	if (!ret)
		ret =
		    tjson_get_profile_head(&c, root, &loongarch_targets_ops, p->name, p->kernel, sizeof(p->kernel), id);
	if (!ret && !(ret = tjson_get_object(&c, root, "", "kvm", &kvm)))
		ret = parse_profile_kvm(&c, kvm, p);
	if (!ret && !(ret = tjson_get_object(&c, root, "", "cpucfg", &words)))
		ret = parse_words(&c, words, true, true, p->cpucfg, p->writable);
	if (!ret && p->cpucfg[0] != id[0])
		ret = tjson_fail(&c, "cpucfg.CPUCFG0", "value %#x differs from the profile's prid %#x", p->cpucfg[0],
				 (unsigned)id[0]);
	json_decref(root);
	return ret;
}

char *loongarch_targets_to_json(const struct loongarch_targets *t)
{
	struct targets_impl impls[TARGETS_MAX_IMPLS];
	const uint64_t guest[TARGETS_MAX_IDS] = {t->guest_prid};
	json_t *root = tjson_targets_head(&loongarch_targets_ops, impls, loongarch_targets_impls(t, impls), guest);
	json_t *words = json_object();
	for (uint32_t w = 1; w < LOONGARCH_NR_CPUCFG; w++) {
		char name[16];
		json_object_set_new(words, word_name(w, name), tjson_hex(t->cpucfg[w]));
	}
	json_object_set_new(root, "cpucfg", words);
	int nr_notes = t->nr_notes < LOONGARCH_TARGETS_MAX_NOTES ? t->nr_notes : LOONGARCH_TARGETS_MAX_NOTES;
	json_object_set_new(root, "lowered", tjson_notes(t->notes[0], nr_notes, LOONGARCH_TARGETS_NOTE_LEN));
	return tjson_dump(root);
}

/* "targets" and "guest": the guest's PRID is also its CPUCFG0. */
static int parse_head(struct tjson_ctx *c, json_t *root, struct loongarch_targets *t)
{
	struct targets_impl impls[TARGETS_MAX_IMPLS];
	uint64_t guest[TARGETS_MAX_IDS] = {0};
	int ret = tjson_get_targets_head(c, root, &loongarch_targets_ops, impls, LOONGARCH_TARGETS_MAX_IMPLS,
					 &t->nr_impls, guest);
	for (int i = 0; i < t->nr_impls; i++) {
		memcpy(t->impls[i].name, impls[i].name, sizeof(t->impls[i].name));
		t->impls[i].prid = (uint32_t)impls[i].id[0];
	}
	t->guest_prid = t->cpucfg[0] = (uint32_t)guest[0];
	return ret;
}

int loongarch_targets_from_json(const char *text, size_t len, const char *origin, struct loongarch_targets *t,
				char *err, size_t err_len)
{
	static const char *const keys[] = {"format", "version", "arch", "targets", "guest", "cpucfg", "lowered", NULL};
	struct tjson_ctx c = {origin, err, err_len};
	json_t *root, *words;
	memset(t, 0, sizeof(*t));
	int ret = tjson_load_targets(&c, text, len, &loongarch_targets_ops, keys, &root);
	if (!ret)
		ret = parse_head(&c, root, t);
	if (!ret && !(ret = tjson_get_object(&c, root, "", "cpucfg", &words)))
		ret = parse_words(&c, words, false, false, t->cpucfg, NULL);
	if (!ret)
		ret = tjson_get_notes(&c, root, t->notes[0], LOONGARCH_TARGETS_MAX_NOTES, LOONGARCH_TARGETS_NOTE_LEN,
				      &t->nr_notes);
	json_decref(root);
	return ret;
}

void loongarch_profile_ids(const struct loongarch_cpu_profile *p, uint64_t id[TARGETS_MAX_IDS])
{
	id[0] = p->cpucfg[0]; /* PRID */
	id[1] = id[2] = 0;
}

TARGETS_OPS_ADAPTERS(loongarch)

static const struct targets_ident loongarch_ids[] = {{"PRID", "prid", 0xffffffffull}};

const struct targets_arch_ops loongarch_targets_ops = {
    .arch = ARCH,
    .help = {"docs/loongarch.md",
	     "PRID, every CPUCFG word with the bits\n"
	     "KVM lets a VMM set, and the paravirtual and VM features KVM offers.\n",
	     "the CPUCFG words every profiled host can present", "can present every word"},
    .id = {loongarch_ids, 1, 1, "PRID"},
    TARGETS_OPS_FUNCTIONS(loongarch, struct loongarch_cpu_profile, struct loongarch_targets),
};
