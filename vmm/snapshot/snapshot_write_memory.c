/*
 * The snapshot writer's memory sections (see snapshot.h): MEMORY (sparse, page-aligned pages), MEMORY_DELTA (pages
 * that replace earlier ones) and MEMORY_PACKED (the same, compressed page by page). Every page is copied before its
 * checksum is taken, so memory that changes meanwhile (a running guest) can never disagree with it.
 */
#include "crc32c.h"
#include "page_lz.h"
#include "snapshot_format.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define WRITE_MAX_CHUNK (1u << 30) /* one write() of page data at most */
#define WRITE_BOUNCE (1u << 20) /* pages are copied in runs of this much before their checksum is taken */

static const uint8_t zero_page[4096];

/* Writes `len` bytes (maybe more than the buffer) and adds them to *crc. */
static int w_out_crc(struct snapshot_writer *w, const uint8_t *p, uint64_t len, uint32_t *crc)
{
	while (len && !w->error) {
		size_t n = len > WRITE_MAX_CHUNK ? WRITE_MAX_CHUNK : (size_t)len;
		*crc = crc32c_update(*crc, p, n);
		snapshot_w_out(w, p, n);
		p += n;
		len -= n;
	}
	return w->error;
}

/*
 * Writes the pages set in `bitmap` from host, through a bounce buffer: the checksum is taken over the copy that is
 * written, so memory that changes meanwhile (a running guest, in live migration) can never disagree with it. `pad`
 * bytes of zeros come first (the header, bitmaps and padding are written). `sums` (or NULL) gets the checksum so far
 * as its head_crc, and each page added to its chunk's.
 */
static int w_memory_data(struct snapshot_writer *w, const uint8_t *host, const uint8_t *bitmap, uint64_t npages,
			 uint32_t page_size, uint64_t pad, uint32_t *crc, struct snapshot_chunk_sums *sums)
{
	while (pad && !w->error) {
		uint64_t n = pad > sizeof(zero_page) ? sizeof(zero_page) : pad;
		w_out_crc(w, zero_page, n, crc);
		pad -= n;
	}
	if (sums)
		sums->head_crc = *crc;
	uint8_t *bounce = malloc(WRITE_BOUNCE > page_size ? WRITE_BOUNCE : page_size);
	if (!bounce)
		return snapshot_w_fail(w, -ENOMEM, "out of memory for the page buffer");
	uint64_t per_copy = WRITE_BOUNCE > page_size ? WRITE_BOUNCE / page_size : 1;
	for (uint64_t i = 0; i < npages && !w->error;) {
		if (!(bitmap[i / 8] & (1u << (i % 8)))) {
			i = snapshot_next_bit(bitmap, i, npages);
			continue;
		}
		uint64_t j = i + 1;
		while (j < npages && j - i < per_copy && (bitmap[j / 8] & (1u << (j % 8))))
			j++;
		memcpy(bounce, host + i * page_size, (j - i) * page_size);
		for (uint64_t k = i; sums && k < j; k++) {
			uint32_t *c = &sums->crc[k * page_size / sums->chunk_bytes];
			*c = crc32c_update(*c, bounce + (k - i) * page_size, page_size);
		}
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
		return snapshot_w_fail(w, -EINVAL,
				       "section \"%s\": page size %u is not a power of two from 4 KiB to 1 MiB", name,
				       page_size);
	if (size == 0 || size % page_size || gpa % page_size || !snapshot_add(gpa, size, &end))
		return snapshot_w_fail(
		    w, -EINVAL, "section \"%s\": %#llx bytes at %#llx is not a non-empty range of whole %u-byte pages",
		    name, (unsigned long long)size, (unsigned long long)gpa, page_size);
	if (size / page_size > SNAPSHOT_MAX_PAGES)
		return snapshot_w_fail(w, -EFBIG, "section \"%s\": %llu pages is more than the limit of %llu", name,
				       (unsigned long long)(size / page_size), SNAPSHOT_MAX_PAGES);
	return 0;
}

/* Writes a memory section whose bitmaps are known: header, memory header, bitmaps, padding, pages, trailer. */
static int w_memory_section(struct snapshot_writer *w, uint32_t id, uint32_t instance, uint64_t gpa,
			    const uint8_t *host, uint64_t size, uint32_t page_size, const uint8_t *stored,
			    const uint8_t *zeroed, uint64_t present, struct snapshot_chunk_sums *sums)
{
	uint64_t npages = size / page_size, bm_len, data_offset, payload_len;
	int nbitmaps = zeroed ? 2 : 1;
	if (!snapshot_memory_layout(w->offset + SNAPSHOT_SECTION_HEADER_SIZE, npages, page_size, present, nbitmaps,
				    &bm_len, &data_offset, &payload_len))
		return snapshot_w_fail(w, -EFBIG, "section \"memory %u\": too large", instance);
	uint8_t hdr[SNAPSHOT_SECTION_HEADER_SIZE], mhdr[SNAPSHOT_MEMORY_HEADER_SIZE], trailer[4];
	uint32_t crc = 0;
	if (snapshot_encode_section_header(id, instance, SNAPSHOT_MEMORY_VERSION, SNAPSHOT_FLAG_MANDATORY, payload_len,
					   hdr) < 0 ||
	    snapshot_encode_memory_header(gpa, size, page_size, present, mhdr) < 0)
		return snapshot_w_fail(w, -ENOMEM, "out of memory");
	snapshot_w_out(w, hdr, sizeof(hdr));
	w_out_crc(w, mhdr, sizeof(mhdr), &crc);
	w_out_crc(w, stored, bm_len, &crc);
	if (zeroed)
		w_out_crc(w, zeroed, bm_len, &crc);
	w_memory_data(w, host, stored, npages, page_size, data_offset - w->offset, &crc, sums);
	snapshot_put_le32(trailer, crc);
	if (snapshot_w_out(w, trailer, sizeof(trailer)) < 0)
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
	if (w->error || snapshot_w_header(w) < 0)
		return w->error;
	snprintf(name, sizeof(name), "memory %u", instance);
	if (w_memory_geometry(w, name, gpa, size, page_size) < 0)
		return w->error;
	uint64_t npages = size / page_size, present = 0;
	uint8_t *bitmap = calloc(1, npages / 8 + 1);
	if (!bitmap)
		return snapshot_w_fail(w, -ENOMEM, "section \"%s\": out of memory for the page bitmap", name);
	for (uint64_t i = 0; i < npages;) {
		for (uint64_t end = data_range(map, &i, npages, page_size); i < end; i++) {
			if (!snapshot_is_zero(host + i * page_size, page_size)) {
				bitmap[i / 8] |= (uint8_t)(1u << (i % 8));
				present++;
			}
		}
	}
	/* Per-chunk checksums as the pages go out, for snapshot_write_memory_sums. */
	struct snapshot_chunk_sums *sums = &w->sums;
	free(sums->crc);
	sums->chunk_bytes = page_size > SNAPSHOT_CHUNK_BYTES ? page_size : SNAPSHOT_CHUNK_BYTES;
	sums->n = size / sums->chunk_bytes + (size % sums->chunk_bytes != 0);
	sums->instance = instance;
	sums->crc = calloc(sums->n, sizeof(*sums->crc));
	int ret = sums->crc
		      ? w_memory_section(w, SNAPSHOT_SEC_MEMORY, instance, gpa, host, size, page_size, bitmap, NULL,
					 present, sums)
		      : snapshot_w_fail(w, -ENOMEM, "section \"%s\": out of memory for the chunk checksums", name);
	free(bitmap);
	return ret < 0 ? ret : (int64_t)present;
}

int64_t snapshot_write_memory_delta(struct snapshot_writer *w, uint32_t instance, uint64_t gpa, const uint8_t *host,
				    uint64_t size, uint32_t page_size, const uint8_t *pages)
{
	char name[SNAPSHOT_NAME_LEN];
	if (w->error || snapshot_w_header(w) < 0)
		return w->error;
	snprintf(name, sizeof(name), "memory-delta %u", instance);
	if (w_memory_geometry(w, name, gpa, size, page_size) < 0)
		return w->error;
	uint64_t npages = size / page_size, bm_len = npages / 8 + (npages % 8 != 0), present = 0, zeroed = 0;
	uint8_t *stored = calloc(2, bm_len + 1);
	if (!stored)
		return snapshot_w_fail(w, -ENOMEM, "section \"%s\": out of memory for the page bitmaps", name);
	uint8_t *zero = stored + bm_len + 1;
	for (uint64_t i = 0; i < npages; i++) {
		if ((i = snapshot_next_bit(pages, i, npages)) >= npages)
			break;
		/* A page zero now is named as such; one that changes after this look is sent whole (or again later). */
		if (snapshot_is_zero(host + i * page_size, page_size)) {
			zero[i / 8] |= (uint8_t)(1u << (i % 8));
			zeroed++;
		} else {
			stored[i / 8] |= (uint8_t)(1u << (i % 8));
			present++;
		}
	}
	int ret = w_memory_section(w, SNAPSHOT_SEC_MEMORY_DELTA, instance, gpa, host, size, page_size, stored, zero,
				   present, NULL);
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
		return snapshot_w_fail(w, -ENOMEM, "out of memory");
	snapshot_w_out(w, hdr, sizeof(hdr));
	w_out_crc(w, mhdr, sizeof(mhdr), &crc);
	w_out_crc(w, bitmaps, 2 * bm_len, &crc);
	w_out_crc(w, records, records_len, &crc);
	snapshot_put_le32(trailer, crc);
	if (snapshot_w_out(w, trailer, sizeof(trailer)) < 0)
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
	if (w->error || snapshot_w_header(w) < 0)
		return w->error;
	snprintf(name, sizeof(name), "memory-packed %u", instance);
	if (w_memory_geometry(w, name, gpa, size, page_size) < 0)
		return w->error;
	if (page_size > PAGE_LZ_MAX_PAGE)
		return snapshot_w_fail(w, -EINVAL, "section \"%s\": %u-byte pages are too large to compress", name,
				       page_size);
	uint64_t npages = size / page_size, bm_len = npages / 8 + (npages % 8 != 0), i = 0;
	int64_t named = 0;
	uint8_t *bitmaps = malloc(2 * bm_len), *page = malloc(page_size);
	uint8_t *records = malloc((uint64_t)SNAPSHOT_PACKED_SECTION_PAGES * (4 + page_size));
	if (!bitmaps || !page || !records) {
		free(bitmaps);
		free(page);
		free(records);
		return snapshot_w_fail(w, -ENOMEM, "section \"%s\": out of memory for the page buffers", name);
	}
	while (!w->error) {
		uint8_t *stored = bitmaps, *zero = bitmaps + bm_len;
		uint64_t present = 0, zeroed = 0, used = 0;
		memset(bitmaps, 0, 2 * bm_len);
		for (; i < npages && present + zeroed < SNAPSHOT_PACKED_SECTION_PAGES; i++) {
			if ((i = snapshot_next_bit(pages, i, npages)) >= npages)
				break;
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

int snapshot_write_memory_sums(struct snapshot_writer *w, uint32_t instance)
{
	const struct snapshot_chunk_sums *sums = &w->sums;
	if (w->error)
		return w->error;
	if (!sums->crc || sums->instance != instance)
		return snapshot_w_fail(w, -EINVAL, "section \"memory-sums %u\": no memory section %u was just written",
				       instance, instance);
	struct snap_writer p;
	snap_writer_init(&p);
	snap_put_u32(&p, sums->chunk_bytes);
	snap_put_u32(&p, sums->head_crc);
	snap_put_u64(&p, sums->n);
	for (uint64_t k = 0; k < sums->n; k++)
		snap_put_u32(&p, sums->crc[k]);
	int ret = snapshot_write_payload(w, SNAPSHOT_SEC_MEMORY_SUMS, instance, SNAPSHOT_SUMS_VERSION, 0, &p);
	snap_writer_fini(&p);
	return ret;
}
