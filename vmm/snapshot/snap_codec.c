/* Little-endian snapshot payload encoding with first-error semantics: see snap_codec.h. */
#include "snap_codec.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

void snap_writer_init(struct snap_writer *w)
{
	memset(w, 0, sizeof(*w));
}

void snap_writer_fini(struct snap_writer *w)
{
	free(w->buf);
	memset(w, 0, sizeof(*w));
}

void snap_put_bytes(struct snap_writer *w, const void *data, size_t len)
{
	if (w->err || len == 0)
		return;
	if (len > w->cap - w->len) {
		size_t cap = w->cap ? w->cap : 256;
		while (cap - w->len < len) {
			if (cap > SIZE_MAX / 2) {
				w->err = -ENOMEM;
				return;
			}
			cap *= 2;
		}
		uint8_t *buf = realloc(w->buf, cap);
		if (!buf) {
			w->err = -ENOMEM;
			return;
		}
		w->buf = buf;
		w->cap = cap;
	}
	memcpy(w->buf + w->len, data, len);
	w->len += len;
}

static void snap_put_le(struct snap_writer *w, uint64_t v, int bytes)
{
	uint8_t b[8];
	for (int i = 0; i < bytes; i++)
		b[i] = (uint8_t)(v >> (8 * i));
	snap_put_bytes(w, b, (size_t)bytes);
}

void snap_put_u8(struct snap_writer *w, uint8_t v)
{
	snap_put_le(w, v, 1);
}

void snap_put_u16(struct snap_writer *w, uint16_t v)
{
	snap_put_le(w, v, 2);
}

void snap_put_u32(struct snap_writer *w, uint32_t v)
{
	snap_put_le(w, v, 4);
}

void snap_put_u64(struct snap_writer *w, uint64_t v)
{
	snap_put_le(w, v, 8);
}

void snap_put_blob(struct snap_writer *w, const void *data, uint32_t len)
{
	snap_put_u32(w, len);
	snap_put_bytes(w, data, len);
}

void snap_reader_init(struct snap_reader *r, const void *buf, size_t len)
{
	memset(r, 0, sizeof(*r));
	r->buf = buf;
	r->len = len;
}

void snap_reader_fail(struct snap_reader *r, const char *what)
{
	if (!r->err) {
		r->err = -EBADMSG;
		r->what = what;
	}
}

void snap_get_bytes(struct snap_reader *r, void *out, size_t len, const char *what)
{
	if (r->err || len > r->len - r->pos) {
		snap_reader_fail(r, what);
		memset(out, 0, len);
		return;
	}
	memcpy(out, r->buf + r->pos, len);
	r->pos += len;
}

static uint64_t snap_get_le(struct snap_reader *r, int bytes, const char *what)
{
	uint8_t b[8];
	uint64_t v = 0;
	snap_get_bytes(r, b, (size_t)bytes, what);
	for (int i = bytes - 1; i >= 0; i--)
		v = (v << 8) | b[i];
	return v;
}

uint8_t snap_get_u8(struct snap_reader *r, const char *what)
{
	return (uint8_t)snap_get_le(r, 1, what);
}

uint16_t snap_get_u16(struct snap_reader *r, const char *what)
{
	return (uint16_t)snap_get_le(r, 2, what);
}

uint32_t snap_get_u32(struct snap_reader *r, const char *what)
{
	return (uint32_t)snap_get_le(r, 4, what);
}

uint64_t snap_get_u64(struct snap_reader *r, const char *what)
{
	return snap_get_le(r, 8, what);
}

uint32_t snap_get_blob(struct snap_reader *r, void *out, uint32_t max, const char *what)
{
	uint32_t len = snap_get_u32(r, what);
	if (len > max) {
		snap_reader_fail(r, what);
		return 0;
	}
	snap_get_bytes(r, out, len, what);
	return r->err ? 0 : len;
}

bool snap_reader_done(struct snap_reader *r)
{
	if (!r->err && r->pos != r->len)
		snap_reader_fail(r, "trailing bytes");
	return !r->err;
}
