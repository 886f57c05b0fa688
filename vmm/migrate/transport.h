/*
 * Where a migration stream goes and comes from (`roam ctl SOCK migrate DEST`, `roam restore --incoming SPEC`):
 *   FILE            a file, written atomically (a valid snapshot: `roam restore FILE` reads it)
 *   -               roam ctl's standard output (passed to roam), or roam restore's standard input
 *   unix:PATH       a UNIX stream socket: the destination listens, the source connects
 *   tcp:HOST:PORT   TCP: the destination listens on HOST:PORT (HOST may be empty or *), the source connects
 *   dev:PATH        a character device both ends open, such as a virtio-serial port between two lab hosts
 * unix, tcp and dev are two-way: the destination answers on the same connection (migrate_send/migrate_recv lines:
 * "ready", "refused REASON", "running", "failed REASON"), so the source learns before it stops its guest whether
 * the destination can take it, and after the last byte whether it runs.
 */
#ifndef ROAM_MIGRATE_TRANSPORT_H
#define ROAM_MIGRATE_TRANSPORT_H

#include <stdbool.h>
#include <stddef.h>

enum migrate_kind {
	MIGRATE_FILE,
	MIGRATE_STDIO,
	MIGRATE_UNIX,
	MIGRATE_TCP,
	MIGRATE_DEV,
};

#define MIGRATE_SPEC_MAX 256

struct migrate_endpoint {
	enum migrate_kind kind;
	char spec[MIGRATE_SPEC_MAX]; /* as given, for messages */
	char path[MIGRATE_SPEC_MAX]; /* FILE, UNIX, DEV */
	char host[MIGRATE_SPEC_MAX]; /* TCP */
	char port[16]; /* TCP */
};

/* Parses a DEST or --incoming SPEC. Returns false with one line in err ("unix: needs a path", ...). */
bool migrate_endpoint_parse(const char *spec, struct migrate_endpoint *ep, char *err, size_t err_len);

/* Whether the other end answers on the same connection (unix, tcp, dev). */
bool migrate_endpoint_two_way(const struct migrate_endpoint *ep);

/*
 * The source's side: connects to a unix or tcp destination (retrying for up to timeout_ms while nothing listens
 * yet) or opens a dev. Returns the fd, or -errno with one line in err. FILE and STDIO are opened by the caller.
 */
int migrate_connect(const struct migrate_endpoint *ep, int timeout_ms, char *err, size_t err_len);

/*
 * The destination's side: listens on a unix or tcp endpoint and accepts one connection (waiting up to timeout_ms; 0
 * for ever), or opens a dev or FILE for reading, or returns standard input for STDIO. Returns the fd (the caller
 * closes it), or -errno with one line in err. A unix socket path is removed again once the connection is accepted.
 */
int migrate_accept(const struct migrate_endpoint *ep, int timeout_ms, char *err, size_t err_len);

/* Sends one message line ("ready", "refused: reason", ...; no newline in it). Returns 0 or -errno. */
int migrate_send(int fd, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/*
 * Waits up to timeout_ms for one message line into buf (without the newline). Returns its length, 0 at end of
 * stream (the other end closed), -ETIMEDOUT, or -errno. Lines longer than the buffer are cut.
 */
int migrate_recv(int fd, char *buf, size_t size, int timeout_ms);

#endif
