/*
 * The snapshot writer (see snapshot.h): a buffered stream of header and sections to a file descriptor, with the
 * offset tracked so that memory pages land page-aligned without seeking. A path is written through a temporary file
 * that commit fsyncs and renames, so the previous snapshot survives any failure.
 */
#include "core/clock.h"
#include "crc32c.h"
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

/* Records the first error as "<name>: <reason>"; returns it. */
int snapshot_w_fail(struct snapshot_writer *w, int err, const char *fmt, ...)
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

/* With a rate limit: sleeps until `len` more bytes keep the average at the limit. */
static void w_pace(struct snapshot_writer *w, size_t len)
{
	if (!w->rate)
		return;
	w->rate_bytes += len;
	uint64_t due = w->rate_start_ns + (uint64_t)((double)w->rate_bytes * 1e9 / (double)w->rate),
		 now = monotonic_ns();
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
		return snapshot_w_fail(w, -ENOMEM, "out of memory");
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
	w->rate_start_ns = monotonic_ns();
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
			return snapshot_w_fail(w, -errno, "cannot write: %s", strerror(errno));
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
int snapshot_w_out(struct snapshot_writer *w, const void *data, size_t len)
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
int snapshot_w_header(struct snapshot_writer *w)
{
	if (w->error || w->header_done)
		return w->error;
	uint8_t h[SNAPSHOT_HEADER_SIZE];
	if (snapshot_encode_header(&w->header, h) < 0)
		return snapshot_w_fail(w, -ENOMEM, "out of memory");
	w->header_done = true;
	return snapshot_w_out(w, h, sizeof(h));
}

int snapshot_writer_flush(struct snapshot_writer *w)
{
	if (w->error || snapshot_w_header(w) < 0)
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
		return snapshot_w_fail(w, -EINVAL, "bad architecture name \"%s\"", arch ? arch : "");
	w->header.format_version = SNAPSHOT_FORMAT_VERSION;
	snprintf(w->header.arch, sizeof(w->header.arch), "%s", arch);
	snprintf(w->header.roam_version, sizeof(w->header.roam_version), "%s", ROAM_VERSION);
	time_t now = time(NULL);
	w->header.created = now > 0 ? (uint64_t)now : 0;
	w->buf = malloc(WRITE_BUF_SIZE);
	if (!w->buf)
		return snapshot_w_fail(w, -ENOMEM, "out of memory");
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
		snapshot_w_fail(w, ret, "cannot create a temporary file next to it: %s", strerror(-ret));
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
	if (snapshot_w_header(w) < 0)
		return w->error;
	if (snapshot_encode_section_header(id, instance, version, flags, len, hdr) < 0)
		return snapshot_w_fail(w, -ENOMEM, "out of memory");
	snapshot_put_le32(crc, crc32c(payload, len));
	if (snapshot_w_out(w, hdr, sizeof(hdr)) < 0 || snapshot_w_out(w, payload, len) < 0 ||
	    snapshot_w_out(w, crc, sizeof(crc)) < 0)
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
		return snapshot_w_fail(w, -EINVAL, "section \"%s\": written by %s only", name,
				       id == SNAPSHOT_SEC_END ? "snapshot_writer_commit" : "snapshot_write_memory");
	if (len > SNAPSHOT_MAX_PAYLOAD)
		return snapshot_w_fail(w, -EFBIG, "section \"%s\": %zu bytes is more than the limit of %u MiB", name,
				       len, SNAPSHOT_MAX_PAYLOAD >> 20);
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
		return snapshot_w_fail(w, payload->err, "section \"%s\": cannot encode the payload: %s", name,
				       strerror(-payload->err));
	}
	return snapshot_write_section(w, id, instance, version, flags, payload->buf, payload->len);
}

int snapshot_writer_commit(struct snapshot_writer *w)
{
	struct snap_writer end;
	struct stat st;
	snap_writer_init(&end);
	snap_put_u64(&end, w->sections);
	if (!w->error && end.err)
		snapshot_w_fail(w, -ENOMEM, "out of memory");
	if (!w->error && snapshot_w_header(w) == 0)
		w_section(w, SNAPSHOT_SEC_END, 0, SNAPSHOT_END_VERSION, SNAPSHOT_FLAG_MANDATORY, end.buf, end.len);
	snap_writer_fini(&end);
	if (!w->error)
		w_flush(w);
	if (!w->error && w->hash)
		sha256_final(w->hash, w->digest);
	/* A pipe or a terminal cannot be fsync'ed; a file can (the atomic file's commit does its own). */
	if (!w->error && !w->owns_fd && fstat(w->fd, &st) == 0 && S_ISREG(st.st_mode) && fsync(w->fd) < 0)
		snapshot_w_fail(w, -errno, "cannot fsync: %s", strerror(errno));
	if (!w->error && w->owns_fd) {
		w->fd = -1;
		w->owns_fd = false;
		int ret = atomic_file_commit(&w->file);
		if (ret < 0)
			snapshot_w_fail(w, ret, "cannot put the snapshot in its place: %s", strerror(-ret));
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
	free(w->sums.crc);
	w->sums.crc = NULL;
	w->buf = NULL;
	w->hash = NULL;
	w->buf_len = 0;
	if (!w->error)
		w->error = -EBADF; /* closed: later calls fail, w->err stays as it was */
}
