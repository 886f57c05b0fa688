/*
 * For the harnesses that read snapshots (fuzz_snapshot, fuzz_restore): every part of a snapshot is checksummed, so
 * random mutations would almost never get past the CRCs. Their custom mutators repair the checksums of most inputs
 * with this (the custom mutator below, three inputs in four). Include it from one file per program, after
 * fuzz_util.h.
 */
#ifndef ROAM_FUZZ_SNAPSHOT_CRC_H
#define ROAM_FUZZ_SNAPSHOT_CRC_H

#include "fuzz_util.h"
#include "snapshot/crc32c.h"
#include "snapshot/snapshot_format.h"

#include <stddef.h>
#include <stdint.h>

/* Makes the checksums of a mutated snapshot right again, as far as its framing goes, so that its contents are read. */
static inline void fuzz_fix_snapshot_checksums(uint8_t *data, size_t size)
{
	if (size < SNAPSHOT_HEADER_SIZE)
		return;
	snapshot_put_le32(data + SNAPSHOT_HEADER_SIZE - 4, crc32c(data, SNAPSHOT_HEADER_SIZE - 4));
	uint64_t count = 0;
	for (size_t off = SNAPSHOT_HEADER_SIZE; size - off >= SNAPSHOT_SECTION_HEADER_SIZE;) {
		uint8_t *h = data + off;
		struct snapshot_raw_section s;
		snapshot_decode_section_header(h, &s);
		size_t payload = off + SNAPSHOT_SECTION_HEADER_SIZE;
		if (s.length > size - payload || size - payload - s.length < SNAPSHOT_SECTION_TRAILER_SIZE) {
			snapshot_put_le32(h + 28, crc32c(h, 28));
			return;
		}
		if (s.id == SNAPSHOT_SEC_END && s.length == 8)
			for (int i = 0; i < 8; i++)
				data[payload + (size_t)i] = (uint8_t)(count >> (8 * i));
		snapshot_put_le32(h + 28, crc32c(h, 28));
		snapshot_put_le32(data + payload + s.length, crc32c(data + payload, s.length));
		off = payload + s.length + SNAPSHOT_SECTION_TRAILER_SIZE;
		count++;
	}
}

size_t LLVMFuzzerCustomMutator(uint8_t *data, size_t size, size_t max_size, unsigned int seed)
{
	size = LLVMFuzzerMutate(data, size, max_size);
	if (seed % 4)
		fuzz_fix_snapshot_checksums(data, size);
	return size;
}

#endif
