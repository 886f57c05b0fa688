/*
 * Host side of the test-guest ucall ABI (guest-images/include/ucall.h): decoding is separate from the device so
 * unit tests (and tests/fuzz) can feed it arbitrary bytes. The guest is not trusted: its strings reach roam's log
 * escaped (one line, printable ASCII only), and the ucall device logs at most UCALL_LOG_BURST lines a second for it.
 */
#ifndef ROAM_DEVICES_UCALL_H
#define ROAM_DEVICES_UCALL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "guest-images/include/ucall.h"

/* A guest byte becomes at most 4 printable ones ("\x1b"). */
#define UCALL_ESCAPED_LEN(n) (4 * (n))

struct ucall_msg {
	uint16_t cmd;
	uint32_t line;
	uint64_t args[4];
	char file[UCALL_ESCAPED_LEN(UCALL_FILE_LEN)]; /* escaped (ucall_escape) */
	char msg[UCALL_ESCAPED_LEN(UCALL_MSG_LEN)]; /* escaped (ucall_escape) */
};

/*
 * Decodes UCALL_SIZE little-endian bytes. Returns 0, or -EINVAL with `why` set to a static reason (bad magic,
 * unknown version, unknown command). Strings end at their first NUL or at the end of their array, and are escaped
 * with ucall_escape, so they are NUL-terminated printable ASCII in the result.
 */
int ucall_decode(const uint8_t *raw, size_t len, struct ucall_msg *out, const char **why);

/*
 * Writes the `len` bytes at `in` (up to a NUL) into out (`size` bytes, at least 1) as printable ASCII: a backslash
 * becomes "\\", newline, carriage return and tab "\n" "\r" "\t", any other byte outside ' '..'~' "\xNN". Always
 * NUL-terminates; stops before an escape that would not fit. Returns the length written.
 */
size_t ucall_escape(const uint8_t *in, size_t len, char *out, size_t size);

/* The guest's log lines (PRINT, traced SYNCs, malformed stores): at most this many a second (guest_log.h). */
#define UCALL_LOG_BURST 16

#endif
