/*
 * `roam ctl` for what follows events (docs/api.md): `migrate DEST` (subscribes, starts the job, shows its rounds on a
 * terminal and prints its report), `events` (prints every event line) and `wait EVENT` (until one matches).
 */
#ifndef ROAM_CTL_FOLLOW_H
#define ROAM_CTL_FOLLOW_H

#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>
#include <sys/types.h>

struct ctl_follow_options {
	bool migrate_options; /* one of the migrate options below was given */
	long long max_downtime_ms; /* -1: the default */
	long long max_bandwidth; /* bytes per second, -1: none */
	long long max_rounds; /* -1: the default */
	const char *compress; /* "lz" or "none"; NULL: the default (none) */
	bool progress; /* print each round even when stderr is not a terminal */
	bool error; /* a bad option value was reported */
};

/*
 * If argv[*i] is a migrate option, consumes it (and its value) and returns 1; returns 0 for any other argument. A
 * bad value prints one line and sets o->error (and returns 1).
 */
int ctl_follow_option(int argc, char **argv, int *i, struct ctl_follow_options *o, FILE *err);

/*
 * One sendmsg of a request's bytes; with `with_stdout`, our standard output goes along (SCM_RIGHTS), so roam writes
 * a snapshot or migration stream straight into it (`roam ctl SOCK snapshot - | ssh host roam restore -`).
 */
ssize_t ctl_send_part(int fd, const char *data, size_t len, bool with_stdout);

/* The migrate DEST as roam needs it: a FILE made absolute, anything else as it is. False after a usage line. */
bool ctl_follow_dest(const char *dest, char *out, size_t size, FILE *err);

/*
 * Runs `cmd` (migrate, events, wait) on the connected socket `fd`: `arg` is the DEST (absolute) or the EVENT, and
 * timeout_s 0 waits for ever. Returns the exit status: 0 done (or the event came), 1 failed, refused, or timed out.
 */
int ctl_follow(int fd, const char *sock, const char *cmd, const char *arg, int timeout_s, bool json,
	       const struct ctl_follow_options *o, FILE *out, FILE *err);

#endif
