/*
 * The snapshot reader's memory sections (see snapshot.h): the memory header and page bitmap are validated when the
 * section is reached; the pages go straight into guest memory, by mmap of the page-aligned page data when the file
 * is seekable, else from the stream; the checksum over the whole payload is verified before success is returned.
 */
#include "crc32c.h"
#include "page_lz.h"
#include "snapshot_format.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

/* Validates a memory section's header and reads its bitmap; the pages stay pending (r->cur_open). */
int snapshot_in_memory_header(struct snapshot_reader *r, struct snapshot_section *sec, const char *what, uint64_t end,
			      uint32_t *crc)
{
	uint8_t h[SNAPSHOT_MEMORY_HEADER_SIZE];
	struct snapshot_memory_info *m = &sec->mem;
	uint64_t top, bm_len, payload_len, bits = 0;
	if (sec->length < sizeof(h))
		return snapshot_in_fatal(r, sec, -EBADMSG, "corrupt (%llu bytes, less than a memory header)",
					 (unsigned long long)sec->length);
	int ret = snapshot_in_exact(r, h, sizeof(h), what, end, crc);
	if (ret < 0)
		return ret;
	struct snap_reader p;
	snap_reader_init(&p, h, sizeof(h));
	m->gpa = snap_get_u64(&p, "gpa");
	m->size = snap_get_u64(&p, "size");
	m->page_size = snap_get_u32(&p, "page size");
	snap_get_u32(&p, "reserved");
	m->present = snap_get_u64(&p, "present pages");
	uint32_t ps = m->page_size;
	if (ps < SNAPSHOT_MIN_PAGE_SIZE || ps > SNAPSHOT_MAX_PAGE_SIZE || (ps & (ps - 1)))
		return snapshot_in_fatal(r, sec, -EBADMSG, "corrupt (page size %u)", ps);
	if (m->size == 0 || m->size % ps || m->gpa % ps || !snapshot_add(m->gpa, m->size, &top) ||
	    m->size / ps > SNAPSHOT_MAX_PAGES || m->present > m->size / ps)
		return snapshot_in_fatal(
		    r, sec, -EBADMSG, "corrupt (%#llx bytes at %#llx, %llu pages of %u bytes stored)",
		    (unsigned long long)m->size, (unsigned long long)m->gpa, (unsigned long long)m->present, ps);
	uint64_t npages = m->size / ps;
	m->packed = sec->id == SNAPSHOT_SEC_MEMORY_PACKED;
	m->delta = sec->id == SNAPSHOT_SEC_MEMORY_DELTA || m->packed;
	int nbitmaps = m->delta ? 2 : 1;
	if (m->packed) {
		/* The records' total is only bounded: each page takes 4 bytes and 1 to page_size more. */
		uint64_t least, most;
		if (!snapshot_memory_layout(sec->offset, npages, ps, 0, nbitmaps, &bm_len, &m->data_offset,
					    &payload_len) ||
		    ps > PAGE_LZ_MAX_PAGE || !snapshot_mul(m->present, 5, &least) ||
		    !snapshot_add(payload_len, least, &least) || !snapshot_mul(m->present, 4ull + ps, &most) ||
		    !snapshot_add(payload_len, most, &most) || sec->length < least || sec->length > most)
			return snapshot_in_fatal(r, sec, -EBADMSG,
						 "corrupt (%llu bytes long, not what %llu compressed pages of %u bytes "
						 "can take)",
						 (unsigned long long)sec->length, (unsigned long long)m->present, ps);
	} else if (!snapshot_memory_layout(sec->offset, npages, ps, m->present, nbitmaps, &bm_len, &m->data_offset,
					   &payload_len) ||
		   payload_len != sec->length) {
		return snapshot_in_fatal(r, sec, -EBADMSG, "corrupt (%llu bytes long, its header implies %llu)",
					 (unsigned long long)sec->length, (unsigned long long)payload_len);
	}
	free(r->bitmap);
	r->bitmap = malloc(bm_len * (uint64_t)nbitmaps);
	if (!r->bitmap)
		return snapshot_in_fatal(r, sec, -ENOMEM, "out of memory for the page bitmap");
	ret = snapshot_in_exact(r, r->bitmap, bm_len * (uint64_t)nbitmaps, what, end, crc);
	if (ret < 0)
		return ret;
	const uint8_t *zero = m->delta ? r->bitmap + bm_len : NULL;
	uint64_t zbits = 0;
	bool overlap = false;
	for (uint64_t i = 0; i < bm_len; i++) {
		bits += (uint64_t)__builtin_popcount(r->bitmap[i]);
		if (zero) {
			zbits += (uint64_t)__builtin_popcount(zero[i]);
			overlap |= (r->bitmap[i] & zero[i]) != 0;
		}
	}
	bool tail =
	    npages % 8 && ((r->bitmap[bm_len - 1] >> (npages % 8)) || (zero && (zero[bm_len - 1] >> (npages % 8))));
	if (bits != m->present || tail || overlap)
		return snapshot_in_fatal(r, sec, -EBADMSG, "corrupt (the page %s not match %llu stored pages)",
					 m->delta ? "bitmaps do" : "bitmap does", (unsigned long long)m->present);
	m->bitmap = r->bitmap;
	m->zero_bitmap = zero;
	m->zeroed = zbits;
	r->cur_left = sec->length - sizeof(h) - bm_len * (uint64_t)nbitmaps;
	return 0;
}

/* Copies the stored pages from `src` (the page data, mapped) into host, adding them to *crc; says how far it got. */
static void copy_pages(struct snapshot_reader *r, const struct snapshot_memory_info *m, const uint8_t *src,
		       uint8_t *host, uint32_t *crc)
{
	uint64_t npages = m->size / m->page_size, copied = 0;
	for (uint64_t i = 0; (i = snapshot_next_bit(m->bitmap, i, npages)) < npages; i++) {
		*crc = crc32c_update(*crc, src, m->page_size);
		memcpy(host + i * m->page_size, src, m->page_size);
		src += m->page_size;
		if (++copied % 256 == 0)
			atomic_store_explicit(&r->progress, r->raw + copied * m->page_size, memory_order_relaxed);
	}
}

/* The page data by mmap; false if it cannot be mapped (the caller reads it instead). */
static bool r_map_pages(struct snapshot_reader *r, const struct snapshot_memory_info *m, uint8_t *host, uint32_t *crc)
{
	long hp = sysconf(_SC_PAGESIZE);
	uint64_t bytes = m->present * m->page_size, foff = (uint64_t)r->base + m->data_offset;
	if (hp <= 0 || !m->present || (r->flags & SNAPSHOT_READ_NO_MMAP))
		return false;
	uint64_t moff = foff & ~((uint64_t)hp - 1), len = foff - moff + bytes;
	uint8_t *p = mmap(NULL, len, PROT_READ, MAP_PRIVATE, r->fd, (off_t)moff);
	if (p == MAP_FAILED)
		return false;
	madvise(p, len, MADV_SEQUENTIAL);
	copy_pages(r, m, p + (foff - moff), host, crc);
	munmap(p, len);
	/* Continue after the pages: drop what was buffered and read on from there. */
	r->offset += bytes;
	r->raw = r->offset;
	r->buf_pos = r->buf_len = 0;
	return true;
}

/* The page data from the stream (or by pread), straight into host. */
static int r_read_pages(struct snapshot_reader *r, const struct snapshot_memory_info *m, uint8_t *host,
			const char *what, uint64_t end, uint32_t *crc)
{
	uint64_t npages = m->size / m->page_size;
	for (uint64_t i = 0; i < npages;) {
		if (!(m->bitmap[i / 8] & (1u << (i % 8)))) {
			i = snapshot_next_bit(m->bitmap, i, npages);
			continue;
		}
		uint64_t j = i + 1;
		while (j < npages && (m->bitmap[j / 8] & (1u << (j % 8))))
			j++;
		int ret = snapshot_in_exact(r, host + i * m->page_size, (j - i) * m->page_size, what, end, crc);
		if (ret < 0)
			return ret;
		i = j;
	}
	return 0;
}

/*
 * The records of a MEMORY_PACKED section, each decoded straight into its page of host. Every length and every
 * page's encoding is checked (page_lz_decompress never leaves its buffers); the records must fill the section.
 */
static int r_read_packed(struct snapshot_reader *r, const struct snapshot_memory_info *m, uint8_t *host,
			 const char *what, uint64_t end, uint32_t *crc)
{
	uint64_t npages = m->size / m->page_size, left = r->cur_left;
	uint8_t *rec = malloc(m->page_size);
	int ret = rec ? 0 : snapshot_in_fatal(r, &r->cur, -ENOMEM, "out of memory for a page record");
	for (uint64_t i = 0; i < npages && !ret; i++) {
		if ((i = snapshot_next_bit(m->bitmap, i, npages)) >= npages)
			break;
		uint8_t len4[4];
		uint32_t len = 0;
		if (left >= 4) {
			ret = snapshot_in_exact(r, len4, 4, what, end, crc);
			if (ret < 0)
				break;
			len = snapshot_get_le32(len4);
		}
		if (left < 4 || len == 0 || len > m->page_size || len > left - 4) {
			ret = snapshot_in_fatal(r, &r->cur, -EBADMSG,
						"corrupt (page %llu at %#llx: a record of %u bytes, %llu are left)",
						(unsigned long long)i, (unsigned long long)(m->gpa + i * m->page_size),
						len, (unsigned long long)(left < 4 ? left : left - 4));
			break;
		}
		left -= 4 + (uint64_t)len;
		uint8_t *dst = host + i * m->page_size;
		ret = snapshot_in_exact(r, len == m->page_size ? dst : rec, len, what, end, crc);
		if (!ret && len < m->page_size && page_lz_decompress(rec, len, dst, m->page_size) < 0)
			ret = snapshot_in_fatal(r, &r->cur, -EBADMSG,
						"corrupt (page %llu at %#llx: its %u compressed bytes do not decode to "
						"%u)",
						(unsigned long long)i, (unsigned long long)(m->gpa + i * m->page_size),
						len, m->page_size);
	}
	free(rec);
	if (!ret && left)
		ret = snapshot_in_fatal(r, &r->cur, -EBADMSG, "corrupt (%llu bytes after the last page record)",
					(unsigned long long)left);
	return ret;
}

int64_t snapshot_read_memory(struct snapshot_reader *r, struct snapshot_section *sec, uint8_t *host, uint64_t size)
{
	if (r->fatal)
		return r->fatal;
	if (!snapshot_is_memory_id(sec->id) || !r->cur_open || sec->offset != r->cur.offset)
		return snapshot_reader_fail(r, sec, -EINVAL, "not the memory section being read");
	const struct snapshot_memory_info *m = &r->cur.mem;
	if (size != m->size)
		return snapshot_reader_fail(r, sec, -EINVAL, "holds %#llx bytes of memory, the VM's slot has %#llx",
					    (unsigned long long)m->size, (unsigned long long)size);
	char what[SNAPSHOT_NAME_LEN + 16];
	snprintf(what, sizeof(what), "section \"%s\"", sec->name);
	uint64_t end = r->offset + r->cur_left + SNAPSHOT_SECTION_TRAILER_SIZE;
	int ret = snapshot_in_skip(r, m->data_offset - r->offset, what, end, &r->cur_crc); /* the padding */
	if (ret == 0 && m->packed)
		ret = r_read_packed(r, m, host, what, end, &r->cur_crc);
	else if (ret == 0 && !(r->seekable && r_map_pages(r, m, host, &r->cur_crc)))
		ret = r_read_pages(r, m, host, what, end, &r->cur_crc);
	if (ret < 0)
		return ret;
	r->cur_left = 0;
	ret = snapshot_in_finish(r, sec);
	if (ret < 0)
		return ret;
	if (!sec->crc_ok) /* inspect mode: still an error here, the memory is garbage */
		return snapshot_in_fatal(r, sec, -EBADMSG, "checksum mismatch (stored 0x%08x, computed 0x%08x)",
					 sec->stored_crc, sec->computed_crc);
	/* A delta's zeroed pages, once the whole section is known to be intact. */
	uint64_t npages = m->size / m->page_size;
	for (uint64_t i = 0; m->zero_bitmap && (i = snapshot_next_bit(m->zero_bitmap, i, npages)) < npages; i++)
		memset(host + i * m->page_size, 0, m->page_size);
	return (int64_t)(m->present + m->zeroed);
}

int snapshot_skip_memory_pages(struct snapshot_reader *r, struct snapshot_section *sec, struct snapshot_lazy_pages *out)
{
	if (r->fatal)
		return r->fatal;
	if (sec->id != SNAPSHOT_SEC_MEMORY || !r->cur_open || sec->offset != r->cur.offset || !r->seekable)
		return snapshot_reader_fail(r, sec, -EINVAL, "not the MEMORY section of a file being read");
	const struct snapshot_memory_info *m = &r->cur.mem;
	char what[SNAPSHOT_NAME_LEN + 16];
	snprintf(what, sizeof(what), "section \"%s\"", sec->name);
	uint64_t end = r->offset + r->cur_left + SNAPSHOT_SECTION_TRAILER_SIZE;
	int ret = snapshot_in_skip(r, m->data_offset - r->offset, what, end, &r->cur_crc); /* the padding */
	if (ret < 0)
		return ret;
	out->head_crc = r->cur_crc;
	out->file_offset = (uint64_t)r->base + m->data_offset;
	/* Past the pages without reading them: the next read starts at the trailer. */
	r->offset = m->data_offset + m->present * m->page_size;
	r->raw = r->offset;
	r->buf_pos = r->buf_len = 0;
	r->cur_left = 0;
	uint8_t t[SNAPSHOT_SECTION_TRAILER_SIZE];
	ret = snapshot_in_exact(r, t, sizeof(t), what, end, NULL);
	if (ret < 0)
		return ret;
	out->trailer_crc = snapshot_get_le32(t);
	r->cur_open = false;
	sec->checked = false;
	snprintf(r->prev_name, sizeof(r->prev_name), "%s", what);
	return 0;
}
