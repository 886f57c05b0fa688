/*
 * Helpers shared by the libFuzzer harnesses of tests/fuzz (each includes it once): the seed-writing mode (a harness
 * run with ROAM_FUZZ_WRITE_SEEDS=DIR writes its seed corpus into DIR, made by the project's own code, and exits),
 * inputs as files (a memfd, seekable, reachable by path as /proc/self/fd/N) or as a stream (a pipe), and invariant
 * checks that abort with a message, which libFuzzer reports as a crash with the input that caused it.
 */
#ifndef ROAM_FUZZ_UTIL_H
#define ROAM_FUZZ_UTIL_H

#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

/* The harness's own entry points (libFuzzer calls them), and libFuzzer's mutator for custom mutators to call. */
int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
size_t LLVMFuzzerCustomMutator(uint8_t *data, size_t size, size_t max_size, unsigned int seed);
size_t LLVMFuzzerMutate(uint8_t *data, size_t size, size_t max_size);

/* An invariant: aborts (a crash libFuzzer keeps the input of) with the condition and a message when it fails. */
#define FUZZ_ASSERT(cond, ...)                                                                                         \
	do {                                                                                                           \
		if (!(cond)) {                                                                                         \
			fprintf(stderr, "%s:%d: invariant broken: %s: ", __FILE__, __LINE__, #cond);                   \
			fprintf(stderr, __VA_ARGS__);                                                                  \
			fputc('\n', stderr);                                                                           \
			abort();                                                                                       \
		}                                                                                                      \
	} while (0)

/* Writes one seed file DIR/NAME. */
static inline void fuzz_seed(const char *dir, const char *name, const void *data, size_t len)
{
	char path[4096];
	snprintf(path, sizeof(path), "%s/%s", dir, name);
	FILE *f = fopen(path, "wb");
	if (!f || fwrite(data, 1, len, f) != len || fclose(f) != 0) {
		fprintf(stderr, "cannot write the seed %s\n", path);
		exit(1);
	}
}

/*
 * In seed-writing mode (ROAM_FUZZ_WRITE_SEEDS set): calls write(dir) and exits 0. Call from LLVMFuzzerInitialize.
 * A test program may exit; the project's libraries never do.
 */
static inline void fuzz_maybe_write_seeds(void (*write)(const char *dir))
{
	const char *dir = getenv("ROAM_FUZZ_WRITE_SEEDS");
	if (!dir)
		return;
	write(dir);
	exit(0);
}

/* A memfd holding `len` bytes of `data`, at offset 0; -1 on failure. */
static inline int fuzz_memfd(const char *name, const void *data, size_t len)
{
	int fd = memfd_create(name, MFD_CLOEXEC);
	if (fd < 0)
		return -1;
	const uint8_t *p = data;
	while (len) {
		ssize_t n = write(fd, p, len);
		if (n <= 0) {
			close(fd);
			return -1;
		}
		p += n;
		len -= (size_t)n;
	}
	lseek(fd, 0, SEEK_SET);
	return fd;
}

#endif
