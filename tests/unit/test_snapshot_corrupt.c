/*
 * Unit test of the snapshot reader against damaged and hostile files (vmm/snapshot_read*.c): every truncation point
 * of a small complete snapshot, read from a file and from a pipe, gives a "truncated" error with the right count of
 * missing bytes (never success, never a crash: the native build runs this under ASan/UBSan); thousands of seeded
 * random bit flips are all detected (mmap, pread and pipe paths); and crafted files with valid checksums but
 * hostile contents (huge lengths, bad memory geometry, a wrong section count, trailing data) are refused with a
 * message saying what is wrong.
 */
#include "check.h"
#include "snapshot/crc32c.h"
#include "snapshot/snapshot_format.h"
#include "snapshot_sample.h"

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <signal.h>
#include <stdlib.h>
#include <unistd.h>

/* Reads a whole snapshot from fd (named snap.roam); returns the result, with the message in err. */
static int read_fd(int fd, unsigned flags, char *err, size_t err_len)
{
	struct snapshot_reader r;
	struct sample_snapshot s = {0};
	int ret = snapshot_reader_open_fd(&r, fd, "snap.roam", SAMPLE_ARCH, flags);
	if (ret == 0)
		ret = sample_read_all(&r, &s);
	snprintf(err, err_len, "%s", ret ? r.err : "");
	sample_free(&s);
	snapshot_reader_close(&r);
	return ret;
}

/* Reads `len` bytes of `b` through a pipe (they fit in its buffer, so no writer thread is needed). */
static int read_pipe(const uint8_t *b, size_t len, char *err, size_t err_len)
{
	int fds[2];
	if (pipe(fds) < 0)
		return -errno;
	bool ok = write(fds[1], b, len) == (ssize_t)len;
	close(fds[1]);
	int ret = ok ? read_fd(fds[0], 0, err, err_len) : -EIO;
	close(fds[0]);
	return ret;
}

/* Reads `len` bytes of `b` from a file (the file at fd, rewritten). */
static int read_file(int fd, const uint8_t *b, size_t len, unsigned flags, char *err, size_t err_len)
{
	if (ftruncate(fd, 0) < 0 || pwrite(fd, b, len, 0) != (ssize_t)len || lseek(fd, 0, SEEK_SET) != 0)
		return -EIO;
	return read_fd(fd, flags, err, err_len);
}

/* Checks a truncation message: "truncated" (or an empty file), and the missing byte count plausible. */
static bool truncation_ok(int ret, const char *err, size_t n, size_t len)
{
	if (ret != (n == 0 ? -EBADMSG : -ENODATA) || strncmp(err, "snap.roam: ", 11))
		return false;
	if (n == 0)
		return strstr(err, "empty file") != NULL;
	const char *early = strstr(err, "(file ends ");
	if (!early)
		return strstr(err, "(the END section is missing)") != NULL;
	unsigned long long missing = strtoull(early + 11, NULL, 10);
	return strstr(err, "truncated in ") && missing > 0 && n + missing <= len;
}

static void test_truncation(int fd, const uint8_t *b, size_t len)
{
	char err[SNAPSHOT_ERR_LEN];
	int bad = 0;
	for (size_t n = 0; n < len; n++) {
		int ret = read_file(fd, b, n, 0, err, sizeof(err));
		if (!truncation_ok(ret, err, n, len) && bad++ < 5)
			fprintf(stderr, "file truncated to %zu bytes: %d %s\n", n, ret, err);
		ret = read_pipe(b, n, err, sizeof(err));
		if (!truncation_ok(ret, err, n, len) && bad++ < 5)
			fprintf(stderr, "pipe truncated to %zu bytes: %d %s\n", n, ret, err);
	}
	CHECK_EQ(bad, 0);
	CHECK_EQ(read_file(fd, b, len, 0, err, sizeof(err)), 0);

	/* The messages, exactly, at a few places: the END section is the last 44 bytes. */
	struct {
		size_t cut;
		const char *msg;
	} cases[] = {
	    {3, "snap.roam: truncated in the file header (file ends 69 bytes early)"},
	    {40, "snap.roam: truncated in the file header (file ends 32 bytes early)"},
	    {72, "snap.roam: truncated after the file header (the END section is missing)"},
	    {80, "snap.roam: truncated in the section header after the file header (file ends 24 bytes early)"},
	    {110, "snap.roam: truncated in section \"host\" (file ends "},
	    {len - 50, "snap.roam: truncated in section \"memory 0\" (file ends 6 bytes early)"},
	    {len - 44, "snap.roam: truncated after section \"memory 0\" (the END section is missing)"},
	    {len - 34,
	     "snap.roam: truncated in the section header after section \"memory 0\" (file ends 22 bytes early)"},
	    {len - 2, "snap.roam: truncated in section \"end\" (file ends 2 bytes early)"},
	};
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		read_file(fd, b, cases[i].cut, 0, err, sizeof(err));
		CHECK_CONTAINS(err, cases[i].msg);
		read_pipe(b, cases[i].cut, err, sizeof(err));
		CHECK_CONTAINS(err, cases[i].msg);
	}
}

static uint64_t xorshift(uint64_t *s)
{
	*s ^= *s << 13;
	*s ^= *s >> 7;
	*s ^= *s << 17;
	return *s;
}

static void test_bit_flips(int fd, const uint8_t *b, size_t len)
{
	enum { FLIPS = 3000 };
	uint64_t seed = 0x5eed5eed12345ull;
	uint8_t *m = malloc(len);
	char err[SNAPSHOT_ERR_LEN];
	int undetected = 0, bad_message = 0, checksum = 0;
	if (!m)
		return;
	for (int i = 0; i < FLIPS; i++) {
		memcpy(m, b, len);
		int bits = 1 + (int)(xorshift(&seed) % 3);
		uint64_t pos[3];
		for (int k = 0; k < bits; k++) {
			bool again;
			do { /* distinct bits, or two flips would cancel */
				pos[k] = xorshift(&seed) % (len * 8);
				again = false;
				for (int j = 0; j < k; j++)
					again |= pos[j] == pos[k];
			} while (again);
			m[pos[k] / 8] ^= (uint8_t)(1u << (pos[k] % 8));
		}
		int ret = i % 3 == 0   ? read_pipe(m, len, err, sizeof(err))
			  : i % 3 == 1 ? read_file(fd, m, len, SNAPSHOT_READ_NO_MMAP, err, sizeof(err))
				       : read_file(fd, m, len, 0, err, sizeof(err));
		if (ret >= 0 && undetected++ < 5)
			fprintf(stderr, "flip %d of bit %" PRIu64 " not detected\n", i, pos[0]);
		if (ret < 0 && (strncmp(err, "snap.roam: ", 11) || strlen(err) < 20) && bad_message++ < 5)
			fprintf(stderr, "flip %d: unclear message \"%s\"\n", i, err);
		checksum += strstr(err, "checksum") != NULL;
	}
	CHECK_EQ(undetected, 0);
	CHECK_EQ(bad_message, 0);
	CHECK(checksum > FLIPS / 2); /* most land in page data and payloads */
	printf("%d bit flips: all detected, %d as checksum mismatches\n", FLIPS, checksum);
	free(m);
}

/* A crafted snapshot: a valid header, then sections appended by hand with valid checksums. */
struct craft {
	uint8_t b[3 * 4096];
	size_t len;
};

static void craft_start(struct craft *c)
{
	struct snapshot_header h = {.format_version = 1, .arch = SAMPLE_ARCH, .roam_version = "0.1.0"};
	snapshot_encode_header(&h, c->b);
	c->len = SNAPSHOT_HEADER_SIZE;
}

/* Appends a section header claiming `length` bytes, then `payload_len` bytes of payload and a valid trailer. */
static void craft_section(struct craft *c, uint32_t id, uint32_t flags, uint64_t length, const uint8_t *payload,
			  size_t payload_len)
{
	snapshot_encode_section_header(id, 0, 1, flags, length, c->b + c->len);
	c->len += SNAPSHOT_SECTION_HEADER_SIZE;
	if (payload_len)
		memcpy(c->b + c->len, payload, payload_len);
	c->len += payload_len;
	snapshot_put_le32(c->b + c->len, crc32c(payload, payload_len));
	c->len += 4;
}

static void craft_end(struct craft *c, uint64_t count)
{
	uint8_t p[8];
	for (int i = 0; i < 8; i++)
		p[i] = (uint8_t)(count >> (8 * i));
	craft_section(c, SNAPSHOT_SEC_END, SNAPSHOT_FLAG_MANDATORY, 8, p, 8);
}

/* A memory section at offset 72 whose header says (size, page_size, present) and holds `bitmap` and one page. */
static void craft_memory(struct craft *c, uint64_t size, uint32_t page_size, uint64_t present, uint8_t bitmap)
{
	uint8_t p[4096 - 104 + 4096] = {0};
	snapshot_encode_memory_header(0x40000000, size, page_size, present, p);
	p[32] = bitmap;
	p[4096 - 104] = 0x77; /* the page, at offset 4096 of the file */
	craft_section(c, SNAPSHOT_SEC_MEMORY, SNAPSHOT_FLAG_MANDATORY, sizeof(p), p, sizeof(p));
}

static void test_hostile(int fd)
{
	char err[SNAPSHOT_ERR_LEN];
	struct craft c;
	static const uint8_t small[16];

	craft_start(&c);
	craft_memory(&c, 2 * 4096, 4096, 1, 0x2);
	craft_end(&c, 1);
	CHECK_EQ(read_file(fd, c.b, c.len, 0, err, sizeof(err)), 0); /* the crafting itself is right */
	CHECK_EQ(read_pipe(c.b, c.len, err, sizeof(err)), 0);
	c.b[c.len++] = 0; /* one byte too many */
	CHECK_EQ(read_file(fd, c.b, c.len, 0, err, sizeof(err)), -EBADMSG);
	CHECK(!strcmp(err, "snap.roam: 1 bytes of trailing data after the END section"));
	CHECK_EQ(read_pipe(c.b, c.len, err, sizeof(err)), -EBADMSG);
	CHECK(!strcmp(err, "snap.roam: trailing data after the END section"));

	struct {
		uint64_t size;
		uint32_t page_size;
		uint64_t present;
		uint8_t bitmap;
		const char *msg;
	} mem[] = {
	    {2 * 4096, 3000, 1, 0x2, "section \"memory 0\": corrupt (page size 3000)"},
	    {2 * 4096, 1u << 21, 1, 0x2, "corrupt (page size 2097152)"},
	    {4096 + 1, 4096, 1, 0x2, "corrupt (0x1001 bytes at 0x40000000, 1 pages of 4096 bytes stored)"},
	    {0, 4096, 0, 0, "corrupt (0 bytes at"},
	    {2 * 4096, 4096, 3, 0x2, "corrupt (0x2000 bytes at 0x40000000, 3 pages"},
	    {1ull << 60, 4096, 1, 0x2, "corrupt (0x1000000000000000 bytes"},
	    {2 * 4096, 4096, 1, 0x3, "the page bitmap does not match 1 stored pages"},
	    {2 * 4096, 4096, 1, 0x4, "the page bitmap does not match 1 stored pages"},
	    {2 * 4096, 4096, 0, 0x0, "corrupt (8088 bytes long, its header implies 33)"},
	    {40000 * 4096ull, 4096, 1, 0x2, "corrupt (8088 bytes long, its header implies 12184)"},
	};
	for (size_t i = 0; i < sizeof(mem) / sizeof(mem[0]); i++) {
		craft_start(&c);
		craft_memory(&c, mem[i].size, mem[i].page_size, mem[i].present, mem[i].bitmap);
		craft_end(&c, 1);
		CHECK_EQ(read_file(fd, c.b, c.len, 0, err, sizeof(err)), -EBADMSG);
		CHECK_CONTAINS(err, mem[i].msg);
	}

	/* Lengths over the limit: refused before anything is allocated or read. */
	craft_start(&c);
	craft_section(&c, SNAPSHOT_SEC_VCPU, SNAPSHOT_FLAG_MANDATORY, 1ull << 30, small, sizeof(small));
	CHECK_EQ(read_file(fd, c.b, c.len, 0, err, sizeof(err)), -EFBIG);
	CHECK(!strcmp(err, "snap.roam: section \"vcpu 0\": 1073741824 bytes is more than the limit of 64 MiB"));
	CHECK_EQ(read_pipe(c.b, c.len, err, sizeof(err)), -EFBIG);
	craft_start(&c);
	craft_section(&c, SNAPSHOT_SEC_MEMORY, SNAPSHOT_FLAG_MANDATORY, UINT64_MAX - 10, small, sizeof(small));
	CHECK_EQ(read_pipe(c.b, c.len, err, sizeof(err)), -EFBIG);
	CHECK_CONTAINS(err, "section \"memory 0\": length 18446744073709551605 is too large");
	/* Within the limit but longer than the stream: truncated, after reading only what is there. */
	craft_start(&c);
	craft_section(&c, SNAPSHOT_SEC_VCPU, SNAPSHOT_FLAG_MANDATORY, 60u << 20, small, sizeof(small));
	CHECK_EQ(read_pipe(c.b, c.len, err, sizeof(err)), -ENODATA);
	CHECK(!strcmp(err, "snap.roam: truncated in section \"vcpu 0\" (file ends 62914544 bytes early)"));
	CHECK_EQ(read_file(fd, c.b, c.len, 0, err, sizeof(err)), -ENODATA);
	CHECK(!strcmp(err, "snap.roam: truncated in section \"vcpu 0\" (file ends 62914544 bytes early)"));

	/* The END section's count, length and place. */
	craft_start(&c);
	craft_section(&c, SNAPSHOT_SEC_VCPU, SNAPSHOT_FLAG_MANDATORY, 16, small, 16);
	craft_end(&c, 2);
	CHECK_EQ(read_file(fd, c.b, c.len, 0, err, sizeof(err)), -EBADMSG);
	CHECK(!strcmp(err, "snap.roam: section \"end\": corrupt (it counts 2 sections, 1 came before it)"));
	craft_start(&c);
	craft_section(&c, SNAPSHOT_SEC_END, SNAPSHOT_FLAG_MANDATORY, 4, small, 4);
	CHECK_EQ(read_file(fd, c.b, c.len, 0, err, sizeof(err)), -EBADMSG);
	CHECK_CONTAINS(err, "section \"end\": corrupt");

	/* Not a snapshot; a corrupt header. */
	CHECK_EQ(read_file(fd, (const uint8_t *)"#!/bin/sh\necho hello\n", 21, 0, err, sizeof(err)), -EBADMSG);
	CHECK(!strcmp(err, "snap.roam: not a roam snapshot (bad magic)"));
	craft_start(&c);
	c.b[20] ^= 1;
	craft_end(&c, 0);
	CHECK_EQ(read_file(fd, c.b, c.len, 0, err, sizeof(err)), -EBADMSG);
	CHECK_CONTAINS(err, "snap.roam: header checksum mismatch (stored 0x");
	craft_start(&c);
	c.b[8] = 0;
	CHECK_EQ(read_file(fd, c.b, c.len, 0, err, sizeof(err)), -EBADMSG);
	CHECK(!strcmp(err, "snap.roam: corrupt header (format version 0)"));
}

static void test_memory_size(int fd, const uint8_t *b, size_t len)
{
	struct snapshot_reader r;
	struct snapshot_section sec;
	uint8_t mem[4 * 4096] = {0};
	CHECK(pwrite(fd, b, len, 0) == (ssize_t)len && ftruncate(fd, (off_t)len) == 0);
	lseek(fd, 0, SEEK_SET);
	CHECK_EQ(snapshot_reader_open_fd(&r, fd, "snap.roam", SAMPLE_ARCH, 0), 0);
	while (snapshot_read_next(&r, &sec) > 0 && sec.id != SNAPSHOT_SEC_MEMORY)
		;
	CHECK_EQ(sec.id, SNAPSHOT_SEC_MEMORY);
	CHECK_EQ(snapshot_read_memory(&r, &sec, mem, sizeof(mem)), -EINVAL);
	CHECK(
	    !strcmp(r.err, "snap.roam: section \"memory 0\": holds 0x2000 bytes of memory, the VM's slot has 0x4000"));
	CHECK_EQ(snapshot_read_memory(&r, &sec, mem, 2 * 4096), 1); /* the reader is still usable */
	CHECK_EQ(mem[4096 + 100], 1);
	CHECK_EQ(snapshot_read_next(&r, &sec), 0);
	snapshot_reader_close(&r);
}

int main(void)
{
	char path[] = "/tmp/roam-test-snapshot-corrupt-XXXXXX";
	struct snapshot_writer w;
	uint8_t *b = NULL;
	signal(SIGPIPE, SIG_IGN);
	int fd = mkstemp(path);
	if (fd < 0) {
		perror("mkstemp");
		return 1;
	}
	/* The small sample: about 8.5 KiB, so every truncation point is tried on file and pipe quickly. */
	CHECK_EQ(snapshot_writer_open_path(&w, path, SAMPLE_ARCH), 0);
	CHECK_EQ(sample_write(&w, true, 0), 0);
	close(fd);
	long len = sample_slurp(path, &b);
	fd = open(path, O_RDWR | O_CLOEXEC);
	CHECK(len > 8192 && len < 16384 && fd >= 0);
	if (len > 0 && fd >= 0) {
		test_truncation(fd, b, (size_t)len);
		test_bit_flips(fd, b, (size_t)len);
		test_memory_size(fd, b, (size_t)len);
		test_hostile(fd);
	}
	if (fd >= 0)
		close(fd);
	unlink(path);
	free(b);
	return check_exit();
}
