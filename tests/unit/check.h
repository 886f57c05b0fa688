/*
 * A minimal unit-test harness: CHECK* macros record failures with file:line and keep going; check_exit() prints
 * "N passed, M failed" and returns the process status. Tests are plain executables run by CTest.
 */
#ifndef ROAM_TEST_CHECK_H
#define ROAM_TEST_CHECK_H

#include <inttypes.h>
#include <stdio.h>
#include <string.h>

struct check_counts {
	int passed;
	int failed;
};

/* Each test file has one counter; it is the test program's own state, not the project's. */
static struct check_counts check_counts;

#define CHECK(cond)                                                                                                    \
	do {                                                                                                           \
		if (cond) {                                                                                            \
			check_counts.passed++;                                                                         \
		} else {                                                                                               \
			check_counts.failed++;                                                                         \
			fprintf(stderr, "%s:%d: CHECK(%s) failed\n", __FILE__, __LINE__, #cond);                       \
		}                                                                                                      \
	} while (0)

#define CHECK_EQ(a, b)                                                                                                 \
	do {                                                                                                           \
		uint64_t check_a_ = (uint64_t)(a), check_b_ = (uint64_t)(b);                                           \
		if (check_a_ == check_b_) {                                                                            \
			check_counts.passed++;                                                                         \
		} else {                                                                                               \
			check_counts.failed++;                                                                         \
			fprintf(stderr, "%s:%d: %s == %s failed: %#" PRIx64 " != %#" PRIx64 "\n", __FILE__, __LINE__,  \
				#a, #b, check_a_, check_b_);                                                           \
		}                                                                                                      \
	} while (0)

#define CHECK_CONTAINS(haystack, needle)                                                                               \
	do {                                                                                                           \
		const char *check_h_ = (haystack), *check_n_ = (needle);                                               \
		if (check_h_ && strstr(check_h_, check_n_)) {                                                          \
			check_counts.passed++;                                                                         \
		} else {                                                                                               \
			check_counts.failed++;                                                                         \
			fprintf(stderr, "%s:%d: \"%s\" does not contain \"%s\"\n", __FILE__, __LINE__,                 \
				check_h_ ? check_h_ : "(null)", check_n_);                                             \
		}                                                                                                      \
	} while (0)

static inline int check_exit(void)
{
	printf("%d passed, %d failed\n", check_counts.passed, check_counts.failed);
	return check_counts.failed ? 1 : 0;
}

#endif
