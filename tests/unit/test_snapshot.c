/*
 * Unit test of the snapshot file format (vmm/snapshot*.c, docs/snapshot-format.md): CRC32C vectors and tables;
 * every section kind round-trips through a file (mmap and pread) and a pipe (written by a thread), and save ->
 * restore -> save gives identical bytes; sparse, page-aligned memory; refused arguments; version handling (newer
 * format, newer section versions, unknown optional and mandatory sections, unknown flags, wrong architecture); and
 * atomic writing (abort and failure leave the previous file and no temporary file). Corruption is in
 * test_snapshot_corrupt.c, `roam snapshot-info` in test_snapshot_info.c.
 */
#include "check.h"
#include "snapshot/crc32c.h"
#include "snapshot/snapshot_format.h"
#include "snapshot_sample.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <signal.h>
#include <stdlib.h>
#include <sys/file.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

/* The bitwise definition of CRC32C, to check the tables against. */
static uint32_t crc32c_bitwise(const uint8_t *p, size_t len)
{
	uint32_t c = 0xffffffff;
	for (size_t i = 0; i < len; i++) {
		c ^= p[i];
		for (int k = 0; k < 8; k++)
			c = (c >> 1) ^ (c & 1 ? 0x82f63b78 : 0);
	}
	return ~c;
}

static void test_crc32c(void)
{
	uint8_t buf[300];
	CHECK_EQ(crc32c("123456789", 9), 0xe3069283);
	CHECK_EQ(crc32c(NULL, 0), 0);
	memset(buf, 0, 32);
	CHECK_EQ(crc32c(buf, 32), 0x8a9136aa); /* RFC 3720 B.4 */
	memset(buf, 0xff, 32);
	CHECK_EQ(crc32c(buf, 32), 0x62a8ab43);
	for (int i = 0; i < 32; i++)
		buf[i] = (uint8_t)i;
	CHECK_EQ(crc32c(buf, 32), 0x46dd794e);
	for (int i = 0; i < 32; i++)
		buf[i] = (uint8_t)(31 - i);
	CHECK_EQ(crc32c(buf, 32), 0x113fdb5c);
	uint32_t x = 1;
	for (size_t i = 0; i < sizeof(buf); i++) {
		x = x * 1103515245 + 12345;
		buf[i] = (uint8_t)(x >> 16);
	}
	int bad = 0;
	for (size_t off = 0; off < 8; off++)
		for (size_t len = 0; len + off <= sizeof(buf); len += 7) {
			uint32_t want = crc32c_bitwise(buf + off, len);
			bad += crc32c(buf + off, len) != want;
			bad += crc32c_update(crc32c(buf + off, len / 3), buf + off + len / 3, len - len / 3) != want;
			bad += crc32c_table_update(0, buf + off, len) != want;
		}
	CHECK_EQ(bad, 0);
	/* The CPU's instructions, where this build and CPU have them, agree with the table on every length and
	 * alignment (the native build on x86 with SSE4.2, arm64 under qemu-aarch64 with the CRC32 extension). */
	crc32c_fn accel = crc32c_accel();
	printf("crc32c: %s\n", accel ? "the CPU's instructions" : "the table (no CRC32C instructions here)");
	bad = 0;
	for (size_t off = 0; accel && off < 8; off++)
		for (size_t len = 0; len + off <= sizeof(buf); len++)
			bad += accel(0x12345678, buf + off, len) != crc32c_table_update(0x12345678, buf + off, len);
	CHECK_EQ(bad, 0);
}

static void test_names(void)
{
	char name[SNAPSHOT_NAME_LEN];
	uint8_t dev[12] = {4, 0, 0, 0, 'u', 'a', 'r', 't', 1, 2, 3, 4};
	snapshot_section_name(SNAPSHOT_SEC_VM, 0, NULL, 0, name, sizeof(name));
	CHECK(!strcmp(name, "vm"));
	snapshot_section_name(SNAPSHOT_SEC_VCPU, 1, NULL, 0, name, sizeof(name));
	CHECK(!strcmp(name, "vcpu 1"));
	snapshot_section_name(SNAPSHOT_SEC_MEMORY, 0, NULL, 0, name, sizeof(name));
	CHECK(!strcmp(name, "memory 0"));
	snapshot_section_name(SNAPSHOT_SEC_MEMORY_SUMS, 0, NULL, 0, name, sizeof(name));
	CHECK(!strcmp(name, "memory-sums 0"));
	snapshot_section_name(SNAPSHOT_SEC_IRQCHIP, 2, NULL, 0, name, sizeof(name));
	CHECK(!strcmp(name, "irqchip 2"));
	snapshot_section_name(42, 0, NULL, 0, name, sizeof(name));
	CHECK(!strcmp(name, "id 42"));
	snapshot_section_name(SNAPSHOT_SEC_DEVICE, 3, dev, sizeof(dev), name, sizeof(name));
	CHECK(!strcmp(name, "device 3 (uart)"));
	dev[0] = 200; /* not a name: the index only */
	snapshot_section_name(SNAPSHOT_SEC_DEVICE, 3, dev, sizeof(dev), name, sizeof(name));
	CHECK(!strcmp(name, "device 3"));
	CHECK(snapshot_section_id_name(SNAPSHOT_SEC_END) && !strcmp(snapshot_section_id_name(SNAPSHOT_SEC_END), "end"));
	CHECK(!strcmp(snapshot_section_id_name(11), "memory-delta"));
	CHECK(!strcmp(snapshot_section_id_name(12), "precheck"));
	CHECK(!strcmp(snapshot_section_id_name(13), "base"));
	CHECK(!strcmp(snapshot_section_id_name(14), "memory-packed"));
	CHECK(!strcmp(snapshot_section_id_name(15), "memory-sums"));
	CHECK(snapshot_section_id_name(16) == NULL);
}

static bool files_equal(const char *a, const char *b)
{
	uint8_t *da = NULL, *db = NULL;
	long la = sample_slurp(a, &da), lb = sample_slurp(b, &db);
	bool eq = la >= 0 && la == lb && !memcmp(da, db, (size_t)la);
	free(da);
	free(db);
	return eq;
}

/* Checks what sample_read_all got against what sample_write wrote (full sample, `pages` pages in slot 0). */
static void check_sample(const struct sample_snapshot *s, uint32_t pages)
{
	static const uint32_t ids[] = {
	    SNAPSHOT_SEC_HOST,	     SNAPSHOT_SEC_VM,	  SNAPSHOT_SEC_TARGETS, SNAPSHOT_SEC_VCPU,  SNAPSHOT_SEC_DEVICE,
	    SNAPSHOT_SEC_VCPU,	     SNAPSHOT_SEC_DEVICE, SNAPSHOT_SEC_IRQCHIP, SNAPSHOT_SEC_TIMER, SNAPSHOT_SEC_PVLOCK,
	    SNAPSHOT_SEC_HYPERCALLS, SNAPSHOT_SEC_MEMORY, SNAPSHOT_SEC_MEMORY};
	CHECK_EQ(s->nr, sizeof(ids) / sizeof(ids[0]));
	for (int i = 0; i < s->nr && i < (int)(sizeof(ids) / sizeof(ids[0])); i++)
		CHECK_EQ(s->rec[i].id, ids[i]);
	if (s->nr != 13)
		return;
	CHECK_EQ(s->rec[5].instance, 1);
	CHECK_EQ(s->rec[9].flags, 0);
	CHECK_EQ(s->rec[9].len, 0);
	CHECK_EQ(s->rec[8].len, 16);
	CHECK_EQ(s->rec[8].data[7], 8);
	uint8_t *want = sample_memory(pages);
	int64_t stored = 0;
	for (uint32_t i = 0; i < pages; i++)
		stored += !snapshot_is_zero(want + (size_t)i * SAMPLE_PAGE, SAMPLE_PAGE);
	CHECK_EQ(s->rec[11].len, (uint64_t)pages * SAMPLE_PAGE);
	CHECK(want && !memcmp(s->rec[11].data, want, (size_t)pages * SAMPLE_PAGE));
	CHECK_EQ(s->rec[11].pages, stored);
	CHECK_EQ(s->rec[11].gpa, 0x40000000);
	CHECK_EQ(s->rec[12].pages, 0);
	CHECK_EQ(s->rec[12].gpa, 0x100000000ull);
	CHECK(snapshot_is_zero(s->rec[12].data, 4 * SAMPLE_PAGE));
	free(want);
}

static void test_roundtrip(const char *dir)
{
	char path[512], copy[512];
	struct snapshot_writer w;
	struct snapshot_reader r;
	struct sample_snapshot s;
	snprintf(path, sizeof(path), "%s/snap.roam", dir);
	snprintf(copy, sizeof(copy), "%s/copy.roam", dir);
	CHECK_EQ(snapshot_writer_open_path(&w, path, SAMPLE_ARCH), 0);
	CHECK_EQ(sample_write(&w, false, 24), 0);
	for (unsigned flags = 0; flags <= SNAPSHOT_READ_NO_MMAP; flags += SNAPSHOT_READ_NO_MMAP) {
		CHECK_EQ(snapshot_reader_open_path(&r, path, SAMPLE_ARCH, flags), 0);
		CHECK(r.seekable);
		CHECK_EQ(r.header.format_version, SNAPSHOT_FORMAT_VERSION);
		CHECK(!strcmp(r.header.arch, "arm64"));
		CHECK(!strcmp(r.header.roam_version, ROAM_VERSION));
		CHECK_EQ(r.header.created, SAMPLE_CREATED);
		int ret = sample_read_all(&r, &s);
		CHECK_EQ(ret, 0);
		if (ret)
			fprintf(stderr, "%s\n", r.err);
		snapshot_reader_close(&r);
		check_sample(&s, 24);
		/* save -> restore -> save: the same bytes. */
		CHECK_EQ(snapshot_writer_open_path(&w, copy, SAMPLE_ARCH), 0);
		snapshot_writer_set_created(&w, SAMPLE_CREATED);
		CHECK_EQ(sample_rewrite(&w, &s), 0);
		CHECK(files_equal(path, copy));
		sample_free(&s);
	}
	/* Page data is page-aligned in the file; names come from the payload. */
	struct snapshot_section sec;
	int memories = 0;
	CHECK_EQ(snapshot_reader_open_path(&r, path, NULL, 0), 0);
	while (snapshot_read_next(&r, &sec) > 0) {
		if (sec.id == SNAPSHOT_SEC_DEVICE && sec.instance == 0)
			CHECK(!strcmp(sec.name, "device 0 (uart)"));
		if (sec.id == SNAPSHOT_SEC_MEMORY) {
			memories++;
			if (sec.mem.present) /* the pages start page-aligned in the file */
				CHECK_EQ(sec.mem.data_offset % SAMPLE_PAGE, 0);
			else /* nothing stored: a 1-byte bitmap and no padding */
				CHECK_EQ(sec.length, SNAPSHOT_MEMORY_HEADER_SIZE + 1);
			CHECK_EQ(sec.mem.page_size, SAMPLE_PAGE);
		}
	}
	CHECK(r.ended);
	CHECK_EQ(memories, 2);
	snapshot_reader_close(&r);
}

static void test_refusals(const char *dir)
{
	char path[512];
	struct snapshot_writer w;
	uint8_t mem[2 * SAMPLE_PAGE] = {0};
	snprintf(path, sizeof(path), "%s/refused.roam", dir);
	CHECK_EQ(snapshot_writer_open_path(&w, path, SAMPLE_ARCH), 0);
	CHECK_EQ(snapshot_write_memory(&w, 0, 0x40000000, mem, SAMPLE_PAGE + 100, SAMPLE_PAGE, NULL), -EINVAL);
	CHECK_CONTAINS(w.err, "refused.roam: section \"memory 0\": 0x1064 bytes at 0x40000000 is not a non-empty "
			      "range of whole 4096-byte pages");
	CHECK_EQ(snapshot_write_section(&w, SNAPSHOT_SEC_VM, 0, 1, SNAPSHOT_FLAG_MANDATORY, "x", 1), -EINVAL);
	CHECK(snapshot_writer_commit(&w) == -EINVAL);
	CHECK(access(path, F_OK) < 0);

	CHECK_EQ(snapshot_writer_open_path(&w, path, SAMPLE_ARCH), 0);
	CHECK_EQ(snapshot_write_memory(&w, 0, 0, mem, sizeof(mem), 3000, NULL), -EINVAL);
	CHECK_CONTAINS(w.err, "page size 3000 is not a power of two");
	snapshot_writer_abort(&w);
	CHECK_EQ(snapshot_writer_open_path(&w, path, SAMPLE_ARCH), 0);
	CHECK_EQ(snapshot_write_memory(&w, 0, 0x1000, mem, sizeof(mem), 8192, NULL), -EINVAL);
	snapshot_writer_abort(&w);
	CHECK_EQ(snapshot_writer_open_path(&w, path, SAMPLE_ARCH), 0);
	CHECK_EQ(snapshot_write_section(&w, SNAPSHOT_SEC_MEMORY, 0, 1, 0, mem, 8), -EINVAL);
	CHECK_CONTAINS(w.err, "written by snapshot_write_memory only");
	snapshot_writer_abort(&w);
	CHECK_EQ(snapshot_writer_open_path(&w, path, SAMPLE_ARCH), 0);
	CHECK_EQ(snapshot_write_section(&w, SNAPSHOT_SEC_END, 0, 1, 0, mem, 8), -EINVAL);
	snapshot_writer_abort(&w);
	CHECK_EQ(snapshot_writer_open_path(&w, path, SAMPLE_ARCH), 0);
	CHECK_EQ(snapshot_write_section(&w, SNAPSHOT_SEC_VCPU, 0, 1, 0, mem, SNAPSHOT_MAX_PAYLOAD + 1ull), -EFBIG);
	CHECK_CONTAINS(w.err, "section \"vcpu 0\": 67108865 bytes is more than the limit of 64 MiB");
	snapshot_writer_abort(&w);
	CHECK_EQ(snapshot_writer_open_path(&w, path, "a-very-long-architecture"), -EINVAL);
	snapshot_writer_abort(&w);
	CHECK(access(path, F_OK) < 0);
}

/* The offset of the header of section (id, instance) in a snapshot's bytes, or 0. */
static size_t find_section(const uint8_t *b, size_t len, uint32_t id, uint32_t instance)
{
	for (size_t off = SNAPSHOT_HEADER_SIZE; off + SNAPSHOT_SECTION_HEADER_SIZE <= len;) {
		struct snapshot_raw_section s;
		snapshot_decode_section_header(b + off, &s);
		if (s.id == id && s.instance == instance)
			return off;
		off += SNAPSHOT_SECTION_HEADER_SIZE + s.length + SNAPSHOT_SECTION_TRAILER_SIZE;
	}
	return 0;
}

/* Sets the u32 at `field` of the section header at `off` and fixes the header's checksum. */
static void patch_section(uint8_t *b, size_t off, size_t field, uint32_t v)
{
	snapshot_put_le32(b + off + field, v);
	snapshot_put_le32(b + off + 28, crc32c(b + off, 28));
}

static int write_bytes(const char *path, const uint8_t *b, size_t len)
{
	int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
	bool ok = fd >= 0 && write(fd, b, len) == (ssize_t)len;
	if (fd >= 0)
		close(fd);
	return ok ? 0 : -1;
}

/* Opens `path` (named snap.roam in messages) and reads it whole; returns the result, r->err has the message. */
static int read_named(const char *path, const char *arch, unsigned flags, char *err, size_t err_len)
{
	struct snapshot_reader r;
	struct sample_snapshot s = {0};
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	int ret = snapshot_reader_open_fd(&r, fd, "snap.roam", arch, flags);
	if (ret == 0)
		ret = sample_read_all(&r, &s);
	snprintf(err, err_len, "%s", ret ? r.err : "");
	sample_free(&s);
	snapshot_reader_close(&r);
	close(fd);
	return ret;
}

/* Writes a small snapshot with one extra section (id, version, flags) before the memory. */
static int write_with(const char *path, uint32_t id, uint32_t version, uint32_t flags)
{
	struct snapshot_writer w;
	static const uint8_t payload[8] = {9, 9, 9};
	if (snapshot_writer_open_path(&w, path, SAMPLE_ARCH) < 0)
		return -1;
	snapshot_write_section(&w, SNAPSHOT_SEC_VM, 0, 1, SNAPSHOT_FLAG_MANDATORY, payload, 4);
	snapshot_write_section(&w, id, 1, version, flags, payload, sizeof(payload));
	snapshot_write_section(&w, SNAPSHOT_SEC_TIMER, 0, 1, SNAPSHOT_FLAG_MANDATORY, payload, 2);
	return snapshot_writer_commit(&w);
}

static void test_versions(const char *dir)
{
	char path[512], err[SNAPSHOT_ERR_LEN];
	uint8_t *b = NULL;
	struct snapshot_writer w;
	snprintf(path, sizeof(path), "%s/versions.roam", dir);
	CHECK_EQ(snapshot_writer_open_path(&w, path, SAMPLE_ARCH), 0);
	CHECK_EQ(sample_write(&w, true, 0), 0);
	long len = sample_slurp(path, &b);
	CHECK(len > 0);
	CHECK_EQ(read_named(path, SAMPLE_ARCH, 0, err, sizeof(err)), 0);

	/* A newer format. */
	b[8] = 2;
	snapshot_put_le32(b + 68, crc32c(b, 68));
	CHECK_EQ(write_bytes(path, b, (size_t)len), 0);
	CHECK_EQ(read_named(path, SAMPLE_ARCH, 0, err, sizeof(err)), -ENOTSUP);
	CHECK(!strcmp(err, "snap.roam: format version 2 is newer than this roam's 1; use a newer roam"));
	b[8] = 1;
	snapshot_put_le32(b + 68, crc32c(b, 68));

	/* A newer version of the memory section (the format layer owns it). */
	size_t mem = find_section(b, (size_t)len, SNAPSHOT_SEC_MEMORY, 0);
	CHECK(mem > 0);
	patch_section(b, mem, 8, 2);
	CHECK_EQ(write_bytes(path, b, (size_t)len), 0);
	CHECK_EQ(read_named(path, SAMPLE_ARCH, 0, err, sizeof(err)), -ENOTSUP);
	CHECK(
	    !strcmp(err, "snap.roam: section \"memory 0\" has version 2, newer than this roam's 1; use a newer roam"));
	patch_section(b, mem, 8, 1);
	patch_section(b, mem, 12, SNAPSHOT_FLAG_MANDATORY | 0x4); /* a flag this roam does not know */
	CHECK_EQ(write_bytes(path, b, (size_t)len), 0);
	CHECK_EQ(read_named(path, SAMPLE_ARCH, 0, err, sizeof(err)), -ENOTSUP);
	CHECK(!strcmp(err, "snap.roam: section \"memory 0\" is mandatory and has flags 0x5 unknown to this roam; use a "
			   "newer roam"));
	free(b);

	/* The wrong architecture; no architecture asked for reads it. */
	CHECK_EQ(snapshot_writer_open_path(&w, path, "loongarch64"), 0);
	CHECK_EQ(sample_write(&w, true, 0), 0);
	CHECK_EQ(read_named(path, "arm64", 0, err, sizeof(err)), -ENOEXEC);
	CHECK(!strcmp(err, "snap.roam: made for loongarch64, this is arm64"));
	CHECK_EQ(read_named(path, NULL, 0, err, sizeof(err)), 0);

	/* A section newer than its owner reads: mandatory fails naming it, optional is skipped (begin returns 1). */
	CHECK_EQ(write_with(path, SNAPSHOT_SEC_VCPU, 3, SNAPSHOT_FLAG_MANDATORY), 0);
	CHECK_EQ(read_named(path, SAMPLE_ARCH, 0, err, sizeof(err)), -ENOTSUP);
	CHECK(!strcmp(err, "snap.roam: section \"vcpu 1\" has version 3, newer than this roam's 1; use a newer roam"));
	struct snapshot_reader r;
	struct snapshot_section sec;
	struct snap_reader p;
	CHECK_EQ(snapshot_reader_open_path(&r, path, SAMPLE_ARCH, 0), 0);
	snprintf(r.name, sizeof(r.name), "snap.roam");
	CHECK_EQ(snapshot_read_next(&r, &sec), 1);
	CHECK_EQ(snapshot_read_next(&r, &sec), 1);
	CHECK_EQ(snapshot_section_begin(&r, &sec, 2, &p), -ENOTSUP);
	CHECK(
	    !strcmp(r.err, "snap.roam: section \"vcpu 1\" has version 3, newer than this roam's 2; use a newer roam"));
	CHECK_EQ(snapshot_section_begin(&r, &sec, 3, &p), 0);
	CHECK_EQ(snap_get_u32(&p, "first"), 0x090909);
	CHECK_EQ(snapshot_section_end(&r, &sec, &p), -EBADMSG);
	CHECK(!strcmp(r.err, "snap.roam: section \"vcpu 1\": bad payload (trailing bytes)"));
	snapshot_reader_close(&r);
	CHECK_EQ(write_with(path, SNAPSHOT_SEC_VCPU, 3, 0), 0);
	CHECK_EQ(snapshot_reader_open_path(&r, path, SAMPLE_ARCH, 0), 0);
	CHECK_EQ(snapshot_read_next(&r, &sec), 1);
	CHECK_EQ(snapshot_read_next(&r, &sec), 1);
	CHECK_EQ(snapshot_section_begin(&r, &sec, 2, &p), 1);
	snapshot_reader_close(&r);

	/* Unknown sections: optional ones are skipped (listed in inspect mode), mandatory ones refused. */
	for (uint32_t flags = 0; flags <= 4; flags += 4) {
		CHECK_EQ(write_with(path, 77, 1, flags), 0);
		CHECK_EQ(snapshot_reader_open_path(&r, path, SAMPLE_ARCH, 0), 0);
		CHECK_EQ(snapshot_read_next(&r, &sec), 1);
		CHECK_EQ(sec.id, SNAPSHOT_SEC_VM);
		CHECK_EQ(snapshot_read_next(&r, &sec), 1);
		CHECK_EQ(sec.id, SNAPSHOT_SEC_TIMER);
		CHECK_EQ(snapshot_read_next(&r, &sec), 0);
		snapshot_reader_close(&r);
		CHECK_EQ(snapshot_reader_open_path(&r, path, SAMPLE_ARCH, SNAPSHOT_READ_INSPECT), 0);
		CHECK_EQ(snapshot_read_next(&r, &sec), 1);
		CHECK_EQ(snapshot_read_next(&r, &sec), 1);
		CHECK(sec.id == 77 && !sec.known && sec.checked && sec.crc_ok && !strcmp(sec.name, "id 77 instance 1"));
		snapshot_reader_close(&r);
	}
	CHECK_EQ(write_with(path, 77, 1, SNAPSHOT_FLAG_MANDATORY), 0);
	CHECK_EQ(read_named(path, SAMPLE_ARCH, 0, err, sizeof(err)), -ENOTSUP);
	CHECK(!strcmp(
	    err, "snap.roam: section \"id 77 instance 1\" (version 1) is mandatory and unknown to roam " ROAM_VERSION
		 "; use a newer roam"));
	CHECK_EQ(write_with(path, SNAPSHOT_SEC_PVLOCK, 1, SNAPSHOT_FLAG_MANDATORY | 0x80), 0);
	CHECK_EQ(read_named(path, SAMPLE_ARCH, 0, err, sizeof(err)), -ENOTSUP);
	CHECK_CONTAINS(err, "section \"pvlock 1\" is mandatory and has flags 0x81 unknown to this roam");
	CHECK_EQ(write_with(path, SNAPSHOT_SEC_PVLOCK, 1, 0x80), 0); /* optional: skipped */
	CHECK_EQ(read_named(path, SAMPLE_ARCH, 0, err, sizeof(err)), 0);
}

struct pipe_job {
	int fd;
	bool small;
	bool abort_early;
	bool keep_open; /* a migration's connection: open after END (the answer comes back on it) */
	int ret;
};

static void *pipe_writer(void *arg)
{
	struct pipe_job *job = arg;
	struct snapshot_writer w;
	job->ret = snapshot_writer_open_fd(&w, job->fd, "pipe", SAMPLE_ARCH);
	if (job->ret == 0 && job->abort_early) {
		/* Enough memory that part of it is flushed before giving up. */
		uint8_t *m = sample_memory(256);
		snapshot_write_section(&w, SNAPSHOT_SEC_VM, 0, 1, SNAPSHOT_FLAG_MANDATORY, "abc", 3);
		if (m)
			snapshot_write_memory(&w, 0, 0, m, 256ull * SAMPLE_PAGE, SAMPLE_PAGE, NULL);
		free(m);
		snapshot_writer_abort(&w);
	} else if (job->ret == 0) {
		job->ret = sample_write(&w, job->small, 64);
	}
	if (!job->keep_open)
		close(job->fd);
	return NULL;
}

static void test_pipe(const char *dir)
{
	char path[512], copy[512];
	snprintf(path, sizeof(path), "%s/direct.roam", dir);
	snprintf(copy, sizeof(copy), "%s/from-pipe.roam", dir);
	for (int abort_early = 0; abort_early <= 1; abort_early++) {
		int fds[2];
		pthread_t t;
		struct snapshot_reader r;
		struct sample_snapshot s;
		CHECK_EQ(pipe(fds), 0);
		struct pipe_job job = {.fd = fds[1], .abort_early = abort_early};
		CHECK_EQ(pthread_create(&t, NULL, pipe_writer, &job), 0);
		int ret = snapshot_reader_open_fd(&r, fds[0], "pipe", SAMPLE_ARCH, 0);
		CHECK_EQ(ret, 0);
		CHECK(!r.seekable);
		if (ret == 0)
			ret = sample_read_all(&r, &s);
		if (abort_early) {
			CHECK_EQ(ret, -ENODATA);
			CHECK_CONTAINS(r.err, "pipe: truncated in section \"memory 0\" (file ends ");
		} else {
			CHECK_EQ(ret, 0);
			check_sample(&s, 64);
		}
		snapshot_reader_close(&r);
		close(fds[0]); /* a writer still writing gets EPIPE, not a hang */
		pthread_join(t, NULL);
		CHECK_EQ(job.ret, 0);
		if (abort_early) {
			sample_free(&s);
			continue;
		}
		/* What came through the pipe is what a file gets. */
		struct snapshot_writer w;
		CHECK_EQ(snapshot_writer_open_path(&w, path, SAMPLE_ARCH), 0);
		CHECK_EQ(sample_write(&w, false, 64), 0);
		CHECK_EQ(snapshot_writer_open_path(&w, copy, SAMPLE_ARCH), 0);
		snapshot_writer_set_created(&w, SAMPLE_CREATED);
		CHECK_EQ(sample_rewrite(&w, &s), 0);
		CHECK(files_equal(path, copy));
		sample_free(&s);
	}
}

/* A migration: the reader stops at END although the connection stays open, and the answer goes back on it. */
static void test_open_after_end(void)
{
	int sv[2];
	pthread_t t;
	struct snapshot_reader r;
	struct sample_snapshot s;
	CHECK_EQ(socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv), 0);
	struct pipe_job job = {.fd = sv[1], .keep_open = true};
	CHECK_EQ(pthread_create(&t, NULL, pipe_writer, &job), 0);
	CHECK_EQ(snapshot_reader_open_fd(&r, sv[0], "unix:/x", SAMPLE_ARCH, SNAPSHOT_READ_OPEN_AFTER_END), 0);
	CHECK_EQ(sample_read_all(&r, &s), 0);
	CHECK(r.ended);
	check_sample(&s, 64);
	CHECK_EQ(write(sv[0], "running\n", 8), 8);
	pthread_join(t, NULL);
	CHECK_EQ(job.ret, 0);
	char answer[16] = "";
	CHECK_EQ(read(sv[1], answer, sizeof(answer) - 1), 8);
	CHECK(!strcmp(answer, "running\n"));
	snapshot_reader_close(&r);
	close(sv[0]);
	close(sv[1]);
	sample_free(&s);
}

static int count_temp_files(const char *dir)
{
	int n = 0;
	DIR *d = opendir(dir);
	struct dirent *e;
	while (d && (e = readdir(d)))
		n += strstr(e->d_name, ATOMIC_FILE_SUFFIX) != NULL;
	if (d)
		closedir(d);
	return n;
}

static void test_atomic(const char *dir)
{
	char path[512], nodir[512], err[SNAPSHOT_ERR_LEN];
	struct snapshot_writer w;
	struct stat st;
	uint8_t *before = NULL, mem[SAMPLE_PAGE] = {1};
	snprintf(path, sizeof(path), "%s/atomic.roam", dir);
	snprintf(nodir, sizeof(nodir), "%s/missing/atomic.roam", dir);
	CHECK_EQ(snapshot_writer_open_path(&w, path, SAMPLE_ARCH), 0);
	CHECK_EQ(sample_write(&w, true, 0), 0);
	CHECK(stat(path, &st) == 0 && (st.st_mode & 0777) == 0600);
	long len = sample_slurp(path, &before);
	CHECK(len > 0);

	/* Aborted half-way: the previous file stays, the temporary file goes. */
	CHECK_EQ(snapshot_writer_open_path(&w, path, SAMPLE_ARCH), 0);
	CHECK_EQ(count_temp_files(dir), w.file.tmp_path ? 1 : 0); /* none where the file system has O_TMPFILE */
	CHECK_EQ(snapshot_write_section(&w, SNAPSHOT_SEC_VM, 0, 1, SNAPSHOT_FLAG_MANDATORY, "new", 3), 0);
	CHECK(snapshot_write_memory(&w, 0, 0, mem, sizeof(mem), SAMPLE_PAGE, NULL) == 1);
	snapshot_writer_abort(&w);
	snapshot_writer_abort(&w); /* idempotent */
	CHECK_EQ(count_temp_files(dir), 0);
	uint8_t *after = NULL;
	CHECK(sample_slurp(path, &after) == len && !memcmp(before, after, (size_t)len));
	free(after);

	/* Failed: commit reports the first error, and the same holds. */
	CHECK_EQ(snapshot_writer_open_path(&w, path, SAMPLE_ARCH), 0);
	CHECK_EQ(snapshot_write_section(&w, SNAPSHOT_SEC_VM, 0, 1, SNAPSHOT_FLAG_MANDATORY, "new", 3), 0);
	CHECK(snapshot_write_memory(&w, 0, 0, mem, 100, SAMPLE_PAGE, NULL) == -EINVAL);
	CHECK_EQ(snapshot_writer_commit(&w), -EINVAL);
	CHECK_CONTAINS(w.err, "atomic.roam: section \"memory 0\"");
	CHECK_EQ(count_temp_files(dir), 0);
	after = NULL;
	CHECK(sample_slurp(path, &after) == len && !memcmp(before, after, (size_t)len));
	free(after);
	CHECK_EQ(read_named(path, SAMPLE_ARCH, 0, err, sizeof(err)), 0);

	/* Nowhere to write. */
	CHECK_EQ(snapshot_writer_open_path(&w, nodir, SAMPLE_ARCH), -ENOENT);
	CHECK_CONTAINS(w.err, "missing/atomic.roam: cannot create a temporary file next to it: No such file");
	snapshot_writer_abort(&w);

	/* A successful commit replaces the file. */
	CHECK_EQ(snapshot_writer_open_path(&w, path, SAMPLE_ARCH), 0);
	CHECK_EQ(sample_write(&w, false, 8), 0);
	CHECK_EQ(count_temp_files(dir), 0);
	after = NULL;
	CHECK(sample_slurp(path, &after) > len);
	free(after);
	free(before);
}

/* The names in `dir` but "." and "..", sorted, as one string "a b c". */
static void list_dir(const char *dir, char *out, size_t size)
{
	struct dirent **names;
	int n = scandir(dir, &names, NULL, alphasort);
	out[0] = '\0';
	for (int i = 0; i < n; i++) {
		if (strcmp(names[i]->d_name, ".") && strcmp(names[i]->d_name, ".."))
			snprintf(out + strlen(out), size - strlen(out), "%s%s", out[0] ? " " : "", names[i]->d_name);
		free(names[i]);
	}
	if (n >= 0)
		free(names);
}

/* In a child: starts a snapshot of `path` (a named temporary file if `named`), writes a section and is killed. */
static void killed_mid_write(const char *path, bool named)
{
	pid_t pid = fork();
	if (pid == 0) {
		struct atomic_file f;
		struct snapshot_writer w;
		bool started =
		    named ? atomic_file_open(&f, path, 0600, ATOMIC_FILE_NAMED) == 0 && write(f.fd, "partial", 7) == 7
			  : snapshot_writer_open_path(&w, path, SAMPLE_ARCH) == 0 &&
				snapshot_write_section(&w, SNAPSHOT_SEC_VM, 0, 1, 0, "half", 4) == 0;
		if (started)
			raise(SIGKILL);
		_exit(1);
	}
	int status;
	CHECK(pid > 0 && waitpid(pid, &status, 0) == pid && WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL);
}

/*
 * A roam killed in the middle of a snapshot leaves nothing behind (an anonymous temporary file) or a named one that
 * the next snapshot of the same file removes; named ones still being written (locked), of other files, or just made
 * stay.
 */
static void test_killed(const char *dir)
{
	char path[512], other[600], locked[600], listing[1024];
	snprintf(path, sizeof(path), "%s/killed/vm.roam", dir);
	snprintf(other, sizeof(other), "%s/killed/other.roam%sabcdef", dir, ATOMIC_FILE_SUFFIX);
	snprintf(locked, sizeof(locked), "%s/killed/vm.roam%sLOCKED", dir, ATOMIC_FILE_SUFFIX);
	snprintf(listing, sizeof(listing), "%s/killed", dir);
	CHECK(mkdir(listing, 0700) == 0);
	killed_mid_write(path, false);
	killed_mid_write(path, true);
	int fds[2] = {open(other, O_CREAT | O_WRONLY | O_CLOEXEC, 0600),
		      open(locked, O_CREAT | O_WRONLY | O_CLOEXEC, 0600)};
	CHECK(fds[0] >= 0 && fds[1] >= 0 && flock(fds[1], LOCK_EX) == 0);
	/* Made 3 s ago, so that they count as abandoned (a just-made one may not be locked yet). */
	struct timespec old[2];
	clock_gettime(CLOCK_REALTIME, &old[0]);
	old[0].tv_sec -= 3;
	old[1] = old[0];
	DIR *d = opendir(listing);
	for (struct dirent *e; d && (e = readdir(d));)
		utimensat(dirfd(d), e->d_name, old, 0);
	if (d)
		closedir(d);
	char before[1024], after[1024];
	list_dir(listing, before, sizeof(before));
	struct snapshot_writer w;
	CHECK_EQ(snapshot_writer_open_path(&w, path, SAMPLE_ARCH), 0);
	CHECK_EQ(sample_write(&w, true, 0), 0);
	list_dir(listing, after, sizeof(after));
	CHECK(!strcmp(after, "other.roam.roam-partial-abcdef vm.roam vm.roam.roam-partial-LOCKED"));
	if (strcmp(after, "other.roam.roam-partial-abcdef vm.roam vm.roam.roam-partial-LOCKED"))
		fprintf(stderr, "before: %s\nafter: %s\n", before, after);
	close(fds[0]);
	close(fds[1]);
	unlink(other);
	unlink(locked);
	unlink(path);
	rmdir(listing);
}

/* Removes the test's directory and the files in it. */
static void remove_dir(const char *dir)
{
	DIR *d = opendir(dir);
	struct dirent *e;
	char path[512];
	while (d && (e = readdir(d))) {
		snprintf(path, sizeof(path), "%s/%s", dir, e->d_name);
		if (strcmp(e->d_name, ".") && strcmp(e->d_name, ".."))
			unlink(path);
	}
	if (d)
		closedir(d);
	rmdir(dir);
}

/*
 * Memory backed by a memfd: the holes are skipped without being read (reading a hole of a shared memfd would
 * allocate it), and the stored pages are the same as with a full scan.
 */
static void test_memfd_holes(const char *dir)
{
	const uint64_t pages = 64;
	int fd = memfd_create("roam-test-ram", MFD_CLOEXEC);
	CHECK(fd >= 0 && ftruncate(fd, (off_t)(pages * SAMPLE_PAGE)) == 0);
	uint8_t *ram = mmap(NULL, pages * SAMPLE_PAGE, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	CHECK(ram != MAP_FAILED);
	if (fd < 0 || ram == MAP_FAILED)
		return;
	ram[3 * SAMPLE_PAGE + 7] = 1;
	memset(ram + 40 * SAMPLE_PAGE, 0, SAMPLE_PAGE); /* allocated, but zero: scanned and not stored */
	ram[41 * SAMPLE_PAGE] = 2;
	ram[63 * SAMPLE_PAGE + SAMPLE_PAGE - 1] = 3;
	char path[256];
	snprintf(path, sizeof(path), "%s/memfd.roam", dir);
	for (int with_fd = 1; with_fd >= 0; with_fd--) { /* with the fd first: a full scan allocates the holes */
		struct snapshot_writer w;
		CHECK_EQ(snapshot_writer_open_path(&w, path, SAMPLE_ARCH), 0);
		CHECK_EQ(
		    snapshot_write_memory(&w, 0, 0x40000000, ram, pages * SAMPLE_PAGE, SAMPLE_PAGE,
					  with_fd ? &(struct snapshot_data_map){snapshot_file_data_range, &fd} : NULL),
		    3);
		CHECK_EQ(snapshot_writer_commit(&w), 0);
		if (with_fd) {
			/* The scan with the fd read no hole: pages 4..39 and 42..62 are still holes. */
			CHECK_EQ(lseek(fd, 4 * SAMPLE_PAGE, SEEK_DATA), (off_t)(40 * SAMPLE_PAGE));
			CHECK_EQ(lseek(fd, 42 * SAMPLE_PAGE, SEEK_DATA), (off_t)(63 * SAMPLE_PAGE));
		}
	}
	munmap(ram, pages * SAMPLE_PAGE);
	close(fd);
}

int main(void)
{
	signal(SIGPIPE, SIG_IGN);
	char dir[] = "/tmp/roam-test-snapshot-XXXXXX";
	if (!mkdtemp(dir)) {
		perror("mkdtemp");
		return 1;
	}
	test_crc32c();
	test_names();
	test_roundtrip(dir);
	test_refusals(dir);
	test_versions(dir);
	test_pipe(dir);
	test_open_after_end();
	test_atomic(dir);
	test_killed(dir);
	test_memfd_holes(dir);
	remove_dir(dir);
	return check_exit();
}
