/*
 * Host side of the test-guest ucall ABI (guest-images/include/ucall.h): decoding is separate from the device so
 * unit tests can feed it arbitrary bytes.
 */
#ifndef ROAM_DEVICES_UCALL_H
#define ROAM_DEVICES_UCALL_H

#include <stddef.h>
#include <stdint.h>

#include "guest-images/include/ucall.h"

struct ucall_msg {
	uint16_t cmd;
	uint32_t line;
	uint64_t args[4];
	char file[UCALL_FILE_LEN];
	char msg[UCALL_MSG_LEN];
};

/*
 * Decodes UCALL_SIZE little-endian bytes. Returns 0, or -EINVAL with `why` set to a static reason (bad magic,
 * unknown version, unknown command). Strings are always NUL-terminated in the result.
 */
int ucall_decode(const uint8_t *raw, size_t len, struct ucall_msg *out, const char **why);

#endif
