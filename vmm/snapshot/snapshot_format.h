/*
 * Internal to snapshot.c, snapshot_write.c and snapshot_read.c: encoding and decoding of the fixed-size file header
 * and section header (docs/snapshot-format.md), with the snap_codec.h helpers, and the checked arithmetic both
 * sides use. Not for components: they use snapshot.h.
 */
#ifndef ROAM_SNAPSHOT_FORMAT_H
#define ROAM_SNAPSHOT_FORMAT_H

#include "snapshot.h"

#include <stdbool.h>
#include <stdint.h>

/* A section header as stored (before validation). */
struct snapshot_raw_section {
	uint32_t id, instance, version, flags;
	uint64_t length;
	uint32_t reserved;
	uint32_t stored_crc, computed_crc; /* of bytes 0..27 */
};

/* Encodes `h` (format version, arch, roam version, created) with its checksum into out. Returns 0 or -ENOMEM. */
int snapshot_encode_header(const struct snapshot_header *h, uint8_t out[SNAPSHOT_HEADER_SIZE]);

/* Encodes a section header with its checksum into out. Returns 0 or -ENOMEM. */
int snapshot_encode_section_header(uint32_t id, uint32_t instance, uint32_t version, uint32_t flags, uint64_t length,
				   uint8_t out[SNAPSHOT_SECTION_HEADER_SIZE]);

/* Decodes a section header; the caller compares s->stored_crc with s->computed_crc. */
void snapshot_decode_section_header(const uint8_t in[SNAPSHOT_SECTION_HEADER_SIZE], struct snapshot_raw_section *s);

/* Encodes a memory section's 32-byte header. Returns 0 or -ENOMEM. */
int snapshot_encode_memory_header(uint64_t gpa, uint64_t size, uint32_t page_size, uint64_t present,
				  uint8_t out[SNAPSHOT_MEMORY_HEADER_SIZE]);

/* Stores a u32 little-endian (the section trailer). */
void snapshot_put_le32(uint8_t out[4], uint32_t v);

/* Loads a u32 little-endian. */
uint32_t snapshot_get_le32(const uint8_t in[4]);

/* a + b into *out; false (and *out untouched) on overflow. */
bool snapshot_add(uint64_t a, uint64_t b, uint64_t *out);

/* a * b into *out; false on overflow. */
bool snapshot_mul(uint64_t a, uint64_t b, uint64_t *out);

/* Rounds `v` up to a multiple of `align` (a power of two) into *out; false on overflow. */
bool snapshot_align_up(uint64_t v, uint64_t align, uint64_t *out);

/*
 * The layout of a memory section whose payload starts at snapshot offset `payload_offset`: the length of one bitmap
 * (MEMORY has one, MEMORY_DELTA two: stored pages, then zeroed pages; `nbitmaps`), the snapshot offset of the page
 * data (after the memory header, the bitmaps and zero padding to a multiple of page_size; no padding when no page
 * is stored) and the payload's length. False on overflow.
 */
bool snapshot_memory_layout(uint64_t payload_offset, uint64_t npages, uint32_t page_size, uint64_t present,
			    int nbitmaps, uint64_t *bitmap_len, uint64_t *data_offset, uint64_t *payload_len);

/*
 * The first set bit of the page bitmap `bm` (LSB first) at or after bit i, or n if none below n. Skips empty bytes
 * and 64-bit words at once: a memory section's loops cost what is set, not the slot's size.
 */
uint64_t snapshot_next_bit(const uint8_t *bm, uint64_t i, uint64_t n);

/* True if all `len` bytes at p are zero. */
bool snapshot_is_zero(const uint8_t *p, size_t len);

/* The writer's output layer (snapshot_write.c), shared with snapshot_write_memory.c. */

/* Records the first error as "<name>: <reason>" (later ones are dropped); returns it. */
int snapshot_w_fail(struct snapshot_writer *w, int err, const char *fmt, ...) __attribute__((format(printf, 3, 4)));

/* Buffers `len` bytes for the output (paced by the rate limit, hashed when asked). Returns 0 or the error. */
int snapshot_w_out(struct snapshot_writer *w, const void *data, size_t len);

/* Writes the file header if it is not written yet. Returns 0 or the error. */
int snapshot_w_header(struct snapshot_writer *w);

/* The reader's input layer (snapshot_input.c), shared by snapshot_read.c and snapshot_read_memory.c. */
#define SNAPSHOT_READ_BUF_SIZE (256u << 10)

/* Records a fatal error "<file>: [section "<name>": ]<reason>" (the first one stays); returns r->fatal. */
int snapshot_in_fatal(struct snapshot_reader *r, const struct snapshot_section *sec, int err, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

/* Fatal "truncated in <what> (file ends N bytes early)": the file should have gone on up to snapshot offset `end`. */
int snapshot_in_truncated(struct snapshot_reader *r, const char *what, uint64_t end);

/* Fatal "cannot read: <strerror>". */
int snapshot_in_io(struct snapshot_reader *r, int err);

/* Reads up to `len` bytes into dst, fewer only at the end of the file. Returns the count or -errno. */
int64_t snapshot_in_read(struct snapshot_reader *r, uint8_t *dst, uint64_t len);

/* Reads exactly `len` bytes of `what` (which ends at snapshot offset `end`), adding them to *crc unless NULL. */
int snapshot_in_exact(struct snapshot_reader *r, uint8_t *dst, uint64_t len, const char *what, uint64_t end,
		      uint32_t *crc);

/* Consumes `len` bytes of `what` (ending at `end`), adding them to *crc. */
int snapshot_in_skip(struct snapshot_reader *r, uint64_t len, const char *what, uint64_t end, uint32_t *crc);

/*
 * Reads the trailer of section `sec` and compares it with `crc`, filling sec->checked, crc_ok and the crcs. A
 * mismatch is fatal, or in inspect mode a message in r->err and 0.
 */
int snapshot_in_trailer(struct snapshot_reader *r, struct snapshot_section *sec, const char *what, uint32_t crc);

/* Consumes what is left of the current (MEMORY) section and verifies it; copies the result into sec if not NULL. */
int snapshot_in_finish(struct snapshot_reader *r, struct snapshot_section *sec);

/* Reads and validates a memory section's header and bitmap (snapshot_read_memory.c); the pages stay pending. */
int snapshot_in_memory_header(struct snapshot_reader *r, struct snapshot_section *sec, const char *what, uint64_t end,
			      uint32_t *crc);

#endif
