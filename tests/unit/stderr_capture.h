/*
 * For tests that check what roam logs: sends file descriptor 2 (log.c writes there, from any thread) to a temporary
 * file between stderr_capture_begin and stderr_capture_end, which returns what was written.
 */
#ifndef ROAM_TEST_STDERR_CAPTURE_H
#define ROAM_TEST_STDERR_CAPTURE_H

#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

struct stderr_capture {
	int fd; /* the temporary file (already unlinked) */
	int saved; /* the real stderr */
};

/* Starts sending fd 2 to a fresh temporary file. */
static inline void stderr_capture_begin(struct stderr_capture *c)
{
	char path[] = "/tmp/roam-test-stderr-XXXXXX";
	c->fd = mkstemp(path);
	unlink(path);
	fflush(stderr);
	c->saved = dup(STDERR_FILENO);
	dup2(c->fd, STDERR_FILENO);
}

/* Gives fd 2 back; returns what was written meanwhile (malloc'ed, NUL-terminated, at most 64 KiB). */
static inline char *stderr_capture_end(struct stderr_capture *c)
{
	dup2(c->saved, STDERR_FILENO);
	close(c->saved);
	char *text = calloc(1, 65536);
	ssize_t n = text ? pread(c->fd, text, 65535, 0) : 0;
	(void)n;
	close(c->fd);
	return text;
}

#endif
