/*
 * Lazy restore (vmm/snapshot/lazy_restore.h) on real userfaultfd: a snapshot's memory is registered, two threads read
 * it in scattered order while the loader also loads in the background, and every byte comes out as it was saved,
 * pages touched before the loader started (present, so never faulting) included;
 * a damaged chunk is found by the loader, named in one line (slot, chunk, guest range) and the fatal hook runs; a
 * snapshot without chunk sums, and a slot loaded on demand before a delta, are loaded eagerly and checked whole;
 * sums whose header checksum disagrees with the memory section are refused. Where userfaultfd is not available (the
 * cross builds' unit tests run under qemu user mode), the loader falls back to an eager load, which is checked the
 * same way.
 */
#include "check.h"
#include "snapshot/lazy_restore.h"

#include <errno.h>
#include <fcntl.h>
#include <linux/userfaultfd.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <unistd.h>

#define PAGE 4096u
#define NPAGES 2048u /* 8 MiB: 128 chunks */
#define SIZE ((size_t)NPAGES * PAGE)
#define GPA 0x40000000ull

static uint8_t *map_ram(void)
{
	void *p = mmap(NULL, SIZE, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	CHECK(p != MAP_FAILED);
	return p == MAP_FAILED ? NULL : p;
}

/* Guest memory with every kind of page: a pattern, zeros, pseudo-random bytes, one marked page (page 100). */
static void fill(uint8_t *m)
{
	uint32_t x = 5;
	for (uint32_t i = 0; i < NPAGES; i++) {
		uint8_t *p = m + (size_t)i * PAGE;
		if (i % 7 == 3)
			continue; /* zero */
		for (uint32_t j = 0; j < PAGE; j++, x = x * 1103515245 + 12345)
			p[j] = i % 3 ? (uint8_t)(i + j) : (uint8_t)(x >> 16);
	}
	memcpy(m + 100 * PAGE + 8, "ROAM-LAZY-MARK", 14);
}

/* Writes the snapshot of m to path, with its chunk sums unless `old` (an older roam's file). */
static void save(const char *path, const uint8_t *m, bool old)
{
	struct snapshot_writer w;
	CHECK_EQ(snapshot_writer_open_path(&w, path, "arm64"), 0);
	CHECK(snapshot_write_memory(&w, 0, GPA, m, SIZE, PAGE, NULL) > 0);
	if (!old)
		CHECK_EQ(snapshot_write_memory_sums(&w, 0), 0);
	CHECK_EQ(snapshot_writer_commit(&w), 0);
}

struct fatal_seen {
	int calls;
};

static void on_fatal(void *opaque)
{
	((struct fatal_seen *)opaque)->calls++;
}

/*
 * Opens path and hands its memory section (and sums) to a new lazy restore into ram; `head_crc_delta` is added to
 * the sums' header checksum (to damage it). Returns the lazy restore, or NULL if the sums were refused.
 */
static struct lazy_restore *open_lazy(const char *path, uint8_t *ram, struct fatal_seen *seen, uint32_t head_crc_delta,
				      struct snapshot_reader *r)
{
	struct snapshot_section sec;
	CHECK_EQ(snapshot_reader_open_path(r, path, "arm64", 0), 0);
	struct lazy_restore *lz = lazy_restore_new(r->fd, path, on_fatal, seen);
	CHECK(lz != NULL);
	CHECK_EQ(snapshot_read_next(r, &sec), 1);
	CHECK_EQ(sec.id, SNAPSHOT_SEC_MEMORY);
	CHECK_EQ(lazy_restore_add_memory(lz, r, &sec, 0, ram), 0);
	CHECK(!sec.checked);
	int ret = snapshot_read_next(r, &sec);
	if (ret == 1) {
		CHECK_EQ(sec.id, SNAPSHOT_SEC_MEMORY_SUMS);
		struct snap_reader p;
		snap_reader_init(&p, sec.payload, sec.length);
		uint32_t chunk = snap_get_u32(&p, "chunk"), head = snap_get_u32(&p, "head");
		uint64_t n = snap_get_u64(&p, "n");
		CHECK_EQ(chunk, SNAPSHOT_CHUNK_BYTES);
		CHECK_EQ(n, SIZE / SNAPSHOT_CHUNK_BYTES);
		uint32_t *crc = calloc(n, sizeof(*crc));
		for (uint64_t k = 0; k < n; k++)
			crc[k] = snap_get_u32(&p, "crc");
		CHECK(snap_reader_done(&p));
		int added = lazy_restore_add_sums(lz, 0, sec.name, chunk, head + head_crc_delta, n, crc);
		free(crc);
		if (added) {
			lazy_restore_free(lz);
			return NULL;
		}
		ret = snapshot_read_next(r, &sec);
	}
	CHECK_EQ(ret, 0); /* END */
	return lz;
}

static bool uffd_works(void)
{
	int fd = (int)syscall(SYS_userfaultfd, O_CLOEXEC | O_NONBLOCK);
	if (fd < 0)
		return false;
	close(fd);
	return true;
}

struct reader {
	const uint8_t *ram, *want;
	uint32_t seed;
	int bad;
};

/* Touches pages in a scattered order, as a guest would, and compares them with what was saved. */
static void *touch(void *arg)
{
	struct reader *t = arg;
	for (int n = 0; n < 300; n++) {
		t->seed = t->seed * 1664525u + 1013904223u;
		size_t page = (t->seed >> 8) % NPAGES;
		t->bad += memcmp(t->ram + page * PAGE, t->want + page * PAGE, PAGE) != 0;
	}
	return NULL;
}

static void test_lazy(const char *dir, const uint8_t *want)
{
	char path[256];
	snprintf(path, sizeof(path), "%s/lazy.roam", dir);
	save(path, want, false);
	uint8_t *ram = map_ram();
	struct fatal_seen seen = {0};
	struct snapshot_reader r;
	struct lazy_restore *lz = open_lazy(path, ram, &seen, 0, &r);
	CHECK(lazy_restore_pending(lz, 0));
	/* Memory touched during the restore, before the loader (with huge pages, 2 MiB become present at once). */
	volatile uint8_t *touched = ram;
	(void)touched[500 * PAGE];
	touched[1500 * PAGE + 5] = 0x77;
	CHECK_EQ(lazy_restore_start(lz), 0);
	struct lazy_restore_progress p;
	lazy_restore_progress(lz, &p);
	if (uffd_works()) {
		CHECK(p.active || p.chunks_loaded == p.chunks);
		CHECK_EQ(p.chunks, SIZE / SNAPSHOT_CHUNK_BYTES);
	}
	struct reader a = {.ram = ram, .want = want, .seed = 1}, b = {.ram = ram, .want = want, .seed = 2};
	pthread_t ta, tb;
	pthread_create(&ta, NULL, touch, &a);
	pthread_create(&tb, NULL, touch, &b);
	pthread_join(ta, NULL);
	pthread_join(tb, NULL);
	CHECK_EQ(a.bad + b.bad, 0);
	CHECK_EQ(lazy_restore_complete(lz), 0); /* what a snapshot or migration waits for */
	lazy_restore_progress(lz, &p);
	CHECK(!p.active);
	CHECK_EQ(lazy_restore_wait(lz), 0);
	lazy_restore_progress(lz, &p);
	CHECK(!p.active);
	CHECK_EQ(p.chunks_loaded, p.chunks);
	CHECK(!memcmp(ram, want, SIZE));
	CHECK_EQ(seen.calls, 0);
	lazy_restore_free(lz);
	snapshot_reader_close(&r);
	munmap(ram, SIZE);
}

/* Captures what the loader logs while `fn` runs (the one line about a damaged chunk). */
static void test_damaged_chunk(const char *dir, const uint8_t *want)
{
	char path[256], logpath[256], line[1024] = {0};
	snprintf(path, sizeof(path), "%s/damaged.roam", dir);
	snprintf(logpath, sizeof(logpath), "%s/damaged.log", dir);
	save(path, want, false);
	/* Flip one byte of page 100 (chunk 6) in the file. */
	int fd = open(path, O_RDWR);
	off_t size = lseek(fd, 0, SEEK_END);
	uint8_t *file = malloc((size_t)size);
	CHECK_EQ(pread(fd, file, (size_t)size, 0), size);
	uint8_t *mark = memmem(file, (size_t)size, "ROAM-LAZY-MARK", 14);
	CHECK(mark != NULL);
	if (mark) {
		uint8_t flipped = (uint8_t)(mark[0] ^ 1);
		CHECK_EQ(pwrite(fd, &flipped, 1, mark - file), 1);
	}
	close(fd);
	free(file);
	uint8_t *ram = map_ram();
	struct fatal_seen seen = {0};
	struct snapshot_reader r;
	int saved = dup(STDERR_FILENO), logfd = open(logpath, O_RDWR | O_CREAT | O_TRUNC, 0600);
	dup2(logfd, STDERR_FILENO);
	struct lazy_restore *lz = open_lazy(path, ram, &seen, 0, &r);
	int started = lazy_restore_start(lz);
	int waited = lazy_restore_wait(lz);
	dup2(saved, STDERR_FILENO);
	close(saved);
	CHECK_EQ(pread(logfd, line, sizeof(line) - 1, 0) > 0, 1);
	close(logfd);
	if (uffd_works()) {
		CHECK_EQ(started, 0);
		CHECK_EQ(waited, -EIO);
		CHECK_EQ(seen.calls, 1);
		CHECK_CONTAINS(line, "section \"memory 0\": chunk 6 (guest 0x40060000-0x4006ffff) is damaged");
		CHECK_CONTAINS(line, "the guest cannot go on with corrupt memory");
	} else { /* the eager fallback: the whole section's checksum */
		CHECK(started < 0);
		CHECK_CONTAINS(line, "section \"memory 0\": checksum mismatch");
	}
	lazy_restore_free(lz);
	snapshot_reader_close(&r);
	munmap(ram, SIZE);
}

/* No sums (an older roam's file), or a slot wanted before the loader starts: loaded eagerly, checked whole. */
static void test_eager(const char *dir, const uint8_t *want)
{
	char path[256];
	snprintf(path, sizeof(path), "%s/old.roam", dir);
	for (int mode = 0; mode < 2; mode++) {
		save(path, want, mode == 0);
		uint8_t *ram = map_ram();
		struct fatal_seen seen = {0};
		struct snapshot_reader r;
		struct lazy_restore *lz = open_lazy(path, ram, &seen, 0, &r);
		if (mode == 1) {
			CHECK_EQ(lazy_restore_load_slot(lz, 0), 0); /* as before a delta */
			CHECK(!lazy_restore_pending(lz, 0));
		}
		CHECK_EQ(lazy_restore_start(lz), 0);
		struct lazy_restore_progress p;
		lazy_restore_progress(lz, &p);
		CHECK(!p.active);
		CHECK_EQ(p.chunks, 0);
		CHECK(!memcmp(ram, want, SIZE));
		lazy_restore_free(lz);
		snapshot_reader_close(&r);
		munmap(ram, SIZE);
	}
	/* Sums that do not belong to this header and bitmap are refused. */
	save(path, want, false);
	uint8_t *ram = map_ram();
	struct fatal_seen seen = {0};
	struct snapshot_reader r;
	CHECK(open_lazy(path, ram, &seen, 1, &r) == NULL);
	snapshot_reader_close(&r);
	munmap(ram, SIZE);
}

int main(void)
{
	char dir[] = "/tmp/roam-test-lazy-XXXXXX";
	if (!mkdtemp(dir))
		return 1;
	uint8_t *want = map_ram();
	fill(want);
	test_lazy(dir, want);
	test_damaged_chunk(dir, want);
	test_eager(dir, want);
	munmap(want, SIZE);
	char cmd[64];
	snprintf(cmd, sizeof(cmd), "rm -rf %s", dir);
	CHECK_EQ(system(cmd), 0);
	return check_exit();
}
