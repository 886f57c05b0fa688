/*
 * Page compression (vmm/snapshot/page_lz.h): pages of every kind come back byte for byte - zero-heavy, text,
 * repeating patterns (overlapping matches), long literal runs and long matches (extra length bytes), pseudo-random
 * data (refused: stored raw) - and the decoder refuses every malformed input without leaving its buffers: offsets of
 * 0 or before the page, runs past either end, a wrong total, and every truncation and single-byte change of valid
 * encodings (ASan watches the native build).
 */
#include "check.h"
#include "snapshot/page_lz.h"

#include <stdlib.h>
#include <string.h>

#define PAGE 4096u

/* Compresses `page` with room for PAGE - 1 bytes; if it fits, decodes it back and compares. Returns the length. */
static size_t round_trip(const uint8_t *page, size_t n)
{
	uint8_t packed[PAGE], back[PAGE + 16];
	size_t len = page_lz_compress(page, n, packed, n - 1);
	if (len) {
		memset(back, 0xee, sizeof(back));
		CHECK_EQ(page_lz_decompress(packed, len, back, n), 0);
		CHECK(!memcmp(back, page, n));
		CHECK_EQ(back[n], 0xee); /* nothing written past the page */
	}
	return len;
}

static uint32_t next_random(uint32_t *s)
{
	*s = *s * 1664525u + 1013904223u;
	return *s >> 8;
}

static void test_round_trips(void)
{
	uint8_t page[PAGE];
	uint32_t seed = 7;
	memset(page, 0, PAGE); /* zero but one word: tiny */
	memcpy(page + 1000, "\x12\x34\x56\x78\x9a\xbc\xde\xf0", 8);
	size_t len = round_trip(page, PAGE);
	CHECK(len > 0 && len < 64);
	for (unsigned i = 0; i < PAGE; i++) /* text */
		page[i] = (uint8_t) "the quick brown fox jumps over the lazy dog; "[i % 45];
	len = round_trip(page, PAGE);
	CHECK(len > 0 && len < 300);
	for (unsigned i = 0; i < PAGE; i++) /* period 3: every match overlaps what it writes */
		page[i] = (uint8_t)(i % 3);
	CHECK(round_trip(page, PAGE) > 0);
	for (unsigned i = 0; i < PAGE; i++) /* 1000 random bytes (literal run > 15 + 255), then a long match */
		page[i] = i < 1000 ? (uint8_t)next_random(&seed) : 0x42;
	len = round_trip(page, PAGE);
	CHECK(len > 1000 && len < 1100);
	for (unsigned i = 0; i < PAGE; i++) /* random: nothing to gain, refused */
		page[i] = (uint8_t)next_random(&seed);
	CHECK_EQ(round_trip(page, PAGE), 0);
	/* Pages of other sizes, down to nothing. */
	for (size_t n = 1; n < 64; n++) {
		uint8_t small[64] = {0}, packed[128], back[64];
		small[n - 1] = 9;
		size_t l = page_lz_compress(small, n, packed, sizeof(packed));
		CHECK(l > 0);
		CHECK_EQ(page_lz_decompress(packed, l, back, n), 0);
		CHECK(!memcmp(back, small, n));
	}
	/* Too little room: refused, never written past cap. */
	memset(page, 0, PAGE);
	uint8_t tight[8] = {0};
	CHECK_EQ(page_lz_compress(page, PAGE, tight, 3), 0);
	CHECK_EQ(tight[3], 0);
	CHECK_EQ(page_lz_compress(page, PAGE_LZ_MAX_PAGE + 1, tight, 8), 0);
}

static void test_malformed(void)
{
	uint8_t out[32];
	/* 2 literals "ab", then a match at offset 3: before the start of the page. */
	CHECK_EQ(page_lz_decompress((const uint8_t *)"\x20\x61\x62\x03\x00", 5, out, 16), -1);
	CHECK_EQ(page_lz_decompress((const uint8_t *)"\x20\x61\x62\x00\x00", 5, out, 16), -1); /* offset 0 */
	CHECK_EQ(page_lz_decompress((const uint8_t *)"\x30\x61\x62", 3, out, 16), -1); /* literals past the input */
	CHECK_EQ(page_lz_decompress((const uint8_t *)"\x20\x61\x62", 3, out, 16), -1); /* 2 bytes, not 16 */
	CHECK_EQ(page_lz_decompress((const uint8_t *)"\x20\x61\x62", 3, out, 2), 0);
	CHECK_EQ(page_lz_decompress((const uint8_t *)"\x20\x61\x62\x01", 4, out, 16), -1); /* half an offset */
	CHECK_EQ(page_lz_decompress((const uint8_t *)"\x2f\x61\x62\x01\x00", 5, out, 16), -1); /* no extra length */
	/* "ab", then 16 bytes from 1 back: 18 bytes, too many for 16, right for 18. */
	CHECK_EQ(page_lz_decompress((const uint8_t *)"\x2c\x61\x62\x01\x00", 5, out, 16), -1);
	CHECK_EQ(page_lz_decompress((const uint8_t *)"\x2c\x61\x62\x01\x00", 5, out, 18), 0);
	CHECK(!memcmp(out, "abbbbbbbbbbbbbbbbb", 18));
	CHECK_EQ(page_lz_decompress((const uint8_t *)"\xf0\xff\xff\xff", 4, out, 16), -1); /* a huge literal run */
	CHECK_EQ(page_lz_decompress((const uint8_t *)"", 0, out, 1), -1);
	CHECK_EQ(page_lz_decompress((const uint8_t *)"", 0, out, 0), 0);

	/* Every truncation and every one-byte change of real encodings: refused or decoded, never outside. */
	uint8_t page[PAGE], packed[PAGE], *back = malloc(PAGE);
	uint32_t seed = 3;
	for (unsigned i = 0; i < PAGE; i++)
		page[i] = (i / 64) % 5 == 0 ? (uint8_t)next_random(&seed) : (uint8_t)(i % 7);
	size_t len = page_lz_compress(page, PAGE, packed, PAGE - 1);
	CHECK(len > 0);
	int refused = 0;
	for (size_t cut = 0; cut < len; cut++)
		refused += page_lz_decompress(packed, cut, back, PAGE) < 0;
	CHECK_EQ(refused, (int)len); /* a shorter input can never make the whole page */
	for (size_t at = 0; at < len; at++) {
		uint8_t keep = packed[at];
		packed[at] ^= (uint8_t)(1u << (at % 8));
		page_lz_decompress(packed, len, back, PAGE);
		packed[at] = keep;
	}
	free(back);
}

int main(void)
{
	test_round_trips();
	test_malformed();
	return check_exit();
}
