/*
 * abort: a test guest that fails on purpose, to test roam's ABORT path. After a GUEST_SYNC(1) it prints on the
 * UART the line roam is expected to print,
 *   abort: expect "guest abort at abort.c:NN: assertion failed: 1 == 2 (0x1 != 0x2)"
 * and then fails GUEST_ASSERT_EQ(1, 2) on line NN, so roam prints that line and exits 1. A lab test can take the
 * text between the quotes instead of hard-coding the line number.
 */
#include "guest.h"

/* Prints what a failing GUEST_ASSERT_EQ(a, b) will report, then runs it; both see the same __LINE__. */
#define ABORT_EXPECT_EQ(a, b)                                                                                          \
	do {                                                                                                           \
		guest_printf("abort: expect \"guest abort at %s:%u: " GUEST_ASSERT_EQ_FMT "\"\n", GUEST_FILE,          \
			     (unsigned int)__LINE__, #a, #b, (unsigned long long)(a), (unsigned long long)(b));        \
		GUEST_ASSERT_EQ(a, b);                                                                                 \
	} while (0)

void guest_main(uint64_t dtb)
{
	(void)dtb;
	GUEST_SYNC(1);
	ABORT_EXPECT_EQ(1, 2);
	GUEST_ABORT("GUEST_ASSERT_EQ(1, 2) did not abort");
}
