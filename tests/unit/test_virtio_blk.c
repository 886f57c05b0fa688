/*
 * Unit test of the virtio-mmio transport and virtio-blk without KVM: a test driver (virtio_test_driver.h) probes
 * the registers, negotiates features (and is refused without VIRTIO_F_VERSION_1), and sends read, write, flush,
 * get-id and discard requests to a disk on a temporary file; a read-only disk refuses writes with
 * VIRTIO_BLK_S_IOERR; malformed chains put the device into NEEDS_RESET until a reset; a read into more than 4 GiB of
 * buffers fails instead of reporting a used length cut to 32 bits; the snapshot hooks give save -> restore -> save
 * identical bytes, with the restored device carrying on where the first stopped; and a live migration's destination
 * opens a disk its source holds and takes the lock once the source releases it.
 */
#include "devices/device.h"
#include "snapshot/snap_codec.h"
#include "stderr_capture.h"
#include "virtio_test_driver.h"

#include <errno.h>
#include <fcntl.h>

extern const struct device_desc virtio_blk_device;

#define DISK_SIZE (1u << 20)
#define BLK_FEATURES                                                                                                   \
	(1ull << VIRTIO_F_VERSION_1 | 1ull << 2 /* SEG_MAX */ | 1ull << 6 /* BLK_SIZE */ | 1ull << 9 /* FLUSH */ |     \
	 1ull << 13 /* DISCARD */)

enum { T_IN = 0, T_OUT = 1, T_FLUSH = 4, T_GET_ID = 8, T_DISCARD = 11, T_BOGUS = 99 };
enum { S_OK = 0, S_IOERR = 1, S_UNSUPP = 2 };

struct blk_test {
	struct vm vm;
	struct drv drv;
	void *dev;
	uint64_t hdr, status;
};

static int create_disk_incoming(struct blk_test *t, const char *path, bool readonly, bool incoming)
{
	test_vm_init(&t->vm);
	t->vm.cfg.incoming = incoming;
	t->vm.cfg.nr_device_options = 1;
	snprintf(t->vm.cfg.device_options[0].name, sizeof(t->vm.cfg.device_options[0].name), "disk");
	snprintf(t->vm.cfg.device_options[0].value, sizeof(t->vm.cfg.device_options[0].value), "%s%s", path,
		 readonly ? ",ro" : "");
	t->dev = NULL;
	int ret = virtio_blk_device.create_nth(&t->vm, 0, &t->dev);
	drv_init(&t->drv, &t->vm, 0);
	t->hdr = drv_alloc(&t->drv, 16);
	t->status = drv_alloc(&t->drv, 1);
	return ret;
}

static int create_disk(struct blk_test *t, const char *path, bool readonly)
{
	return create_disk_incoming(t, path, readonly, false);
}

static void destroy_disk(struct blk_test *t)
{
	if (t->dev)
		virtio_blk_device.destroy(t->dev);
	t->dev = NULL;
	memory_fini(&t->vm.mem);
}

/*
 * Sends one request with a data buffer (data_len 0: none) in `data_write` direction; returns the status byte and
 * sets *used to the used length.
 */
static int blk_request(struct blk_test *t, uint32_t type, uint64_t sector, uint64_t data, uint32_t data_len,
		       bool data_write, uint32_t *used)
{
	uint8_t *hdr = test_host(&t->vm, t->hdr);
	drv_put(hdr, type, 4);
	drv_put(hdr + 4, 0, 4);
	drv_put(hdr + 8, sector, 8);
	test_host(&t->vm, t->status)[0] = 0xee;
	struct drv_seg segs[3] = {{t->hdr, 16, false}, {data, data_len, data_write}, {t->status, 1, true}};
	if (data_len == 0)
		segs[1] = segs[2];
	uint16_t want = (uint16_t)(drv_used_idx(&t->drv, 0) + 1);
	drv_add(&t->drv, 0, segs, data_len ? 3 : 2);
	drv_kick(&t->drv, 0);
	if (!drv_wait_used(&t->drv, 0, want))
		return -1;
	*used = drv_used_len(&t->drv, 0, (uint16_t)(want - 1));
	return test_host(&t->vm, t->status)[0];
}

static void test_registers(struct blk_test *t)
{
	struct drv *d = &t->drv;
	CHECK_EQ(drv_rd(d, 0x000), 0x74726976);
	CHECK_EQ(drv_rd(d, 0x004), 2);
	CHECK_EQ(drv_rd(d, 0x008), 2);
	drv_wr(d, 0x14, 1);
	CHECK_EQ(drv_rd(d, 0x10) & 1, 1); /* VIRTIO_F_VERSION_1 */
	drv_wr(d, 0x14, 0);
	CHECK_EQ(drv_rd(d, 0x10) & (1u << 5), 0); /* not read-only */
	CHECK_EQ(drv_rd(d, 0x10) & (1u << 28), 1u << 28); /* indirect descriptors */
	drv_wr(d, 0x30, 0);
	CHECK_EQ(drv_rd(d, 0x34), VIRTQUEUE_MAX_SIZE);
	drv_wr(d, 0x30, 1);
	CHECK_EQ(drv_rd(d, 0x34), 0); /* no second queue */
	CHECK_EQ(drv_rd(d, 0x100), DISK_SIZE / 512); /* capacity, low word */
	CHECK_EQ(drv_rd(d, 0x104), 0);
	CHECK_EQ(drv_rd(d, 0x0b0), 0xffffffff); /* no shared memory */
	uint8_t byte = 0;
	CHECK_EQ(bus_access(&t->vm.mmio, d->base + 0x70, &byte, 1, false), -EINVAL); /* registers are words */

	/* A driver without VIRTIO_F_VERSION_1 (legacy) is refused at FEATURES_OK. */
	CHECK(!drv_setup(d, 1ull << 9, 1));
	CHECK(drv_setup(d, BLK_FEATURES, 1));
	CHECK_EQ(drv_rd(d, 0x70) & 0x4f, 0x0f);
	/* Features cannot change after FEATURES_OK. */
	drv_wr(d, 0x24, 0);
	drv_wr(d, 0x20, 0xffffffff);
	CHECK_EQ(((struct virtio_mmio *)*(void **)t->dev)->driver_features, BLK_FEATURES);
}

static void test_requests(struct blk_test *t, int fd)
{
	uint64_t buf = drv_alloc(&t->drv, 8192);
	uint8_t *host = test_host(&t->vm, buf);
	uint32_t used = 0;
	for (int i = 0; i < 4096; i++)
		host[i] = (uint8_t)(i * 7 + 1);
	CHECK_EQ(blk_request(t, T_OUT, 8, buf, 4096, false, &used), S_OK);
	CHECK_EQ(used, 1);
	uint8_t file[4096];
	CHECK_EQ(pread(fd, file, sizeof(file), 8 * 512), 4096);
	CHECK(memcmp(file, host, 4096) == 0);

	memset(host + 4096, 0, 4096);
	CHECK_EQ(blk_request(t, T_IN, 8, buf + 4096, 4096, true, &used), S_OK);
	CHECK_EQ(used, 4097);
	CHECK(memcmp(host, host + 4096, 4096) == 0);

	CHECK_EQ(blk_request(t, T_FLUSH, 0, 0, 0, false, &used), S_OK);
	CHECK_EQ(blk_request(t, T_GET_ID, 0, buf, 20, true, &used), S_OK);
	CHECK_EQ(used, 21);
	CHECK(memcmp(host, "roam-test-blk", 13) == 0);

	/* Past the end, not whole sectors, unknown types. */
	CHECK_EQ(blk_request(t, T_IN, DISK_SIZE / 512 - 1, buf, 1024, true, &used), S_IOERR);
	CHECK_EQ(used, 1);
	CHECK_EQ(blk_request(t, T_IN, UINT64_MAX, buf, 512, true, &used), S_IOERR);
	CHECK_EQ(blk_request(t, T_OUT, 0, buf, 100, false, &used), S_IOERR);
	CHECK_EQ(blk_request(t, T_BOGUS, 0, buf, 512, true, &used), S_UNSUPP);

	/* Discard: one segment of 8 sectors at sector 8, then a segment past the end and unknown flags. */
	uint8_t *seg = host;
	drv_put(seg, 8, 8);
	drv_put(seg + 8, 8, 4);
	drv_put(seg + 12, 0, 4);
	CHECK_EQ(blk_request(t, T_DISCARD, 0, buf, 16, false, &used), S_OK);
	drv_put(seg, DISK_SIZE / 512, 8);
	CHECK_EQ(blk_request(t, T_DISCARD, 0, buf, 16, false, &used), S_IOERR);
	drv_put(seg, 0, 8);
	drv_put(seg + 12, 2, 4);
	CHECK_EQ(blk_request(t, T_DISCARD, 0, buf, 16, false, &used), S_UNSUPP);
	CHECK(atomic_load(&test_irq_pulses) > 0);
}

static void test_malformed(struct blk_test *t)
{
	struct drv *d = &t->drv;
	/* A request without a status byte (nothing writable). */
	struct drv_seg only_header = {t->hdr, 16, false};
	drv_add(d, 0, &only_header, 1);
	drv_kick(d, 0);
	CHECK(drv_wait_status(d, VIRTIO_STATUS_NEEDS_RESET));
	CHECK_EQ(atomic_load(&((struct virtio_mmio *)*(void **)t->dev)->interrupt_status) & VIRTIO_INT_CONFIG_CHANGE,
		 VIRTIO_INT_CONFIG_CHANGE);

	/* After a reset the device works again; then a descriptor chained to itself breaks it again. */
	CHECK(drv_setup(d, BLK_FEATURES, 1));
	CHECK_EQ(drv_rd(d, 0x70) & VIRTIO_STATUS_NEEDS_RESET, 0);
	uint32_t used;
	CHECK_EQ(blk_request(t, T_FLUSH, 0, 0, 0, false, &used), S_OK);
	uint8_t *desc = test_host(&t->vm, d->q[0].desc + 16ull * d->q[0].next_desc);
	drv_put(desc, t->hdr, 8);
	drv_put(desc + 8, 16, 4);
	drv_put(desc + 12, VIRTQ_DESC_F_NEXT, 2);
	drv_put(desc + 14, d->q[0].next_desc, 2);
	drv_put(test_host(&t->vm, d->q[0].avail + 4 + 2 * (d->q[0].avail_idx % TEST_QSIZE)), d->q[0].next_desc, 2);
	d->q[0].avail_idx++;
	drv_put(test_host(&t->vm, d->q[0].avail + 2), d->q[0].avail_idx, 2);
	drv_kick(d, 0);
	CHECK(drv_wait_status(d, VIRTIO_STATUS_NEEDS_RESET));
	CHECK(drv_setup(d, BLK_FEATURES, 1));

	/*
	 * A guest that breaks the device and resets it in a loop: a few lines a second reach the log, then one line
	 * counting the rest. stderr goes to a file meanwhile.
	 */
	struct stderr_capture cap;
	stderr_capture_begin(&cap);
	for (int i = 0; i < 40; i++) {
		drv_add(d, 0, &only_header, 1);
		drv_kick(d, 0);
		CHECK(drv_wait_status(d, VIRTIO_STATUS_NEEDS_RESET));
		CHECK(drv_setup(d, BLK_FEATURES, 1));
		d->q[0].avail_idx = d->q[0].next_desc = 0;
	}
	char *log = stderr_capture_end(&cap);
	int lines = 0;
	for (const char *p = log; (p = strstr(p, "the device needs a reset")); p++)
		lines++;
	/* The two above count in the same second: 40 rounds make at most two more seconds' worth. */
	CHECK(lines >= 1 && lines <= 3 * VIRTIO_MMIO_FAIL_LOG_BURST);
	if (lines < 1 || lines > 3 * VIRTIO_MMIO_FAIL_LOG_BURST)
		fprintf(stderr, "%d lines:\n%s", lines, log);
	CHECK_CONTAINS(log, "(more this second are not reported)");
	free(log);
}

static void test_readonly(const char *path, int fd)
{
	static struct blk_test t;
	CHECK_EQ(create_disk(&t, path, true), 0);
	drv_wr(&t.drv, 0x14, 0);
	CHECK_EQ(drv_rd(&t.drv, 0x10) & (1u << 5), 1u << 5); /* VIRTIO_BLK_F_RO */
	CHECK(drv_setup(&t.drv, BLK_FEATURES | 1ull << 5, 1));
	uint64_t buf = drv_alloc(&t.drv, 512);
	uint32_t used;
	uint8_t before[512], after[512];
	CHECK_EQ(pread(fd, before, 512, 0), 512);
	memset(test_host(&t.vm, buf), 0xab, 512);
	CHECK_EQ(blk_request(&t, T_OUT, 0, buf, 512, false, &used), S_IOERR);
	CHECK_EQ(pread(fd, after, 512, 0), 512);
	CHECK(memcmp(before, after, 512) == 0);
	drv_put(test_host(&t.vm, buf), 0, 8);
	drv_put(test_host(&t.vm, buf + 8), 1, 4);
	drv_put(test_host(&t.vm, buf + 12), 0, 4);
	CHECK_EQ(blk_request(&t, T_DISCARD, 0, buf, 16, false, &used), S_IOERR);
	CHECK_EQ(blk_request(&t, T_FLUSH, 0, 0, 0, false, &used), S_OK);
	CHECK_EQ(blk_request(&t, T_IN, 0, buf, 512, true, &used), S_OK);
	destroy_disk(&t);
}

static void save(struct blk_test *t, struct snap_writer *w)
{
	snap_writer_init(w);
	virtio_blk_device.pause(t->dev);
	virtio_blk_device.save(t->dev, w);
	virtio_blk_device.resume(t->dev);
	CHECK_EQ(w->err, 0);
}

static void test_snapshot(struct blk_test *a, const char *path)
{
	static struct blk_test b;
	struct snap_writer w1, w2;
	struct snap_reader r;
	uint32_t used;
	CHECK_EQ(blk_request(a, T_FLUSH, 0, 0, 0, false, &used), S_OK);
	save(a, &w1);

	/* A read-only disk of the same file is a different device: refused. */
	static uint8_t ram[0x80000];
	memcpy(ram, test_host(&a->vm, TEST_RAM_BASE), sizeof(ram));
	struct drv drv = a->drv;
	destroy_disk(a);
	CHECK_EQ(create_disk(&b, path, true), 0);
	snap_reader_init(&r, w1.buf, w1.len);
	CHECK_EQ(virtio_blk_device.restore(b.dev, &r, VIRTIO_MMIO_SNAPSHOT_VERSION), -EINVAL);
	destroy_disk(&b);

	/* The same device takes it, gives the same bytes back, and carries on. */
	CHECK_EQ(create_disk(&b, path, false), 0);
	memcpy(test_host(&b.vm, TEST_RAM_BASE), ram, sizeof(ram));
	snap_reader_init(&r, w1.buf, w1.len);
	CHECK_EQ(virtio_blk_device.restore(b.dev, &r, VIRTIO_MMIO_SNAPSHOT_VERSION + 1), -EINVAL);
	snap_reader_init(&r, w1.buf, w1.len - 1);
	CHECK(virtio_blk_device.restore(b.dev, &r, VIRTIO_MMIO_SNAPSHOT_VERSION) < 0);
	snap_reader_init(&r, w1.buf, w1.len);
	CHECK_EQ(virtio_blk_device.restore(b.dev, &r, VIRTIO_MMIO_SNAPSHOT_VERSION), 0);
	b.drv = drv;
	b.drv.vm = &b.vm;
	CHECK_EQ(drv_rd(&b.drv, 0x70) & 0x0f, 0x0f);
	/* Restored, the device waits for resume (guest memory may still be coming): a request stays queued. */
	uint8_t *hdr = test_host(&b.vm, b.hdr);
	drv_put(hdr, T_FLUSH, 4);
	struct drv_seg flush[2] = {{b.hdr, 16, false}, {b.status, 1, true}};
	uint16_t want = (uint16_t)(drv_used_idx(&b.drv, 0) + 1);
	drv_add(&b.drv, 0, flush, 2);
	drv_kick(&b.drv, 0);
	usleep(30000);
	CHECK_EQ(drv_used_idx(&b.drv, 0), (uint16_t)(want - 1));
	save(&b, &w2); /* pause, save, resume: resume also ends the pause restore left the device in */
	CHECK_EQ(w1.len, w2.len);
	CHECK(w1.len == w2.len && memcmp(w1.buf, w2.buf, w1.len) == 0);
	CHECK(drv_wait_used(&b.drv, 0, want));
	CHECK_EQ(test_host(&b.vm, b.status)[0], S_OK);
	CHECK_EQ(blk_request(&b, T_GET_ID, 0, drv_alloc(&b.drv, 20), 20, true, &used), S_OK);
	CHECK_EQ(used, 21);
	destroy_disk(&b);
	snap_writer_fini(&w1);
	snap_writer_fini(&w2);
}

/*
 * A read into more than 4 GiB of buffers (an indirect chain of 128 x 32 MiB + 512 bytes, all over one 32 MiB slot)
 * from a sparse 5 GiB disk: refused with IOERR and a used length of 1, not reported with the length cut to 32 bits.
 */
static void test_huge_read(void)
{
	static struct blk_test t;
	enum { BIG_SEGS = 128 };
	const uint64_t big_gpa = 0x100000000ull, big_size = 32ull << 20;
	char path[] = "/tmp/roam-test-blk-big-XXXXXX";
	int fd = mkstemp(path);
	CHECK(fd >= 0);
	CHECK_EQ(ftruncate(fd, (off_t)(5ull << 30)), 0);
	CHECK_EQ(create_disk(&t, path, false), 0);
	CHECK(memory_add_slot(&t.vm.mem, "big", big_gpa, big_size, false) >= 0);
	CHECK(drv_setup(&t.drv, BLK_FEATURES, 1));
	uint8_t *hdr = test_host(&t.vm, t.hdr);
	memset(hdr, 0, 16); /* T_IN at sector 0 */
	test_host(&t.vm, t.status)[0] = 0xee;
	/* The indirect table: header, 128 big buffers, 512 bytes, status. */
	uint64_t table = drv_alloc(&t.drv, 16 * (BIG_SEGS + 3));
	uint8_t *d = test_host(&t.vm, table);
	const struct drv_seg first = {t.hdr, 16, false}, last = {t.status, 1, true};
	for (int i = 0; i < BIG_SEGS + 3; i++, d += 16) {
		struct drv_seg seg = i == 0		 ? first
				     : i == BIG_SEGS + 2 ? last
				     : i == BIG_SEGS + 1 ? (struct drv_seg){big_gpa, 512, true}
							 : (struct drv_seg){big_gpa, (uint32_t)big_size, true};
		drv_put(d, seg.gpa, 8);
		drv_put(d + 8, seg.len, 4);
		drv_put(d + 12, (seg.write ? VIRTQ_DESC_F_WRITE : 0) | (i < BIG_SEGS + 2 ? VIRTQ_DESC_F_NEXT : 0), 2);
		drv_put(d + 14, (uint64_t)i + 1, 2);
	}
	struct drv_queue *dq = &t.drv.q[0];
	uint8_t *desc = test_host(&t.vm, dq->desc);
	drv_put(desc, table, 8);
	drv_put(desc + 8, 16 * (BIG_SEGS + 3), 4);
	drv_put(desc + 12, VIRTQ_DESC_F_INDIRECT, 2);
	drv_put(test_host(&t.vm, dq->avail + 4), 0, 2);
	__atomic_thread_fence(__ATOMIC_SEQ_CST);
	drv_put(test_host(&t.vm, dq->avail + 2), 1, 2);
	drv_kick(&t.drv, 0);
	CHECK(drv_wait_used(&t.drv, 0, 1));
	CHECK_EQ(test_host(&t.vm, t.status)[0], S_IOERR);
	CHECK_EQ(drv_used_len(&t.drv, 0, 0), 1);
	destroy_disk(&t);
	close(fd);
	unlink(path);
}

/*
 * A live migration's hand-over of the image's lock: a second roam cannot open a disk in use, but a destination
 * (restore --incoming) can, and takes the lock only once the source lets go; the source cannot take it back then.
 */
static void test_handover(const char *path)
{
	static struct blk_test src, dst, other;
	struct stderr_capture cap;
	CHECK_EQ(create_disk(&src, path, false), 0);
	stderr_capture_begin(&cap);
	CHECK_EQ(create_disk(&other, path, false), -EWOULDBLOCK);
	char *text = stderr_capture_end(&cap);
	CHECK_CONTAINS(text, "another process has it open (flock: ");
	free(text);
	destroy_disk(&other);

	stderr_capture_begin(&cap);
	CHECK_EQ(create_disk_incoming(&dst, path, false, true), 0);
	CHECK_EQ(virtio_blk_device.claim(dst.dev, 30), -EWOULDBLOCK); /* the source still has it */
	text = stderr_capture_end(&cap);
	CHECK_CONTAINS(text, "in use (by the migration's source, on shared storage?): taken when the guest arrives");
	CHECK_CONTAINS(text, "another process still has it open after 0 s");
	free(text);
	CHECK_EQ(virtio_blk_device.claim(src.dev, 0), 0); /* holds it: a no-op */
	virtio_blk_device.release(src.dev);
	CHECK_EQ(virtio_blk_device.claim(dst.dev, 30), 0);
	CHECK_EQ(virtio_blk_device.claim(dst.dev, 0), 0);
	stderr_capture_begin(&cap);
	CHECK_EQ(virtio_blk_device.claim(src.dev, 10), -EWOULDBLOCK);
	free(stderr_capture_end(&cap));
	/* The move failed: the destination goes, the source takes its disk back. */
	destroy_disk(&dst);
	CHECK_EQ(virtio_blk_device.claim(src.dev, 10), 0);
	destroy_disk(&src);
}

int main(void)
{
	static struct blk_test t;
	char path[] = "/tmp/roam-test-blk-XXXXXX";
	int fd = mkstemp(path);
	CHECK(fd >= 0);
	CHECK_EQ(ftruncate(fd, DISK_SIZE), 0);

	test_vm_init(&t.vm);
	t.vm.cfg.nr_device_options = 1;
	snprintf(t.vm.cfg.device_options[0].name, sizeof(t.vm.cfg.device_options[0].name), "disk");
	snprintf(t.vm.cfg.device_options[0].value, sizeof(t.vm.cfg.device_options[0].value), "/nonexistent/disk.img");
	void *state = NULL;
	CHECK_EQ(virtio_blk_device.create_nth(&t.vm, 0, &state), -ENOENT);
	virtio_blk_device.destroy(state);
	memory_fini(&t.vm.mem);

	CHECK_EQ(create_disk(&t, path, false), 0);
	test_registers(&t);
	test_requests(&t, fd);
	test_malformed(&t);
	test_snapshot(&t, path); /* destroys t */
	test_readonly(path, fd);
	test_huge_read();
	test_handover(path);
	close(fd);
	unlink(path);
	return check_exit();
}
