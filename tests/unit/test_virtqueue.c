/*
 * Unit test of split-virtqueue processing on a fake guest memory (memory_add_slot, no KVM): well-formed direct and
 * indirect chains, and adversarial ones (loops, out-of-range and overflowing addresses, too-long chains, bad
 * indirect tables, a runaway available index), each refused with a specific reason; the used ring, interrupt
 * suppression, the chain copy helpers, and save -> restore -> save giving identical bytes.
 */
#include "check.h"
#include "devices/virtqueue.h"
#include "snapshot/snap_codec.h"

#include <errno.h>

#define RAM_BASE 0x40000000ull
#define RAM_SIZE 0x100000ull
#define DESC_GPA (RAM_BASE + 0x1000)
#define AVAIL_GPA (RAM_BASE + 0x2000)
#define USED_GPA (RAM_BASE + 0x3000)
#define INDIRECT_GPA (RAM_BASE + 0x8000)
#define DATA_GPA (RAM_BASE + 0x10000)
#define RO_GPA 0x09100000ull /* a small slot mapped read-only into the guest */

struct fake {
	struct guest_memory mem;
	uint8_t *ram;
	struct virtqueue vq;
	uint16_t avail_idx;
};

static void put16(uint8_t *p, uint16_t v)
{
	p[0] = (uint8_t)v;
	p[1] = (uint8_t)(v >> 8);
}

static void put32(uint8_t *p, uint32_t v)
{
	put16(p, (uint16_t)v);
	put16(p + 2, (uint16_t)(v >> 16));
}

static void put64(uint8_t *p, uint64_t v)
{
	put32(p, (uint32_t)v);
	put32(p + 4, (uint32_t)(v >> 32));
}

static uint32_t get32(const uint8_t *p)
{
	return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

static uint8_t *host(struct fake *f, uint64_t gpa)
{
	return f->ram + (gpa - RAM_BASE);
}

/* Writes descriptor `i` of the table at `table_gpa`. */
static void desc_at(struct fake *f, uint64_t table_gpa, unsigned i, uint64_t addr, uint32_t len, uint16_t flags,
		    uint16_t next)
{
	uint8_t *d = host(f, table_gpa) + 16 * i;
	put64(d, addr);
	put32(d + 8, len);
	put16(d + 12, flags);
	put16(d + 14, next);
}

static void desc(struct fake *f, unsigned i, uint64_t addr, uint32_t len, uint16_t flags, uint16_t next)
{
	desc_at(f, DESC_GPA, i, addr, len, flags, next);
}

/* Makes chain `head` available. */
static void offer(struct fake *f, uint16_t head)
{
	put16(host(f, AVAIL_GPA) + 4 + 2 * (f->avail_idx % f->vq.size), head);
	f->avail_idx++;
	put16(host(f, AVAIL_GPA) + 2, f->avail_idx);
}

static void setup(struct fake *f, uint16_t size)
{
	memset(f->ram, 0, RAM_SIZE);
	virtqueue_reset(&f->vq);
	f->avail_idx = 0;
	f->vq.size = size;
	f->vq.desc_gpa = DESC_GPA;
	f->vq.avail_gpa = AVAIL_GPA;
	f->vq.used_gpa = USED_GPA;
	CHECK_EQ(virtqueue_enable(&f->vq, &f->mem), 0);
	f->vq.ready = true;
}

/* Offers chain `head` and expects virtqueue_pop to refuse it with a reason containing `why`. */
static void expect_refused(struct fake *f, uint16_t head, const char *why)
{
	struct virtq_chain chain;
	offer(f, head);
	CHECK_EQ(virtqueue_pop(&f->vq, &f->mem, &chain), -EINVAL);
	CHECK_CONTAINS(f->vq.error, why);
}

static void test_enable(struct fake *f)
{
	struct virtqueue vq;
	const struct {
		uint16_t size;
		uint64_t desc, avail, used;
		const char *why;
	} bad[] = {
	    {0, DESC_GPA, AVAIL_GPA, USED_GPA, "queue size 0 is not a power of two"},
	    {3, DESC_GPA, AVAIL_GPA, USED_GPA, "queue size 3"},
	    {512, DESC_GPA, AVAIL_GPA, USED_GPA, "queue size 512"},
	    {8, DESC_GPA + 8, AVAIL_GPA, USED_GPA, "not aligned"},
	    {8, DESC_GPA, AVAIL_GPA + 1, USED_GPA, "not aligned"},
	    {8, DESC_GPA, AVAIL_GPA, USED_GPA + 2, "not aligned"},
	    {8, 0x1000, AVAIL_GPA, USED_GPA, "descriptor table at 0x1000"},
	    {8, DESC_GPA, RAM_BASE + RAM_SIZE - 8, USED_GPA, "available ring"},
	    {256, DESC_GPA, AVAIL_GPA, RAM_BASE + RAM_SIZE - 2048, "used ring"},
	    {8, UINT64_MAX & ~15ull, AVAIL_GPA, USED_GPA, "descriptor table"},
	    {8, DESC_GPA, AVAIL_GPA, RO_GPA, "used ring at 0x9100000 is in memory the guest cannot write"},
	};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		virtqueue_reset(&vq);
		vq.size = bad[i].size;
		vq.desc_gpa = bad[i].desc;
		vq.avail_gpa = bad[i].avail;
		vq.used_gpa = bad[i].used;
		CHECK_EQ(virtqueue_enable(&vq, &f->mem), -EINVAL);
		CHECK_CONTAINS(vq.error, bad[i].why);
	}
}

static void test_good_chains(struct fake *f)
{
	struct virtq_chain chain;
	setup(f, 8);
	CHECK(!virtqueue_has_avail(&f->vq));
	CHECK_EQ(virtqueue_pop(&f->vq, &f->mem, &chain), 0);

	/* header (readable, 16) -> data (readable, 100) -> zero-length -> status (writable, 1) */
	desc(f, 2, DATA_GPA, 16, VIRTQ_DESC_F_NEXT, 5);
	desc(f, 5, DATA_GPA + 0x100, 100, VIRTQ_DESC_F_NEXT, 1);
	desc(f, 1, DATA_GPA + 0x300, 0, VIRTQ_DESC_F_NEXT, 7);
	desc(f, 7, DATA_GPA + 0x200, 1, VIRTQ_DESC_F_WRITE, 0);
	offer(f, 2);
	CHECK(virtqueue_has_avail(&f->vq));
	CHECK_EQ(virtqueue_pop(&f->vq, &f->mem, &chain), 1);
	CHECK_EQ(chain.head, 2);
	CHECK_EQ(chain.nr_read, 2);
	CHECK_EQ(chain.nr_write, 1);
	CHECK_EQ(chain.read_len, 116);
	CHECK_EQ(chain.write_len, 1);
	CHECK(chain.iov[0].iov_base == host(f, DATA_GPA));
	CHECK(chain.iov[2].iov_base == host(f, DATA_GPA + 0x200));

	/* The copy helpers cross segment boundaries and stop at the end. */
	for (int i = 0; i < 116; i++)
		host(f, i < 16 ? DATA_GPA + (uint64_t)i : DATA_GPA + 0x100 + (uint64_t)i - 16)[0] = (uint8_t)i;
	uint8_t buf[200];
	CHECK_EQ(virtq_chain_read(&chain, 10, buf, sizeof(buf)), 106);
	CHECK_EQ(buf[0], 10);
	CHECK_EQ(buf[105], 115);
	uint8_t status = 0x5a;
	CHECK_EQ(virtq_chain_write(&chain, 0, &status, 1), 1);
	CHECK_EQ(host(f, DATA_GPA + 0x200)[0], 0x5a);
	CHECK_EQ(virtq_chain_write(&chain, 1, &status, 1), 0);
	struct iovec iov[4];
	CHECK_EQ(virtq_chain_readable_iov(&chain, 16, iov, 4), 1);
	CHECK(iov[0].iov_base == host(f, DATA_GPA + 0x100));
	CHECK_EQ(iov[0].iov_len, 100);
	CHECK_EQ(virtq_chain_readable_iov(&chain, 20, iov, 4), 1);
	CHECK_EQ(iov[0].iov_len, 96);
	CHECK_EQ(virtq_chain_writable_iov(&chain, 0, iov, 4), 0);
	CHECK_EQ(virtq_chain_writable_iov(&chain, 5, iov, 4), 1);
	CHECK_EQ(iov[0].iov_len, 1);

	virtqueue_push(&f->vq, &chain, 1);
	CHECK_EQ(get32(host(f, USED_GPA + 4)), 2);
	CHECK_EQ(get32(host(f, USED_GPA + 8)), 1);
	CHECK_EQ(host(f, USED_GPA + 2)[0], 1);
	CHECK(!virtqueue_has_avail(&f->vq));
	CHECK(virtqueue_wants_interrupt(&f->vq));
	/* Notification suppression: the flag in the used ring, and a look at the ring when re-enabling. */
	CHECK(!virtqueue_set_notify(&f->vq, false));
	CHECK_EQ(host(f, USED_GPA)[0], VIRTQ_USED_F_NO_NOTIFY);
	CHECK(!virtqueue_set_notify(&f->vq, true));
	CHECK_EQ(host(f, USED_GPA)[0], 0);
	offer(f, 2);
	CHECK(virtqueue_set_notify(&f->vq, true));
	CHECK_EQ(virtqueue_pop(&f->vq, &f->mem, &chain), 1);
	virtqueue_push(&f->vq, &chain, 1);
	put16(host(f, AVAIL_GPA), VIRTQ_AVAIL_F_NO_INTERRUPT);
	CHECK(!virtqueue_wants_interrupt(&f->vq));

	/* unpop gives the chain back; the index wraps around the ring. */
	desc(f, 0, DATA_GPA, 8, 0, 0);
	for (int i = 0; i < 20; i++) {
		offer(f, 0);
		CHECK_EQ(virtqueue_pop(&f->vq, &f->mem, &chain), 1);
		if (i == 3) {
			virtqueue_unpop(&f->vq);
			CHECK_EQ(virtqueue_pop(&f->vq, &f->mem, &chain), 1);
		}
		virtqueue_push(&f->vq, &chain, 0);
	}
	CHECK_EQ(f->vq.used_idx, 22);

	/* A chain of exactly the queue size is fine. */
	for (unsigned i = 0; i < 8; i++)
		desc(f, i, DATA_GPA + 16 * i, 16, i < 7 ? VIRTQ_DESC_F_NEXT : 0, (uint16_t)(i + 1));
	offer(f, 0);
	CHECK_EQ(virtqueue_pop(&f->vq, &f->mem, &chain), 1);
	CHECK_EQ(chain.nr_read, 8);
}

static void test_indirect(struct fake *f)
{
	struct virtq_chain chain;
	setup(f, 8);
	/* A direct header, then an indirect table of three: readable, writable, writable. */
	desc(f, 0, DATA_GPA, 16, VIRTQ_DESC_F_NEXT, 1);
	desc(f, 1, INDIRECT_GPA, 3 * 16, VIRTQ_DESC_F_INDIRECT, 0);
	desc_at(f, INDIRECT_GPA, 0, DATA_GPA + 0x100, 512, VIRTQ_DESC_F_NEXT, 2);
	desc_at(f, INDIRECT_GPA, 2, DATA_GPA + 0x400, 512, VIRTQ_DESC_F_WRITE | VIRTQ_DESC_F_NEXT, 1);
	desc_at(f, INDIRECT_GPA, 1, DATA_GPA + 0x800, 1, VIRTQ_DESC_F_WRITE, 0);
	offer(f, 0);
	CHECK_EQ(virtqueue_pop(&f->vq, &f->mem, &chain), 1);
	CHECK_EQ(chain.nr_read, 2);
	CHECK_EQ(chain.nr_write, 2);
	CHECK_EQ(chain.read_len, 528);
	CHECK_EQ(chain.write_len, 513);

	setup(f, 8);
	desc(f, 0, INDIRECT_GPA, 2 * 16, VIRTQ_DESC_F_INDIRECT | VIRTQ_DESC_F_NEXT, 1);
	expect_refused(f, 0, "both indirect and chained");
	setup(f, 8);
	desc(f, 0, INDIRECT_GPA, 24, VIRTQ_DESC_F_INDIRECT, 0);
	expect_refused(f, 0, "indirect table length 24");
	setup(f, 8);
	desc(f, 0, INDIRECT_GPA, 0, VIRTQ_DESC_F_INDIRECT, 0);
	expect_refused(f, 0, "indirect table length 0");
	setup(f, 8);
	desc(f, 0, INDIRECT_GPA, 257 * 16, VIRTQ_DESC_F_INDIRECT, 0);
	expect_refused(f, 0, "indirect table of 257 descriptors");
	setup(f, 8);
	desc(f, 0, RAM_BASE + RAM_SIZE - 16, 32, VIRTQ_DESC_F_INDIRECT, 0);
	expect_refused(f, 0, "indirect table at 0x400ffff0");
	setup(f, 8);
	desc(f, 0, UINT64_MAX - 15, 32, VIRTQ_DESC_F_INDIRECT, 0);
	expect_refused(f, 0, "is not inside guest RAM");
	setup(f, 8);
	desc(f, 0, INDIRECT_GPA, 2 * 16, VIRTQ_DESC_F_INDIRECT, 0);
	desc_at(f, INDIRECT_GPA, 0, INDIRECT_GPA, 32, VIRTQ_DESC_F_INDIRECT, 0);
	expect_refused(f, 0, "points to another indirect table");
	setup(f, 8);
	desc(f, 0, INDIRECT_GPA, 2 * 16, VIRTQ_DESC_F_INDIRECT, 0);
	desc_at(f, INDIRECT_GPA, 0, DATA_GPA, 8, VIRTQ_DESC_F_NEXT, 1);
	desc_at(f, INDIRECT_GPA, 1, DATA_GPA, 8, VIRTQ_DESC_F_NEXT, 0);
	expect_refused(f, 0, "indirect table loops");
	setup(f, 8);
	desc(f, 0, INDIRECT_GPA, 2 * 16, VIRTQ_DESC_F_INDIRECT, 0);
	desc_at(f, INDIRECT_GPA, 0, DATA_GPA, 8, VIRTQ_DESC_F_NEXT, 2);
	expect_refused(f, 0, "links to 2, past the table's 2 entries");
	setup(f, 8);
	desc(f, 0, INDIRECT_GPA, 16, VIRTQ_DESC_F_INDIRECT, 0);
	desc_at(f, INDIRECT_GPA, 0, RAM_BASE + RAM_SIZE - 4, 8, 0, 0);
	expect_refused(f, 0, "indirect descriptor 0 (addr 0x400ffffc, len 8) is not inside guest RAM");

	/* Too long: one direct buffer and a full indirect table of 256 make 257. */
	setup(f, 8);
	desc(f, 0, DATA_GPA, 16, VIRTQ_DESC_F_NEXT, 1);
	desc(f, 1, INDIRECT_GPA, 256 * 16, VIRTQ_DESC_F_INDIRECT, 0);
	for (unsigned i = 0; i < 256; i++)
		desc_at(f, INDIRECT_GPA, i, DATA_GPA, 4, i < 255 ? VIRTQ_DESC_F_NEXT : 0, (uint16_t)(i + 1));
	expect_refused(f, 0, "chain 0 is longer than 256 buffers");
}

static void test_bad_chains(struct fake *f)
{
	struct virtq_chain chain;
	setup(f, 8);
	desc(f, 0, DATA_GPA, 16, VIRTQ_DESC_F_NEXT, 1);
	desc(f, 1, DATA_GPA, 16, VIRTQ_DESC_F_NEXT, 0);
	expect_refused(f, 0, "chain 0 loops");
	setup(f, 8);
	desc(f, 3, DATA_GPA, 16, VIRTQ_DESC_F_NEXT, 3);
	expect_refused(f, 3, "chain 3 loops");
	setup(f, 8);
	desc(f, 0, DATA_GPA, 16, VIRTQ_DESC_F_NEXT, 300);
	expect_refused(f, 0, "links to 300, past the queue size 8");
	setup(f, 8);
	expect_refused(f, 99, "names descriptor 99, past the queue size 8");
	setup(f, 8);
	desc(f, 0, 0x1000, 16, 0, 0);
	expect_refused(f, 0, "queue descriptor 0 (addr 0x1000, len 16) is not inside guest RAM");
	setup(f, 8);
	desc(f, 0, RAM_BASE + RAM_SIZE - 8, 16, 0, 0);
	expect_refused(f, 0, "not inside guest RAM");
	setup(f, 8);
	desc(f, 0, UINT64_MAX - 10, 100, 0, 0); /* addr + len overflows */
	expect_refused(f, 0, "not inside guest RAM");
	setup(f, 8);
	desc(f, 0, RAM_BASE, UINT32_MAX, 0, 0);
	expect_refused(f, 0, "len 4294967295) is not inside guest RAM");
	setup(f, 8);
	desc(f, 0, DATA_GPA, 1, VIRTQ_DESC_F_WRITE | VIRTQ_DESC_F_NEXT, 1);
	desc(f, 1, DATA_GPA, 16, 0, 0);
	expect_refused(f, 0, "device-readable after a device-writable one");

	/* The device must not write where the guest cannot (a slot mapped read-only into the guest). */
	setup(f, 8);
	desc(f, 0, RO_GPA, 16, VIRTQ_DESC_F_WRITE, 0);
	expect_refused(f, 0, "queue descriptor 0 (addr 0x9100000) is device-writable in memory the guest cannot write");
	setup(f, 8);
	desc(f, 0, RO_GPA, 16, 0, 0); /* reading it is fine */
	offer(f, 0);
	CHECK_EQ(virtqueue_pop(&f->vq, &f->mem, &chain), 1);

	/* The driver claims more new entries than the ring holds. */
	setup(f, 8);
	put16(host(f, AVAIL_GPA) + 2, 9);
	CHECK_EQ(virtqueue_pop(&f->vq, &f->mem, &chain), -EINVAL);
	CHECK_CONTAINS(f->vq.error, "available index 9 is 9 entries ahead");
}

static void test_snapshot(struct fake *f)
{
	struct virtq_chain chain;
	setup(f, 16);
	desc(f, 0, DATA_GPA, 16, 0, 0);
	for (int i = 0; i < 5; i++) {
		offer(f, 0);
		CHECK_EQ(virtqueue_pop(&f->vq, &f->mem, &chain), 1);
		virtqueue_push(&f->vq, &chain, 3);
	}
	offer(f, 0); /* available, not taken: taken after restore */

	struct snap_writer w1, w2;
	struct snap_reader r;
	struct virtqueue copy;
	snap_writer_init(&w1);
	snap_writer_init(&w2);
	virtqueue_save(&f->vq, &w1);
	snap_reader_init(&r, w1.buf, w1.len);
	CHECK_EQ(virtqueue_restore(&copy, &f->mem, &r), 0);
	CHECK(snap_reader_done(&r));
	virtqueue_save(&copy, &w2);
	CHECK_EQ(w1.len, w2.len);
	CHECK(w1.len == w2.len && memcmp(w1.buf, w2.buf, w1.len) == 0);
	CHECK_EQ(copy.last_avail_idx, 5);
	CHECK_EQ(copy.used_idx, 5);
	CHECK_EQ(virtqueue_pop(&copy, &f->mem, &chain), 1);

	/* Truncated payload, and a restored ring that is no longer in guest memory. */
	snap_reader_init(&r, w1.buf, w1.len - 1);
	CHECK_EQ(virtqueue_restore(&copy, &f->mem, &r), -EBADMSG);
	f->vq.used_gpa = RAM_BASE + RAM_SIZE;
	snap_writer_fini(&w2);
	snap_writer_init(&w2);
	virtqueue_save(&f->vq, &w2);
	snap_reader_init(&r, w2.buf, w2.len);
	CHECK_EQ(virtqueue_restore(&copy, &f->mem, &r), -EINVAL);
	CHECK_CONTAINS(copy.error, "used ring");
	snap_writer_fini(&w1);
	snap_writer_fini(&w2);
}

int main(void)
{
	static struct fake f;
	memory_init(&f.mem);
	CHECK_EQ(memory_add_slot(&f.mem, "ram", RAM_BASE, RAM_SIZE, false), 0);
	CHECK_EQ(memory_add_slot(&f.mem, "pvlock", RO_GPA, 0x1000, true), 1);
	f.ram = memory_gpa_to_host(&f.mem, RAM_BASE, RAM_SIZE);
	test_enable(&f);
	test_good_chains(&f);
	test_indirect(&f);
	test_bad_chains(&f);
	test_snapshot(&f);
	memory_fini(&f.mem);
	return check_exit();
}
