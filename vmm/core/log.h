/*
 * Error and trace output for people (DESIGN.md rule 14): one line says what failed, on which object, and why.
 * Everything goes to stderr, prefixed with "roam: ", so the guest console on stdout stays clean.
 */
#ifndef ROAM_LOG_H
#define ROAM_LOG_H

#include <stdarg.h>

/* Prints "roam: <message>\n" on stderr. Always returns -1 so callers can `return log_error(...)` style helpers. */
int log_error(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/* Like log_error, and returns `err` (a negative errno) unchanged so library code can report and propagate. */
int log_errno(int err, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* Prints "roam: <message>\n" on stderr for informational output (warnings, traces). */
void log_info(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

#endif
