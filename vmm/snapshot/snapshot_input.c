/*
 * The snapshot reader's input (see snapshot.h, snapshot_format.h): buffered reading from a stream, or pread from a
 * seekable file at the snapshot offset, exact reads that turn an early end of file into "truncated in <what> (file
 * ends N bytes early)", checksummed skipping, section trailers, and the one-line messages, fatal or not.
 */
#include "crc32c.h"
#include "snapshot_format.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#define READ_BUF_SIZE SNAPSHOT_READ_BUF_SIZE

static void r_vfail(struct snapshot_reader *r, const struct snapshot_section *sec, const char *fmt, va_list ap)
{
	int n = sec ? snprintf(r->err, sizeof(r->err), "%s: section \"%s\": ", r->name, sec->name)
		    : snprintf(r->err, sizeof(r->err), "%s: ", r->name);
	if (n > 0 && (size_t)n < sizeof(r->err))
		vsnprintf(r->err + n, sizeof(r->err) - (size_t)n, fmt, ap);
}

int snapshot_reader_fail(struct snapshot_reader *r, const struct snapshot_section *sec, int err, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	if (!r->fatal)
		r_vfail(r, sec, fmt, ap);
	va_end(ap);
	return err;
}

/* A fatal error: the stream position is lost or the file is unusable. The first one's message stays. */
int snapshot_in_fatal(struct snapshot_reader *r, const struct snapshot_section *sec, int err, const char *fmt, ...)
{
	if (r->fatal)
		return r->fatal;
	va_list ap;
	va_start(ap, fmt);
	r_vfail(r, sec, fmt, ap);
	va_end(ap);
	r->fatal = err;
	return err;
}

/* "truncated in <what> (file ends N bytes early)", where the file was expected to go on up to offset `end`. */
int snapshot_in_truncated(struct snapshot_reader *r, const char *what, uint64_t end)
{
	return snapshot_in_fatal(r, NULL, -ENODATA, "truncated in %s (file ends %llu bytes early)", what,
				 (unsigned long long)(end - r->offset));
}

int snapshot_in_io(struct snapshot_reader *r, int err)
{
	return snapshot_in_fatal(r, NULL, err, "cannot read: %s", strerror(-err));
}

/* Takes up to `len` bytes from the fd at snapshot offset r->raw. Returns the count (0 at the end) or -errno. */
static int64_t r_raw(struct snapshot_reader *r, uint8_t *dst, size_t len)
{
	for (;;) {
		ssize_t n =
		    r->seekable ? pread(r->fd, dst, len, (off_t)(r->base + (int64_t)r->raw)) : read(r->fd, dst, len);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return -errno;
		r->raw += (uint64_t)n;
		atomic_store_explicit(&r->progress, r->raw, memory_order_relaxed);
		return n;
	}
}

/* Makes buffered bytes available. Returns how many (0 at the end of the file) or -errno. */
static int64_t r_fill(struct snapshot_reader *r)
{
	if (r->buf_pos < r->buf_len)
		return (int64_t)(r->buf_len - r->buf_pos);
	int64_t n = r_raw(r, r->buf, READ_BUF_SIZE);
	r->buf_pos = 0;
	r->buf_len = n > 0 ? (size_t)n : 0;
	return n;
}

/* Reads up to `len` bytes into dst: fewer only at the end of the file. Returns the count or -errno. */
int64_t snapshot_in_read(struct snapshot_reader *r, uint8_t *dst, uint64_t len)
{
	uint64_t got = 0;
	while (got < len) {
		int64_t n;
		if (r->buf_pos == r->buf_len && len - got >= READ_BUF_SIZE) {
			uint64_t want = len - got;
			n = r_raw(r, dst + got, want > (1u << 30) ? (1u << 30) : (size_t)want);
		} else {
			n = r_fill(r);
			if (n > 0) {
				n = (uint64_t)n < len - got ? n : (int64_t)(len - got);
				memcpy(dst + got, r->buf + r->buf_pos, (size_t)n);
				r->buf_pos += (size_t)n;
			}
		}
		if (n < 0)
			return n;
		if (n == 0)
			break;
		got += (uint64_t)n;
		r->offset += (uint64_t)n;
	}
	return (int64_t)got;
}

/* Reads exactly `len` bytes of section `what` (ending at `end`) and adds them to *crc (if not NULL). */
int snapshot_in_exact(struct snapshot_reader *r, uint8_t *dst, uint64_t len, const char *what, uint64_t end,
		      uint32_t *crc)
{
	int64_t n = snapshot_in_read(r, dst, len);
	if (n < 0)
		return snapshot_in_io(r, (int)n);
	if ((uint64_t)n < len)
		return snapshot_in_truncated(r, what, end);
	if (crc)
		*crc = crc32c_update(*crc, dst, len);
	return 0;
}

/* Consumes `len` bytes of section `what` (ending at `end`), adding them to *crc. */
int snapshot_in_skip(struct snapshot_reader *r, uint64_t len, const char *what, uint64_t end, uint32_t *crc)
{
	while (len) {
		int64_t n = r_fill(r);
		if (n < 0)
			return snapshot_in_io(r, (int)n);
		if (n == 0)
			return snapshot_in_truncated(r, what, end);
		size_t take = (uint64_t)n < len ? (size_t)n : (size_t)len;
		*crc = crc32c_update(*crc, r->buf + r->buf_pos, take);
		r->buf_pos += take;
		r->offset += take;
		len -= take;
	}
	return 0;
}

/* Reads the trailer of the current section and compares it with `crc`; fills sec->checked/crc_ok. */
int snapshot_in_trailer(struct snapshot_reader *r, struct snapshot_section *sec, const char *what, uint32_t crc)
{
	uint8_t t[SNAPSHOT_SECTION_TRAILER_SIZE];
	int ret = snapshot_in_exact(r, t, sizeof(t), what, r->offset + sizeof(t), NULL);
	if (ret < 0)
		return ret;
	sec->stored_crc = snapshot_get_le32(t);
	sec->computed_crc = crc;
	sec->checked = true;
	sec->crc_ok = sec->stored_crc == crc;
	if (sec->crc_ok)
		return 0;
	if (r->flags & SNAPSHOT_READ_INSPECT) {
		snapshot_reader_fail(r, sec, -EBADMSG, "checksum mismatch (stored 0x%08x, computed 0x%08x)",
				     sec->stored_crc, crc);
		return 0;
	}
	return snapshot_in_fatal(r, sec, -EBADMSG, "checksum mismatch (stored 0x%08x, computed 0x%08x)",
				 sec->stored_crc, crc);
}

/* Finishes the current section if its payload was not fully consumed (pages skipped), verifying its checksum. */
int snapshot_in_finish(struct snapshot_reader *r, struct snapshot_section *sec)
{
	if (!r->cur_open)
		return 0;
	char what[SNAPSHOT_NAME_LEN + 16];
	snprintf(what, sizeof(what), "section \"%s\"", r->cur.name);
	uint64_t end = r->offset + r->cur_left + SNAPSHOT_SECTION_TRAILER_SIZE;
	int ret = snapshot_in_skip(r, r->cur_left, what, end, &r->cur_crc);
	r->cur_left = 0;
	if (ret == 0)
		ret = snapshot_in_trailer(r, &r->cur, what, r->cur_crc);
	r->cur_open = false;
	if (sec) {
		sec->checked = r->cur.checked;
		sec->crc_ok = r->cur.crc_ok;
		sec->stored_crc = r->cur.stored_crc;
		sec->computed_crc = r->cur.computed_crc;
	}
	snprintf(r->prev_name, sizeof(r->prev_name), "section \"%s\"", r->cur.name);
	return ret;
}
