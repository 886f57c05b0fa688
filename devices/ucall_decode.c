/* Decoding and escaping of the ucall struct (pure, unit-tested and fuzzed): see ucall.h. */
#include "ucall.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>

static uint64_t le_get(const uint8_t *p, int bytes)
{
	uint64_t v = 0;
	for (int i = bytes - 1; i >= 0; i--)
		v = (v << 8) | p[i];
	return v;
}

size_t ucall_escape(const uint8_t *in, size_t len, char *out, size_t size)
{
	size_t o = 0;
	for (size_t i = 0; i < len && in[i]; i++) {
		char esc[5];
		uint8_t c = in[i];
		if (c == '\\')
			snprintf(esc, sizeof(esc), "\\\\");
		else if (c == '\n')
			snprintf(esc, sizeof(esc), "\\n");
		else if (c == '\r')
			snprintf(esc, sizeof(esc), "\\r");
		else if (c == '\t')
			snprintf(esc, sizeof(esc), "\\t");
		else if (c < ' ' || c > '~')
			snprintf(esc, sizeof(esc), "\\x%02x", c);
		else
			esc[0] = (char)c, esc[1] = '\0';
		size_t n = strlen(esc);
		if (o + n >= size)
			break;
		memcpy(out + o, esc, n);
		o += n;
	}
	out[o] = '\0';
	return o;
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
	/* A string without a NUL keeps all but its last byte, as the guest library would have written it. */
	ucall_escape(raw + UCALL_OFF_FILE, UCALL_FILE_LEN - 1, out->file, sizeof(out->file));
	ucall_escape(raw + UCALL_OFF_MSG, UCALL_MSG_LEN - 1, out->msg, sizeof(out->msg));
	return 0;
}
