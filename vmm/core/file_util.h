/*
 * Whole-file reading and atomic writing for roam's config files (CPU profiles, targets): a reader never sees a
 * half-written file, and "-" means standard input or output. Arch-neutral, no KVM; errors are returned as negative
 * errno values for the caller to put in a message naming the file.
 */
#ifndef ROAM_FILE_UTIL_H
#define ROAM_FILE_UTIL_H

#include <stddef.h>

/*
 * Writes `len` bytes of `data` to `path` atomically: into a temporary file in the same directory, fsync'ed, then
 * renamed over `path` (the directory is fsync'ed too). "-" writes to standard output instead. Returns 0 or -errno;
 * on failure `path` is untouched and the temporary file removed.
 */
int write_file_atomic(const char *path, const void *data, size_t len);

/*
 * Reads all of `path` ("-": standard input) into a malloc'd buffer with a NUL appended (not counted in *len).
 * Returns 0, -EFBIG if the file is larger than `max` bytes, or another -errno. The caller frees *data.
 */
int read_file_all(const char *path, size_t max, char **data, size_t *len);

#endif
