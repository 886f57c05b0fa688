/*
 * blkbench: a tiny block I/O benchmark for tools/bench/blk, built static for arm64 and put into the nested guest's
 * initramfs (mkinitramfs --bin) because the guest has no fio. It runs the same way in the guest on /dev/vda and in
 * the emulated host on the disk image itself, so the two figures compare.
 *
 * usage: blkbench seqread|seqwrite|randread|randwrite FILE [-b BYTES] [-s SECONDS] [-j JOBS] [-d]
 *   seq*:  one pass over the file (or until SECONDS) in blocks of BYTES (default 1 MiB)
 *   rand*: BYTES-sized (default 4096) accesses at random aligned offsets for SECONDS (default 5), by JOBS threads
 *          at once (default 1: one request in flight; more keep that many in flight)
 *   -d:    O_DIRECT (bypasses the page cache; the guest uses it so every access reaches the device)
 * Prints one line: "blkbench: MODE FILE bs=B direct=D jobs=J: N ops, M MiB in T s: X MB/s, Y IOPS".
 */
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#define MAX_JOBS 64

struct job {
	int fd, write, random;
	size_t bs;
	uint64_t blocks, seed, ops;
	double start, seconds;
	int failed;
};

static double now(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static int usage(void)
{
	fprintf(stderr,
		"usage: blkbench seqread|seqwrite|randread|randwrite FILE [-b BYTES] [-s SECONDS] [-j JOBS] [-d]\n");
	return 2;
}

static void *job_run(void *arg)
{
	struct job *j = arg;
	void *buf;
	if (posix_memalign(&buf, 4096, j->bs)) {
		j->failed = 1;
		return NULL;
	}
	memset(buf, 0x5a, j->bs);
	uint64_t x = j->seed;
	for (;;) {
		uint64_t block;
		if (j->random) {
			x ^= x << 13;
			x ^= x >> 7;
			x ^= x << 17;
			block = x % j->blocks;
		} else {
			if (j->ops == j->blocks)
				break;
			block = j->ops;
		}
		off_t off = (off_t)(block * j->bs);
		ssize_t n = j->write ? pwrite(j->fd, buf, j->bs, off) : pread(j->fd, buf, j->bs, off);
		if (n != (ssize_t)j->bs) {
			fprintf(stderr, "blkbench: block %llu: %s\n", (unsigned long long)block,
				n < 0 ? strerror(errno) : "short transfer");
			j->failed = 1;
			break;
		}
		j->ops++;
		if (now() - j->start >= j->seconds)
			break;
	}
	free(buf);
	return NULL;
}

int main(int argc, char **argv)
{
	if (argc < 3)
		return usage();
	const char *mode = argv[1], *path = argv[2];
	int write = !strcmp(mode, "seqwrite") || !strcmp(mode, "randwrite");
	int random = !strcmp(mode, "randread") || !strcmp(mode, "randwrite");
	if (!random && strcmp(mode, "seqread") && strcmp(mode, "seqwrite"))
		return usage();
	size_t bs = random ? 4096 : 1 << 20;
	double seconds = random ? 5 : 1e9;
	int direct = 0, jobs = 1;
	for (int i = 3; i < argc; i++) {
		if (!strcmp(argv[i], "-b") && i + 1 < argc)
			bs = strtoul(argv[++i], NULL, 0);
		else if (!strcmp(argv[i], "-s") && i + 1 < argc)
			seconds = strtod(argv[++i], NULL);
		else if (!strcmp(argv[i], "-j") && i + 1 < argc)
			jobs = atoi(argv[++i]);
		else if (!strcmp(argv[i], "-d"))
			direct = 1;
		else
			return usage();
	}
	if (bs == 0 || bs % 512 || jobs < 1 || jobs > MAX_JOBS || (!random && jobs != 1))
		return usage();
	int fd = open(path, (write ? O_RDWR : O_RDONLY) | (direct ? O_DIRECT : 0));
	if (fd < 0) {
		fprintf(stderr, "blkbench: %s: %s\n", path, strerror(errno));
		return 1;
	}
	off_t size = lseek(fd, 0, SEEK_END);
	if (size < (off_t)bs) {
		fprintf(stderr, "blkbench: %s: smaller than one block of %zu bytes\n", path, bs);
		return 1;
	}
	static struct job job[MAX_JOBS];
	pthread_t thread[MAX_JOBS];
	double start = now();
	for (int i = 0; i < jobs; i++) {
		job[i] = (struct job){.fd = fd,
				      .write = write,
				      .random = random,
				      .bs = bs,
				      .blocks = (uint64_t)size / bs,
				      .seed = 0x9e3779b97f4a7c15ull * (uint64_t)(i + 1),
				      .start = start,
				      .seconds = seconds};
		if (pthread_create(&thread[i], NULL, job_run, &job[i]))
			return 1;
	}
	uint64_t ops = 0;
	int failed = 0;
	for (int i = 0; i < jobs; i++) {
		pthread_join(thread[i], NULL);
		ops += job[i].ops;
		failed |= job[i].failed;
	}
	if (failed)
		return 1;
	if (write && fsync(fd) < 0) {
		fprintf(stderr, "blkbench: %s: fsync: %s\n", path, strerror(errno));
		return 1;
	}
	double elapsed = now() - start;
	printf("blkbench: %s %s bs=%zu direct=%d jobs=%d: %llu ops, %.1f MiB in %.2f s: %.1f MB/s, %.0f IOPS\n", mode,
	       path, bs, direct, jobs, (unsigned long long)ops, (double)ops * (double)bs / (1 << 20), elapsed,
	       (double)ops * (double)bs / 1e6 / elapsed, (double)ops / elapsed);
	close(fd);
	return 0;
}
