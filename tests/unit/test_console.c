/* Unit test of console input filtering: the Ctrl-A escapes on a terminal, and pass-through otherwise. */
#include "check.h"
#include "core/console.h"

int main(void)
{
	struct console con = {.is_tty = true};
	bool quit;
	uint8_t in1[] = {'a', CONSOLE_ESCAPE, CONSOLE_ESCAPE, 'b', CONSOLE_ESCAPE, 'z', 'c'};
	size_t n = console_filter(&con, in1, sizeof(in1), &quit);
	CHECK(!quit);
	CHECK_EQ(n, 4);
	CHECK(!memcmp(in1, "a\001bc", 4));

	uint8_t in2[] = {'l', 's', CONSOLE_ESCAPE};
	n = console_filter(&con, in2, sizeof(in2), &quit);
	CHECK_EQ(n, 2);
	CHECK(con.escape_pending); /* the escape may arrive split across reads */
	uint8_t in3[] = {'x', 'y'};
	n = console_filter(&con, in3, sizeof(in3), &quit);
	CHECK(quit);
	CHECK_EQ(n, 0);

	struct console pipe_con = {.is_tty = false};
	uint8_t in4[] = {CONSOLE_ESCAPE, 'x'};
	n = console_filter(&pipe_con, in4, sizeof(in4), &quit);
	CHECK(!quit);
	CHECK_EQ(n, 2);
	return check_exit();
}
