/* Every problem of a merge, one line each: see problems.h. */
#include "problems.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

/* Room kept at the end of the buffer for the "... and N more problems" line. */
#define DROPPED_LINE_ROOM 48

void targets_problem(struct targets_problems *pr, const char *fmt, ...)
{
	pr->count++;
	if (!pr->len)
		return;
	size_t used = pr->count > 1 ? strlen(pr->buf) : 0;
	if (pr->count == 1)
		pr->buf[0] = '\0';
	size_t room = pr->len - used;
	/* The first problem always goes in (cut if it must); later ones only whole, with room left for the count. */
	char line[1024];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(line, sizeof(line), fmt, ap);
	va_end(ap);
	size_t need = strlen(line) + (used ? 1 : 0);
	if (used && need + DROPPED_LINE_ROOM >= room) {
		pr->dropped++;
		return;
	}
	snprintf(pr->buf + used, room, "%s%s", used ? "\n" : "", line);
}

int targets_problems_finish(struct targets_problems *pr, int err)
{
	if (pr->dropped && pr->len) {
		size_t used = strlen(pr->buf);
		snprintf(pr->buf + used, pr->len - used, "\n... and %d more problem%s", pr->dropped,
			 pr->dropped > 1 ? "s" : "");
	}
	return err;
}
