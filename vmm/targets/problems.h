/*
 * How a merge reports what is wrong: every architecture's merge keeps going after the first problem (so it can
 * count them all) but reports one line, the first problem in full and "(and N more problems)".
 */
#ifndef ROAM_TARGETS_PROBLEMS_H
#define ROAM_TARGETS_PROBLEMS_H

#include <stddef.h>

/* The first problem in full (in buf, len bytes), and how many there were. */
struct targets_problems {
	char *buf;
	size_t len;
	int count;
};

/* Counts a problem; the first one is formatted into pr->buf. */
void targets_problem(struct targets_problems *pr, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* Appends " (and N more problems)" when there was more than one. Returns `err`. */
int targets_problems_finish(struct targets_problems *pr, int err);

#endif
