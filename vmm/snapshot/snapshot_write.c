/*
 * The snapshot writer (see snapshot.h): a buffered stream of header and sections to a file descriptor, with the
 * offset tracked so that memory pages land page-aligned without seeking. A path is written through a temporary file
 * that commit fsyncs and renames, so the previous snapshot survives any failure.
 */
#include "crc32c.h"
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

static int w_raw(struct snapshot_writer *w, const uint8_t *p, size_t len)
{
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
	if (id == SNAPSHOT_SEC_MEMORY || id == SNAPSHOT_SEC_END)
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

/* The pages of the memory section: the header, bitmap and padding are written; `pad` bytes of zeros come first. */
static int w_memory_data(struct snapshot_writer *w, const uint8_t *host, const uint8_t *bitmap, uint64_t npages,
			 uint32_t page_size, uint64_t pad, uint32_t *crc)
{
	while (pad && !w->error) {
		uint64_t n = pad > sizeof(zero_page) ? sizeof(zero_page) : pad;
		w_out_crc(w, zero_page, n, crc);
		pad -= n;
	}
	for (uint64_t i = 0; i < npages && !w->error;) {
		if (!(bitmap[i / 8] & (1u << (i % 8)))) {
			i++;
			continue;
		}
		uint64_t j = i + 1;
		while (j < npages && (bitmap[j / 8] & (1u << (j % 8))))
			j++;
		w_out_crc(w, host + i * page_size, (j - i) * page_size, crc);
		i = j;
	}
	return w->error;
}

/*
 * The end (in pages) of the next range from page *i on that may hold data, moving *i past a hole first; npages when
 * the file cannot tell (fd -1, or lseek failing other than ENXIO), *i = npages when only holes remain.
 */
static uint64_t data_range(int fd, uint64_t *i, uint64_t npages, uint32_t page_size)
{
	if (fd < 0)
		return npages;
	off_t data = lseek(fd, (off_t)(*i * page_size), SEEK_DATA);
	if (data < 0) {
		if (errno == ENXIO)
			*i = npages;
		return npages;
	}
	if ((uint64_t)data / page_size > *i)
		*i = (uint64_t)data / page_size;
	off_t hole = lseek(fd, data, SEEK_HOLE);
	if (hole < 0)
		return npages;
	uint64_t end = ((uint64_t)hole + page_size - 1) / page_size;
	return end < npages ? end : npages;
}

int64_t snapshot_write_memory(struct snapshot_writer *w, uint32_t instance, uint64_t gpa, const uint8_t *host,
			      uint64_t size, uint32_t page_size, int fd)
{
	uint64_t end, npages, present = 0, bm_len, data_offset, payload_len;
	if (w->error || w_header(w) < 0)
		return w->error;
	if (page_size < SNAPSHOT_MIN_PAGE_SIZE || page_size > SNAPSHOT_MAX_PAGE_SIZE || (page_size & (page_size - 1)))
		return w_fail(w, -EINVAL,
			      "section \"memory %u\": page size %u is not a power of two from 4 KiB to 1 MiB", instance,
			      page_size);
	if (size == 0 || size % page_size || gpa % page_size || !snapshot_add(gpa, size, &end))
		return w_fail(
		    w, -EINVAL,
		    "section \"memory %u\": %#llx bytes at %#llx is not a non-empty range of whole %u-byte pages",
		    instance, (unsigned long long)size, (unsigned long long)gpa, page_size);
	npages = size / page_size;
	if (npages > SNAPSHOT_MAX_PAGES)
		return w_fail(w, -EFBIG, "section \"memory %u\": %llu pages is more than the limit of %llu", instance,
			      (unsigned long long)npages, SNAPSHOT_MAX_PAGES);
	if (!snapshot_memory_layout(w->offset + SNAPSHOT_SECTION_HEADER_SIZE, npages, page_size, npages, &bm_len,
				    &data_offset, &payload_len))
		return w_fail(w, -EFBIG, "section \"memory %u\": too large", instance);
	uint8_t *bitmap = calloc(1, bm_len);
	if (!bitmap)
		return w_fail(w, -ENOMEM, "section \"memory %u\": out of memory for the page bitmap", instance);
	for (uint64_t i = 0; i < npages;) {
		for (uint64_t end = data_range(fd, &i, npages, page_size); i < end; i++) {
			if (!snapshot_is_zero(host + i * page_size, page_size)) {
				bitmap[i / 8] |= (uint8_t)(1u << (i % 8));
				present++;
			}
		}
	}
	snapshot_memory_layout(w->offset + SNAPSHOT_SECTION_HEADER_SIZE, npages, page_size, present, &bm_len,
			       &data_offset, &payload_len);
	uint8_t hdr[SNAPSHOT_SECTION_HEADER_SIZE], mhdr[SNAPSHOT_MEMORY_HEADER_SIZE], trailer[4];
	uint32_t crc = 0;
	if (snapshot_encode_section_header(SNAPSHOT_SEC_MEMORY, instance, SNAPSHOT_MEMORY_VERSION,
					   SNAPSHOT_FLAG_MANDATORY, payload_len, hdr) < 0 ||
	    snapshot_encode_memory_header(gpa, size, page_size, present, mhdr) < 0) {
		free(bitmap);
		return w_fail(w, -ENOMEM, "out of memory");
	}
	w_out(w, hdr, sizeof(hdr));
	w_out_crc(w, mhdr, sizeof(mhdr), &crc);
	w_out_crc(w, bitmap, bm_len, &crc);
	w_memory_data(w, host, bitmap, npages, page_size, data_offset - w->offset, &crc);
	free(bitmap);
	snapshot_put_le32(trailer, crc);
	if (w_out(w, trailer, sizeof(trailer)) < 0)
		return w->error;
	w->sections++;
	return (int64_t)present;
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
	w->buf = NULL;
	w->buf_len = 0;
	if (!w->error)
		w->error = -EBADF; /* closed: later calls fail, w->err stays as it was */
}
