/*
 * Error and trace output: see log.h. One write per line keeps lines from different threads whole. The capture of
 * a job's error lines is the one piece of state here: a per-thread pointer to the caller's struct, set only between
 * log_capture_begin and log_capture_end on that thread (log.h says why this keeps to "no mutable globals").
 */
#include "log.h"

#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

static _Thread_local struct log_capture *log_capture_current;

#define LOG_PREFIX "roam: "

static void log_line(bool error, const char *fmt, va_list ap)
{
	char line[1024];
	int n = snprintf(line, sizeof(line), LOG_PREFIX);
	int m = vsnprintf(line + n, sizeof(line) - (size_t)n - 1, fmt, ap);
	size_t len = (size_t)n + (m < 0 ? 0 : (size_t)m);
	if (len > sizeof(line) - 2)
		len = sizeof(line) - 2;
	line[len++] = '\n';
	ssize_t unused = write(STDERR_FILENO, line, len);
	(void)unused;

	struct log_capture *cap = log_capture_current;
	if (error && cap && cap->count++ == 0) {
		const char *text = line + n;
		size_t text_len = strcspn(text, "\n"); /* a message of several lines: its first */
		if (text_len >= sizeof(cap->first))
			text_len = sizeof(cap->first) - 1;
		memcpy(cap->first, text, text_len);
		cap->first[text_len] = '\0';
	}
}

int log_error(const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	log_line(true, fmt, ap);
	va_end(ap);
	return -1;
}

int log_errno(int err, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	log_line(true, fmt, ap);
	va_end(ap);
	return err;
}

void log_info(const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	log_line(false, fmt, ap);
	va_end(ap);
}

void log_capture_begin(struct log_capture *cap)
{
	cap->first[0] = '\0';
	cap->count = 0;
	cap->outer = log_capture_current;
	log_capture_current = cap;
}

void log_capture_end(struct log_capture *cap)
{
	if (log_capture_current == cap)
		log_capture_current = cap->outer;
}
