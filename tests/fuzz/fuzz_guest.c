/*
 * Fuzzes what a guest does, on a VM without KVM (as tests/unit/virtio_test_driver.h builds one): 256 KiB of RAM, the
 * PV-lock region (read-only to the guest), the ucall window, and five virtio-mmio devices: a disk, a read-only disk
 * (both on memfds), an entropy device, a console and a NIC on a SOCK_SEQPACKET socketpair standing in for its TAP.
 * The devices' I/O threads are held paused; after each guest action the harness runs one round of each device's
 * I/O loop itself (epoll_wait with no timeout on the loop's own epoll set, the handlers the thread would call), so a
 * run is deterministic.
 *
 * The input is a program of guest actions (each an opcode byte and its operands, read until the input ends): MMIO
 * stores and loads anywhere on the bus (a device's registers, QueueNotify, the PV-lock region, the ucall window,
 * unmapped addresses), writes into RAM (descriptor tables, rings, buffers, ucall structs), hypercalls with arbitrary
 * arguments (PV lock, target discovery), a frame arriving on the NIC's TAP, console input, and the virtqueue walker
 * run directly over rings anywhere in RAM.
 *
 * Invariants: every buffer of a chain lies inside guest memory, and no device-writable one in the read-only slot;
 * the read-only slot and the read-only disk never change; no disk grows; used elements name descriptors inside
 * their queue; decoded ucall strings are printable ASCII; hypercalls answer a known status; nothing overflows or
 * leaks (ASan, UBSan). Seeds: a driver's setup of every device and a valid request for each, encoded as actions.
 */
#include "arch.h"
#include "core/vm.h"
#include "devices/device.h"
#include "devices/ucall.h"
#include "devices/virtio_mmio.h"
#include "devices/virtio_net.h"
#include "fuzz_util.h"
#include "fuzz_vm.h"
#include "hypercalls/discover_impl.h"
#include "hypercalls/pvlock.h"
#include "pvlock/pvlock.h"

#include <errno.h>
#include <stdatomic.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <sys/stat.h>

extern const struct device_desc virtio_blk_device, virtio_rng_device, virtio_console_device, ucall_device;

#define RAM_SIZE (256u << 10)
#define DISK_SIZE (64u << 10)
#define NR_DEVS 5
#define PV_LOCK_FEATURES 0xc6000060u
#define PV_LOCK_PREEMPTED 0xc6000061u
#define DISCOVER_IMPL_VER 0xc6000040u
#define DISCOVER_IMPL_CPUS 0xc6000041u

enum op {
	OP_MMIO_WRITE,
	OP_MMIO_READ,
	OP_RAM,
	OP_HYPERCALL,
	OP_UCALL_DECODE,
	OP_NET_FRAME,
	OP_CONSOLE_IN,
	OP_WALK,
	NR_OPS
};

/* Where an MMIO operand points: one of the transports, the PV-lock region, the ucall window, or nothing. */
enum target { T_DEV0, T_PVLOCK = NR_DEVS, T_UCALL, T_UNMAPPED, NR_TARGETS };

/* The VM functions devices call: interrupts and console output go nowhere, stops are counted. */
static atomic_int irq_pulses, stops;

int vm_irq_line(struct vm *vm, uint32_t irq, bool level)
{
	(void)vm;
	(void)irq;
	if (level)
		atomic_fetch_add(&irq_pulses, 1);
	return 0;
}

void vm_console_output(struct vm *vm, uint8_t byte)
{
	(void)vm;
	(void)byte;
}

void vm_request_stop(struct vm *vm, int code)
{
	(void)vm;
	(void)code;
	atomic_fetch_add(&stops, 1);
}

static struct vm vm;
static struct virtio_mmio *devs[NR_DEVS];
static int disk_fd[2], tap_peer;
static uint8_t pristine_disk[DISK_SIZE], *ro_copy;
static const struct memory_slot *ram, *ro_slot;
static struct hypercall_table hcalls;
static struct pvlock_service pv_service;
static struct discover_impl_service impls = {.nr = 2, .impl = {{{0x410fd083, 0, 0}}, {{0x413fd0c1, 1, 0}}}};

/* The operand reader: 0 once the input is used up. */
struct input {
	const uint8_t *p;
	size_t left;
};

static uint64_t get(struct input *in, int bytes)
{
	uint64_t v = 0;
	for (int i = 0; i < bytes && in->left; i++, in->p++, in->left--)
		v |= (uint64_t)*in->p << (8 * i);
	return v;
}

static uint64_t target_base(unsigned target)
{
	if (target < T_PVLOCK)
		return devs[target]->base;
	if (target == T_PVLOCK)
		return arch_region(VM_REGION_PVLOCK)->base;
	if (target == T_UCALL)
		return arch_region(VM_REGION_UCALL)->base;
	return arch_region(VM_REGION_VIRTIO)->base + NR_DEVS * VIRTIO_MMIO_SLOT_SIZE; /* a free slot */
}

/* The used elements a device added since `from` name descriptors of its queue. */
static void check_used(const struct virtqueue *vq, uint16_t from)
{
	for (uint16_t i = from; vq->used && i != vq->used_idx; i++) {
		const uint8_t *e = vq->used + 4 + 8 * (size_t)(i & (vq->size - 1));
		uint32_t id = (uint32_t)e[0] | (uint32_t)e[1] << 8 | (uint32_t)e[2] << 16 | (uint32_t)e[3] << 24;
		FUZZ_ASSERT(id < vq->size, "used element %u names descriptor %u of %u", i, id, vq->size);
	}
}

/* One round of a device's I/O loop, on this thread: the handlers its (paused) thread would run now. */
static void run_io(struct virtio_mmio *t)
{
	uint16_t used[VIRTIO_MMIO_MAX_QUEUES];
	for (int q = 0; q < VIRTIO_MMIO_MAX_QUEUES; q++)
		used[q] = t->queues[q].vq.used_idx;
	for (int round = 0; round < 16; round++) {
		struct epoll_event ev[16];
		int n = epoll_wait(t->loop.epoll_fd, ev, 16, 0), handled = 0;
		for (int i = 0; i < n; i++) {
			struct io_loop_watch *w = ev[i].data.ptr;
			if (!w)
				continue; /* the loop's own control eventfd: the pause */
			w->fn(w->opaque, w->fd, ev[i].events);
			handled++;
		}
		if (!handled)
			break;
	}
	for (int q = 0; q < t->ops->nr_queues; q++)
		if (t->queues[q].vq.used_idx != used[q])
			check_used(&t->queues[q].vq, used[q]);
}

static bool in_slot(const struct memory_slot *s, const void *p, size_t len)
{
	const uint8_t *b = p;
	return b >= s->host && len <= s->size && (size_t)(b - s->host) <= s->size - len;
}

/* Every buffer inside guest memory; the device-writable ones never in the read-only slot. */
static void check_chain(const struct virtq_chain *c)
{
	FUZZ_ASSERT(c->nr_read >= 0 && c->nr_write >= 0 && c->nr_read + c->nr_write <= VIRTQUEUE_MAX_SEGS, "%d+%d",
		    c->nr_read, c->nr_write);
	uint64_t rlen = 0, wlen = 0;
	for (int i = 0; i < c->nr_read + c->nr_write; i++) {
		const struct iovec *v = &c->iov[i];
		bool write = i >= c->nr_read;
		FUZZ_ASSERT(
		    in_slot(ram, v->iov_base, v->iov_len) || (!write && in_slot(ro_slot, v->iov_base, v->iov_len)),
		    "buffer %d (%zu bytes, %s) is outside guest RAM", i, v->iov_len, write ? "writable" : "readable");
		*(write ? &wlen : &rlen) += v->iov_len;
	}
	FUZZ_ASSERT(rlen == c->read_len && wlen == c->write_len, "chain lengths");
}

/* The virtqueue walker over rings the input places in RAM (offsets within RAM, or past it). */
static void walk(struct input *in)
{
	static struct virtqueue vq;
	static struct virtq_chain c;
	virtqueue_reset(&vq);
	vq.size = (uint16_t)(1u << (get(in, 1) % 9));
	vq.desc_gpa = ram->gpa + get(in, 3);
	vq.avail_gpa = ram->gpa + get(in, 3);
	vq.used_gpa = ram->gpa + get(in, 3);
	vq.last_avail_idx = (uint16_t)get(in, 2);
	vq.used_idx = vq.last_avail_idx;
	if (virtqueue_enable(&vq, &vm.mem) < 0) {
		FUZZ_ASSERT(vq.error[0], "refused without a reason");
		return;
	}
	for (int i = 0; i < 64; i++) {
		int ret = virtqueue_pop(&vq, &vm.mem, &c);
		if (ret <= 0) {
			FUZZ_ASSERT(ret == 0 || vq.error[0], "refused without a reason");
			return;
		}
		FUZZ_ASSERT(c.head < vq.size, "head %u of a queue of %u", c.head, vq.size);
		check_chain(&c);
		uint8_t buf[64];
		uint64_t off = get(in, 2);
		size_t got = virtq_chain_read(&c, off, buf, sizeof(buf));
		FUZZ_ASSERT(got <= sizeof(buf) &&
				(off >= c.read_len || got == (c.read_len - off < 64 ? c.read_len - off : 64)),
			    "read %zu at %llu of %llu", got, (unsigned long long)off, (unsigned long long)c.read_len);
		size_t put = virtq_chain_write(&c, get(in, 2), buf, got);
		FUZZ_ASSERT(put <= got, "wrote %zu of %zu", put, got);
		struct iovec iov[VIRTQUEUE_MAX_SEGS];
		int n = virtq_chain_writable_iov(&c, get(in, 4), iov, VIRTQUEUE_MAX_SEGS);
		FUZZ_ASSERT(n >= 0 && n <= c.nr_write, "%d writable segments of %d", n, c.nr_write);
		n = virtq_chain_readable_iov(&c, get(in, 2), iov, VIRTQUEUE_MAX_SEGS);
		FUZZ_ASSERT(n >= 0 && n <= c.nr_read, "%d readable segments of %d", n, c.nr_read);
		virtqueue_push(&vq, &c, (uint32_t)put);
	}
}

static int64_t hcall_arg_values[6];

static int hcall_read_arg(void *opaque, int n, uint64_t *value)
{
	(void)opaque;
	if (n < 1 || n > 5)
		return -EINVAL;
	*value = (uint64_t)hcall_arg_values[n];
	return 0;
}

static void hypercall(struct input *in)
{
	static const uint64_t fids[] = {PV_LOCK_FEATURES, PV_LOCK_PREEMPTED, DISCOVER_IMPL_VER, DISCOVER_IMPL_CPUS};
	uint8_t sel = (uint8_t)get(in, 1);
	struct hypercall_ctx ctx = {
	    .vcpu_id = (int)(get(in, 1) % 4), .read_arg = hcall_read_arg, .invalid_parameter = -3};
	ctx.fid = sel < 4 * 60 ? fids[sel % 4] : get(in, 8);
	for (int i = 1; i <= 5; i++)
		hcall_arg_values[i] = (int64_t)get(in, 8);
	int ret = hypercall_dispatch(&hcalls, &ctx);
	FUZZ_ASSERT(ret == 0 && ctx.nr_ret >= 1 && ctx.nr_ret <= 4, "ret %d, %d results", ret, ctx.nr_ret);
	int64_t status = (int64_t)ctx.ret[0];
	FUZZ_ASSERT(status == 0 || status == -1 || status == -3, "status %lld", (long long)status);
	if (ctx.fid == PV_LOCK_PREEMPTED && status == 0)
		FUZZ_ASSERT(ctx.ret[1] >= pv_service.region_gpa &&
				ctx.ret[1] + PVLOCK_STRUCT_SIZE <= pv_service.region_gpa + PVLOCK_REGION_ALIGN,
			    "a struct address %#llx outside the region", (unsigned long long)ctx.ret[1]);
}

static void check_printable(const char *s)
{
	for (; *s; s++)
		FUZZ_ASSERT(*s >= ' ' && *s <= '~', "an unprintable byte %#x in a decoded ucall string", (uint8_t)*s);
}

/* ucall decoding of RAM bytes, and the ucall device on the same address. */
static void ucall(struct input *in)
{
	static struct ucall_msg msg;
	uint64_t off = get(in, 3) % RAM_SIZE;
	const char *why;
	if (ucall_decode(ram->host + off, RAM_SIZE - off, &msg, &why) == 0) {
		check_printable(msg.file);
		check_printable(msg.msg);
	}
	uint8_t data[8];
	for (int i = 0; i < 8; i++)
		data[i] = (uint8_t)((ram->gpa + off) >> (8 * i));
	bus_access(&vm.mmio, arch_region(VM_REGION_UCALL)->base, data, 8, true);
}

static void mmio(struct input *in, bool write)
{
	unsigned target = (unsigned)get(in, 1) % NR_TARGETS;
	uint64_t addr = target_base(target) + get(in, 2) % 0x1000;
	uint32_t len = 1u << (get(in, 1) % 4);
	uint8_t data[8];
	uint64_t v = get(in, 8);
	for (int i = 0; i < 8; i++)
		data[i] = (uint8_t)(v >> (8 * i));
	bus_access(&vm.mmio, addr, data, len, write);
}

static void net_frame(struct input *in)
{
	uint8_t frame[1600];
	size_t len = get(in, 2) % sizeof(frame);
	for (size_t i = 0; i < len; i++)
		frame[i] = (uint8_t)get(in, 1);
	ssize_t unused = send(tap_peer, frame, len, MSG_DONTWAIT);
	(void)unused;
}

static void console_in(struct input *in)
{
	uint8_t text[256];
	size_t len = get(in, 1);
	for (size_t i = 0; i < len; i++)
		text[i] = (uint8_t)get(in, 1);
	if (vm.console_rx)
		vm.console_rx(vm.console_rx_opaque, text, len);
}

/* After each action: the read-only slot and the read-only disk unchanged, no disk grown. */
static void check_devices(void)
{
	FUZZ_ASSERT(!memcmp(ro_slot->host, ro_copy, ro_slot->size), "the guest or a device wrote the read-only slot");
	for (int i = 0; i < 2; i++) {
		struct stat st;
		FUZZ_ASSERT(fstat(disk_fd[i], &st) == 0 && st.st_size == DISK_SIZE, "disk %d is now %lld bytes", i,
			    (long long)st.st_size);
	}
	static uint8_t now[DISK_SIZE];
	FUZZ_ASSERT(pread(disk_fd[1], now, DISK_SIZE, 0) == DISK_SIZE && !memcmp(now, pristine_disk, DISK_SIZE),
		    "the read-only disk changed");
}

/* Back to a freshly booted guest: devices reset, RAM zero, the writable disk as it was. */
static void reset(void)
{
	for (int d = 0; d < NR_DEVS; d++) {
		uint8_t zero[4] = {0};
		bus_access(&vm.mmio, devs[d]->base + 0x70, zero, 4, true);
		run_io(devs[d]);
	}
	memset(ram->host, 0, RAM_SIZE);
	FUZZ_ASSERT(pwrite(disk_fd[0], pristine_disk, DISK_SIZE, 0) == DISK_SIZE, "disk reset");
	uint8_t drain[2048];
	while (recv(tap_peer, drain, sizeof(drain), MSG_DONTWAIT) > 0)
		;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct input in = {data, size};
	reset();
	for (int steps = 0; in.left && steps < 512; steps++) {
		switch (get(&in, 1) % NR_OPS) {
		case OP_MMIO_WRITE:
			mmio(&in, true);
			break;
		case OP_MMIO_READ:
			mmio(&in, false);
			break;
		case OP_RAM: {
			uint64_t off = get(&in, 3) % RAM_SIZE, n = get(&in, 1);
			for (uint64_t i = 0; i < n && in.left; i++)
				ram->host[(off + i) % RAM_SIZE] = (uint8_t)get(&in, 1);
			break;
		}
		case OP_HYPERCALL:
			hypercall(&in);
			break;
		case OP_UCALL_DECODE:
			ucall(&in);
			break;
		case OP_NET_FRAME:
			net_frame(&in);
			break;
		case OP_CONSOLE_IN:
			console_in(&in);
			break;
		default:
			walk(&in);
			break;
		}
		for (int d = 0; d < NR_DEVS; d++)
			run_io(devs[d]);
		check_devices();
	}
	return 0;
}

/* ---- seeds: a driver's setup and a request for each device, as actions ---- */

struct prog {
	uint8_t buf[8192];
	size_t len;
	uint16_t avail[NR_DEVS][VIRTIO_MMIO_MAX_QUEUES]; /* the available index each queue is at */
};

static void put(struct prog *p, uint64_t v, int bytes)
{
	for (int i = 0; i < bytes; i++)
		p->buf[p->len++] = (uint8_t)(v >> (8 * i));
}

static void mmio_wr(struct prog *p, unsigned dev, uint16_t off, uint32_t v)
{
	put(p, OP_MMIO_WRITE, 1);
	put(p, dev, 1);
	put(p, off, 2);
	put(p, 2, 1); /* 4 bytes */
	put(p, v, 8);
}

static void ram_wr(struct prog *p, uint32_t off, const void *data, uint8_t n)
{
	put(p, OP_RAM, 1);
	put(p, off, 3);
	put(p, n, 1);
	for (int i = 0; i < n; i++)
		put(p, ((const uint8_t *)data)[i], 1);
}

/* Queue q of a device: its rings in RAM at 0x1000 * (4 * dev + q) (size 8), its buffers from 0x20000 on. */
static uint32_t ring_off(unsigned dev, int q)
{
	return 0x4000 * dev + 0x1000 * (uint32_t)q;
}

static void setup(struct prog *p, unsigned dev, int nr_queues)
{
	mmio_wr(p, dev, 0x70, 0);
	mmio_wr(p, dev, 0x70, 3);
	mmio_wr(p, dev, 0x24, 1);
	mmio_wr(p, dev, 0x20, 1); /* VIRTIO_F_VERSION_1 */
	mmio_wr(p, dev, 0x70, 11);
	for (int q = 0; q < nr_queues; q++) {
		uint64_t base = ram->gpa + ring_off(dev, q);
		mmio_wr(p, dev, 0x30, (uint32_t)q);
		mmio_wr(p, dev, 0x38, 8);
		mmio_wr(p, dev, 0x80, (uint32_t)base);
		mmio_wr(p, dev, 0x84, (uint32_t)(base >> 32));
		mmio_wr(p, dev, 0x90, (uint32_t)(base + 0x200));
		mmio_wr(p, dev, 0x94, (uint32_t)((base + 0x200) >> 32));
		mmio_wr(p, dev, 0xa0, (uint32_t)(base + 0x400));
		mmio_wr(p, dev, 0xa4, (uint32_t)((base + 0x400) >> 32));
		mmio_wr(p, dev, 0x44, 1);
	}
	mmio_wr(p, dev, 0x70, 15);
}

/* A chain of (gpa offset in RAM, len, writable) buffers in queue q's table, made available and notified. */
static void chain(struct prog *p, unsigned dev, int q, const uint32_t (*segs)[3], int n)
{
	uint32_t ring = ring_off(dev, q);
	for (int i = 0; i < n; i++) {
		uint8_t d[16];
		uint64_t gpa = ram->gpa + segs[i][0];
		uint16_t flags = (uint16_t)((segs[i][2] ? 2 : 0) | (i + 1 < n ? 1 : 0));
		for (int b = 0; b < 8; b++)
			d[b] = (uint8_t)(gpa >> (8 * b));
		for (int b = 0; b < 4; b++)
			d[8 + b] = (uint8_t)(segs[i][1] >> (8 * b));
		d[12] = (uint8_t)flags;
		d[13] = 0;
		d[14] = (uint8_t)(i + 1);
		d[15] = 0;
		ram_wr(p, ring + 16 * (uint32_t)i, d, 16);
	}
	uint16_t idx = p->avail[dev][q]++;
	const uint8_t head[2] = {0, 0}, next[2] = {(uint8_t)(idx + 1), (uint8_t)((idx + 1) >> 8)};
	ram_wr(p, ring + 0x200 + 4 + 2 * (uint32_t)(idx % 8), head, 2); /* ring[idx] = descriptor 0 */
	ram_wr(p, ring + 0x200 + 2, next, 2);
	mmio_wr(p, dev, 0x50, (uint32_t)q);
}

static void write_seeds(const char *dir)
{
	static struct prog p;
	static const uint8_t blk_read[16] = {0, 0, 0, 0, 0, 0, 0, 0, 2}; /* T_IN, sector 2 */
	static const uint8_t blk_write[16] = {1, 0, 0, 0, 0, 0, 0, 0, 1}; /* T_OUT, sector 1 */
	static const uint32_t blk_segs[3][3] = {{0x20000, 16, 0}, {0x21000, 1024, 1}, {0x22000, 1, 1}};
	static const uint32_t blk_wsegs[3][3] = {{0x20000, 16, 0}, {0x21000, 512, 0}, {0x22000, 1, 1}};
	static const uint32_t one_buf[1][3] = {{0x23000, 64, 1}};
	static const uint32_t tx[1][3] = {{0x24000, 60, 0}};
	static const uint8_t frame[24] = {[12] = 0xde, [13] = 0xad};
	for (unsigned dev = 0; dev < 2; dev++) {
		memset(&p, 0, sizeof(p));
		setup(&p, dev, 1);
		ram_wr(&p, 0x20000, blk_read, sizeof(blk_read));
		chain(&p, dev, 0, blk_segs, 3);
		ram_wr(&p, 0x20000, blk_write, sizeof(blk_write));
		chain(&p, dev, 0, blk_wsegs, 3);
		fuzz_seed(dir, dev ? "blk-ro" : "blk", p.buf, p.len);
	}
	memset(&p, 0, sizeof(p));
	setup(&p, 2, 1);
	chain(&p, 2, 0, one_buf, 1);
	fuzz_seed(dir, "rng", p.buf, p.len);
	memset(&p, 0, sizeof(p));
	setup(&p, 3, 2);
	chain(&p, 3, 0, one_buf, 1);
	chain(&p, 3, 1, tx, 1);
	put(&p, OP_CONSOLE_IN, 1);
	put(&p, 5, 1);
	put(&p, 0x6c6c6568, 4);
	put(&p, '\n', 1);
	fuzz_seed(dir, "console", p.buf, p.len);
	memset(&p, 0, sizeof(p));
	setup(&p, 4, 2);
	chain(&p, 4, 0, one_buf, 1);
	put(&p, OP_NET_FRAME, 1);
	put(&p, sizeof(frame), 2);
	for (size_t i = 0; i < sizeof(frame); i++)
		put(&p, frame[i], 1);
	chain(&p, 4, 1, tx, 1);
	fuzz_seed(dir, "net", p.buf, p.len);
	memset(&p, 0, sizeof(p));
	static const struct ucall u = {.magic = UCALL_MAGIC,
				       .version = UCALL_ABI_VERSION,
				       .cmd = UCALL_PRINT,
				       .file = "g.c",
				       .msg = "hello\x1b[2J\n"};
	ram_wr(&p, 0x30000, &u, sizeof(u) / 2);
	ram_wr(&p, 0x30000 + sizeof(u) / 2, (const uint8_t *)&u + sizeof(u) / 2, sizeof(u) / 2);
	put(&p, OP_UCALL_DECODE, 1);
	put(&p, 0x30000, 3);
	put(&p, OP_HYPERCALL, 1);
	put(&p, 1, 1);
	put(&p, 1, 1);
	for (int i = 0; i < 5; i++)
		put(&p, ~0ull, 8);
	put(&p, OP_HYPERCALL, 1);
	put(&p, 3, 1);
	put(&p, 0, 1);
	for (int i = 0; i < 5; i++)
		put(&p, i == 0 ? 1 : 0, 8);
	mmio_wr(&p, T_PVLOCK, 0x40, 0xffffffff);
	mmio_wr(&p, T_UNMAPPED, 0x10, 1);
	fuzz_seed(dir, "ucall-hypercall-mmio", p.buf, p.len);
	memset(&p, 0, sizeof(p));
	chain(&p, 0, 0, blk_segs, 3); /* rings without a device: the walker alone */
	put(&p, OP_WALK, 1);
	put(&p, 3, 1);
	put(&p, 0, 3);
	put(&p, 0x200, 3);
	put(&p, 0x400, 3);
	put(&p, 0, 2);
	fuzz_seed(dir, "walk", p.buf, p.len);
}

/* Adds --NAME VALUE to the VM's configuration, as roam run's option parsing does. */
static void add_option(const char *name, const char *value)
{
	struct vm_device_option *o = &vm.cfg.device_options[vm.cfg.nr_device_options++];
	snprintf(o->name, sizeof(o->name), "%s", name);
	snprintf(o->value, sizeof(o->value), "%s", value);
}

/* A memfd of DISK_SIZE bytes for a disk: --disk /proc/self/fd/N[,ro]. */
static int make_disk(bool readonly)
{
	char value[64];
	int fd = fuzz_memfd("disk", pristine_disk, DISK_SIZE);
	FUZZ_ASSERT(fd >= 0, "memfd");
	snprintf(value, sizeof(value), "/proc/self/fd/%d%s", fd, readonly ? ",ro" : "");
	add_option("disk", value);
	return fd;
}

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	(void)argc;
	(void)argv;
	fuzz_disk_pattern(pristine_disk, DISK_SIZE);
	ram = fuzz_vm_init(&vm, RAM_SIZE, &ro_slot);
	fuzz_maybe_write_seeds(write_seeds);
	ro_copy = malloc(ro_slot->size);
	memcpy(ro_copy, ro_slot->host, ro_slot->size);
	void *ucall_state;
	FUZZ_ASSERT(ucall_device.create(&vm, &ucall_state) == 0, "ucall");
	hypercall_table_init(&hcalls);
	pv_service = (struct pvlock_service){.region_gpa = ro_slot->gpa,
					     .nr_vcpus = 2,
					     .fid_features = PV_LOCK_FEATURES,
					     .fid_preempted = PV_LOCK_PREEMPTED};
	FUZZ_ASSERT(pvlock_register(&hcalls, &pv_service) == 0 &&
			discover_impl_register(&hcalls, &impls, DISCOVER_IMPL_VER, DISCOVER_IMPL_CPUS) == 0,
		    "hypercalls");

	void *state[NR_DEVS];
	for (int i = 0; i < 2; i++)
		disk_fd[i] = make_disk(i == 1);
	add_option("rng", "");
	add_option("console", "virtio");
	int sv[2];
	FUZZ_ASSERT(socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_NONBLOCK | SOCK_CLOEXEC, 0, sv) == 0, "socketpair");
	tap_peer = sv[1];
	static const uint8_t mac[6] = {0x52, 0x54, 0, 0x12, 0x34, 0x56};
	FUZZ_ASSERT(virtio_blk_device.create_nth(&vm, 0, &state[0]) == 0 &&
			virtio_blk_device.create_nth(&vm, 1, &state[1]) == 0 &&
			virtio_rng_device.create_nth(&vm, 0, &state[2]) == 0 &&
			virtio_console_device.create_nth(&vm, 0, &state[3]) == 0 &&
			virtio_net_create_on_fd(&vm, 0, sv[0], mac, &state[4]) == 0,
		    "devices");
	for (int d = 0; d < NR_DEVS; d++) {
		devs[d] = *(struct virtio_mmio **)state[d]; /* each device's state starts with its transport */
		FUZZ_ASSERT(devs[d]->slot == d, "device %d in slot %d", d, devs[d]->slot);
		io_loop_pause(&devs[d]->loop); /* from now on this thread runs the devices' I/O */
	}
	return 0;
}
