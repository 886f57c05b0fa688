/*
 * The snapshot writer (see snapshot.h): a buffered stream of header and sections to a file descriptor, with the
 * offset tracked so that memory pages land page-aligned without seeking. A path is written through a temporary file
 * that commit fsyncs and renames, so the previous snapshot survives any failure.
 */
#include "crc32c.h"
#include "page_lz.h"
#include "sha256.h"
#include "snapshot_format.h"

#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#ifndef ROAM_VERSION
#define ROAM_VERSION "unknown"
#endif

#define WRITE_BUF_SIZE (256u << 10)
#define WRITE_MAX_CHUNK (1u << 30) /* one write() of page data at most */
#define WRITE_BOUNCE (1u << 20) /* pages are copied in runs of this much before their checksum is taken */

static const uint8_t zero_page[4096];

/* Records the first error as "<name>: <reason>"; returns it. */
static int w_fail(struct snapshot_writer *w, int err, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
static int w_fail(struct snapshot_writer *w, int err, const char *fmt, ...)
{
	if (w->error)
		return w->error;
	int n = snprintf(w->err, sizeof(w->err), "%s: ", w->name ? w->name : "snapshot");
	va_list ap;
	va_start(ap, fmt);
	if (n > 0 && (size_t)n < sizeof(w->err))
		vsnprintf(w->err + n, sizeof(w->err) - (size_t)n, fmt, ap);
	va_end(ap);
	w->error = err;
	return err;
}

static uint64_t w_now_ns(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

/* With a rate limit: sleeps until `len` more bytes keep the average at the limit. */
static void w_pace(struct snapshot_writer *w, size_t len)
{
	if (!w->rate)
		return;
	w->rate_bytes += len;
	uint64_t due = w->rate_start_ns + (uint64_t)((double)w->rate_bytes * 1e9 / (double)w->rate), now = w_now_ns();
	if (due > now) {
		struct timespec ts = {.tv_sec = (time_t)((due - now) / 1000000000ull),
				      .tv_nsec = (long)((due - now) % 1000000000ull)};
		while (nanosleep(&ts, &ts) < 0 && errno == EINTR)
			;
	}
}

int snapshot_writer_hash(struct snapshot_writer *w)
{
	if (!w->hash)
		w->hash = malloc(sizeof(*w->hash));
	if (!w->hash)
		return w_fail(w, -ENOMEM, "out of memory");
	sha256_init(w->hash);
	return 0;
}

void snapshot_writer_digest(struct snapshot_writer *w, uint8_t out[32])
{
	memcpy(out, w->digest, 32);
}

void snapshot_writer_set_rate(struct snapshot_writer *w, uint64_t bytes_per_second)
{
	w->rate = bytes_per_second;
	w->rate_start_ns = w_now_ns();
	w->rate_bytes = 0;
}

static int w_raw(struct snapshot_writer *w, const uint8_t *p, size_t len)
{
	w_pace(w, len);
	if (w->hash)
		sha256_update(w->hash, p, len);
	while (len) {
		ssize_t n = write(w->fd, p, len);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return w_fail(w, -errno, "cannot write: %s", strerror(errno));
		p += n;
		len -= (size_t)n;
	}
	return 0;
}

static int w_flush(struct snapshot_writer *w)
{
	int ret = w_raw(w, w->buf, w->buf_len);
	w->buf_len = 0;
	return ret;
}

/* Appends `len` bytes to the stream: small ones through the buffer, large ones directly. */
static int w_out(struct snapshot_writer *w, const void *data, size_t len)
{
	if (w->error || len == 0)
		return w->error;
	if (len > WRITE_BUF_SIZE - w->buf_len && w_flush(w) < 0)
		return w->error;
	if (len >= WRITE_BUF_SIZE) {
		if (w_raw(w, data, len) < 0)
			return w->error;
	} else {
		memcpy(w->buf + w->buf_len, data, len);
		w->buf_len += len;
	}
	w->offset += len;
	return 0;
}

/* Writes the file header before the first section. */
static int w_header(struct snapshot_writer *w)
{
	if (w->error || w->header_done)
		return w->error;
	uint8_t h[SNAPSHOT_HEADER_SIZE];
	if (snapshot_encode_header(&w->header, h) < 0)
		return w_fail(w, -ENOMEM, "out of memory");
	w->header_done = true;
	return w_out(w, h, sizeof(h));
}

int snapshot_writer_flush(struct snapshot_writer *w)
{
	if (w->error || w_header(w) < 0)
		return w->error;
	return w_flush(w);
}

static int w_init(struct snapshot_writer *w, int fd, const char *name, const char *arch)
{
	memset(w, 0, sizeof(*w));
	w->fd = fd;
	snprintf(w->name_buf, sizeof(w->name_buf), "%s", name);
	w->name = w->name_buf;
	if (!arch || !arch[0] || strlen(arch) >= SNAPSHOT_ARCH_LEN)
		return w_fail(w, -EINVAL, "bad architecture name \"%s\"", arch ? arch : "");
	w->header.format_version = SNAPSHOT_FORMAT_VERSION;
	snprintf(w->header.arch, sizeof(w->header.arch), "%s", arch);
	snprintf(w->header.roam_version, sizeof(w->header.roam_version), "%s", ROAM_VERSION);
	time_t now = time(NULL);
	w->header.created = now > 0 ? (uint64_t)now : 0;
	w->buf = malloc(WRITE_BUF_SIZE);
	if (!w->buf)
		return w_fail(w, -ENOMEM, "out of memory");
	return 0;
}

int snapshot_writer_open_fd(struct snapshot_writer *w, int fd, const char *name, const char *arch)
{
	int ret = w_init(w, fd, name, arch);
	if (ret < 0)
		snapshot_writer_abort(w);
	return ret;
}

int snapshot_writer_open_path(struct snapshot_writer *w, const char *path, const char *arch)
{
	if (!strcmp(path, "-"))
		return snapshot_writer_open_fd(w, STDOUT_FILENO, "stdout", arch);
	int ret = w_init(w, -1, path, arch);
	if (ret < 0) {
		snapshot_writer_abort(w);
		return ret;
	}
	ret = atomic_file_open(&w->file, path, 0600, 0); /* 0600: it holds guest memory */
	if (ret < 0) {
		w_fail(w, ret, "cannot create a temporary file next to it: %s", strerror(-ret));
		snapshot_writer_abort(w);
		return ret;
	}
	w->fd = w->file.fd;
	w->owns_fd = true;
	return 0;
}

void snapshot_writer_set_created(struct snapshot_writer *w, uint64_t seconds)
{
	if (!w->header_done)
		w->header.created = seconds;
}

/* Writes a section header, the payload and its crc trailer. */
static int w_section(struct snapshot_writer *w, uint32_t id, uint32_t instance, uint32_t version, uint32_t flags,
		     const void *payload, size_t len)
{
	uint8_t hdr[SNAPSHOT_SECTION_HEADER_SIZE], crc[4];
	if (w_header(w) < 0)
		return w->error;
	if (snapshot_encode_section_header(id, instance, version, flags, len, hdr) < 0)
		return w_fail(w, -ENOMEM, "out of memory");
	snapshot_put_le32(crc, crc32c(payload, len));
	if (w_out(w, hdr, sizeof(hdr)) < 0 || w_out(w, payload, len) < 0 || w_out(w, crc, sizeof(crc)) < 0)
		return w->error;
	return 0;
}

int snapshot_write_section(struct snapshot_writer *w, uint32_t id, uint32_t instance, uint32_t version, uint32_t flags,
			   const void *payload, size_t len)
{
	char name[SNAPSHOT_NAME_LEN];
	if (w->error)
		return w->error;
	snapshot_section_name(id, instance, payload, len, name, sizeof(name));
	if (snapshot_is_memory_id(id) || id == SNAPSHOT_SEC_END)
		return w_fail(w, -EINVAL, "section \"%s\": written by %s only", name,
			      id == SNAPSHOT_SEC_END ? "snapshot_writer_commit" : "snapshot_write_memory");
	if (len > SNAPSHOT_MAX_PAYLOAD)
		return w_fail(w, -EFBIG, "section \"%s\": %zu bytes is more than the limit of %u MiB", name, len,
			      SNAPSHOT_MAX_PAYLOAD >> 20);
	int ret = w_section(w, id, instance, version, flags, payload, len);
	if (ret == 0)
		w->sections++;
	return ret;
}

int snapshot_write_payload(struct snapshot_writer *w, uint32_t id, uint32_t instance, uint32_t version, uint32_t flags,
			   const struct snap_writer *payload)
{
	if (payload->err) {
		char name[SNAPSHOT_NAME_LEN];
		snapshot_section_name(id, instance, NULL, 0, name, sizeof(name));
		return w_fail(w, payload->err, "section \"%s\": cannot encode the payload: %s", name,
			      strerror(-payload->err));
	}
	return snapshot_write_section(w, id, instance, version, flags, payload->buf, payload->len);
}

/* Writes `len` bytes (maybe more than the buffer) and adds them to *crc. */
static int w_out_crc(struct snapshot_writer *w, const uint8_t *p, uint64_t len, uint32_t *crc)
{
	while (len && !w->error) {
		size_t n = len > WRITE_MAX_CHUNK ? WRITE_MAX_CHUNK : (size_t)len;
		*crc = crc32c_update(*crc, p, n);
		w_out(w, p, n);
		p += n;
		len -= n;
	}
	return w->error;
}

/*
 * Writes the pages set in `bitmap` from host, through a bounce buffer: the checksum is taken over the copy that is
 * written, so memory that changes meanwhile (a running guest, in live migration) can never disagree with it. `pad`
 * bytes of zeros come first (the header, bitmaps and padding are written).
 */
static int w_memory_data(struct snapshot_writer *w, const uint8_t *host, const uint8_t *bitmap, uint64_t npages,
			 uint32_t page_size, uint64_t pad, uint32_t *crc)
{
	while (pad && !w->error) {
		uint64_t n = pad > sizeof(zero_page) ? sizeof(zero_page) : pad;
		w_out_crc(w, zero_page, n, crc);
		pad -= n;
	}
	uint8_t *bounce = malloc(WRITE_BOUNCE > page_size ? WRITE_BOUNCE : page_size);
	if (!bounce)
		return w_fail(w, -ENOMEM, "out of memory for the page buffer");
	uint64_t per_copy = WRITE_BOUNCE > page_size ? WRITE_BOUNCE / page_size : 1;
	for (uint64_t i = 0; i < npages && !w->error;) {
		if (!(bitmap[i / 8] & (1u << (i % 8)))) {
			i++;
			continue;
		}
		uint64_t j = i + 1;
		while (j < npages && j - i < per_copy && (bitmap[j / 8] & (1u << (j % 8))))
			j++;
		memcpy(bounce, host + i * page_size, (j - i) * page_size);
		w_out_crc(w, bounce, (j - i) * page_size, crc);
		i = j;
	}
	free(bounce);
	return w->error;
}

/* Checks a memory section's geometry; 0, or the writer's error naming section `name`. */
static int w_memory_geometry(struct snapshot_writer *w, const char *name, uint64_t gpa, uint64_t size,
			     uint32_t page_size)
{
	uint64_t end;
	if (page_size < SNAPSHOT_MIN_PAGE_SIZE || page_size > SNAPSHOT_MAX_PAGE_SIZE || (page_size & (page_size - 1)))
		return w_fail(w, -EINVAL, "section \"%s\": page size %u is not a power of two from 4 KiB to 1 MiB",
			      name, page_size);
	if (size == 0 || size % page_size || gpa % page_size || !snapshot_add(gpa, size, &end))
		return w_fail(w, -EINVAL,
			      "section \"%s\": %#llx bytes at %#llx is not a non-empty range of whole %u-byte pages",
			      name, (unsigned long long)size, (unsigned long long)gpa, page_size);
	if (size / page_size > SNAPSHOT_MAX_PAGES)
		return w_fail(w, -EFBIG, "section \"%s\": %llu pages is more than the limit of %llu", name,
			      (unsigned long long)(size / page_size), SNAPSHOT_MAX_PAGES);
	return 0;
}

/* Writes a memory section whose bitmaps are known: header, memory header, bitmaps, padding, pages, trailer. */
static int w_memory_section(struct snapshot_writer *w, uint32_t id, uint32_t instance, uint64_t gpa,
			    const uint8_t *host, uint64_t size, uint32_t page_size, const uint8_t *stored,
			    const uint8_t *zeroed, uint64_t present)
{
	uint64_t npages = size / page_size, bm_len, data_offset, payload_len;
	int nbitmaps = zeroed ? 2 : 1;
	if (!snapshot_memory_layout(w->offset + SNAPSHOT_SECTION_HEADER_SIZE, npages, page_size, present, nbitmaps,
				    &bm_len, &data_offset, &payload_len))
		return w_fail(w, -EFBIG, "section \"memory %u\": too large", instance);
	uint8_t hdr[SNAPSHOT_SECTION_HEADER_SIZE], mhdr[SNAPSHOT_MEMORY_HEADER_SIZE], trailer[4];
	uint32_t crc = 0;
	if (snapshot_encode_section_header(id, instance, SNAPSHOT_MEMORY_VERSION, SNAPSHOT_FLAG_MANDATORY, payload_len,
					   hdr) < 0 ||
	    snapshot_encode_memory_header(gpa, size, page_size, present, mhdr) < 0)
		return w_fail(w, -ENOMEM, "out of memory");
	w_out(w, hdr, sizeof(hdr));
	w_out_crc(w, mhdr, sizeof(mhdr), &crc);
	w_out_crc(w, stored, bm_len, &crc);
	if (zeroed)
		w_out_crc(w, zeroed, bm_len, &crc);
	w_memory_data(w, host, stored, npages, page_size, data_offset - w->offset, &crc);
	snapshot_put_le32(trailer, crc);
	if (w_out(w, trailer, sizeof(trailer)) < 0)
		return w->error;
	w->sections++;
	return 0;
}

int snapshot_file_data_range(const void *fd_arg, uint64_t from, uint64_t *start, uint64_t *end)
{
	int fd = *(const int *)fd_arg;
	off_t data = lseek(fd, (off_t)from, SEEK_DATA);
	if (data < 0 && errno == ENXIO)
		return 0;
	off_t hole = data < 0 ? -1 : lseek(fd, data, SEEK_HOLE);
	*start = data < 0 ? from : (uint64_t)data;
	*end = hole < 0 ? UINT64_MAX : (uint64_t)hole;
	return 1;
}

/*
 * The end (in pages) of the next range from page *i on that may hold data, moving *i past a hole first; npages when
 * the map cannot tell (none), *i = npages when only zeros remain.
 */
static uint64_t data_range(const struct snapshot_data_map *map, uint64_t *i, uint64_t npages, uint32_t page_size)
{
	uint64_t start, end;
	if (!map)
		return npages;
	if (map->next(map->opaque, *i * page_size, &start, &end) <= 0) {
		*i = npages;
		return npages;
	}
	if (start / page_size > *i)
		*i = start / page_size;
	uint64_t last = end / page_size + (end % page_size != 0);
	if (last <= *i)
		last = *i + 1; /* a map that answers an empty range still moves the scan on */
	return last < npages ? last : npages;
}

int64_t snapshot_write_memory(struct snapshot_writer *w, uint32_t instance, uint64_t gpa, const uint8_t *host,
			      uint64_t size, uint32_t page_size, const struct snapshot_data_map *map)
{
	char name[SNAPSHOT_NAME_LEN];
	if (w->error || w_header(w) < 0)
		return w->error;
	snprintf(name, sizeof(name), "memory %u", instance);
	if (w_memory_geometry(w, name, gpa, size, page_size) < 0)
		return w->error;
	uint64_t npages = size / page_size, present = 0;
	uint8_t *bitmap = calloc(1, npages / 8 + 1);
	if (!bitmap)
		return w_fail(w, -ENOMEM, "section \"%s\": out of memory for the page bitmap", name);
	for (uint64_t i = 0; i < npages;) {
		for (uint64_t end = data_range(map, &i, npages, page_size); i < end; i++) {
			if (!snapshot_is_zero(host + i * page_size, page_size)) {
				bitmap[i / 8] |= (uint8_t)(1u << (i % 8));
				present++;
			}
		}
	}
	int ret = w_memory_section(w, SNAPSHOT_SEC_MEMORY, instance, gpa, host, size, page_size, bitmap, NULL, present);
	free(bitmap);
	return ret < 0 ? ret : (int64_t)present;
}

int64_t snapshot_write_memory_delta(struct snapshot_writer *w, uint32_t instance, uint64_t gpa, const uint8_t *host,
				    uint64_t size, uint32_t page_size, const uint8_t *pages)
{
	char name[SNAPSHOT_NAME_LEN];
	if (w->error || w_header(w) < 0)
		return w->error;
	snprintf(name, sizeof(name), "memory-delta %u", instance);
	if (w_memory_geometry(w, name, gpa, size, page_size) < 0)
		return w->error;
	uint64_t npages = size / page_size, bm_len = npages / 8 + (npages % 8 != 0), present = 0, zeroed = 0;
	uint8_t *stored = calloc(2, bm_len + 1);
	if (!stored)
		return w_fail(w, -ENOMEM, "section \"%s\": out of memory for the page bitmaps", name);
	uint8_t *zero = stored + bm_len + 1;
	for (uint64_t i = 0; i < npages; i++) {
		if (!(pages[i / 8] & (1u << (i % 8))))
			continue;
		/* A page zero now is named as such; one that changes after this look is sent whole (or again later). */
		if (snapshot_is_zero(host + i * page_size, page_size)) {
			zero[i / 8] |= (uint8_t)(1u << (i % 8));
			zeroed++;
		} else {
			stored[i / 8] |= (uint8_t)(1u << (i % 8));
			present++;
		}
	}
	int ret =
	    w_memory_section(w, SNAPSHOT_SEC_MEMORY_DELTA, instance, gpa, host, size, page_size, stored, zero, present);
	free(stored);
	return ret < 0 ? ret : (int64_t)(present + zeroed);
}

/* Writes one MEMORY_PACKED section: header, memory header, both bitmaps, the page records built in `records`. */
static int w_packed_section(struct snapshot_writer *w, uint32_t instance, uint64_t gpa, uint64_t size,
			    uint32_t page_size, const uint8_t *bitmaps, uint64_t bm_len, uint64_t present,
			    const uint8_t *records, uint64_t records_len)
{
	uint8_t hdr[SNAPSHOT_SECTION_HEADER_SIZE], mhdr[SNAPSHOT_MEMORY_HEADER_SIZE], trailer[4];
	uint32_t crc = 0;
	if (snapshot_encode_section_header(SNAPSHOT_SEC_MEMORY_PACKED, instance, SNAPSHOT_MEMORY_VERSION,
					   SNAPSHOT_FLAG_MANDATORY, sizeof(mhdr) + 2 * bm_len + records_len, hdr) < 0 ||
	    snapshot_encode_memory_header(gpa, size, page_size, present, mhdr) < 0)
		return w_fail(w, -ENOMEM, "out of memory");
	w_out(w, hdr, sizeof(hdr));
	w_out_crc(w, mhdr, sizeof(mhdr), &crc);
	w_out_crc(w, bitmaps, 2 * bm_len, &crc);
	w_out_crc(w, records, records_len, &crc);
	snapshot_put_le32(trailer, crc);
	if (w_out(w, trailer, sizeof(trailer)) < 0)
		return w->error;
	w->sections++;
	return 0;
}

/*
 * Appends page `page` (page_size bytes, a private copy) to `records` at *used as a length and its bytes: compressed
 * if that is shorter, else raw at full length.
 */
static void packed_record(uint8_t *records, uint64_t *used, const uint8_t *page, uint32_t page_size)
{
	uint8_t *rec = records + *used;
	size_t len = page_lz_compress(page, page_size, rec + 4, page_size - 1);
	if (!len) {
		memcpy(rec + 4, page, page_size);
		len = page_size;
	}
	snapshot_put_le32(rec, (uint32_t)len);
	*used += 4 + len;
}

int64_t snapshot_write_memory_packed(struct snapshot_writer *w, uint32_t instance, uint64_t gpa, const uint8_t *host,
				     uint64_t size, uint32_t page_size, const uint8_t *pages, bool skip_zero)
{
	char name[SNAPSHOT_NAME_LEN];
	if (w->error || w_header(w) < 0)
		return w->error;
	snprintf(name, sizeof(name), "memory-packed %u", instance);
	if (w_memory_geometry(w, name, gpa, size, page_size) < 0)
		return w->error;
	if (page_size > PAGE_LZ_MAX_PAGE)
		return w_fail(w, -EINVAL, "section \"%s\": %u-byte pages are too large to compress", name, page_size);
	uint64_t npages = size / page_size, bm_len = npages / 8 + (npages % 8 != 0), i = 0;
	int64_t named = 0;
	uint8_t *bitmaps = malloc(2 * bm_len), *page = malloc(page_size);
	uint8_t *records = malloc((uint64_t)SNAPSHOT_PACKED_SECTION_PAGES * (4 + page_size));
	if (!bitmaps || !page || !records) {
		free(bitmaps);
		free(page);
		free(records);
		return w_fail(w, -ENOMEM, "section \"%s\": out of memory for the page buffers", name);
	}
	while (!w->error) {
		uint8_t *stored = bitmaps, *zero = bitmaps + bm_len;
		uint64_t present = 0, zeroed = 0, used = 0;
		memset(bitmaps, 0, 2 * bm_len);
		for (; i < npages && present + zeroed < SNAPSHOT_PACKED_SECTION_PAGES; i++) {
			if (!(pages[i / 8] & (1u << (i % 8))))
				continue;
			/* A copy: the guest may change the page while it is compressed, and the checksum covers the
			 * copy. */
			memcpy(page, host + i * page_size, page_size);
			if (snapshot_is_zero(page, page_size)) {
				zero[i / 8] |= (uint8_t)(skip_zero ? 0 : 1u << (i % 8));
				zeroed += !skip_zero;
				continue;
			}
			stored[i / 8] |= (uint8_t)(1u << (i % 8));
			present++;
			packed_record(records, &used, page, page_size);
		}
		if (!present && !zeroed)
			break;
		if (w_packed_section(w, instance, gpa, size, page_size, bitmaps, bm_len, present, records, used) == 0)
			named += (int64_t)(present + zeroed);
	}
	free(bitmaps);
	free(page);
	free(records);
	return w->error ? w->error : named;
}

int snapshot_writer_commit(struct snapshot_writer *w)
{
	struct snap_writer end;
	struct stat st;
	snap_writer_init(&end);
	snap_put_u64(&end, w->sections);
	if (!w->error && end.err)
		w_fail(w, -ENOMEM, "out of memory");
	if (!w->error && w_header(w) == 0)
		w_section(w, SNAPSHOT_SEC_END, 0, SNAPSHOT_END_VERSION, SNAPSHOT_FLAG_MANDATORY, end.buf, end.len);
	snap_writer_fini(&end);
	if (!w->error)
		w_flush(w);
	if (!w->error && w->hash)
		sha256_final(w->hash, w->digest);
	/* A pipe or a terminal cannot be fsync'ed; a file can (the atomic file's commit does its own). */
	if (!w->error && !w->owns_fd && fstat(w->fd, &st) == 0 && S_ISREG(st.st_mode) && fsync(w->fd) < 0)
		w_fail(w, -errno, "cannot fsync: %s", strerror(errno));
	if (!w->error && w->owns_fd) {
		w->fd = -1;
		w->owns_fd = false;
		int ret = atomic_file_commit(&w->file);
		if (ret < 0)
			w_fail(w, ret, "cannot put the snapshot in its place: %s", strerror(-ret));
	}
	int ret = w->error;
	snapshot_writer_abort(w);
	return ret;
}

void snapshot_writer_abort(struct snapshot_writer *w)
{
	if (w->owns_fd)
		atomic_file_abort(&w->file);
	w->fd = -1;
	w->owns_fd = false;
	free(w->buf);
	free(w->hash);
	w->buf = NULL;
	w->hash = NULL;
	w->buf_len = 0;
	if (!w->error)
		w->error = -EBADF; /* closed: later calls fail, w->err stays as it was */
}
