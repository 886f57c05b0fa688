/* The snapshot tests' sample snapshot, whole-snapshot reader and rewriter: see snapshot_sample.h. */
#include "snapshot_sample.h"

#include "snapshot/snapshot_meta.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

uint8_t *sample_memory(uint32_t pages)
{
	uint8_t *m = calloc(pages, SAMPLE_PAGE);
	if (!m)
		return NULL;
	for (uint32_t i = 0; i < pages; i++) {
		uint8_t *p = m + (size_t)i * SAMPLE_PAGE;
		if (i % 3 == 1) /* a full page */
			for (uint32_t j = 0; j < SAMPLE_PAGE; j++)
				p[j] = (uint8_t)(i * 7 + j * 13 + 1);
		else if (i % 5 == 2) /* one byte at the end of a page */
			p[SAMPLE_PAGE - 1] = 0x5a;
	}
	return m;
}

static int put(struct snapshot_writer *w, uint32_t id, uint32_t instance, struct snap_writer *p)
{
	int ret = snapshot_write_payload(w, id, instance, 1, SNAPSHOT_FLAG_MANDATORY, p);
	snap_writer_fini(p);
	return ret;
}

static int sample_device(struct snapshot_writer *w, uint32_t index, const char *name, uint32_t regs)
{
	struct snap_writer p;
	snap_writer_init(&p);
	snap_put_blob(&p, name, (uint32_t)strlen(name));
	for (uint32_t i = 0; i < regs; i++)
		snap_put_u32(&p, 0x1000 * index + i);
	return put(w, SNAPSHOT_SEC_DEVICE, index, &p);
}

static int sample_vcpu(struct snapshot_writer *w, uint32_t index)
{
	struct snap_writer p;
	snap_writer_init(&p);
	for (uint64_t i = 0; i < 34; i++)
		snap_put_u64(&p, 0x4000000000000000ull + index * 0x100 + i);
	return put(w, SNAPSHOT_SEC_VCPU, index, &p);
}

static int sample_meta(struct snapshot_writer *w, bool small)
{
	struct snapshot_host_info h = {
	    .hostname = "build1", .kernel = "6.1.0-test", .roam_version = "0.1.0", .midr = 0x414fd0c1, .revidr = 0x1};
	struct snapshot_vm_info v = {.ram_size = 256ull << 20,
				     .nr_vcpus = 2,
				     .flags = SNAPSHOT_VM_PVLOCK,
				     .kernel = "/boot/Image",
				     .cmdline = "console=ttyS0 quiet"};
	struct snap_writer p;
	snap_writer_init(&p);
	snapshot_host_encode(&p, &h);
	if (put(w, SNAPSHOT_SEC_HOST, 0, &p) < 0)
		return -1;
	snap_writer_init(&p);
	snapshot_vm_encode(&p, &v);
	snap_put_u32(&p, 0xabcd); /* the owner's own fields follow the documented ones */
	if (put(w, SNAPSHOT_SEC_VM, 0, &p) < 0)
		return -1;
	if (small)
		return 0;
	static const struct snapshot_targets_info t = {
	    .count = 2,
	    .target = {{"cortex-a72", 0x410fd083, 0, 0}, {"a64fx", 0x461f0010, 0, 0}},
	    .guest_midr = 0x410fd083,
	};
	snap_writer_init(&p);
	snapshot_targets_encode(&p, &t);
	return put(w, SNAPSHOT_SEC_TARGETS, 0, &p);
}

int sample_write(struct snapshot_writer *w, bool small, uint32_t mem_pages)
{
	snapshot_writer_set_created(w, SAMPLE_CREATED);
	if (sample_meta(w, small) < 0 || sample_vcpu(w, 0) < 0 || sample_device(w, 0, "uart", 8) < 0)
		goto fail;
	if (small) {
		uint8_t *m = calloc(2, SAMPLE_PAGE);
		if (!m)
			goto fail;
		m[SAMPLE_PAGE + 100] = 1;
		int64_t n = snapshot_write_memory(w, 0, 0x40000000, m, 2 * SAMPLE_PAGE, SAMPLE_PAGE, NULL);
		free(m);
		if (n != 1)
			goto fail;
		return snapshot_writer_commit(w);
	}
	static const uint8_t timer[16] = {1, 2, 3, 4, 5, 6, 7, 8};
	if (sample_vcpu(w, 1) < 0 || sample_device(w, 1, "virtio-blk", 40) < 0 ||
	    snapshot_write_section(w, SNAPSHOT_SEC_IRQCHIP, 0, 1, SNAPSHOT_FLAG_MANDATORY, timer, 3) < 0 ||
	    snapshot_write_section(w, SNAPSHOT_SEC_TIMER, 0, 1, SNAPSHOT_FLAG_MANDATORY, timer, sizeof(timer)) < 0 ||
	    snapshot_write_section(w, SNAPSHOT_SEC_PVLOCK, 0, 1, 0, NULL, 0) < 0 ||
	    snapshot_write_section(w, SNAPSHOT_SEC_HYPERCALLS, 0, 1, SNAPSHOT_FLAG_MANDATORY, timer, 5) < 0)
		goto fail;
	uint8_t *m0 = sample_memory(mem_pages), *m1 = calloc(4, SAMPLE_PAGE);
	int64_t n0 =
	    m0 && m1 ? snapshot_write_memory(w, 0, 0x40000000, m0, (uint64_t)mem_pages * SAMPLE_PAGE, SAMPLE_PAGE, NULL)
		     : -ENOMEM;
	int64_t n1 = n0 >= 0 ? snapshot_write_memory(w, 1, 0x100000000ull, m1, 4 * SAMPLE_PAGE, SAMPLE_PAGE, NULL) : n0;
	free(m0);
	free(m1);
	if (n0 < 0 || n1 != 0)
		goto fail;
	return snapshot_writer_commit(w);
fail:
	snapshot_writer_abort(w);
	return w->error ? w->error : -EIO;
}

static int read_memory(struct snapshot_reader *r, struct snapshot_section *sec, struct sample_record *rec)
{
	if (sec->mem.size > (64u << 20))
		return snapshot_reader_fail(r, sec, -EFBIG, "test: slot too large (%llu bytes)",
					    (unsigned long long)sec->mem.size);
	rec->gpa = sec->mem.gpa;
	rec->page_size = sec->mem.page_size;
	rec->len = sec->mem.size;
	rec->data = calloc(1, rec->len);
	if (!rec->data)
		return -ENOMEM;
	rec->pages = snapshot_read_memory(r, sec, rec->data, rec->len);
	return rec->pages < 0 ? (int)rec->pages : 0;
}

int sample_read_all(struct snapshot_reader *r, struct sample_snapshot *out)
{
	struct snapshot_section sec;
	int ret;
	memset(out, 0, sizeof(*out));
	while ((ret = snapshot_read_next(r, &sec)) > 0) {
		if (out->nr == SAMPLE_MAX_RECORDS)
			return snapshot_reader_fail(r, &sec, -E2BIG, "test: too many sections");
		struct sample_record *rec = &out->rec[out->nr++];
		rec->id = sec.id;
		rec->instance = sec.instance;
		rec->version = sec.version;
		rec->flags = sec.flags;
		if (sec.id == SNAPSHOT_SEC_MEMORY) {
			ret = read_memory(r, &sec, rec);
			if (ret < 0)
				return ret;
			continue;
		}
		struct snap_reader p;
		ret = snapshot_section_begin(r, &sec, 1, &p);
		if (ret < 0)
			return ret;
		rec->len = sec.length;
		rec->data = malloc(sec.length ? sec.length : 1);
		if (!rec->data)
			return -ENOMEM;
		snap_get_bytes(&p, rec->data, sec.length, "payload");
		ret = snapshot_section_end(r, &sec, &p);
		if (ret < 0)
			return ret;
	}
	return ret;
}

int sample_rewrite(struct snapshot_writer *w, const struct sample_snapshot *s)
{
	for (int i = 0; i < s->nr; i++) {
		const struct sample_record *rec = &s->rec[i];
		int64_t ret =
		    rec->id == SNAPSHOT_SEC_MEMORY
			? snapshot_write_memory(w, rec->instance, rec->gpa, rec->data, rec->len, rec->page_size, NULL)
			: snapshot_write_section(w, rec->id, rec->instance, rec->version, rec->flags, rec->data,
						 rec->len);
		if (ret < 0) {
			snapshot_writer_abort(w);
			return (int)ret;
		}
	}
	return snapshot_writer_commit(w);
}

void sample_free(struct sample_snapshot *s)
{
	for (int i = 0; i < s->nr; i++)
		free(s->rec[i].data);
	s->nr = 0;
}

long sample_slurp(const char *path, uint8_t **data)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -1;
	off_t len = lseek(fd, 0, SEEK_END);
	uint8_t *buf = len >= 0 ? malloc((size_t)len + 1) : NULL;
	long ret = buf && pread(fd, buf, (size_t)len, 0) == len ? (long)len : -1;
	close(fd);
	if (ret < 0) {
		free(buf);
		return -1;
	}
	*data = buf;
	return ret;
}
