/*
 * Unit test of `roam snapshot-info` (vmm/cmd_snapshot_info.c) on files made by the snapshot writer: the header,
 * the decoded HOST, VM and TARGETS sections, every section's row, the JSON form (parsed back with jansson), exit
 * status 1 with the listing going on past a section with a bad checksum, truncated and foreign files, an unknown
 * optional section, standard input, and usage errors.
 */
#include "check.h"
#include "cli/commands.h"
#include "snapshot/crc32c.h"
#include "snapshot/snapshot_format.h"
#include "snapshot_sample.h"

#include <errno.h>
#include <fcntl.h>
#include <jansson.h>
#include <stdlib.h>
#include <unistd.h>

/* A JSON string's value, or "" if it is not one. */
static const char *jstr(json_t *v)
{
	const char *s = json_string_value(v);
	return s ? s : "";
}

struct run {
	int status;
	char *out, *err;
};

static void run_info(struct run *r, const char *a1, const char *a2, const char *a3)
{
	char *argv[] = {"snapshot-info", (char *)a1, (char *)a2, (char *)a3, NULL};
	int argc = 1 + (a1 != NULL) + (a2 != NULL) + (a3 != NULL);
	size_t olen, elen;
	FILE *out = open_memstream(&r->out, &olen), *err = open_memstream(&r->err, &elen);
	r->status = snapshot_info_main(argc, argv, out, err);
	fclose(out);
	fclose(err);
}

static void run_free(struct run *r)
{
	free(r->out);
	free(r->err);
}

/* Flips one bit at `off` of the file. */
static void flip(const char *path, long off)
{
	uint8_t c;
	int fd = open(path, O_RDWR | O_CLOEXEC);
	if (fd >= 0 && pread(fd, &c, 1, off) == 1) {
		c ^= 0x10;
		if (pwrite(fd, &c, 1, off) != 1)
			perror("pwrite");
	}
	if (fd >= 0)
		close(fd);
}

/* The file offset of the payload of section (id, instance). */
static long payload_offset(const char *path, uint32_t id, uint32_t instance)
{
	uint8_t *b = NULL;
	long len = sample_slurp(path, &b), found = -1;
	for (long off = SNAPSHOT_HEADER_SIZE; off + (long)SNAPSHOT_SECTION_HEADER_SIZE <= len;) {
		struct snapshot_raw_section s;
		snapshot_decode_section_header(b + off, &s);
		if (s.id == id && s.instance == instance) {
			found = off + SNAPSHOT_SECTION_HEADER_SIZE;
			break;
		}
		off += (long)(SNAPSHOT_SECTION_HEADER_SIZE + s.length + SNAPSHOT_SECTION_TRAILER_SIZE);
	}
	free(b);
	return found;
}

static void test_good(const char *path)
{
	struct run r;
	run_info(&r, path, NULL, NULL);
	CHECK_EQ(r.status, 0);
	CHECK_CONTAINS(r.out,
		       "roam snapshot format 1, arm64, written by roam " ROAM_VERSION " on 2023-11-14 22:13:20 UTC");
	CHECK_CONTAINS(r.out, "source host: build1, kernel 6.1.0-test, CPU id 0x414fd0c1 rev 0x1, roam 0.1.0");
	CHECK_CONTAINS(r.out, "vm: 256 MiB RAM, 2 vCPUs, PV-lock");
	CHECK_CONTAINS(r.out, "cmdline: console=ttyS0 quiet");
	CHECK_CONTAINS(r.out, "targets: cortex-a72 (MIDR 0x410fd083 REVIDR 0x0 AIDR 0x0), a64fx (MIDR 0x461f0010");
	CHECK_CONTAINS(r.out, "guest CPU: MIDR 0x410fd083");
	CHECK_CONTAINS(r.out, "device 0 (uart)");
	CHECK_CONTAINS(r.out, "device 1 (virtio-blk)");
	CHECK_CONTAINS(r.out, "  vcpu 1                       4        1       1 M        ");
	CHECK_CONTAINS(r.out, "  pvlock                       8        0       1 -                   0  ok");
	CHECK_CONTAINS(r.out, "ok  7 of 16 pages of 4096 bytes at 0x40000000");
	CHECK_CONTAINS(r.out, "ok  0 of 4 pages of 4096 bytes at 0x100000000");
	CHECK_CONTAINS(r.out, "  end                        255        0       1 M                   8  ok");
	CHECK_CONTAINS(r.out, "14 sections, ");
	CHECK_CONTAINS(r.out, "bytes: every checksum verifies");
	CHECK(r.err && r.err[0] == '\0');
	run_free(&r);

	run_info(&r, "--json", path, NULL);
	CHECK_EQ(r.status, 0);
	json_error_t e;
	json_t *j = json_loads(r.out ? r.out : "", 0, &e);
	CHECK(j != NULL);
	if (!j)
		fprintf(stderr, "JSON: %s at line %d\n%s", e.text, e.line, r.out);
	CHECK(json_is_true(json_object_get(j, "ok")));
	CHECK(json_is_null(json_object_get(j, "error")));
	CHECK(!strcmp(jstr(json_object_get(json_object_get(j, "header"), "arch")), "arm64"));
	CHECK_EQ(json_integer_value(json_object_get(json_object_get(j, "header"), "created")), SAMPLE_CREATED);
	CHECK(!strcmp(jstr(json_object_get(json_object_get(j, "host"), "hostname")), "build1"));
	CHECK_EQ(json_integer_value(json_object_get(json_object_get(j, "vm"), "nr_vcpus")), 2);
	CHECK(json_is_true(json_object_get(json_object_get(j, "vm"), "pvlock")));
	json_t *targets = json_object_get(json_object_get(j, "targets"), "targets");
	CHECK_EQ(json_array_size(targets), 2);
	CHECK(!strcmp(jstr(json_object_get(json_array_get(targets, 1), "name")), "a64fx"));
	json_t *sections = json_object_get(j, "sections");
	CHECK_EQ(json_array_size(sections), 14);
	json_t *mem = json_array_get(sections, 11);
	CHECK(!strcmp(jstr(json_object_get(mem, "name")), "memory 0"));
	CHECK(!strcmp(jstr(json_object_get(mem, "checksum")), "ok"));
	CHECK_EQ(json_integer_value(json_object_get(json_object_get(mem, "memory"), "present")), 7);
	json_decref(j);
	run_free(&r);

	/* Standard input. */
	int saved = dup(STDIN_FILENO), fd = open(path, O_RDONLY | O_CLOEXEC);
	CHECK(fd >= 0 && dup2(fd, STDIN_FILENO) == STDIN_FILENO);
	run_info(&r, "-", NULL, NULL);
	dup2(saved, STDIN_FILENO);
	close(saved);
	close(fd);
	CHECK_EQ(r.status, 0);
	CHECK_CONTAINS(r.out, "stdin: roam snapshot format 1");
	run_free(&r);
}

static void test_bad(const char *path, const char *dir)
{
	struct run r;
	char other[512];
	/* A bad checksum in a vCPU and in memory: listed as BAD, the listing goes on to the end. */
	flip(path, payload_offset(path, SNAPSHOT_SEC_VCPU, 1) + 5);
	flip(path, payload_offset(path, SNAPSHOT_SEC_MEMORY, 0) + 4096 * 2);
	run_info(&r, path, NULL, NULL);
	CHECK_EQ(r.status, 1);
	CHECK_CONTAINS(r.out, "  vcpu 1                       4        1       1 M                 272  BAD");
	CHECK_CONTAINS(r.out, "BAD  7 of 16 pages");
	CHECK_CONTAINS(r.out, "  end ");
	CHECK_CONTAINS(r.out, "2 with a bad checksum");
	CHECK_CONTAINS(r.err, "section \"vcpu 1\": checksum mismatch (stored 0x");
	CHECK_CONTAINS(r.err, "section \"memory 0\": checksum mismatch (stored 0x");
	run_free(&r);
	run_info(&r, path, "--json", NULL);
	CHECK_EQ(r.status, 1);
	CHECK_CONTAINS(r.out, "\"ok\": false");
	CHECK_CONTAINS(r.out, "\"checksum\": \"bad\"");
	CHECK_CONTAINS(r.out, "\"bad_checksums\": 2");
	run_free(&r);

	/* Truncated: what came before is listed, then why it stops. */
	CHECK_EQ(truncate(path, payload_offset(path, SNAPSHOT_SEC_TIMER, 0) + 3), 0);
	run_info(&r, path, NULL, NULL);
	CHECK_EQ(r.status, 1);
	CHECK_CONTAINS(r.out, "irqchip");
	CHECK_CONTAINS(r.out, "incomplete: ");
	CHECK_CONTAINS(r.err, "truncated in section \"timer\" (file ends 17 bytes early)");
	run_free(&r);

	/* Not a snapshot at all; a file that is not there. */
	snprintf(other, sizeof(other), "%s/other", dir);
	FILE *f = fopen(other, "w");
	if (f) {
		fputs("hello\n", f);
		fclose(f);
	}
	run_info(&r, other, NULL, NULL);
	CHECK_EQ(r.status, 1);
	CHECK(r.out && r.out[0] == '\0');
	CHECK_CONTAINS(r.err, "other: not a roam snapshot (bad magic)");
	run_free(&r);
	run_info(&r, "--json", other, NULL);
	CHECK_EQ(r.status, 1);
	CHECK_CONTAINS(r.out, "\"header\": null");
	run_free(&r);
	unlink(other);
	snprintf(other, sizeof(other), "%s/missing", dir);
	run_info(&r, other, NULL, NULL);
	CHECK_EQ(r.status, 1);
	CHECK_CONTAINS(r.err, "missing: cannot open: No such file or directory");
	run_free(&r);
}

static void test_unknown_and_usage(const char *path)
{
	struct snapshot_writer w;
	struct run r;
	CHECK_EQ(snapshot_writer_open_path(&w, path, "loongarch64"), 0);
	CHECK_EQ(snapshot_write_section(&w, 99, 2, 7, 0, "future", 6), 0);
	CHECK_EQ(snapshot_writer_commit(&w), 0);
	run_info(&r, path, NULL, NULL);
	CHECK_EQ(r.status, 0);
	CHECK_CONTAINS(r.out, "loongarch64");
	CHECK_CONTAINS(r.out, "id 99 instance 2");
	CHECK_CONTAINS(r.out, "(not known to this roam, optional)");
	run_free(&r);

	/* A mandatory section this roam cannot read: listed, the listing goes on, and the status says no. */
	CHECK_EQ(snapshot_writer_open_path(&w, path, SAMPLE_ARCH), 0);
	CHECK_EQ(snapshot_write_section(&w, 99, 0, 1, SNAPSHOT_FLAG_MANDATORY, "future", 6), 0);
	CHECK_EQ(snapshot_write_section(&w, SNAPSHOT_SEC_VCPU, 0, 1, SNAPSHOT_FLAG_MANDATORY, "regs", 4), 0);
	CHECK_EQ(snapshot_writer_commit(&w), 0);
	run_info(&r, path, NULL, NULL);
	CHECK_EQ(r.status, 1);
	CHECK_CONTAINS(r.out, "id 99");
	CHECK_CONTAINS(r.out, "(mandatory, and this roam cannot read it)\n  vcpu 0 ");
	CHECK_CONTAINS(r.out, "0 with a bad checksum, 1 that this roam cannot read");
	CHECK_CONTAINS(r.err, "section \"id 99\" (version 1) is mandatory and unknown to roam");
	run_free(&r);
	run_info(&r, path, "--json", NULL);
	CHECK_CONTAINS(r.out, "\"refused\": true");
	CHECK_CONTAINS(r.out, "\"refused_sections\": 1");
	run_free(&r);

	run_info(&r, NULL, NULL, NULL);
	CHECK_EQ(r.status, 2);
	CHECK_CONTAINS(r.err, "roam: snapshot-info: no FILE given; see roam snapshot-info --help");
	run_free(&r);
	run_info(&r, path, "--yaml", NULL);
	CHECK_EQ(r.status, 2);
	CHECK_CONTAINS(r.err, "unknown option '--yaml'");
	run_free(&r);
	run_info(&r, path, path, NULL);
	CHECK_EQ(r.status, 2);
	run_free(&r);
	run_info(&r, "--help", NULL, NULL);
	CHECK_EQ(r.status, 0);
	CHECK_CONTAINS(r.out, "usage: roam snapshot-info FILE [--json]");
	run_free(&r);
}

/*
 * The heap in use, for the streaming test: counted through the sanitizers' allocation hooks, which the native build
 * has (weak: elsewhere the check is skipped).
 */
int __sanitizer_install_malloc_and_free_hooks(void (*malloc_hook)(const volatile void *, size_t),
					      void (*free_hook)(const volatile void *)) __attribute__((weak));
size_t __sanitizer_get_allocated_size(const volatile void *p) __attribute__((weak));
static size_t heap_now, heap_peak;

static void count_malloc(const volatile void *p, size_t size)
{
	(void)p;
	heap_now += size;
	if (heap_now > heap_peak)
		heap_peak = heap_now;
}

static void count_free(const volatile void *p)
{
	if (p)
		heap_now -= __sanitizer_get_allocated_size(p);
}

/*
 * A file of 200000 small sections: snapshot-info streams, so its heap stays under 2 MiB (a row per section kept
 * until the end, as before, is 38 MB). The listing is complete all the same.
 */
static void test_many_sections(const char *path)
{
	enum { SECTIONS = 200000 };
	struct snapshot_writer w;
	CHECK_EQ(snapshot_writer_open_path(&w, path, SAMPLE_ARCH), 0);
	for (uint32_t i = 0; i < SECTIONS; i++)
		snapshot_write_section(&w, 99, i, 1, 0, "tiny", 4);
	CHECK_EQ(snapshot_writer_commit(&w), 0);
	char *argv[] = {"snapshot-info", (char *)path, NULL};
	FILE *out = fopen("/dev/null", "w"), *err = fopen("/dev/null", "w");
	bool counting = __sanitizer_install_malloc_and_free_hooks && __sanitizer_get_allocated_size;
	if (counting) {
		heap_now = heap_peak = 0;
		__sanitizer_install_malloc_and_free_hooks(count_malloc, count_free);
	}
	CHECK_EQ(snapshot_info_main(2, argv, out, err), 0);
	if (counting) {
		__sanitizer_install_malloc_and_free_hooks(NULL, NULL);
		CHECK(heap_peak < (2u << 20));
		if (heap_peak >= (2u << 20))
			fprintf(stderr, "snapshot-info used %zu bytes of heap for %d sections\n", heap_peak, SECTIONS);
	} else {
		printf("heap not measured (no sanitizer hooks in this build)\n");
	}
	fclose(out);
	fclose(err);

	struct run r;
	run_info(&r, path, "--json", NULL);
	CHECK_EQ(r.status, 0);
	CHECK_CONTAINS(r.out, "\"name\": \"id 99 instance 199999\"");
	CHECK_CONTAINS(r.out, "\"ok\": true");
	run_free(&r);
}

int main(void)
{
	char dir[] = "/tmp/roam-test-snapshot-info-XXXXXX", path[512];
	struct snapshot_writer w;
	if (!mkdtemp(dir)) {
		perror("mkdtemp");
		return 1;
	}
	snprintf(path, sizeof(path), "%s/snap.roam", dir);
	CHECK_EQ(snapshot_writer_open_path(&w, path, SAMPLE_ARCH), 0);
	CHECK_EQ(sample_write(&w, false, 16), 0);
	test_good(path);
	test_bad(path, dir);
	test_unknown_and_usage(path);
	test_many_sections(path);
	unlink(path);
	rmdir(dir);
	return check_exit();
}
