/*
 * roam's snapshot file (DESIGN.md rule 9, byte-exact description in docs/snapshot-format.md): a header (magic,
 * format version, architecture, roam version, creation time) and a sequence of sections {id, instance, version,
 * flags, length, payload, crc32c}, ending with an END section. Each component writes and reads its own payload with
 * the snap_codec.h helpers; this module frames, checksums and validates sections, and stores guest memory sparsely
 * (zero pages skipped) with the page data page-aligned in the file so that a seekable file is read by mmap.
 *
 * Writing is streaming (no seeking: a pipe works) and, for a path, atomic: a temporary file in the same directory
 * (core/file_util.h: nameless where the file system allows, so a killed roam leaves nothing), fsync'ed and renamed
 * over the path on commit, removed on abort. Reading validates everything before use and never
 * trusts a length: section lengths are capped, memory geometry is checked, and every checksum is verified before a
 * section is handed over (for memory: before snapshot_read_memory returns success). Errors are returned as -errno
 * with one line in the writer's or reader's `err` ("snap.roam: section "vcpu 1": checksum mismatch (...)"), for the
 * caller to print; nothing here exits. Arch-neutral, no KVM.
 */
#ifndef ROAM_SNAPSHOT_H
#define ROAM_SNAPSHOT_H

#include "core/file_util.h"
#include "snap_codec.h"

struct sha256;

#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define SNAPSHOT_MAGIC "ROAMSNAP" /* 8 bytes, no NUL */
#define SNAPSHOT_FORMAT_VERSION 1u
#define SNAPSHOT_HEADER_SIZE 72u
#define SNAPSHOT_SECTION_HEADER_SIZE 32u
#define SNAPSHOT_SECTION_TRAILER_SIZE 4u
#define SNAPSHOT_MEMORY_HEADER_SIZE 32u
#define SNAPSHOT_ARCH_LEN 16u /* header field, NUL-padded */
#define SNAPSHOT_VERSION_LEN 32u /* header field, NUL-padded */
#define SNAPSHOT_MAX_PAYLOAD (64u << 20) /* every section but MEMORY */
#define SNAPSHOT_MIN_PAGE_SIZE 4096u
#define SNAPSHOT_MAX_PAGE_SIZE (1u << 20)
#define SNAPSHOT_MAX_PAGES (1ull << 29) /* per memory section: a bitmap of at most 64 MiB */
#define SNAPSHOT_MEMORY_VERSION 1u
#define SNAPSHOT_END_VERSION 1u
#define SNAPSHOT_ERR_LEN 512
#define SNAPSHOT_NAME_LEN 64

/* Section ids: the owner of each is in docs/snapshot-format.md. Values are part of the format: never renumber. */
enum snapshot_section_id {
	SNAPSHOT_SEC_VM = 1, /* VM configuration */
	SNAPSHOT_SEC_HOST = 2, /* source host: name, kernel, CPU id, roam version */
	SNAPSHOT_SEC_TARGETS = 3, /* migration targets and the guest's ID registers */
	SNAPSHOT_SEC_VCPU = 4, /* instance: vCPU index */
	SNAPSHOT_SEC_IRQCHIP = 5, /* in-kernel interrupt controller (GIC, LoongArch irqchips) */
	SNAPSHOT_SEC_TIMER = 6, /* VM-wide counter state */
	SNAPSHOT_SEC_DEVICE = 7, /* instance: device index; the payload starts with the device name (a blob) */
	SNAPSHOT_SEC_PVLOCK = 8, /* PV-lock region */
	SNAPSHOT_SEC_HYPERCALLS = 9, /* hypercall services' state */
	SNAPSHOT_SEC_MEMORY = 10, /* instance: memory slot; written by snapshot_write_memory */
	SNAPSHOT_SEC_MEMORY_DELTA = 11, /* instance: memory slot; pages that replace earlier ones, repeatable */
	SNAPSHOT_SEC_PRECHECK = 12, /* a sample of the CPU state, checked before a migration's source stops */
	SNAPSHOT_SEC_BASE = 13, /* a diff snapshot's base: its path, size and SHA-256 */
	SNAPSHOT_SEC_MEMORY_PACKED = 14, /* a MEMORY_DELTA whose pages are compressed one by one (page_lz.h) */
	SNAPSHOT_SEC_MEMORY_SUMS =
	    15, /* instance: memory slot; a CRC32C per 64 KiB of its MEMORY section (lazy restore) */
	SNAPSHOT_SEC_END = 255, /* written by snapshot_writer_commit */
};

/* Section flags. Bits 1..31 are reserved: a mandatory section with one set is refused, an optional one skipped. */
#define SNAPSHOT_FLAG_MANDATORY 0x1u

/* snapshot_reader_open_* flags. */
#define SNAPSHOT_READ_INSPECT 0x1u /* report checksum mismatches in sec->crc_ok and go on (snapshot-info) */
#define SNAPSHOT_READ_NO_MMAP 0x2u /* read memory with pread even from a seekable file (tests) */
/* The stream stays open after END (a migration's connection carries the answer back): END ends it, no read beyond. */
#define SNAPSHOT_READ_OPEN_AFTER_END 0x4u

/* The file header, decoded. */
struct snapshot_header {
	uint32_t format_version;
	char arch[SNAPSHOT_ARCH_LEN]; /* NUL-terminated */
	char roam_version[SNAPSHOT_VERSION_LEN]; /* NUL-terminated */
	uint64_t created; /* seconds since the epoch */
};

/* A memory section's geometry (MEMORY sections only). */
struct snapshot_memory_info {
	uint64_t gpa; /* guest-physical address of the slot */
	uint64_t size; /* bytes, a multiple of page_size */
	uint32_t page_size; /* power of two, SNAPSHOT_MIN_PAGE_SIZE..SNAPSHOT_MAX_PAGE_SIZE */
	uint64_t present; /* pages stored (the others are zero) */
	uint64_t data_offset; /* snapshot offset of the first stored page, a multiple of page_size if any is stored */
	const uint8_t *bitmap; /* bit i (LSB first) set: page i is stored; owned by the reader */
	bool delta; /* a MEMORY_DELTA or MEMORY_PACKED section: pages neither stored nor zeroed are left as they are */
	bool packed; /* MEMORY_PACKED: each stored page is a length and its bytes (compressed, or raw at full length) */
	const uint8_t *zero_bitmap; /* delta only: bit i set: page i is now zero (it is not stored) */
	uint64_t zeroed; /* delta only: pages in zero_bitmap */
};

/* One section as snapshot_read_next returns it. */
struct snapshot_section {
	uint32_t id, instance, version, flags;
	uint64_t length; /* payload bytes */
	uint64_t offset; /* snapshot offset of the payload */
	const uint8_t *payload; /* whole payload, owned by the reader until the next read; NULL for MEMORY */
	bool known; /* this roam reads it: a known id, no unknown flags (and for MEMORY and END, a known version) */
	bool refused; /* inspect mode: mandatory, but this roam cannot read it (reason in r->err); known is false */
	bool checked; /* the checksum was verified (MEMORY: after snapshot_read_memory or snapshot_skip_section) */
	bool crc_ok; /* the checksum matched (meaningful when checked) */
	uint32_t stored_crc, computed_crc;
	char name[SNAPSHOT_NAME_LEN]; /* "vcpu 1", "memory 0", "device 2 (uart)", "id 42" */
	struct snapshot_memory_info mem;
};

/* A snapshot being written. Fields are private but for `err` and `offset`. */
/*
 * The per-chunk checksums of the last MEMORY section written, for its MEMORY_SUMS section: chunk k covers guest bytes
 * [k * chunk_bytes, (k + 1) * chunk_bytes) of the slot, and its CRC32C is over the stored pages in it, in order (0
 * when none is stored). head_crc is the CRC32C of the section's payload before the first page (header, bitmap,
 * padding).
 */
struct snapshot_chunk_sums {
	uint32_t *crc;
	uint64_t n;
	uint32_t chunk_bytes, head_crc, instance;
};

/* Guest bytes per checksummed chunk (or the page size, if larger): what a lazy restore loads and checks at once. */
#define SNAPSHOT_CHUNK_BYTES (64u << 10)
#define SNAPSHOT_SUMS_VERSION 1u

struct snapshot_writer {
	int fd;
	bool owns_fd; /* opened by path: the atomic file's descriptor, committed or aborted */
	bool header_done;
	int error; /* first error: every later call fails with it */
	struct atomic_file file; /* opened by path */
	const char *name; /* for messages */
	char name_buf[256];
	struct snapshot_header header;
	uint64_t offset; /* bytes written so far, header included */
	uint64_t sections; /* sections written, END excluded */
	uint8_t *buf;
	size_t buf_len;
	struct sha256 *hash; /* of every byte written, when asked for (snapshot_writer_hash) */
	uint8_t digest[32]; /* the hash, once committed */
	uint64_t rate; /* bytes per second at most, 0 for no limit (snapshot_writer_set_rate) */
	uint64_t rate_start_ns, rate_bytes; /* the limit's measure since it was set */
	struct snapshot_chunk_sums sums; /* of the last MEMORY section */
	char err[SNAPSHOT_ERR_LEN];
};

/* A snapshot being read. Fields are private but for `header`, `err`, `seekable` and `offset`. */
struct snapshot_reader {
	int fd;
	bool owns_fd;
	bool seekable; /* a regular file: memory is read by mmap (or pread) */
	bool ended; /* END was read and verified */
	unsigned flags;
	int fatal; /* a framing, truncation or I/O error: every later call fails with it */
	char name[256];
	struct snapshot_header header;
	int64_t base; /* file offset of the header (seekable only) */
	uint64_t file_size; /* seekable only: bytes from base to the end of the file */
	uint64_t offset; /* snapshot bytes consumed */
	uint64_t raw; /* snapshot bytes taken from the fd (offset + buffered) */
	atomic_uint_fast64_t progress; /* bytes read so far, for another thread (the API's status during a restore) */
	uint8_t *buf;
	size_t buf_pos, buf_len;
	uint64_t sections; /* sections read, END excluded */
	/* The current section, while its payload is not fully consumed (MEMORY). */
	struct snapshot_section cur;
	uint64_t cur_left; /* payload bytes not consumed yet */
	uint32_t cur_crc; /* running crc of the consumed payload */
	bool cur_open;
	uint8_t *payload;
	uint8_t *bitmap;
	char prev_name[SNAPSHOT_NAME_LEN + 16]; /* "the file header" or the last section: "section \"vcpu 1\"" */
	char err[SNAPSHOT_ERR_LEN];
};

/*
 * Writes the name of section (id, instance) into buf: "vm", "vcpu 1", "memory 0", "irqchip 2" (an instance other
 * than 0 of a single section), "id 42" (unknown id). For DEVICE, the name at the start of `payload` (a blob of 1 to
 * 31 printable characters, if it is one) is added: "device 2 (uart)". `payload` may be NULL.
 */
void snapshot_section_name(uint32_t id, uint32_t instance, const void *payload, uint64_t len, char *buf, size_t size);

/* Whether `id` is a memory section (MEMORY or MEMORY_DELTA): its pages are not buffered with the payload. */
bool snapshot_is_memory_id(uint32_t id);

/* The name of a section id ("vm", "vcpu", ..., "end"), or NULL if this roam does not know it. */
const char *snapshot_section_id_name(uint32_t id);

/*
 * Starts a snapshot: "-" writes to standard output (as snapshot_writer_open_fd), anything else creates a temporary
 * file (atomic_file_open: mode 0600, nameless or "path.roam-partial-XXXXXX") next to `path`, which is untouched
 * until snapshot_writer_commit. `arch` is
 * the architecture's name (arch_name()), at most 15 characters. Returns 0 or -errno with w->err set; on failure
 * nothing is left behind and snapshot_writer_abort is still safe.
 */
int snapshot_writer_open_path(struct snapshot_writer *w, const char *path, const char *arch);

/* Starts a snapshot on an open fd (a pipe, standard output), which stays the caller's: commit does not close it. */
int snapshot_writer_open_fd(struct snapshot_writer *w, int fd, const char *name, const char *arch);

/*
 * Sends what the writer has buffered, so that the reader sees every section written so far (a migration source
 * flushes before it waits for the destination's answer). Returns 0 or the writer's error.
 */
int snapshot_writer_flush(struct snapshot_writer *w);

/*
 * Asks the writer for the SHA-256 of the whole snapshot (what names it as the base of a diff snapshot): call before
 * the first section. Returns 0 or -ENOMEM. After a successful commit, snapshot_writer_digest gives it.
 */
int snapshot_writer_hash(struct snapshot_writer *w);
void snapshot_writer_digest(struct snapshot_writer *w, uint8_t out[32]);

/* Keeps the writer at `bytes_per_second` on average from now on (0: no limit), by sleeping in its writes. */
void snapshot_writer_set_rate(struct snapshot_writer *w, uint64_t bytes_per_second);

/* Sets the header's creation time (default: now). Only before the first section (for reproducible files). */
void snapshot_writer_set_created(struct snapshot_writer *w, uint64_t seconds);

/*
 * Writes one section: header, `len` bytes of payload, CRC32C. `id` must not be MEMORY or END, `len` at most
 * SNAPSHOT_MAX_PAYLOAD. Returns 0 or -errno with w->err set (and then every later call fails).
 */
int snapshot_write_section(struct snapshot_writer *w, uint32_t id, uint32_t instance, uint32_t version, uint32_t flags,
			   const void *payload, size_t len);

/* snapshot_write_section with a payload built by snap_put_*; fails with -ENOMEM if building it failed. */
int snapshot_write_payload(struct snapshot_writer *w, uint32_t id, uint32_t instance, uint32_t version, uint32_t flags,
			   const struct snap_writer *payload);

/*
 * Where memory may hold data: next() gives the next range at or after byte `from` ([*start, *end), bytes from the
 * memory's start) and returns 1, or 0 when the rest reads as zero. memory_slot_data_range (guest memory, by the
 * host's page tables) and snapshot_file_data_range (a file mapped at the memory, by its holes) have this form.
 */
struct snapshot_data_map {
	int (*next)(const void *opaque, uint64_t from, uint64_t *start, uint64_t *end);
	const void *opaque;
};

/* snapshot_data_map's next() for a file mapped at the memory from offset 0: `fd` points to its descriptor; the
 * ranges are the file's data (SEEK_DATA/SEEK_HOLE), everything when it cannot tell. */
int snapshot_file_data_range(const void *fd, uint64_t from, uint64_t *start, uint64_t *end);

/*
 * Writes memory slot `instance` (gpa, `size` bytes at `host`) as a mandatory MEMORY section: only the pages that
 * are not all zero are stored, page-aligned in the stream. `size` must be a non-zero multiple of `page_size` (a power
 * of two from 4 KiB to 1 MiB) and `gpa` a multiple of it. The memory must not change during the call (paused VM).
 * `map` (or NULL: read everything) says where data may be: the rest is known zero and never read - reading it would
 * map it, filling the host with the guest's untouched memory. Returns the number of pages stored, or -errno with
 * w->err set.
 */
int64_t snapshot_write_memory(struct snapshot_writer *w, uint32_t instance, uint64_t gpa, const uint8_t *host,
			      uint64_t size, uint32_t page_size, const struct snapshot_data_map *map);

/*
 * Writes a MEMORY_DELTA section for slot `instance`: the pages set in `pages` (a bitmap, bit i LSB first = page i)
 * as they are now, those that are zero as bits of a zero bitmap, the others stored. Unlike a MEMORY section it may
 * repeat, and pages it does not name keep what earlier sections gave them, so a stream of them carries memory
 * that changes while it is sent (live migration, diff snapshots). The memory may change during the call: every
 * page is copied before its checksum is taken. Same geometry rules as snapshot_write_memory. Returns the number
 * of pages named (stored or zeroed), or -errno with w->err set.
 */
int64_t snapshot_write_memory_delta(struct snapshot_writer *w, uint32_t instance, uint64_t gpa, const uint8_t *host,
				    uint64_t size, uint32_t page_size, const uint8_t *pages);

/*
 * Writes the optional MEMORY_SUMS section of the MEMORY section just written for slot `instance` (snapshot files:
 * it lets a restore load memory lazily, checking each chunk as it loads it). Returns 0 or -errno with w->err set.
 */
int snapshot_write_memory_sums(struct snapshot_writer *w, uint32_t instance);

/* Pages in one MEMORY_PACKED section at most: each is built in memory before it is written. */
#define SNAPSHOT_PACKED_SECTION_PAGES 8192u

/*
 * Like snapshot_write_memory_delta, but as MEMORY_PACKED sections (at most SNAPSHOT_PACKED_SECTION_PAGES pages
 * each): every stored page is compressed (page_lz.h) when that makes it smaller. `skip_zero`: zero pages are left
 * out instead of named (a first copy into memory known to be zero). page_size at most PAGE_LZ_MAX_PAGE. Returns the
 * number of pages named, or -errno with w->err set.
 */
int64_t snapshot_write_memory_packed(struct snapshot_writer *w, uint32_t instance, uint64_t gpa, const uint8_t *host,
				     uint64_t size, uint32_t page_size, const uint8_t *pages, bool skip_zero);

/*
 * Ends the snapshot: writes the END section, flushes and fsyncs; for a path, renames the temporary file over it and
 * fsyncs the directory. Returns 0 or -errno with w->err set; on failure the temporary file is removed and the
 * previous file is intact. Frees the writer's resources either way (w->err stays readable).
 */
int snapshot_writer_commit(struct snapshot_writer *w);

/* Gives up a snapshot: removes the temporary file (the previous file stays), frees resources. Idempotent. */
void snapshot_writer_abort(struct snapshot_writer *w);

/*
 * Opens a snapshot and validates its header: magic, format version (a newer one is refused naming both), header
 * checksum, and architecture when `arch` is not NULL. "-" reads standard input. `flags`: SNAPSHOT_READ_*. Returns 0
 * or -errno with r->err set; snapshot_reader_close is safe either way.
 */
int snapshot_reader_open_path(struct snapshot_reader *r, const char *path, const char *arch, unsigned flags);

/* The same on an open fd, named `name` in messages; the fd stays the caller's. Detects whether it is seekable. */
int snapshot_reader_open_fd(struct snapshot_reader *r, int fd, const char *name, const char *arch, unsigned flags);

/*
 * Reads the next section into *sec. Returns 1 for a section, 0 at a valid END (sec describes it; the whole
 * snapshot was read and nothing follows), or -errno with r->err set: -EBADMSG for corruption (bad checksum, bad
 * framing, trailing data), -ENODATA for truncation, -ENOTSUP for a mandatory section this roam cannot read (unknown
 * id or flags), -EFBIG for a length over the limits, other -errno for I/O. The payload of a non-MEMORY section is
 * complete and its checksum verified; a MEMORY section comes with its geometry in sec->mem, its pages to be read by
 * snapshot_read_memory (or skipped, verified, by the next call). Unknown optional sections are skipped with a note
 * on stderr, unless SNAPSHOT_READ_INSPECT, which returns them (known = false), also returns mandatory sections this
 * roam cannot read instead of failing (refused = true, the reason in r->err), and reports checksum mismatches in
 * sec->crc_ok (with the message in r->err) instead of failing.
 */
int snapshot_read_next(struct snapshot_reader *r, struct snapshot_section *sec);

/*
 * Reads the pages of MEMORY or MEMORY_DELTA section `sec` (the last one snapshot_read_next returned) into `host`,
 * `size` bytes (for MEMORY, zeroed by the caller): pages not stored stay as they are; a delta's zeroed pages are
 * cleared. `size` must equal sec->mem.size. Uses mmap of the page data
 * when the file is seekable, else reads the stream. The checksum is verified before success is returned: on any
 * error the memory holds garbage and the VM must not run. Returns the number of pages read, or -errno with r->err.
 */
int64_t snapshot_read_memory(struct snapshot_reader *r, struct snapshot_section *sec, uint8_t *host, uint64_t size);

/* Where a skipped MEMORY section's pages are, for a lazy restore (snapshot_skip_memory_pages). */
struct snapshot_lazy_pages {
	uint64_t file_offset; /* of the first stored page in the file (sec->mem.present pages follow, in page order) */
	uint32_t head_crc; /* CRC32C of the payload before the pages: header, bitmap, padding */
	uint32_t trailer_crc; /* the section's stored checksum, of the whole payload */
};

/*
 * Instead of snapshot_read_memory, for a MEMORY section of a seekable file: reads up to its first page and moves past
 * its pages without reading them (the section stays unverified: sec->checked false), filling *out with what a later
 * load needs. The bitmap (sec->mem.bitmap) stays valid until the next section is read. Returns 0 or -errno.
 */
int snapshot_skip_memory_pages(struct snapshot_reader *r, struct snapshot_section *sec,
			       struct snapshot_lazy_pages *out);

/*
 * Consumes the rest of section `sec` (the pages of a MEMORY section; nothing for others) and verifies its checksum,
 * setting sec->checked and sec->crc_ok. Returns 0 or -errno (a mismatch is an error unless SNAPSHOT_READ_INSPECT).
 */
int snapshot_skip_section(struct snapshot_reader *r, struct snapshot_section *sec);

/*
 * For the component that owns `sec`: checks its version against the newest the component reads, `max_version`, and
 * opens the payload in *p. Returns 0 to decode, 1 to skip a newer optional section (with a note), or -ENOTSUP for a
 * newer mandatory one with r->err set: "snap.roam: section "vcpu 1" has version 3, newer than this roam's 2; use a
 * newer roam".
 */
int snapshot_section_begin(struct snapshot_reader *r, const struct snapshot_section *sec, uint32_t max_version,
			   struct snap_reader *p);

/* Ends decoding: 0 if the payload was consumed exactly and without error, else -EBADMSG with r->err naming the
 * section and the field ("section "vcpu 1": bad payload (pc)"). */
int snapshot_section_end(struct snapshot_reader *r, const struct snapshot_section *sec, struct snap_reader *p);

/*
 * Sets r->err to "<file>: section "<name>": <reason>" (or "<file>: <reason>" when sec is NULL), for owners
 * reporting a problem with a payload (a value out of range, a size that does not match the VM); returns `err`.
 */
int snapshot_reader_fail(struct snapshot_reader *r, const struct snapshot_section *sec, int err, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

/* Frees the reader's resources and closes the file it opened. Idempotent. */
void snapshot_reader_close(struct snapshot_reader *r);

#endif
