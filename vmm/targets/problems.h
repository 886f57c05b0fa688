/*
 * How a merge reports what is wrong: every architecture's merge keeps going after the first problem and lists every
 * one, one line each ('\n'-separated in the caller's buffer), so that a user fixes a set of profiles in one pass.
 */
#ifndef ROAM_TARGETS_PROBLEMS_H
#define ROAM_TARGETS_PROBLEMS_H

#include <stddef.h>

/* The problems' lines (in buf, len bytes), how many there were, and how many did not fit in buf. */
struct targets_problems {
	char *buf;
	size_t len;
	int count;
	int dropped;
};

/* Adds a problem as a line of its own in pr->buf (or counts it as dropped when the buffer is full). */
void targets_problem(struct targets_problems *pr, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* Adds a last line "... and N more problems" for the dropped ones, if any. Returns `err`. */
int targets_problems_finish(struct targets_problems *pr, int err);

#endif
