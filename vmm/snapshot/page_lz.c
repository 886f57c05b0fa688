/* Page compression: see page_lz.h. */
#include "page_lz.h"

#include <string.h>

#define HASH_BITS 10
#define MIN_MATCH 4u
#define NIBBLE_MAX 15u

static uint32_t load32(const uint8_t *p)
{
	uint32_t v;
	memcpy(&v, p, sizeof(v));
	return v;
}

static unsigned hash32(uint32_t v)
{
	return (v * 2654435761u) >> (32 - HASH_BITS);
}

/* Appends the extra length bytes of a nibble that overflowed (`rest` = length - 15); 0 if they do not fit. */
static size_t put_extra(uint8_t *dst, size_t op, size_t cap, size_t rest)
{
	for (;;) {
		if (op >= cap)
			return 0;
		if (rest < 255) {
			dst[op++] = (uint8_t)rest;
			return op;
		}
		dst[op++] = 255;
		rest -= 255;
	}
}

/*
 * Appends one sequence: `lit` literals from `src`, then (match_len != 0) a match of match_len bytes `offset` back.
 * Returns the new output length, or 0 if it would pass cap.
 */
static size_t put_sequence(uint8_t *dst, size_t op, size_t cap, const uint8_t *src, size_t lit, size_t offset,
			   size_t match_len)
{
	size_t m = match_len ? match_len - MIN_MATCH : 0;
	if (op >= cap)
		return 0;
	dst[op++] = (uint8_t)(((lit < NIBBLE_MAX ? lit : NIBBLE_MAX) << 4) | (m < NIBBLE_MAX ? m : NIBBLE_MAX));
	if (lit >= NIBBLE_MAX && !(op = put_extra(dst, op, cap, lit - NIBBLE_MAX)))
		return 0;
	if (lit > cap - op)
		return 0;
	memcpy(dst + op, src, lit);
	op += lit;
	if (!match_len)
		return op;
	if (cap - op < 2)
		return 0;
	dst[op++] = (uint8_t)offset;
	dst[op++] = (uint8_t)(offset >> 8);
	if (m >= NIBBLE_MAX && !(op = put_extra(dst, op, cap, m - NIBBLE_MAX)))
		return 0;
	return op;
}

size_t page_lz_compress(const uint8_t *src, size_t n, uint8_t *dst, size_t cap)
{
	uint16_t table[1u << HASH_BITS] = {0}; /* last position of each 4-byte hash; a stale one fails the compare */
	size_t ip = 0, anchor = 0, op = 0;
	if (n > PAGE_LZ_MAX_PAGE)
		return 0;
	while (n >= MIN_MATCH && ip <= n - MIN_MATCH) {
		uint32_t v = load32(src + ip);
		unsigned h = hash32(v);
		size_t cand = table[h];
		table[h] = (uint16_t)ip;
		if (cand >= ip || load32(src + cand) != v) {
			/* Skip faster through data that does not match: incompressible pages cost less to give up on.
			 */
			ip += 1 + ((ip - anchor) >> 5);
			continue;
		}
		size_t len = MIN_MATCH;
		while (ip + len < n && src[cand + len] == src[ip + len])
			len++;
		op = put_sequence(dst, op, cap, src + anchor, ip - anchor, ip - cand, len);
		if (!op)
			return 0;
		ip += len;
		anchor = ip;
	}
	/* The page ends with literals, or - when a match reached its end - with nothing. */
	return anchor == n ? op : put_sequence(dst, op, cap, src + anchor, n - anchor, 0, 0);
}

/* Adds the extra length bytes after a full nibble to *v; -1 if the input ends or the length passes `limit`. */
static int get_extra(const uint8_t *src, size_t len, size_t *ip, size_t *v, size_t limit)
{
	uint8_t b;
	do {
		if (*ip >= len)
			return -1;
		b = src[(*ip)++];
		*v += b;
		if (*v > limit)
			return -1;
	} while (b == 255);
	return 0;
}

int page_lz_decompress(const uint8_t *src, size_t len, uint8_t *dst, size_t n)
{
	size_t ip = 0, op = 0;
	while (ip < len) {
		unsigned token = src[ip++];
		size_t lit = token >> 4, match = (token & NIBBLE_MAX) + MIN_MATCH;
		if (lit == NIBBLE_MAX && get_extra(src, len, &ip, &lit, n) < 0)
			return -1;
		if (lit > len - ip || lit > n - op)
			return -1;
		memcpy(dst + op, src + ip, lit);
		ip += lit;
		op += lit;
		if (ip == len)
			break;
		if (len - ip < 2)
			return -1;
		size_t offset = (size_t)src[ip] | (size_t)src[ip + 1] << 8;
		ip += 2;
		if ((token & NIBBLE_MAX) == NIBBLE_MAX && get_extra(src, len, &ip, &match, n) < 0)
			return -1;
		if (offset == 0 || offset > op || match > n - op)
			return -1;
		/* Byte by byte: a match may overlap what it produces (offset < length repeats a pattern). */
		for (size_t i = 0; i < match; i++, op++)
			dst[op] = dst[op - offset];
	}
	return op == n ? 0 : -1;
}
