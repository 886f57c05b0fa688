/*
 * Error and trace output for people (DESIGN.md rule 14): one line says what failed, on which object, and why.
 * Everything goes to stderr, prefixed with "roam: ", so the guest console on stdout stays clean.
 *
 * A caller that must hand a failure on to someone else (the control API answers its client with it) can capture the
 * error lines its own thread logs while it does one job: log_capture_begin(&cap), the job, log_capture_end(&cap).
 * The capture is per thread and scoped, like errno: it sees only what the thread that began it logs between begin
 * and end (never another VM's or vCPU's lines), lives in the caller's struct, and leaves nothing behind at its end.
 * So deep code keeps one way of reporting (log_error), and several VMs in one process still work (rule 1).
 */
#ifndef ROAM_LOG_H
#define ROAM_LOG_H

#include <stdarg.h>

/* Prints "roam: <message>\n" on stderr. Always returns -1 so callers can `return log_error(...)` style helpers. */
int log_error(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/* Like log_error, and returns `err` (a negative errno) unchanged so library code can report and propagate. */
int log_errno(int err, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* Prints "roam: <message>\n" on stderr for informational output (warnings, traces). Never captured. */
void log_info(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

#define LOG_CAPTURE_LINE 512

/* The error lines one thread logged during a job. Read `first` and `count`; the rest is private. */
struct log_capture {
	char first[LOG_CAPTURE_LINE]; /* the first error line: without "roam: ", its first line only; "" if none */
	unsigned int count; /* error lines (log_error, log_errno) logged meanwhile */
	struct log_capture *outer; /* the capture this one interrupts, restored by log_capture_end */
};

/*
 * Starts capturing the calling thread's error lines into `cap` (emptied first); they still go to stderr too. A
 * capture begun inside another one takes the lines until it ends. `cap` must stay valid until log_capture_end.
 */
void log_capture_begin(struct log_capture *cap);

/* Ends the capture `cap` (the innermost one of the calling thread); `cap` keeps what it captured. */
void log_capture_end(struct log_capture *cap);

#endif
