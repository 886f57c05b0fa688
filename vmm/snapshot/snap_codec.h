/*
 * Little-endian encoding of component state for snapshots (DESIGN.md rule 9): each component writes and reads its
 * own section payload with these helpers, never by memcpy of a struct. Both sides keep the first error, so a
 * component encodes or decodes a whole section and checks once at the end; a reader past the end of its payload
 * fails with -EBADMSG instead of reading garbage.
 */
#ifndef ROAM_SNAP_CODEC_H
#define ROAM_SNAP_CODEC_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct snap_writer {
	uint8_t *buf;
	size_t len;
	size_t cap;
	int err; /* first error: -ENOMEM */
};

struct snap_reader {
	const uint8_t *buf;
	size_t len;
	size_t pos;
	int err; /* first error: -EBADMSG (truncated or invalid) */
	const char *what; /* what failed to decode, for the message */
};

/* Starts an empty, growable payload. */
void snap_writer_init(struct snap_writer *w);
/* Frees the payload. */
void snap_writer_fini(struct snap_writer *w);
void snap_put_u8(struct snap_writer *w, uint8_t v);
void snap_put_u16(struct snap_writer *w, uint16_t v);
void snap_put_u32(struct snap_writer *w, uint32_t v);
void snap_put_u64(struct snap_writer *w, uint64_t v);
void snap_put_bytes(struct snap_writer *w, const void *data, size_t len);
/* A length-prefixed (u32) byte string. */
void snap_put_blob(struct snap_writer *w, const void *data, uint32_t len);

/* Reads `len` bytes of payload. */
void snap_reader_init(struct snap_reader *r, const void *buf, size_t len);
/* Each getter returns 0 (and sets err, naming `what`) when the payload is too short. */
uint8_t snap_get_u8(struct snap_reader *r, const char *what);
uint16_t snap_get_u16(struct snap_reader *r, const char *what);
uint32_t snap_get_u32(struct snap_reader *r, const char *what);
uint64_t snap_get_u64(struct snap_reader *r, const char *what);
void snap_get_bytes(struct snap_reader *r, void *out, size_t len, const char *what);
/* A length-prefixed byte string of at most `max` bytes; returns its length (0 on error). */
uint32_t snap_get_blob(struct snap_reader *r, void *out, uint32_t max, const char *what);
/* Marks the payload invalid (a value out of range), naming `what`, unless an error is already recorded. */
void snap_reader_fail(struct snap_reader *r, const char *what);
/* True when the whole payload was consumed without error (a longer payload is an error too). */
bool snap_reader_done(struct snap_reader *r);

#endif
