/* The first problem in full, and how many there were: see problems.h. */
#include "problems.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

void targets_problem(struct targets_problems *pr, const char *fmt, ...)
{
	if (pr->count++ == 0 && pr->len) {
		va_list ap;
		va_start(ap, fmt);
		vsnprintf(pr->buf, pr->len, fmt, ap);
		va_end(ap);
	}
}

int targets_problems_finish(struct targets_problems *pr, int err)
{
	if (pr->count > 1 && pr->len) {
		size_t used = strlen(pr->buf);
		snprintf(pr->buf + used, pr->len - used, " (and %d more problem%s)", pr->count - 1,
			 pr->count > 2 ? "s" : "");
	}
	return err;
}
