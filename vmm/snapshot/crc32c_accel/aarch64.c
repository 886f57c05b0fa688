/*
 * CRC32C with arm64's CRC32 extension (CRC32CX/CRC32CB), where the CPU has it (HWCAP_CRC32): see crc32c.h. CMake
 * builds this file for the arm64 preset only.
 */
#include "snapshot/crc32c.h"

#include <arm_acle.h>
#include <string.h>
#include <sys/auxv.h>

#ifndef HWCAP_CRC32
#define HWCAP_CRC32 (1 << 7)
#endif

__attribute__((target("+crc"))) static uint32_t crc32c_arm64(uint32_t crc, const void *data, size_t len)
{
	const uint8_t *p = data;
	crc = ~crc;
	for (; len >= 8; p += 8, len -= 8) {
		uint64_t v;
		memcpy(&v, p, 8); /* any alignment; arm64 Linux is little-endian, as the CRC's byte order wants */
		crc = __crc32cd(crc, v);
	}
	while (len--)
		crc = __crc32cb(crc, *p++);
	return ~crc;
}

crc32c_fn crc32c_accel(void)
{
	return getauxval(AT_HWCAP) & HWCAP_CRC32 ? crc32c_arm64 : NULL;
}
