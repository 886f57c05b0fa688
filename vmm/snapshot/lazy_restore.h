/*
 * Lazy restore: the guest runs before its memory is loaded. A restore from a seekable snapshot file skips the pages
 * of each MEMORY section (snapshot_skip_memory_pages) and records where they are; the section's MEMORY_SUMS gives a
 * CRC32C per 64 KiB chunk. Once the state is restored, guest RAM is registered with userfaultfd (missing faults; RAM is
 * anonymous memory) and one loader thread serves each fault by reading the faulting chunk from the file, checking
 * it, and copying it in with UFFDIO_COPY (UFFDIO_ZEROPAGE for a chunk with nothing stored), and between faults loads
 * the remaining chunks in order, so the file is not needed once it is done. roam's own threads (devices) fault like
 * the guest. Without sums (older snapshots), without userfaultfd, or when asked, a slot is loaded eagerly instead,
 * every page read and the section's checksum verified first.
 *
 * A chunk whose checksum does not match stops everything: the guest cannot go on with corrupt memory, and a thread
 * may be blocked on the chunk, so after one line the fatal hook runs and must end the process.
 */
#ifndef ROAM_LAZY_RESTORE_H
#define ROAM_LAZY_RESTORE_H

#include "snapshot.h"

#include <stdbool.h>
#include <stdint.h>

struct lazy_restore;

/*
 * Lazy loading from the snapshot file open on `fd` (duplicated), `name` in messages. `fatal(opaque)` runs after the
 * line about a damaged chunk; it must not return (it ends the process), or the loader stops and threads that fault
 * on the memory stay blocked. NULL when out of memory.
 */
struct lazy_restore *lazy_restore_new(int fd, const char *name, void (*fatal)(void *opaque), void *opaque);

/*
 * Takes MEMORY section `sec` (being read by r) of slot `slot`, guest memory `host`: skips its pages in the reader and
 * records where they are. Returns 0 or -errno with the reader's error set.
 */
int lazy_restore_add_memory(struct lazy_restore *lz, struct snapshot_reader *r, struct snapshot_section *sec,
			    uint32_t slot, uint8_t *host);

/*
 * Takes the MEMORY_SUMS payload of slot `slot` (after its MEMORY section): chunk size, the checksum of the memory
 * section's header and bitmap (checked here against what was read), and one CRC32C per chunk. Returns 0, or -errno
 * after one line naming `sec_name`.
 */
int lazy_restore_add_sums(struct lazy_restore *lz, uint32_t slot, const char *sec_name, uint32_t chunk_bytes,
			  uint32_t head_crc, uint64_t nchunks, const uint32_t *crc);

/* Whether slot `slot` still waits for its pages (a delta must not be applied on top before they are in). */
bool lazy_restore_pending(const struct lazy_restore *lz, uint32_t slot);

/* Loads slot `slot` now, eagerly (every page, the section's checksum verified). 0 or -errno after one line. */
int lazy_restore_load_slot(struct lazy_restore *lz, uint32_t slot);

/* Loads every pending slot now, eagerly (before the loader starts). 0 or -errno after one line. */
int lazy_restore_load_all(struct lazy_restore *lz);

/*
 * After the whole snapshot was read, before anything touches guest memory: slots without sums are loaded eagerly;
 * the rest are registered with userfaultfd and the loader thread starts (if userfaultfd cannot be had, everything is
 * loaded eagerly, with a note). Returns 0 or -errno after one line.
 */
int lazy_restore_start(struct lazy_restore *lz);

/* The loader's progress, for `status`. */
struct lazy_restore_progress {
	bool active; /* memory is still being loaded */
	uint64_t chunks, chunks_loaded; /* 64 KiB chunks of guest RAM in all, and loaded */
	uint64_t faults; /* chunks loaded because something touched them */
	double ms; /* since the loader started (until it finished) */
};
void lazy_restore_progress(struct lazy_restore *lz, struct lazy_restore_progress *p);

/* Waits until every chunk is loaded (or the loader failed), joining the loader: for tests. 0, or -EIO if it failed. */
int lazy_restore_wait(struct lazy_restore *lz);

/*
 * Waits (from any thread, the loader going on) until the memory is all in: a snapshot or a migration reads guest
 * memory as it is, and must not take pages still in the file for holes. 0, or -EIO if the loader failed.
 */
int lazy_restore_complete(struct lazy_restore *lz);

/* Stops the loader if it runs and frees everything (the memory stays registered only while the loader runs). */
void lazy_restore_free(struct lazy_restore *lz);

#endif
