/*
 * Test helpers shared by the snapshot unit tests: a sample snapshot with every kind of section (HOST, VM, TARGETS,
 * vCPUs, devices, sparse memory slots), a reader that takes a whole snapshot apart into records the way a restore
 * would (checking versions, reading memory into zeroed buffers), and a writer that puts records back together, so
 * that save -> restore -> save can be compared byte for byte.
 */
#ifndef ROAM_TEST_SNAPSHOT_SAMPLE_H
#define ROAM_TEST_SNAPSHOT_SAMPLE_H

#include "snapshot/snapshot.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define SAMPLE_ARCH "arm64"
#define SAMPLE_CREATED 1700000000u
#define SAMPLE_PAGE 4096u
#define SAMPLE_MAX_RECORDS 32

/* One section as read back. */
struct sample_record {
	uint32_t id, instance, version, flags;
	uint8_t *data; /* payload, or the memory slot's contents */
	uint64_t len;
	uint64_t gpa; /* MEMORY */
	uint32_t page_size; /* MEMORY */
	int64_t pages; /* MEMORY: pages read */
};

struct sample_snapshot {
	int nr;
	struct sample_record rec[SAMPLE_MAX_RECORDS];
};

/*
 * Writes the sample through `w` (opened by the caller) and commits. `small`: only HOST, VM, one vCPU, one device
 * and a 2-page memory slot with one page stored (a file of about 8.5 KiB, for exhaustive corruption tests); else
 * every section kind and two memory slots (`mem_pages` pages in slot 0, a pattern of zero and non-zero pages).
 * Returns what commit returns.
 */
int sample_write(struct snapshot_writer *w, bool small, uint32_t mem_pages);

/* The contents the sample gives memory slot 0 of `pages` pages (malloc'd; the caller frees). */
uint8_t *sample_memory(uint32_t pages);

/*
 * Reads a whole snapshot from an open reader as a restore would, into *out: every section's payload (versions
 * checked with snapshot_section_begin, max 1), memory read into zeroed buffers. Returns 0 when the END was
 * reached and everything verified, or the first -errno (r->err says why).
 */
int sample_read_all(struct snapshot_reader *r, struct sample_snapshot *out);

/* Writes `s` back through `w` (opened by the caller, creation time set) and commits. */
int sample_rewrite(struct snapshot_writer *w, const struct sample_snapshot *s);

/* Frees the records' data. */
void sample_free(struct sample_snapshot *s);

/* Reads the whole file at `path` into a malloc'd buffer; returns its length, or -1. */
long sample_slurp(const char *path, uint8_t **data);

#endif
