/*
 * The parts of the snapshot format that writer and reader share (see snapshot.h and snapshot_format.h): section
 * names for messages, the encoding of the file header, section header and memory header with the snap_codec.h
 * helpers, and checked arithmetic. The writer is in snapshot_write.c, the reader in snapshot_read.c.
 */
#include "crc32c.h"
#include "snapshot_format.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>

/* Names of the section ids, indexed by id; NULL: not a section id of this roam. */
static const char *const section_id_names[] = {
    [SNAPSHOT_SEC_VM] = "vm",
    [SNAPSHOT_SEC_HOST] = "host",
    [SNAPSHOT_SEC_TARGETS] = "targets",
    [SNAPSHOT_SEC_VCPU] = "vcpu",
    [SNAPSHOT_SEC_IRQCHIP] = "irqchip",
    [SNAPSHOT_SEC_TIMER] = "timer",
    [SNAPSHOT_SEC_DEVICE] = "device",
    [SNAPSHOT_SEC_PVLOCK] = "pvlock",
    [SNAPSHOT_SEC_HYPERCALLS] = "hypercalls",
    [SNAPSHOT_SEC_MEMORY] = "memory",
    [SNAPSHOT_SEC_MEMORY_DELTA] = "memory-delta",
    [SNAPSHOT_SEC_PRECHECK] = "precheck",
    [SNAPSHOT_SEC_BASE] = "base",
    [SNAPSHOT_SEC_MEMORY_PACKED] = "memory-packed",
    [SNAPSHOT_SEC_MEMORY_SUMS] = "memory-sums",
    [SNAPSHOT_SEC_END] = "end",
};

const char *snapshot_section_id_name(uint32_t id)
{
	if (id >= sizeof(section_id_names) / sizeof(section_id_names[0]))
		return NULL;
	return section_id_names[id];
}

/* Copies the device name at the start of a DEVICE payload into out if it is a plausible one (1..31 printable). */
static bool device_name(const uint8_t *payload, uint64_t len, char out[32])
{
	if (!payload || len < 5)
		return false;
	uint32_t n = snapshot_get_le32(payload);
	if (n == 0 || n > 31 || n > len - 4)
		return false;
	for (uint32_t i = 0; i < n; i++) {
		uint8_t c = payload[4 + i];
		if (c <= ' ' || c > '~' || c == '"')
			return false;
		out[i] = (char)c;
	}
	out[n] = '\0';
	return true;
}

void snapshot_section_name(uint32_t id, uint32_t instance, const void *payload, uint64_t len, char *buf, size_t size)
{
	const char *base = snapshot_section_id_name(id);
	char dev[32];
	if (!base)
		snprintf(buf, size, instance ? "id %u instance %u" : "id %u", id, instance);
	else if (id == SNAPSHOT_SEC_DEVICE && device_name(payload, len, dev))
		snprintf(buf, size, "device %u (%s)", instance, dev);
	else if (id == SNAPSHOT_SEC_VCPU || id == SNAPSHOT_SEC_DEVICE || snapshot_is_memory_id(id) ||
		 id == SNAPSHOT_SEC_MEMORY_SUMS || instance)
		snprintf(buf, size, "%s %u", base, instance);
	else
		snprintf(buf, size, "%s", base);
}

void snapshot_put_le32(uint8_t out[4], uint32_t v)
{
	for (int i = 0; i < 4; i++)
		out[i] = (uint8_t)(v >> (8 * i));
}

uint32_t snapshot_get_le32(const uint8_t in[4])
{
	return (uint32_t)in[0] | (uint32_t)in[1] << 8 | (uint32_t)in[2] << 16 | (uint32_t)in[3] << 24;
}

/* Copies the finished encoding of `p` (exactly `len` bytes expected) into out. */
static int take_encoding(struct snap_writer *p, uint8_t *out, size_t len)
{
	int ret = p->err ? p->err : (p->len == len ? 0 : -EINVAL);
	if (ret == 0)
		memcpy(out, p->buf, len);
	snap_writer_fini(p);
	return ret;
}

int snapshot_encode_header(const struct snapshot_header *h, uint8_t out[SNAPSHOT_HEADER_SIZE])
{
	char arch[SNAPSHOT_ARCH_LEN] = {0}, version[SNAPSHOT_VERSION_LEN] = {0};
	snprintf(arch, sizeof(arch), "%s", h->arch);
	snprintf(version, sizeof(version), "%s", h->roam_version);
	struct snap_writer p;
	snap_writer_init(&p);
	snap_put_bytes(&p, SNAPSHOT_MAGIC, 8);
	snap_put_u32(&p, h->format_version);
	snap_put_bytes(&p, arch, sizeof(arch));
	snap_put_bytes(&p, version, sizeof(version));
	snap_put_u64(&p, h->created);
	if (!p.err)
		snap_put_u32(&p, crc32c(p.buf, p.len));
	return take_encoding(&p, out, SNAPSHOT_HEADER_SIZE);
}

int snapshot_encode_section_header(uint32_t id, uint32_t instance, uint32_t version, uint32_t flags, uint64_t length,
				   uint8_t out[SNAPSHOT_SECTION_HEADER_SIZE])
{
	struct snap_writer p;
	snap_writer_init(&p);
	snap_put_u32(&p, id);
	snap_put_u32(&p, instance);
	snap_put_u32(&p, version);
	snap_put_u32(&p, flags);
	snap_put_u64(&p, length);
	snap_put_u32(&p, 0); /* reserved */
	if (!p.err)
		snap_put_u32(&p, crc32c(p.buf, p.len));
	return take_encoding(&p, out, SNAPSHOT_SECTION_HEADER_SIZE);
}

void snapshot_decode_section_header(const uint8_t in[SNAPSHOT_SECTION_HEADER_SIZE], struct snapshot_raw_section *s)
{
	struct snap_reader p;
	snap_reader_init(&p, in, SNAPSHOT_SECTION_HEADER_SIZE);
	s->id = snap_get_u32(&p, "id");
	s->instance = snap_get_u32(&p, "instance");
	s->version = snap_get_u32(&p, "version");
	s->flags = snap_get_u32(&p, "flags");
	s->length = snap_get_u64(&p, "length");
	s->reserved = snap_get_u32(&p, "reserved");
	s->stored_crc = snap_get_u32(&p, "crc");
	s->computed_crc = crc32c(in, SNAPSHOT_SECTION_HEADER_SIZE - 4);
}

int snapshot_encode_memory_header(uint64_t gpa, uint64_t size, uint32_t page_size, uint64_t present,
				  uint8_t out[SNAPSHOT_MEMORY_HEADER_SIZE])
{
	struct snap_writer p;
	snap_writer_init(&p);
	snap_put_u64(&p, gpa);
	snap_put_u64(&p, size);
	snap_put_u32(&p, page_size);
	snap_put_u32(&p, 0); /* reserved */
	snap_put_u64(&p, present);
	return take_encoding(&p, out, SNAPSHOT_MEMORY_HEADER_SIZE);
}

bool snapshot_add(uint64_t a, uint64_t b, uint64_t *out)
{
	uint64_t v;
	if (__builtin_add_overflow(a, b, &v))
		return false;
	*out = v;
	return true;
}

bool snapshot_mul(uint64_t a, uint64_t b, uint64_t *out)
{
	uint64_t v;
	if (__builtin_mul_overflow(a, b, &v))
		return false;
	*out = v;
	return true;
}

bool snapshot_align_up(uint64_t v, uint64_t align, uint64_t *out)
{
	uint64_t up;
	if (!snapshot_add(v, align - 1, &up))
		return false;
	*out = up & ~(align - 1);
	return true;
}

bool snapshot_is_memory_id(uint32_t id)
{
	return id == SNAPSHOT_SEC_MEMORY || id == SNAPSHOT_SEC_MEMORY_DELTA || id == SNAPSHOT_SEC_MEMORY_PACKED;
}

bool snapshot_memory_layout(uint64_t payload_offset, uint64_t npages, uint32_t page_size, uint64_t present,
			    int nbitmaps, uint64_t *bitmap_len, uint64_t *data_offset, uint64_t *payload_len)
{
	uint64_t bm = npages / 8 + (npages % 8 != 0), end, data, bytes, len, all;
	if (!snapshot_mul(bm, (uint64_t)nbitmaps, &all) ||
	    !snapshot_add(payload_offset, SNAPSHOT_MEMORY_HEADER_SIZE, &end) || !snapshot_add(end, all, &end) ||
	    !snapshot_align_up(end, present ? page_size : 1, &data) || !snapshot_mul(present, page_size, &bytes) ||
	    !snapshot_add(data - payload_offset, bytes, &len))
		return false;
	*bitmap_len = bm;
	*data_offset = data;
	*payload_len = len;
	return true;
}

uint64_t snapshot_next_bit(const uint8_t *bm, uint64_t i, uint64_t n)
{
	while (i < n) {
		uint64_t word;
		if (i % 64 == 0 && n - i >= 64 && (memcpy(&word, bm + i / 8, sizeof(word)), word == 0))
			i += 64;
		else if (i % 8 == 0 && bm[i / 8] == 0)
			i += 8;
		else if (bm[i / 8] & (1u << (i % 8)))
			return i;
		else
			i++;
	}
	return n;
}

bool snapshot_is_zero(const uint8_t *p, size_t len)
{
	return len == 0 || (p[0] == 0 && memcmp(p, p + 1, len - 1) == 0);
}
