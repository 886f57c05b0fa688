/*
 * Whole-file reading and atomic writing for roam's config files (CPU profiles, targets) and snapshots: a reader
 * never sees a half-written file, and "-" means standard input or output. Arch-neutral, no KVM; errors are returned
 * as negative errno values for the caller to put in a message naming the file.
 *
 * An atomic write goes to a temporary file in the destination's directory, renamed over it once complete. Where the
 * file system can (O_TMPFILE and /proc/self/fd), the temporary file has no name until it is complete, so a roam
 * that is killed mid-write leaves nothing behind. Elsewhere it is named "FILE.roam-partial-XXXXXX" and locked
 * (flock) while it is written; the next atomic write of FILE removes the ones no process holds any more (left by a
 * roam that was killed). docs/security.md describes the naming.
 */
#ifndef ROAM_FILE_UTIL_H
#define ROAM_FILE_UTIL_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

#define ATOMIC_FILE_SUFFIX ".roam-partial-" /* then 6 characters: the name of a named temporary file */
#define ATOMIC_FILE_NAMED 0x1u /* atomic_file_open: use a named temporary file even where an anonymous one works */

/* An atomic write in progress. */
struct atomic_file {
	int fd; /* write the contents here */
	char *path; /* the destination */
	char *tmp_path; /* the named temporary file; NULL while it is anonymous */
};

/*
 * Starts an atomic write of `path`: removes stale named temporary files of `path` (unlocked, of this user, not
 * modified for 2 s; each removal is logged), then creates the temporary file with `mode` (less the umask; O_EXCL).
 * `flags`: ATOMIC_FILE_*. Returns 0 or -errno (ENOENT: no such directory; ENOMEM); on failure nothing is left and
 * atomic_file_abort is still safe.
 */
int atomic_file_open(struct atomic_file *f, const char *path, mode_t mode, unsigned flags);

/*
 * Completes it: fsyncs the file, gives it its place over `path` (rename; an anonymous file is linked under a
 * temporary name first) and fsyncs the directory. The descriptor is closed either way. Returns 0 or -errno; on
 * failure `path` is untouched and the temporary file removed.
 */
int atomic_file_commit(struct atomic_file *f);

/* Gives up: closes and removes the temporary file; `path` is untouched. Idempotent. */
void atomic_file_abort(struct atomic_file *f);

/*
 * Writes `len` bytes of `data` to `path` atomically (an atomic_file, mode rw-r--r-- or that of the file it
 * replaces). "-" writes to standard output instead. Returns 0 or -errno; on failure `path` is untouched.
 */
int write_file_atomic(const char *path, const void *data, size_t len);

/*
 * Reads all of `path` ("-": standard input) into a malloc'd buffer with a NUL appended (not counted in *len).
 * Returns 0, -EFBIG if the file is larger than `max` bytes, or another -errno. The caller frees *data.
 */
int read_file_all(const char *path, size_t max, char **data, size_t *len);

#endif
