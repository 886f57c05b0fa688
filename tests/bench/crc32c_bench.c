/*
 * CRC32C throughput, table against the CPU's instructions, in one run (tools/bench/crc32c): 64 MiB checksummed in
 * 1 MiB calls, alternately, five rounds; prints the median MB/s of each and the ratio.
 */
#include "snapshot/crc32c.h"

#include <stdio.h>
#include <stdlib.h>
#include <time.h>

#define CHUNK (1u << 20)
#define TOTAL (64u << 20)
#define ROUNDS 5

static double now(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* MB/s of fn over `buf`; the result goes to *sink so the work is not optimized away. */
static double rate(crc32c_fn fn, const unsigned char *buf, unsigned *sink)
{
	double t0 = now();
	unsigned crc = 0;
	for (unsigned done = 0; done < TOTAL; done += CHUNK)
		crc = fn(crc, buf + (done % (4 * CHUNK)), CHUNK);
	*sink ^= crc;
	return TOTAL / 1e6 / (now() - t0);
}

static int by_value(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;
	return (x > y) - (x < y);
}

int main(void)
{
	unsigned char *buf = malloc(4 * CHUNK);
	if (!buf)
		return 1;
	for (unsigned i = 0; i < 4 * CHUNK; i++)
		buf[i] = (unsigned char)(i * 2654435761u >> 13);
	crc32c_fn accel = crc32c_accel();
	double table[ROUNDS], hw[ROUNDS];
	unsigned sink = 0;
	for (int r = 0; r < ROUNDS; r++) {
		table[r] = rate(crc32c_table_update, buf, &sink);
		hw[r] = accel ? rate(accel, buf, &sink) : 0;
	}
	qsort(table, ROUNDS, sizeof(double), by_value);
	qsort(hw, ROUNDS, sizeof(double), by_value);
	printf("crc32c: table %.0f MB/s", table[ROUNDS / 2]);
	if (accel)
		printf(", instructions %.0f MB/s, ratio %.2f", hw[ROUNDS / 2], hw[ROUNDS / 2] / table[ROUNDS / 2]);
	else
		printf(", no CRC32C instructions on this CPU or build");
	printf(" (median of %d rounds of %u MiB; %x)\n", ROUNDS, TOTAL >> 20, sink & 0xf);
	free(buf);
	return 0;
}
