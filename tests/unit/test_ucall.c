/* Unit test of ucall decoding: the struct layout matches the documented offsets, and bad structs are refused. */
#include "check.h"
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
	return check_exit();
}
