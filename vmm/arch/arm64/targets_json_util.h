/*
 * Helpers of targets_json.c for reading hand-editable JSON with jansson: typed getters that fail with one line
 * "<file>: <JSON path>: <reason>", the common header ("format", "version", "arch") and canonical writing (hex
 * strings, 2-space indentation, a final newline). Internal to the migration targets code.
 */
#ifndef ROAM_ARM64_TARGETS_JSON_UTIL_H
#define ROAM_ARM64_TARGETS_JSON_UTIL_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* A reader's state: the name of the text (for messages) and where the one-line error goes. */
struct tjson_ctx {
	const char *origin;
	char *err;
	size_t err_len;
};

/* Writes "<origin>: <path>: <reason>" (or "<origin>: <reason>" for an empty path) to c->err; returns -EINVAL. */
int tjson_fail(struct tjson_ctx *c, const char *path, const char *fmt, ...) __attribute__((format(printf, 3, 4)));

/* Writes "parent.key" (or "key" when parent is empty) into buf; returns buf. */
const char *tjson_path(char *buf, size_t len, const char *parent, const char *key);

/* Fails on the first key of object `obj` (at `path`) that is not in the NULL-terminated `allowed` list. */
int tjson_check_keys(struct tjson_ctx *c, json_t *obj, const char *path, const char *const *allowed);

/* Sets *out to obj[key], or fails with "<path>.<key>: missing". */
int tjson_get_member(struct tjson_ctx *c, json_t *obj, const char *path, const char *key, json_t **out);

/*
 * Reads a 64-bit value: a "0x..." hex string (any number of digits, at most 64 bits) or an integer from 0 to
 * 2^53 - 1. Fails with a reason naming what is wrong (not a string, no 0x, a bad digit, negative, too large, above
 * `max`).
 */
int tjson_parse_hex(struct tjson_ctx *c, json_t *v, const char *path, uint64_t max, uint64_t *out);

/* tjson_get_member() then tjson_parse_hex() for obj[key]. */
int tjson_get_hex(struct tjson_ctx *c, json_t *obj, const char *path, const char *key, uint64_t max, uint64_t *out);

/* Reads obj[key] as an integer from min to max (both within uint32_t). */
int tjson_get_uint(struct tjson_ctx *c, json_t *obj, const char *path, const char *key, long long min, long long max,
		   uint32_t *out);

/* Reads obj[key] as true or false. */
int tjson_get_bool(struct tjson_ctx *c, json_t *obj, const char *path, const char *key, bool *out);

/* Copies the string obj[key] into out (size bytes, NUL included); fails if longer or with an embedded NUL. */
int tjson_get_string(struct tjson_ctx *c, json_t *obj, const char *path, const char *key, char *out, size_t size);

/* Sets *out to obj[key] if that is an object. */
int tjson_get_object(struct tjson_ctx *c, json_t *obj, const char *path, const char *key, json_t **out);

/*
 * Parses `text` (duplicate keys refused; syntax errors reported with line and column) into *root and checks that
 * it is an object with "format" == `format`, "version" == ARM64_JSON_VERSION and "arch" == "arm64". A document
 * whose format is `other_format` gets `other_hint` added to the message. The caller json_decref()s *root, which may
 * be NULL, whatever the result.
 */
int tjson_load_root(struct tjson_ctx *c, const char *text, size_t len, const char *format, const char *other_format,
		    const char *other_hint, json_t **root);

/* tjson_load_root() for documents of another architecture: "arch" must be `arch` ("loongarch64"). */
int tjson_load_root_arch(struct tjson_ctx *c, const char *text, size_t len, const char *format,
			 const char *other_format, const char *other_hint, const char *arch, json_t **root);

/* tjson_header() with "arch": `arch`. */
json_t *tjson_header_arch(const char *format, const char *arch);

/* A new JSON string "0x%016x" of v. */
json_t *tjson_hex(uint64_t v);

/* A new JSON string of s, with bytes that are not valid UTF-8 replaced by '?'. */
json_t *tjson_string(const char *s);

/* A new object holding "format": format, "version": ARM64_JSON_VERSION, "arch": "arm64", in that order. */
json_t *tjson_header(const char *format);

/* Serializes `root` (2-space indent, a final newline) and frees it. Returns a malloc'd string or NULL. */
char *tjson_dump(json_t *root);

#endif
