/*
 * CRC32C (Castagnoli: reflected polynomial 0x82f63b78, initial value and final xor 0xffffffff), the checksum of
 * roam's snapshot file header, section headers and section payloads (docs/snapshot-format.md). The CPU's CRC32C
 * instructions where it has them (arm64's CRC32 extension, x86's SSE4.2; crc32c_accel/, one file per build
 * architecture chosen by CMake), else portable C, table driven (slicing by 8), the same on every architecture and
 * byte order; the tables are const.
 */
#ifndef ROAM_CRC32C_H
#define ROAM_CRC32C_H

#include <stddef.h>
#include <stdint.h>

/*
 * Continues a CRC32C over `len` more bytes of `data`: pass 0 to start, and the previous result to go on, so that
 * crc32c_update(crc32c_update(0, a, n), b, m) equals the CRC32C of a followed by b. crc32c_update(0, "123456789",
 * 9) is 0xe3069283. `data` may be NULL when `len` is 0.
 */
uint32_t crc32c_update(uint32_t crc, const void *data, size_t len);

/* The CRC32C of `len` bytes of `data`: crc32c_update(0, data, len). */
uint32_t crc32c(const void *data, size_t len);

/* crc32c_update's signature. */
typedef uint32_t (*crc32c_fn)(uint32_t crc, const void *data, size_t len);

/* crc32c_update by table only (the reference the accelerated versions are tested against). */
uint32_t crc32c_table_update(uint32_t crc, const void *data, size_t len);

/* crc32c_update by the CPU's instructions, or NULL when this CPU (or this build's architecture) has none. */
crc32c_fn crc32c_accel(void);

#endif
