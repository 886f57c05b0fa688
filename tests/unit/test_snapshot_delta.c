/*
 * MEMORY_DELTA and MEMORY_PACKED sections (vmm/snapshot): a MEMORY section followed by deltas reproduces memory that
 * changed in between - changed pages, new pages, pages that became zero, pages left alone - read by mmap, by pread
 * and from a pipe, the same with the deltas compressed; every truncation, overlapping bitmaps and bad page records
 * are refused; and a delta written while another thread scribbles on the memory still verifies (each page is copied
 * before it is compressed and its checksum taken).
 */
#include "check.h"
#include "snapshot/snapshot.h"
#include "snapshot/snapshot_format.h"

#include <errno.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#define PAGE 4096u
#define NPAGES 64u
#define GPA 0x40000000ull

static void set_bit(uint8_t *bm, uint64_t i)
{
	bm[i / 8] |= (uint8_t)(1u << (i % 8));
}

static void fill(uint8_t *mem, uint64_t page, uint8_t v)
{
	memset(mem + page * PAGE, v, PAGE);
}

/* The whole file at `path`, malloc'ed, its length in *len. */
static uint8_t *slurp(const char *path, size_t *len)
{
	FILE *f = fopen(path, "rb");
	fseek(f, 0, SEEK_END);
	*len = (size_t)ftell(f);
	rewind(f);
	uint8_t *buf = malloc(*len);
	CHECK_EQ(fread(buf, 1, *len, f), *len);
	fclose(f);
	return buf;
}

/* snapshot_next_bit: the first set bit at or after i, past empty bytes and words, never beyond n. */
static void test_next_bit(void)
{
	uint8_t bm[40] = {0};
	CHECK_EQ(snapshot_next_bit(bm, 0, 320), 320);
	set_bit(bm, 3);
	set_bit(bm, 64);
	set_bit(bm, 200);
	set_bit(bm, 319);
	CHECK_EQ(snapshot_next_bit(bm, 0, 320), 3);
	CHECK_EQ(snapshot_next_bit(bm, 3, 320), 3);
	CHECK_EQ(snapshot_next_bit(bm, 4, 320), 64);
	CHECK_EQ(snapshot_next_bit(bm, 65, 320), 200);
	CHECK_EQ(snapshot_next_bit(bm, 201, 320), 319);
	CHECK_EQ(snapshot_next_bit(bm, 201, 319), 319); /* n bounds it */
	CHECK_EQ(snapshot_next_bit(bm, 320, 320), 320);
	/* Every start against a plain scan, on a bitmap of 300 bits with every 37th set. */
	memset(bm, 0, sizeof(bm));
	for (uint64_t i = 0; i < 300; i += 37)
		set_bit(bm, i);
	int wrong = 0;
	for (uint64_t from = 0; from <= 300; from++) {
		uint64_t want = from;
		while (want < 300 && !(bm[want / 8] & (1u << (want % 8))))
			want++;
		wrong += snapshot_next_bit(bm, from, 300) != want;
	}
	CHECK_EQ(wrong, 0);
}

/* A delta of the pages in `dirty` of mem: MEMORY_PACKED if `packed`, else MEMORY_DELTA. */
static int64_t write_delta(struct snapshot_writer *w, const uint8_t *mem, size_t npages, const uint8_t *dirty,
			   bool packed)
{
	return packed ? snapshot_write_memory_packed(w, 0, GPA, mem, npages * PAGE, PAGE, dirty, false)
		      : snapshot_write_memory_delta(w, 0, GPA, mem, npages * PAGE, PAGE, dirty);
}

/* Writes MEMORY (of `first`) and two deltas that turn it into `last`; returns the file's bytes. */
static uint8_t *write_stream(const char *path, uint8_t *first, uint8_t *last, size_t *len, bool packed)
{
	struct snapshot_writer w;
	CHECK_EQ(snapshot_writer_open_path(&w, path, "arm64"), 0);
	CHECK_EQ(snapshot_write_memory(&w, 0, GPA, first, NPAGES * PAGE, PAGE, NULL), 3);
	/* Round 1: page 1 changes, page 2 becomes zero, page 5 is new. */
	uint8_t dirty[NPAGES / 8] = {0};
	fill(first, 1, 0x11);
	fill(first, 2, 0);
	fill(first, 5, 0x55);
	set_bit(dirty, 1);
	set_bit(dirty, 2);
	set_bit(dirty, 5);
	CHECK_EQ(write_delta(&w, first, NPAGES, dirty, packed), 3);
	/* Round 2: page 5 changes again, page 63 is new, page 7 random (stored raw); page 9 is named but unchanged. */
	memset(dirty, 0, sizeof(dirty));
	fill(first, 5, 0x56);
	fill(first, 63, 0x63);
	set_bit(dirty, 5);
	set_bit(dirty, 63);
	set_bit(dirty, 9);
	uint32_t x = 1;
	for (unsigned i = 0; i < PAGE; i++, x = x * 1103515245 + 12345)
		first[7 * PAGE + i] = (uint8_t)(x >> 16);
	set_bit(dirty, 7);
	CHECK_EQ(write_delta(&w, first, NPAGES, dirty, packed), 4);
	CHECK_EQ(snapshot_writer_commit(&w), 0);
	memcpy(last, first, NPAGES * PAGE);
	return slurp(path, len);
}

/* Reads every memory section of the open reader into mem (zeroed first); returns 0 or the error. */
static int read_all(struct snapshot_reader *r, uint8_t *mem)
{
	struct snapshot_section sec;
	int ret, sections = 0;
	memset(mem, 0, NPAGES * PAGE);
	while ((ret = snapshot_read_next(r, &sec)) == 1) {
		CHECK(snapshot_is_memory_id(sec.id));
		int64_t n = snapshot_read_memory(r, &sec, mem, NPAGES * PAGE);
		if (n < 0)
			return (int)n;
		CHECK_EQ(sec.mem.delta, sec.id != SNAPSHOT_SEC_MEMORY);
		CHECK_EQ(sec.mem.packed, sec.id == SNAPSHOT_SEC_MEMORY_PACKED);
		sections++;
	}
	return ret == 0 && sections != 3 ? -EBADMSG : ret;
}

static void test_stream(const char *dir, bool packed)
{
	char path[256];
	snprintf(path, sizeof(path), "%s/delta.roam", dir);
	uint8_t *first = calloc(NPAGES, PAGE), *last = malloc(NPAGES * PAGE), *got = malloc(NPAGES * PAGE);
	fill(first, 0, 0xa0);
	fill(first, 2, 0xa2);
	fill(first, 9, 0xa9);
	size_t len;
	uint8_t *bytes = write_stream(path, first, last, &len, packed);
	CHECK(last[2 * PAGE] == 0 && last[5 * PAGE] == 0x56 && last[63 * PAGE] == 0x63 && last[0] == 0xa0);

	for (unsigned flags = 0; flags <= SNAPSHOT_READ_NO_MMAP; flags += SNAPSHOT_READ_NO_MMAP) {
		struct snapshot_reader r;
		CHECK_EQ(snapshot_reader_open_path(&r, path, "arm64", flags), 0);
		CHECK_EQ(read_all(&r, got), 0);
		CHECK(!memcmp(got, last, NPAGES * PAGE));
		snapshot_reader_close(&r);
	}
	/* From a pipe. */
	int fds[2];
	CHECK_EQ(pipe(fds), 0);
	pid_t pid = fork();
	if (pid == 0) {
		close(fds[0]);
		ssize_t n = write(fds[1], bytes, len);
		_exit(n == (ssize_t)len ? 0 : 1);
	}
	close(fds[1]);
	struct snapshot_reader r;
	CHECK_EQ(snapshot_reader_open_fd(&r, fds[0], "pipe", "arm64", 0), 0);
	CHECK_EQ(read_all(&r, got), 0);
	CHECK(!memcmp(got, last, NPAGES * PAGE));
	snapshot_reader_close(&r);
	close(fds[0]);
	waitpid(pid, NULL, 0);

	/* Every truncation is refused. */
	int undetected = 0;
	for (size_t cut = 0; cut < len; cut += 97) {
		FILE *f = fopen(path, "wb");
		fwrite(bytes, 1, cut, f);
		fclose(f);
		if (snapshot_reader_open_path(&r, path, "arm64", 0) == 0)
			undetected += read_all(&r, got) == 0;
		snapshot_reader_close(&r);
	}
	CHECK_EQ(undetected, 0);
	free(bytes);
	free(first);
	free(last);
	free(got);
}

/*
 * Writes a file at `path` holding one delta (packed or not) of page 3 (0x33 bytes) and page 4 (zero: named in the
 * zero bitmap); returns its bytes.
 */
static uint8_t *one_delta(const char *path, bool packed, size_t *len)
{
	uint8_t *mem = calloc(NPAGES, PAGE);
	fill(mem, 3, 0x33);
	uint8_t dirty[NPAGES / 8] = {0};
	set_bit(dirty, 3);
	set_bit(dirty, 4);
	struct snapshot_writer w;
	CHECK_EQ(snapshot_writer_open_path(&w, path, "arm64"), 0);
	CHECK_EQ(write_delta(&w, mem, NPAGES, dirty, packed), 2);
	CHECK_EQ(snapshot_writer_commit(&w), 0);
	free(mem);
	return slurp(path, len);
}

/* Rewrites the file at `path` as `orig` with `n` bytes at `off` replaced; reading it back fails with `expect`. */
static void patch_and_read(const char *path, const uint8_t *orig, size_t len, size_t off, const void *bytes, size_t n,
			   const char *expect)
{
	uint8_t *b = malloc(len), *mem = calloc(NPAGES, PAGE);
	memcpy(b, orig, len);
	memcpy(b + off, bytes, n);
	FILE *f = fopen(path, "wb");
	fwrite(b, 1, len, f);
	fclose(f);
	struct snapshot_reader r;
	struct snapshot_section sec;
	CHECK_EQ(snapshot_reader_open_path(&r, path, "arm64", 0), 0);
	if (snapshot_read_next(&r, &sec) == 1) /* refused at the section's start, or when its pages are read */
		CHECK(snapshot_read_memory(&r, &sec, mem, NPAGES * PAGE) < 0);
	CHECK_CONTAINS(r.err, expect);
	snapshot_reader_close(&r);
	free(b);
	free(mem);
}

/* A delta whose stored and zero bitmaps name the same page is corrupt, whatever its checksum says. */
static void test_overlap(const char *dir)
{
	char path[256];
	snprintf(path, sizeof(path), "%s/overlap.roam", dir);
	/* Set page 3 in the zero bitmap too: refused from the bitmaps alone, before any checksum. */
	size_t len;
	uint8_t *b = one_delta(path, false, &len);
	size_t payload = SNAPSHOT_HEADER_SIZE + SNAPSHOT_SECTION_HEADER_SIZE;
	size_t zero_bm = payload + SNAPSHOT_MEMORY_HEADER_SIZE + NPAGES / 8;
	CHECK_EQ(b[zero_bm], 0x10);
	patch_and_read(path, b, len, zero_bm, "\x18", 1, "corrupt (the page bitmaps do not match 1 stored pages)");
	free(b);
}

struct scribbler {
	uint8_t *mem;
	size_t len;
	atomic_bool stop;
};

static void *scribble(void *arg)
{
	struct scribbler *s = arg;
	uint32_t x = 7;
	while (!atomic_load(&s->stop)) {
		x = x * 1103515245 + 12345;
		s->mem[(x >> 4) % s->len] = (uint8_t)x;
	}
	return NULL;
}

/* Memory that changes while its delta is written (a running guest) still gives a section that verifies. */
static void test_moving_memory(const char *dir, bool packed)
{
	char path[256];
	snprintf(path, sizeof(path), "%s/moving.roam", dir);
	size_t npages = 2048, len = npages * PAGE;
	struct scribbler s = {.mem = calloc(npages, PAGE), .len = len};
	memset(s.mem, 1, len);
	uint8_t *dirty = malloc(npages / 8), *got = malloc(len);
	memset(dirty, 0xff, npages / 8);
	pthread_t t;
	pthread_create(&t, NULL, scribble, &s);
	int bad = 0, ret;
	for (int round = 0; round < 5; round++) {
		struct snapshot_writer w;
		struct snapshot_reader r;
		struct snapshot_section sec;
		CHECK_EQ(snapshot_writer_open_path(&w, path, "arm64"), 0);
		CHECK_EQ(write_delta(&w, s.mem, npages, dirty, packed), (int64_t)npages);
		CHECK_EQ(snapshot_writer_commit(&w), 0);
		CHECK_EQ(snapshot_reader_open_path(&r, path, "arm64", 0), 0);
		while ((ret = snapshot_read_next(&r, &sec)) == 1) /* packed: one section per 8192 pages */
			bad += snapshot_read_memory(&r, &sec, got, len) < 0;
		bad += ret != 0;
		snapshot_reader_close(&r);
	}
	atomic_store(&s.stop, true);
	pthread_join(t, NULL);
	CHECK_EQ(bad, 0);
	free(s.mem);
	free(dirty);
	free(got);
}

/* A packed page record that lies about its length, or does not decode, is refused naming the page. */
static void test_packed_records(const char *dir)
{
	char path[256];
	snprintf(path, sizeof(path), "%s/packed.roam", dir);
	size_t len;
	uint8_t *b = one_delta(path, true, &len);
	size_t rec = SNAPSHOT_HEADER_SIZE + SNAPSHOT_SECTION_HEADER_SIZE + SNAPSHOT_MEMORY_HEADER_SIZE + 2 * NPAGES / 8;
	uint32_t stored = (uint32_t)b[rec] | (uint32_t)b[rec + 1] << 8;
	CHECK(stored > 0 && stored < 32); /* one byte repeated: a few bytes */
	patch_and_read(path, b, len, rec, "\0\0\0\0", 4, "page 3 at 0x40003000: a record of 0 bytes");
	patch_and_read(path, b, len, rec, "\x01\x10\0\0", 4, "page 3 at 0x40003000: a record of 4097 bytes");
	patch_and_read(path, b, len, rec + 4, "\x0f\0\0", 3, "page 3 at 0x40003000: its");
	free(b);
}

int main(void)
{
	char dir[] = "/tmp/roam-test-delta-XXXXXX";
	if (!mkdtemp(dir))
		return 1;
	test_next_bit();
	test_stream(dir, false);
	test_stream(dir, true);
	test_overlap(dir);
	test_packed_records(dir);
	test_moving_memory(dir, false);
	test_moving_memory(dir, true);
	char cmd[64];
	snprintf(cmd, sizeof(cmd), "rm -rf %s", dir);
	CHECK_EQ(system(cmd), 0);
	return check_exit();
}
