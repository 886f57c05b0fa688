/* Helpers for reading and writing the migration targets JSON files: see targets_json_util.h. */
#include "targets_json_util.h"

#include "targets_json.h"

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
		    const char *other_hint, json_t **root)
{
	return tjson_load_root_arch(c, text, len, format, other_format, other_hint, "arm64", root);
}

int tjson_load_root_arch(struct tjson_ctx *c, const char *text, size_t len, const char *format,
			 const char *other_format, const char *other_hint, const char *arch, json_t **root)
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
		return tjson_fail(c, "version", "missing (expected %d)", ARM64_JSON_VERSION);
	if (!json_is_integer(v))
		return tjson_fail(c, "version", "not an integer");
	if (json_integer_value(v) != ARM64_JSON_VERSION)
		return tjson_fail(c, "version", "%lld is not supported (this roam reads version %d)",
				  (long long)json_integer_value(v), ARM64_JSON_VERSION);
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

json_t *tjson_header(const char *format)
{
	return tjson_header_arch(format, "arm64");
}

json_t *tjson_header_arch(const char *format, const char *arch)
{
	json_t *root = json_object();
	json_object_set_new(root, "format", json_string(format));
	json_object_set_new(root, "version", json_integer(ARM64_JSON_VERSION));
	json_object_set_new(root, "arch", json_string(arch));
	return root;
}
