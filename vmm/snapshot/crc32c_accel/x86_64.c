/*
 * CRC32C with x86's SSE4.2 CRC32 instruction, where the CPU has it: see crc32c.h. CMake builds this file for the
 * native preset on x86_64 only.
 */
#include "snapshot/crc32c.h"

#include <nmmintrin.h>
#include <string.h>

__attribute__((target("sse4.2"))) static uint32_t crc32c_sse42(uint32_t crc, const void *data, size_t len)
{
	const uint8_t *p = data;
	uint64_t c = ~crc;
	for (; len >= 8; p += 8, len -= 8) {
		uint64_t v;
		memcpy(&v, p, 8);
		c = _mm_crc32_u64(c, v);
	}
	uint32_t c32 = (uint32_t)c;
	while (len--)
		c32 = _mm_crc32_u8(c32, *p++);
	return ~c32;
}

crc32c_fn crc32c_accel(void)
{
	return __builtin_cpu_supports("sse4.2") ? crc32c_sse42 : NULL;
}
