/*
 * Unit test of ucall decoding: the struct layout matches the documented offsets, bad structs are refused, the
 * guest's strings come out escaped (no terminal escape sequences or line breaks reach the log), and the log rate
 * limit lets UCALL_LOG_BURST lines a second through and counts the rest.
 */
#include "check.h"
#include "devices/guest_log.h"
#include "devices/ucall.h"

#include <errno.h>
#include <stddef.h>

int main(void)
{
	CHECK_EQ(offsetof(struct ucall, magic), UCALL_OFF_MAGIC);
	CHECK_EQ(offsetof(struct ucall, version), UCALL_OFF_VERSION);
	CHECK_EQ(offsetof(struct ucall, cmd), UCALL_OFF_CMD);
	CHECK_EQ(offsetof(struct ucall, line), UCALL_OFF_LINE);
	CHECK_EQ(offsetof(struct ucall, args), UCALL_OFF_ARGS);
	CHECK_EQ(offsetof(struct ucall, file), UCALL_OFF_FILE);
	CHECK_EQ(offsetof(struct ucall, msg), UCALL_OFF_MSG);
	CHECK_EQ(sizeof(struct ucall), UCALL_SIZE);

	struct ucall uc;
	memset(&uc, 0, sizeof(uc));
	uc.magic = UCALL_MAGIC;
	uc.version = UCALL_ABI_VERSION;
	uc.cmd = UCALL_ABORT;
	uc.line = 42;
	uc.args[3] = 0x1234;
	strcpy(uc.file, "abort.c");
	memset(uc.msg, 'x', sizeof(uc.msg)); /* not terminated: decoding must terminate it */

	struct ucall_msg msg;
	const char *why;
	CHECK_EQ(ucall_decode((const uint8_t *)&uc, sizeof(uc), &msg, &why), 0);
	CHECK_EQ(msg.cmd, UCALL_ABORT);
	CHECK_EQ(msg.line, 42);
	CHECK_EQ(msg.args[3], 0x1234);
	CHECK(!strcmp(msg.file, "abort.c"));
	CHECK_EQ(strlen(msg.msg), UCALL_MSG_LEN - 1);

	CHECK_EQ(ucall_decode((const uint8_t *)&uc, sizeof(uc) - 1, &msg, &why), -EINVAL);
	CHECK_CONTAINS(why, "truncated");
	uc.magic = 0;
	CHECK_EQ(ucall_decode((const uint8_t *)&uc, sizeof(uc), &msg, &why), -EINVAL);
	CHECK_CONTAINS(why, "magic");
	uc.magic = UCALL_MAGIC;
	uc.version = 2;
	CHECK_EQ(ucall_decode((const uint8_t *)&uc, sizeof(uc), &msg, &why), -EINVAL);
	CHECK_CONTAINS(why, "version");
	uc.version = UCALL_ABI_VERSION;
	uc.cmd = 99;
	CHECK_EQ(ucall_decode((const uint8_t *)&uc, sizeof(uc), &msg, &why), -EINVAL);
	CHECK_CONTAINS(why, "command");

	/* Hostile strings: a terminal escape sequence, a forged second log line, a backslash, high bytes. */
	uc.cmd = UCALL_PRINT;
	memset(uc.msg, 0, sizeof(uc.msg));
	strcpy(uc.msg, "\x1b[2J\rroam: guest abort at fake.c:1: x\n\\\t\xff");
	memset(uc.file, 0xff, sizeof(uc.file)); /* not terminated, all high bytes: 63 of them, escaped */
	CHECK_EQ(ucall_decode((const uint8_t *)&uc, sizeof(uc), &msg, &why), 0);
	CHECK(!strcmp(msg.msg, "\\x1b[2J\\rroam: guest abort at fake.c:1: x\\n\\\\\\t\\xff"));
	CHECK_EQ(strlen(msg.file), 4 * (UCALL_FILE_LEN - 1));
	for (const char *p = msg.file; *p; p++)
		CHECK(*p >= ' ' && *p <= '~');
	memset(uc.msg, '\n', sizeof(uc.msg)); /* the longest escape of the longest message fits */
	CHECK_EQ(ucall_decode((const uint8_t *)&uc, sizeof(uc), &msg, &why), 0);
	CHECK_EQ(strlen(msg.msg), 2 * (UCALL_MSG_LEN - 1));
	char small[6];
	CHECK_EQ(ucall_escape((const uint8_t *)"ab\x01c", 4, small, sizeof(small)), 2); /* "\x01" does not fit */
	CHECK(!strcmp(small, "ab"));

	/* The rate limit: a burst per second, the rest counted and reported with the next line logged. */
	struct guest_log_rate rate = {0};
	uint64_t dropped, t = 5000000000ull;
	bool last;
	int logged = 0;
	for (int i = 0; i < 1000; i++)
		logged += guest_log_rate_allow(&rate, UCALL_LOG_BURST, t + (uint64_t)i * 1000, &dropped, &last);
	CHECK_EQ(logged, UCALL_LOG_BURST);
	CHECK(guest_log_rate_allow(&rate, UCALL_LOG_BURST, t + GUEST_LOG_WINDOW_NS, &dropped, &last));
	CHECK_EQ(dropped, 1000 - UCALL_LOG_BURST);
	CHECK(!last);
	CHECK(guest_log_rate_allow(&rate, UCALL_LOG_BURST, t + GUEST_LOG_WINDOW_NS + 1, &dropped, &last));
	CHECK_EQ(dropped, 0);
	return check_exit();
}
