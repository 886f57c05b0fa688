/*
 * One-line error messages into a caller's buffer, for parsers and checks that report to their caller instead of
 * logging (option values, configuration files): `return errbuf_set(err, len, "--disk %s: ...", arg);`.
 */
#ifndef ROAM_ERRBUF_H
#define ROAM_ERRBUF_H

#include <stdbool.h>
#include <stddef.h>

/* Formats the message into err (cut short to fit, always terminated when err_len > 0); returns false. */
bool errbuf_set(char *err, size_t err_len, const char *fmt, ...) __attribute__((format(printf, 3, 4)));

#endif
