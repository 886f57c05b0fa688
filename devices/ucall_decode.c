/* Decoding of the ucall struct (pure, unit-tested): see ucall.h. */
#include "ucall.h"

#include <errno.h>
#include <string.h>

static uint64_t le_get(const uint8_t *p, int bytes)
{
	uint64_t v = 0;
	for (int i = bytes - 1; i >= 0; i--)
		v = (v << 8) | p[i];
	return v;
}

static void copy_string(char *dst, const uint8_t *src, size_t size)
{
	memcpy(dst, src, size);
	dst[size - 1] = '\0';
}

int ucall_decode(const uint8_t *raw, size_t len, struct ucall_msg *out, const char **why)
{
	if (len < UCALL_SIZE) {
		*why = "struct is truncated";
		return -EINVAL;
	}
	if (le_get(raw + UCALL_OFF_MAGIC, 4) != UCALL_MAGIC) {
		*why = "bad magic";
		return -EINVAL;
	}
	if (le_get(raw + UCALL_OFF_VERSION, 2) != UCALL_ABI_VERSION) {
		*why = "unsupported ABI version";
		return -EINVAL;
	}
	memset(out, 0, sizeof(*out));
	out->cmd = (uint16_t)le_get(raw + UCALL_OFF_CMD, 2);
	if (out->cmd < UCALL_SYNC || out->cmd > UCALL_ABORT) {
		*why = "unknown command";
		return -EINVAL;
	}
	out->line = (uint32_t)le_get(raw + UCALL_OFF_LINE, 4);
	for (int i = 0; i < 4; i++)
		out->args[i] = le_get(raw + UCALL_OFF_ARGS + 8 * i, 8);
	copy_string(out->file, raw + UCALL_OFF_FILE, UCALL_FILE_LEN);
	copy_string(out->msg, raw + UCALL_OFF_MSG, UCALL_MSG_LEN);
	return 0;
}
