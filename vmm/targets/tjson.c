/* Helpers for reading and writing the migration targets JSON files: see tjson.h. */
#include "tjson.h"

#include "targets.h"

#include <errno.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int tjson_fail(struct tjson_ctx *c, const char *path, const char *fmt, ...)
{
	int n = snprintf(c->err, c->err_len, "%s: %s%s", c->origin, path, path[0] ? ": " : "");
	if (n >= 0 && (size_t)n < c->err_len) {
		va_list ap;
		va_start(ap, fmt);
		vsnprintf(c->err + n, c->err_len - (size_t)n, fmt, ap);
		va_end(ap);
	}
	return -EINVAL;
}

/* "parent.key" (or "key" at the top). */
const char *tjson_path(char *buf, size_t len, const char *parent, const char *key)
{
	snprintf(buf, len, "%s%s%s", parent, parent[0] ? "." : "", key);
	return buf;
}

/* Fails on the first key of `obj` not in the NULL-terminated `allowed` list. */
int tjson_check_keys(struct tjson_ctx *c, json_t *obj, const char *path, const char *const *allowed)
{
	const char *key;
	json_t *v;
	json_object_foreach(obj, key, v)
	{
		bool ok = false;
		for (int i = 0; allowed[i] && !ok; i++)
			ok = strcmp(key, allowed[i]) == 0;
		if (!ok) {
			char p[128];
			return tjson_fail(c, tjson_path(p, sizeof(p), path, key), "unknown key");
		}
	}
	return 0;
}

int tjson_get_member(struct tjson_ctx *c, json_t *obj, const char *path, const char *key, json_t **out)
{
	char p[128];
	*out = json_object_get(obj, key);
	if (!*out)
		return tjson_fail(c, tjson_path(p, sizeof(p), path, key), "missing");
	return 0;
}

/* A 64-bit value at `path`: a "0x..." string, or a non-negative integer below 2^53. */
int tjson_parse_hex(struct tjson_ctx *c, json_t *v, const char *path, uint64_t max, uint64_t *out)
{
	uint64_t val = 0;
	if (json_is_integer(v)) {
		json_int_t i = json_integer_value(v);
		if (i < 0)
			return tjson_fail(c, path, "out of range (negative)");
		if ((uint64_t)i >= (1ull << 53))
			return tjson_fail(c, path, "out of range (write values of 2^53 and more as hex strings)");
		val = (uint64_t)i;
	} else if (json_is_string(v)) {
		const char *s = json_string_value(v);
		if (strncmp(s, "0x", 2) != 0 && strncmp(s, "0X", 2) != 0)
			return tjson_fail(c, path, "not a hex string (write it as \"0x...\")");
		if (!s[2])
			return tjson_fail(c, path, "not a hex string (no digits after 0x)");
		for (s += 2; *s; s++) {
			int d;
			if (*s >= '0' && *s <= '9')
				d = *s - '0';
			else if (*s >= 'a' && *s <= 'f')
				d = *s - 'a' + 10;
			else if (*s >= 'A' && *s <= 'F')
				d = *s - 'A' + 10;
			else if ((unsigned char)*s >= 0x20 && (unsigned char)*s < 0x7f)
				return tjson_fail(c, path, "not a hex string ('%c' is not a hex digit)", *s);
			else
				return tjson_fail(c, path, "not a hex string");
			if (val >> 60)
				return tjson_fail(c, path, "out of range (more than 64 bits)");
			val = (val << 4) | (uint64_t)d;
		}
	} else {
		return tjson_fail(c, path, "not a hex string");
	}
	if (val > max)
		return tjson_fail(c, path, "0x%" PRIx64 " is out of range (at most 0x%" PRIx64 ")", val, max);
	*out = val;
	return 0;
}

int tjson_get_hex(struct tjson_ctx *c, json_t *obj, const char *path, const char *key, uint64_t max, uint64_t *out)
{
	char p[128];
	json_t *v;
	int ret = tjson_get_member(c, obj, path, key, &v);
	return ret ? ret : tjson_parse_hex(c, v, tjson_path(p, sizeof(p), path, key), max, out);
}

int tjson_get_uint(struct tjson_ctx *c, json_t *obj, const char *path, const char *key, long long min, long long max,
		   uint32_t *out)
{
	char p[128];
	json_t *v;
	int ret = tjson_get_member(c, obj, path, key, &v);
	if (ret)
		return ret;
	tjson_path(p, sizeof(p), path, key);
	if (!json_is_integer(v))
		return tjson_fail(c, p, "not an integer");
	json_int_t i = json_integer_value(v);
	if (min == max && i != min)
		return tjson_fail(c, p, "%lld is not %lld, the only value roam supports", (long long)i, min);
	if (i < min || i > max)
		return tjson_fail(c, p, "%lld is out of range (%lld to %lld)", (long long)i, min, max);
	*out = (uint32_t)i;
	return 0;
}

int tjson_get_bool(struct tjson_ctx *c, json_t *obj, const char *path, const char *key, bool *out)
{
	char p[128];
	json_t *v;
	int ret = tjson_get_member(c, obj, path, key, &v);
	if (ret)
		return ret;
	if (!json_is_boolean(v))
		return tjson_fail(c, tjson_path(p, sizeof(p), path, key), "not true or false");
	*out = json_is_true(v);
	return 0;
}

int tjson_get_string(struct tjson_ctx *c, json_t *obj, const char *path, const char *key, char *out, size_t size)
{
	char p[128];
	json_t *v;
	int ret = tjson_get_member(c, obj, path, key, &v);
	if (ret)
		return ret;
	tjson_path(p, sizeof(p), path, key);
	if (!json_is_string(v))
		return tjson_fail(c, p, "not a string");
	if (json_string_length(v) >= size)
		return tjson_fail(c, p, "longer than %zu bytes", size - 1);
	if (strlen(json_string_value(v)) != json_string_length(v))
		return tjson_fail(c, p, "contains a NUL character");
	memcpy(out, json_string_value(v), json_string_length(v) + 1);
	return 0;
}

int tjson_get_object(struct tjson_ctx *c, json_t *obj, const char *path, const char *key, json_t **out)
{
	char p[128];
	int ret = tjson_get_member(c, obj, path, key, out);
	if (ret == 0 && !json_is_object(*out))
		return tjson_fail(c, tjson_path(p, sizeof(p), path, key), "not an object");
	return ret;
}

/* Parses the text and checks "format", "version" and "arch". */
int tjson_load_root(struct tjson_ctx *c, const char *text, size_t len, const char *format, const char *other_format,
		    const char *other_hint, const char *arch, json_t **root)
{
	json_error_t je;
	*root = json_loadb(text, len, JSON_REJECT_DUPLICATES, &je);
	if (!*root) {
		snprintf(c->err, c->err_len, "%s: line %d, column %d: %s", c->origin, je.line, je.column, je.text);
		return -EINVAL;
	}
	if (!json_is_object(*root))
		return tjson_fail(c, "", "not a JSON object");
	json_t *v = json_object_get(*root, "format");
	if (!v)
		return tjson_fail(c, "format", "missing (expected \"%s\")", format);
	if (!json_is_string(v))
		return tjson_fail(c, "format", "not a string (expected \"%s\")", format);
	if (strcmp(json_string_value(v), format) != 0) {
		if (strcmp(json_string_value(v), other_format) == 0)
			return tjson_fail(c, "format", "\"%s\" is not \"%s\" (%s)", other_format, format, other_hint);
		return tjson_fail(c, "format", "\"%s\" is not \"%s\"", json_string_value(v), format);
	}
	v = json_object_get(*root, "version");
	if (!v)
		return tjson_fail(c, "version", "missing (expected %d)", TARGETS_JSON_VERSION);
	if (!json_is_integer(v))
		return tjson_fail(c, "version", "not an integer");
	if (json_integer_value(v) < TARGETS_JSON_OLDEST_VERSION || json_integer_value(v) > TARGETS_JSON_VERSION)
		return tjson_fail(c, "version", "%lld is not supported (this roam reads versions %d to %d)",
				  (long long)json_integer_value(v), TARGETS_JSON_OLDEST_VERSION, TARGETS_JSON_VERSION);
	v = json_object_get(*root, "arch");
	if (!v)
		return tjson_fail(c, "arch", "missing (expected \"%s\")", arch);
	if (!json_is_string(v))
		return tjson_fail(c, "arch", "not a string (expected \"%s\")", arch);
	if (strcmp(json_string_value(v), arch) != 0)
		return tjson_fail(c, "arch", "\"%s\" is not \"%s\"", json_string_value(v), arch);
	return 0;
}

/* A hex string for a 64-bit value: "0x00000000410fd083". */
json_t *tjson_hex(uint64_t v)
{
	char s[24];
	snprintf(s, sizeof(s), "0x%016" PRIx64, v);
	return json_string(s);
}

/* A JSON string of `s`, with bytes that are not valid UTF-8 replaced by '?'. */
json_t *tjson_string(const char *s)
{
	json_t *j = json_string(s);
	if (j)
		return j;
	char clean[256];
	size_t i = 0;
	for (; s[i] && i < sizeof(clean) - 1; i++)
		clean[i] = (unsigned char)s[i] < 0x80 ? s[i] : '?';
	clean[i] = '\0';
	return json_string(clean);
}

/* Serializes and frees `root`; adds a final newline. */
char *tjson_dump(json_t *root)
{
	if (!root)
		return NULL;
	char *text = json_dumps(root, JSON_INDENT(2));
	json_decref(root);
	if (!text)
		return NULL;
	size_t len = strlen(text);
	char *out = realloc(text, len + 2);
	if (!out) {
		free(text);
		return NULL;
	}
	out[len] = '\n';
	out[len + 1] = '\0';
	return out;
}

json_t *tjson_header(const char *format, const char *arch)
{
	json_t *root = json_object();
	json_object_set_new(root, "format", json_string(format));
	json_object_set_new(root, "version", json_integer(TARGETS_JSON_VERSION));
	json_object_set_new(root, "arch", json_string(arch));
	return root;
}

int tjson_get_ids(struct tjson_ctx *c, json_t *obj, const char *path, const struct targets_ident *ids, int nr,
		  uint64_t *id)
{
	for (int i = 0; i < nr; i++) {
		int ret = tjson_get_hex(c, obj, path, ids[i].key, ids[i].max, &id[i]);
		if (ret)
			return ret;
	}
	return 0;
}

void tjson_set_ids(json_t *obj, const struct targets_ident *ids, int nr, const uint64_t *id)
{
	for (int i = 0; i < nr; i++)
		json_object_set_new(obj, ids[i].key, tjson_hex(id[i]));
}

/* One entry of "targets": an object of "name" and the identity registers, and nothing else. */
static int tjson_get_impl(struct tjson_ctx *c, json_t *v, const char *path, const struct targets_ident *ids, int nr_ids,
			  struct targets_impl *impl)
{
	const char *keys[TARGETS_MAX_IDS + 2] = {"name"};
	char what[96] = "name";
	size_t used = strlen(what);
	for (int i = 0; i < nr_ids; i++) {
		keys[i + 1] = ids[i].key;
		used += (size_t)snprintf(what + used, sizeof(what) - used, "%s%s", i == nr_ids - 1 ? " and " : ", ",
					 ids[i].key);
	}
	if (!json_is_object(v))
		return tjson_fail(c, path, "not an object with %s", what);
	int ret = tjson_get_string(c, v, path, "name", impl->name, sizeof(impl->name));
	if (!ret)
		ret = tjson_get_ids(c, v, path, ids, nr_ids, impl->id);
	return ret ? ret : tjson_check_keys(c, v, path, keys);
}

/* Reads the "targets" array of obj into out[] (*nr entries). */
static int tjson_get_impls(struct tjson_ctx *c, json_t *obj, const struct targets_ids *ids, struct targets_impl *out,
			   int max, int *nr)
{
	json_t *arr, *v;
	int ret = tjson_get_member(c, obj, "", "targets", &arr);
	*nr = 0;
	if (ret)
		return ret;
	if (!json_is_array(arr))
		return tjson_fail(c, "targets", "not an array");
	if (json_array_size(arr) == 0)
		return tjson_fail(c, "targets", "empty; list at least one host");
	if (json_array_size(arr) > (size_t)max)
		return tjson_fail(c, "targets", "%zu entries, more than the %d roam supports", json_array_size(arr),
				  max);
	size_t i;
	json_array_foreach(arr, i, v)
	{
		char path[32];
		snprintf(path, sizeof(path), "targets[%zu]", i);
		memset(&out[i], 0, sizeof(out[i]));
		if ((ret = tjson_get_impl(c, v, path, ids->regs, ids->nr, &out[i])))
			return ret;
		for (size_t k = 0; k < i; k++) {
			bool same = true;
			for (int m = 0; m < ids->nr_match && same; m++)
				same = out[k].id[m] == out[i].id[m];
			if (same)
				return tjson_fail(c, path, "the same %s as targets[%zu] (\"%s\")", ids->match_label, k,
						  out[k].name);
		}
		(*nr)++;
	}
	return 0;
}

/* The "targets" array. */
static json_t *tjson_impls(const struct targets_impl *impls, int nr, const struct targets_ident *ids, int nr_ids)
{
	json_t *arr = json_array();
	for (int i = 0; i < nr; i++) {
		json_t *o = json_object();
		json_object_set_new(o, "name", tjson_string(impls[i].name));
		tjson_set_ids(o, ids, nr_ids, impls[i].id);
		json_array_append_new(arr, o);
	}
	return arr;
}

int tjson_get_notes(struct tjson_ctx *c, json_t *obj, char *notes, int max, size_t note_len, int *nr)
{
	json_t *arr = json_object_get(obj, "lowered"), *v;
	size_t i;
	*nr = 0;
	if (!arr)
		return 0;
	if (!json_is_array(arr))
		return tjson_fail(c, "lowered", "not an array of strings");
	if (json_array_size(arr) > (size_t)max)
		return tjson_fail(c, "lowered", "more than %d notes", max);
	json_array_foreach(arr, i, v)
	{
		char path[32];
		snprintf(path, sizeof(path), "lowered[%zu]", i);
		if (!json_is_string(v))
			return tjson_fail(c, path, "not a string");
		if (json_string_length(v) >= note_len || strlen(json_string_value(v)) != json_string_length(v))
			return tjson_fail(c, path, "longer than %zu bytes or with a NUL character", note_len - 1);
		memcpy(notes + i * note_len, json_string_value(v), json_string_length(v) + 1);
		(*nr)++;
	}
	return 0;
}

json_t *tjson_notes(const char *notes, int nr, size_t note_len)
{
	json_t *arr = json_array();
	for (int i = 0; i < nr; i++)
		json_array_append_new(arr, tjson_string(notes + (size_t)i * note_len));
	return arr;
}

json_t *tjson_profile_head(const struct targets_arch_ops *ops, const char *name, const char *kernel, const uint64_t *id)
{
	json_t *root = tjson_header(TARGETS_PROFILE_FORMAT, ops->arch);
	json_object_set_new(root, "name", tjson_string(name));
	json_object_set_new(root, "kernel", tjson_string(kernel));
	tjson_set_ids(root, ops->id.regs, ops->id.nr, id);
	return root;
}

int tjson_get_profile_head(struct tjson_ctx *c, json_t *root, const struct targets_arch_ops *ops, char *name,
			   char *kernel, size_t kernel_len, uint64_t *id)
{
	int ret = tjson_get_string(c, root, "", "name", name, TARGETS_NAME_LEN);
	if (!ret)
		ret = tjson_get_string(c, root, "", "kernel", kernel, kernel_len);
	return ret ? ret : tjson_get_ids(c, root, "", ops->id.regs, ops->id.nr, id);
}

json_t *tjson_targets_head(const struct targets_arch_ops *ops, const struct targets_impl *impls, int nr,
			   const uint64_t *guest_id)
{
	json_t *root = tjson_header(TARGETS_FORMAT, ops->arch);
	json_object_set_new(root, "targets", tjson_impls(impls, nr, ops->id.regs, ops->id.nr));
	json_t *guest = json_object();
	tjson_set_ids(guest, ops->id.regs, ops->id.nr, guest_id);
	json_object_set_new(root, "guest", guest);
	return root;
}

int tjson_get_targets_head(struct tjson_ctx *c, json_t *root, const struct targets_arch_ops *ops,
			   struct targets_impl *impls, int max, int *nr, uint64_t *guest_id)
{
	const char *keys[TARGETS_MAX_IDS + 1] = {NULL};
	json_t *guest;
	for (int i = 0; i < ops->id.nr; i++)
		keys[i] = ops->id.regs[i].key;
	int ret = tjson_get_impls(c, root, &ops->id, impls, max, nr);
	if (!ret)
		ret = tjson_get_object(c, root, "", "guest", &guest);
	if (!ret)
		ret = tjson_get_ids(c, guest, "guest", ops->id.regs, ops->id.nr, guest_id);
	return ret ? ret : tjson_check_keys(c, guest, "guest", keys);
}

int tjson_load_profile(struct tjson_ctx *c, const char *text, size_t len, const struct targets_arch_ops *ops,
		       const char *const *keys, json_t **root)
{
	int ret = tjson_load_root(c, text, len, TARGETS_PROFILE_FORMAT, TARGETS_FORMAT,
				  "this is a targets file; roam targets merge takes CPU profiles", ops->arch, root);
	return ret ? ret : tjson_check_keys(c, *root, "", keys);
}

int tjson_load_targets(struct tjson_ctx *c, const char *text, size_t len, const struct targets_arch_ops *ops,
		       const char *const *keys, json_t **root)
{
	int ret = tjson_load_root(c, text, len, TARGETS_FORMAT, TARGETS_PROFILE_FORMAT,
				  "this is one host's CPU profile; make a targets file with roam targets merge",
				  ops->arch, root);
	return ret ? ret : tjson_check_keys(c, *root, "", keys);
}
