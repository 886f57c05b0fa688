/*
 * Fuzzes snapshot files (docs/snapshot-format.md): the input is a whole snapshot, read twice as `roam restore` and
 * `roam snapshot-info` would, once from a seekable file (a memfd: pread, and mmap for memory) and once from a pipe
 * (buffered, payloads grown as they arrive). Each pass walks every section with the reader; decodes HOST, VM (with
 * its device record) and TARGETS with snapshot_meta.h and checks that what decodes encodes back to the same bytes
 * (write-read-write stable); reads memory and memory-delta sections into buffers (slots up to 16 MiB) or skips them
 * verified; and runs `roam snapshot-info` (text from the file, --json from the pipe) on the same bytes. (The restore
 * walk into a VM, through the components' restore hooks, is fuzz_restore's.)
 *
 * Invariants: a section handed over has a verified checksum (outside inspect mode) and a payload within the limits;
 * a memory section's geometry is consistent; a payload that decodes re-encodes identically; nothing leaks or
 * overflows (ASan, UBSan). Seeds: the unit tests' sample snapshots (tests/unit/snapshot_sample.c), small and full,
 * one with a memory delta, and one with devices, an unknown optional and an unknown mandatory section.
 *
 * Every part of a snapshot is checksummed, so random mutations would almost never get past the CRCs: the custom
 * mutator repairs the header's and each section's checksums (and END's section count) after three mutations in four,
 * and leaves them broken in the fourth.
 */
#include "cli/commands.h"
#include "core/device_options.h"
#include "core/vm.h"
#include "fuzz_snapshot_crc.h"
#include "fuzz_util.h"
#include "snapshot/crc32c.h"
#include "snapshot/snapshot.h"
#include "snapshot/snapshot_format.h"
#include "snapshot/snapshot_meta.h"
#include "snapshot_sample.h"

#include <errno.h>
#include <jansson.h>

#define FUZZ_MAX_SLOT (16u << 20) /* memory sections larger than this are skipped (verified), not read */

static FILE *devnull;

/* Encodes what was decoded and decodes it again: the same bytes must come out of both encodings. */
static void check_meta_stable(uint32_t id, const struct snapshot_host_info *h, const struct snapshot_vm_info *v,
			      const struct vm_config *devices, bool have_devices, const struct snapshot_targets_info *t)
{
	struct snap_writer a, b;
	struct snap_reader p;
	snap_writer_init(&a);
	snap_writer_init(&b);
	if (id == SNAPSHOT_SEC_HOST) {
		static struct snapshot_host_info h2;
		snapshot_host_encode(&a, h);
		snap_reader_init(&p, a.buf, a.len);
		snapshot_host_decode(&p, &h2);
		snapshot_host_encode(&b, &h2);
	} else if (id == SNAPSHOT_SEC_VM) {
		static struct snapshot_vm_info v2;
		static struct vm_config d2;
		snapshot_vm_encode(&a, v);
		if (have_devices)
			snapshot_vm_devices_encode(&a, devices);
		snap_reader_init(&p, a.buf, a.len);
		snapshot_vm_decode(&p, &v2);
		memset(&d2, 0, sizeof(d2));
		if (have_devices)
			snapshot_vm_devices_decode(&p, &d2, SNAPSHOT_VM_VERSION);
		snapshot_vm_encode(&b, &v2);
		if (have_devices)
			snapshot_vm_devices_encode(&b, &d2);
		char line[1024];
		device_options_format(&d2, line, sizeof(line));
	} else {
		static struct snapshot_targets_info t2;
		snapshot_targets_encode(&a, t);
		snap_reader_init(&p, a.buf, a.len);
		snapshot_targets_decode(&p, &t2);
		snapshot_targets_encode(&b, &t2);
	}
	FUZZ_ASSERT(!a.err && !b.err && !p.err, "section %u: what decoded does not encode and decode again", id);
	FUZZ_ASSERT(a.len == b.len && !memcmp(a.buf, b.buf, a.len), "section %u: write-read-write differs", id);
	snap_writer_fini(&a);
	snap_writer_fini(&b);
}

/* Decodes a descriptive section as snapshot-info and restore do. */
static void decode_meta(const struct snapshot_section *sec)
{
	static struct snapshot_host_info h;
	static struct snapshot_vm_info v;
	static struct snapshot_targets_info t;
	static struct vm_config devices;
	struct snap_reader p;
	bool have_devices = false;
	snap_reader_init(&p, sec->payload, sec->length);
	memset(&devices, 0, sizeof(devices));
	if (sec->id == SNAPSHOT_SEC_HOST) {
		snapshot_host_decode(&p, &h);
	} else if (sec->id == SNAPSHOT_SEC_VM) {
		snapshot_vm_decode(&p, &v);
		if (sec->version >= 2 && sec->version <= SNAPSHOT_VM_VERSION && !p.err) {
			snapshot_vm_devices_decode(&p, &devices, sec->version);
			have_devices = !p.err;
		}
	} else if (sec->id == SNAPSHOT_SEC_TARGETS) {
		snapshot_targets_decode(&p, &t);
	} else {
		return;
	}
	if (!p.err)
		check_meta_stable(sec->id, &h, &v, &devices, have_devices, &t);
}

/* Checks a memory section's geometry and reads its pages (or skips them, verified). */
static void read_memory(struct snapshot_reader *r, struct snapshot_section *sec)
{
	const struct snapshot_memory_info *m = &sec->mem;
	FUZZ_ASSERT(m->page_size >= SNAPSHOT_MIN_PAGE_SIZE && m->page_size <= SNAPSHOT_MAX_PAGE_SIZE &&
			!(m->page_size & (m->page_size - 1)),
		    "page size %u", m->page_size);
	FUZZ_ASSERT(m->size && m->size % m->page_size == 0 && m->gpa % m->page_size == 0, "slot geometry");
	FUZZ_ASSERT(m->present <= m->size / m->page_size, "%llu pages present of %llu", (unsigned long long)m->present,
		    (unsigned long long)(m->size / m->page_size));
	if (m->size > FUZZ_MAX_SLOT) {
		snapshot_skip_section(r, sec);
		return;
	}
	uint8_t *host = calloc(1, m->size);
	FUZZ_ASSERT(host, "out of memory for %llu bytes", (unsigned long long)m->size);
	int64_t n = snapshot_read_memory(r, sec, host, m->size);
	FUZZ_ASSERT(n < 0 || (uint64_t)n <= m->size / m->page_size, "read %lld pages of %llu", (long long)n,
		    (unsigned long long)(m->size / m->page_size));
	free(host);
}

/* Reads every section of the snapshot on fd as a restore would (no inspect mode: the first problem ends it). */
static void read_all(int fd, const char *name)
{
	struct snapshot_reader r;
	struct snapshot_section sec;
	if (snapshot_reader_open_fd(&r, fd, name, NULL, 0) == 0) {
		int ret;
		while ((ret = snapshot_read_next(&r, &sec)) > 0) {
			FUZZ_ASSERT(sec.id != SNAPSHOT_SEC_END, "END handed over as a section");
			if (snapshot_is_memory_id(sec.id)) {
				read_memory(&r, &sec);
				continue;
			}
			FUZZ_ASSERT(sec.checked && sec.crc_ok, "section \"%s\" handed over unverified", sec.name);
			FUZZ_ASSERT(sec.length <= SNAPSHOT_MAX_PAYLOAD, "section \"%s\" of %llu bytes", sec.name,
				    (unsigned long long)sec.length);
			struct snap_reader p;
			if (snapshot_section_begin(&r, &sec, 2, &p) == 0)
				decode_meta(&sec);
		}
		FUZZ_ASSERT(ret <= 0 && (ret == 0) == r.ended, "ended %d after %d", r.ended, ret);
		FUZZ_ASSERT(ret == 0 || r.err[0], "failed with no message");
	}
	snapshot_reader_close(&r);
}

/* A pipe holding the whole input (closed for writing), or -1 when it does not fit. */
static int pipe_of(const uint8_t *data, size_t size)
{
	int p[2];
	if (pipe2(p, O_CLOEXEC) < 0)
		return -1;
	long cap = fcntl(p[1], F_SETPIPE_SZ, 1 << 20);
	if (cap < 0 || (size_t)cap < size || (size && write(p[1], data, size) != (ssize_t)size)) {
		close(p[0]);
		close(p[1]);
		return -1;
	}
	close(p[1]);
	return p[0];
}

/* `roam snapshot-info FILE [--json]`: exit status 0 or 1, and the --json output is one valid JSON object. */
static void snapshot_info(const char *file, bool json)
{
	char *argv[] = {"snapshot-info", (char *)file, json ? "--json" : NULL, NULL};
	char *text = NULL;
	size_t len = 0;
	FILE *out = json ? open_memstream(&text, &len) : devnull;
	int status = snapshot_info_main(json ? 3 : 2, argv, out, devnull);
	FUZZ_ASSERT(status == 0 || status == 1, "snapshot-info exited %d", status);
	if (!json)
		return;
	fclose(out);
	json_error_t e;
	json_t *j = json_loadb(text, len, 0, &e);
	FUZZ_ASSERT(json_is_object(j), "snapshot-info --json printed invalid JSON (%s at line %d): %s", e.text, e.line,
		    text);
	FUZZ_ASSERT(json_is_boolean(json_object_get(j, "ok")) &&
			json_equal(json_object_get(j, "ok"), status == 0 ? json_true() : json_false()),
		    "\"ok\" disagrees with the exit status %d", status);
	json_decref(j);
	free(text);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	/* As a file: the reader, then snapshot-info through the path. */
	int fd = fuzz_memfd("snapshot", data, size);
	FUZZ_ASSERT(fd >= 0, "memfd");
	read_all(fd, "fuzz.roam");
	char path[64];
	snprintf(path, sizeof(path), "/proc/self/fd/%d", fd);
	snapshot_info(path, false);
	close(fd);

	/* As a stream: the reader, then snapshot-info --json on standard input. */
	fd = pipe_of(data, size);
	if (fd >= 0) {
		read_all(fd, "stdin");
		close(fd);
	}
	fd = pipe_of(data, size);
	if (fd >= 0) {
		int saved = dup(STDIN_FILENO);
		dup2(fd, STDIN_FILENO);
		close(fd);
		snapshot_info("-", true);
		dup2(saved, STDIN_FILENO);
		close(saved);
	}
	return 0;
}

/* Writes a snapshot built by `build` into DIR/NAME through the real writer (to a memfd), then copies it out. */
static void seed_from_writer(const char *dir, const char *name, int (*build)(struct snapshot_writer *w))
{
	int fd = memfd_create("seed", MFD_CLOEXEC);
	struct snapshot_writer w;
	if (fd < 0 || snapshot_writer_open_fd(&w, fd, name, SAMPLE_ARCH) < 0 || build(&w) < 0) {
		fprintf(stderr, "seed %s: %s\n", name, w.err);
		exit(1);
	}
	off_t len = lseek(fd, 0, SEEK_END);
	uint8_t *buf = malloc((size_t)len);
	if (!buf || pread(fd, buf, (size_t)len, 0) != len)
		exit(1);
	fuzz_seed(dir, name, buf, (size_t)len);
	free(buf);
	close(fd);
}

static int build_small(struct snapshot_writer *w)
{
	return sample_write(w, true, 0);
}

static int build_full(struct snapshot_writer *w)
{
	return sample_write(w, false, 6);
}

/* A VM section of version 2 (with devices), an unknown optional and an unknown mandatory section. */
static int build_odd(struct snapshot_writer *w)
{
	static struct vm_config cfg;
	struct snapshot_vm_info v = {.ram_size = 64 << 20, .nr_vcpus = 1, .kernel = "/k", .cmdline = "quiet"};
	struct snap_writer p;
	static const char *const options[][2] = {{"disk", "/var/disk.img,ro"}, {"net", "tap=tap0"}, {"rng", ""}};
	for (int i = 0; i < 3; i++) {
		struct vm_device_option *o = &cfg.device_options[cfg.nr_device_options++];
		snprintf(o->name, sizeof(o->name), "%s", options[i][0]);
		snprintf(o->value, sizeof(o->value), "%s", options[i][1]);
	}
	snap_writer_init(&p);
	snapshot_vm_encode(&p, &v);
	snapshot_vm_devices_encode(&p, &cfg);
	snapshot_write_payload(w, SNAPSHOT_SEC_VM, 0, SNAPSHOT_VM_VERSION, SNAPSHOT_FLAG_MANDATORY, &p);
	snap_writer_fini(&p);
	snapshot_write_section(w, 99, 3, 1, 0, "optional", 8);
	snapshot_write_section(w, 98, 0, 1, SNAPSHOT_FLAG_MANDATORY, "mandatory", 9);
	return snapshot_writer_commit(w);
}

/* A memory slot and a delta over it (as a diff snapshot or a migration round writes them): some pages new, some
 * zeroed. */
static int build_delta(struct snapshot_writer *w)
{
	uint8_t *m = sample_memory(8), pages[1] = {0x2d}; /* pages 0, 2, 3, 5 */
	int64_t n = m ? snapshot_write_memory(w, 0, 0x40000000, m, 8 * SAMPLE_PAGE, SAMPLE_PAGE, NULL) : -ENOMEM;
	if (n >= 0) {
		memset(m + 2 * SAMPLE_PAGE, 0, SAMPLE_PAGE);
		n = snapshot_write_memory_delta(w, 0, 0x40000000, m, 8 * SAMPLE_PAGE, SAMPLE_PAGE, pages);
	}
	free(m);
	return n < 0 ? (int)n : snapshot_writer_commit(w);
}

/* The same as MEMORY_PACKED (a compressed migration): compressed and raw page records, a zeroed page. */
static int build_packed(struct snapshot_writer *w)
{
	uint8_t *m = sample_memory(8), pages[1] = {0x2d}; /* pages 0, 2, 3, 5 */
	int64_t n = m ? snapshot_write_memory(w, 0, 0x40000000, m, 8 * SAMPLE_PAGE, SAMPLE_PAGE, NULL) : -ENOMEM;
	if (n >= 0) {
		memset(m + 2 * SAMPLE_PAGE, 0, SAMPLE_PAGE);
		for (uint32_t j = 0; j < SAMPLE_PAGE; j++) /* page 3: no repeats a compressor could use */
			m[3 * SAMPLE_PAGE + j] = (uint8_t)((j * 2654435761u) >> 13);
		n = snapshot_write_memory_packed(w, 0, 0x40000000, m, 8 * SAMPLE_PAGE, SAMPLE_PAGE, pages, false);
	}
	free(m);
	return n < 0 ? (int)n : snapshot_writer_commit(w);
}

static void write_seeds(const char *dir)
{
	seed_from_writer(dir, "delta.roam", build_delta);
	seed_from_writer(dir, "packed.roam", build_packed);
	seed_from_writer(dir, "small.roam", build_small);
	seed_from_writer(dir, "full.roam", build_full);
	seed_from_writer(dir, "odd.roam", build_odd);
}

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	(void)argc;
	(void)argv;
	fuzz_maybe_write_seeds(write_seeds);
	devnull = fopen("/dev/null", "w");
	return 0;
}
