/*
 * The JSON helpers of the migration targets files (every architecture's profiles, targets configs and check
 * reports), over jansson: typed getters that fail with one line "<file>: <JSON path>: <reason>", the common header
 * ("format", "version", "arch"), the identity registers, the target list and the "lowered" notes that every
 * architecture's files share, and canonical writing (hex strings, 2-space indentation, a final newline).
 */
#ifndef ROAM_TARGETS_TJSON_H
#define ROAM_TARGETS_TJSON_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/*
 * The format names and version every roam targets file carries. Version 2 added arm64's "compat" object (the GIC
 * CPU interface, the PMU and the counter frequency); version 1 files still read, with those unknown.
 */
#define TARGETS_PROFILE_FORMAT "roam-cpu-profile"
#define TARGETS_FORMAT "roam-targets"
#define TARGETS_JSON_VERSION 2
#define TARGETS_JSON_OLDEST_VERSION 1

struct targets_arch_ops;
struct targets_ident;
struct targets_impl;

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
 * it is an object with "format" == `format`, "version" from TARGETS_JSON_OLDEST_VERSION to TARGETS_JSON_VERSION and
 * "arch" == `arch`. A document whose format is `other_format` gets `other_hint` added to the message. The caller
 * json_decref()s *root, which may be NULL, whatever the result.
 */
int tjson_load_root(struct tjson_ctx *c, const char *text, size_t len, const char *format, const char *other_format,
		    const char *other_hint, const char *arch, json_t **root);

/* A new object holding "format": format, "version": TARGETS_JSON_VERSION, "arch": arch, in that order. */
json_t *tjson_header(const char *format, const char *arch);

/*
 * Reads the `nr` identity registers `ids` (their JSON keys, each at most its `max`) from obj (at `path`) into
 * id[0..nr-1]. Other keys of obj are not checked.
 */
int tjson_get_ids(struct tjson_ctx *c, json_t *obj, const char *path, const struct targets_ident *ids, int nr,
		  uint64_t *id);

/* Sets the `nr` identity registers `ids` of id[] as hex strings in obj, in table order. */
void tjson_set_ids(json_t *obj, const struct targets_ident *ids, int nr, const uint64_t *id);

/*
 * tjson_load_root() for a profile or a targets config of `ops`' architecture (saying so when it gets the other kind
 * of file), then tjson_check_keys() of the root against `keys`.
 */
int tjson_load_profile(struct tjson_ctx *c, const char *text, size_t len, const struct targets_arch_ops *ops,
		       const char *const *keys, json_t **root);
int tjson_load_targets(struct tjson_ctx *c, const char *text, size_t len, const struct targets_arch_ops *ops,
		       const char *const *keys, json_t **root);

/* A profile's first members: the header, "name", "kernel" and the identity registers of `ops` (values id[]). */
json_t *tjson_profile_head(const struct targets_arch_ops *ops, const char *name, const char *kernel,
			   const uint64_t *id);

/* Reads those members of `root` (name: TARGETS_NAME_LEN bytes; kernel: kernel_len). Other keys are not checked. */
int tjson_get_profile_head(struct tjson_ctx *c, json_t *root, const struct targets_arch_ops *ops, char *name,
			   char *kernel, size_t kernel_len, uint64_t *id);

/*
 * A targets config's first members: the header, "targets" (the `nr` impls: "name" and the identity registers
 * each) and "guest" (the guest's identity registers, guest_id[]).
 */
json_t *tjson_targets_head(const struct targets_arch_ops *ops, const struct targets_impl *impls, int nr,
			   const uint64_t *guest_id);

/*
 * Reads "targets" (1 to `max` entries, none with the identities ops->id.nr_match says tell CPUs apart equal to an
 * earlier one's) into impls and *nr, and "guest" into guest_id[]. Other keys of root are not checked.
 */
int tjson_get_targets_head(struct tjson_ctx *c, json_t *root, const struct targets_arch_ops *ops,
			   struct targets_impl *impls, int max, int *nr, uint64_t *guest_id);

/*
 * Reads the optional "lowered" array of obj: at most `max` strings shorter than `note_len` bytes, into notes (an
 * array of `max` buffers of `note_len` bytes). Sets *nr to the count.
 */
int tjson_get_notes(struct tjson_ctx *c, json_t *obj, char *notes, int max, size_t note_len, int *nr);

/* A JSON array of the `nr` notes (each `note_len` bytes apart in `notes`). */
json_t *tjson_notes(const char *notes, int nr, size_t note_len);

/* A new JSON string "0x%016x" of v. */
json_t *tjson_hex(uint64_t v);

/* A new JSON string of s, with bytes that are not valid UTF-8 replaced by '?'. */
json_t *tjson_string(const char *s);

/* Serializes `root` (2-space indent, a final newline) and frees it. Returns a malloc'd string or NULL. */
char *tjson_dump(json_t *root);

#endif
