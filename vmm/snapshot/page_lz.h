/*
 * Page compression for migration streams (`--compress lz`): LZ77 over one page at a time, so every page decodes on
 * its own and a damaged one names itself. The format (docs/snapshot-format.md, "memory-packed"): a page is a run of
 * sequences, each a token byte (high nibble: literal count, low nibble: match length - 4; 15 in either means more
 * length bytes follow, each added, until one is below 255), the literals, then a 2-byte little-endian offset back
 * into the page already decoded and the match's extra length bytes. The page ends where the input does: after a
 * sequence's literals, or after a match that reached the page's end.
 * Greedy and single-pass: it is meant to beat a slow link (a virtio-serial port, a WAN), not to pack tightly.
 */
#ifndef ROAM_PAGE_LZ_H
#define ROAM_PAGE_LZ_H

#include <stddef.h>
#include <stdint.h>

/* The largest page page_lz_compress takes (offsets are 16 bits). */
#define PAGE_LZ_MAX_PAGE 65536u

/*
 * Compresses the `n` bytes at src (n <= PAGE_LZ_MAX_PAGE) into dst, at most `cap` bytes. Returns the compressed
 * length, or 0 if it would not fit in cap (store the page raw then).
 */
size_t page_lz_compress(const uint8_t *src, size_t n, uint8_t *dst, size_t cap);

/*
 * Decodes `len` bytes at src into exactly `n` bytes at dst. Returns 0, or -1 if the input is not a valid encoding of
 * n bytes (a length, offset or literal run that leaves the page or the input, or the wrong total); dst may then hold
 * anything. Never reads or writes outside the two buffers, whatever the input.
 */
int page_lz_decompress(const uint8_t *src, size_t len, uint8_t *dst, size_t n);

#endif
