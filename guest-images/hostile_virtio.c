/*
 * hostile_virtio: a guest that attacks roam's virtio devices (docs/security.md), driven by tests/lab/hostile.sh with
 * `roam run -m 128 -c 2 --disk FILE` or `--rng`. A minimal polling virtio-mmio driver (devices/virtio_mmio.c has the
 * registers) for the device in slot 0 sets the queue up, then makes requests no honest driver makes:
 *   - buffers outside RAM, straddling its end, in MMIO space, and device-writable ones in the PV-lock region (which
 *     the guest may only read);
 *   - a chain that loops, a chain through all 256 descriptors of a queue and back, an indirect table of 10,000
 *     descriptors, an available index 10,000 entries ahead;
 *   - rings outside RAM, and a used ring in the read-only PV-lock region;
 *   - descriptors that vCPU1 rewrites (address, length, flags, next) while vCPU0 submits them, 500 times;
 *   - 200 rounds of breaking the device and resetting it (a log flood, which roam rate-limits);
 *   - for a disk: a write past its end, and a write whose data lies outside RAM.
 * After each, the device must have refused the request (NEEDS_RESET, or an error status for the disk), and a valid
 * request must still work after a reset; buffers keep their guard bytes, the PV-lock struct its reserved zeros. Each
 * phase prints "hostile-virtio: PHASE: RESULT"; the host checks that roam said why in one line each and that the
 * disk file is unchanged. Every wait is bounded; a timeout is a GUEST_ABORT naming the phase.
 */
#include "guest.h"

#include "arch/arm64/layout.h"

#include <stdatomic.h>
#include <stdbool.h>

#define RAM_MIB 128 /* the test runs roam with -m 128 */
#define RAM_END (ARM64_RAM_BASE + ((uint64_t)RAM_MIB << 20))
#define FAR_AWAY 0x1000000000ull /* 64 GiB: no memory there */
#define DEV ARM64_VIRTIO_BASE /* slot 0 */
#define WAIT_S 10

#define REG_DEVICE_ID 0x008
#define REG_DRIVER_FEATURES 0x020
#define REG_DRIVER_FEATURES_SEL 0x024
#define REG_QUEUE_SEL 0x030
#define REG_QUEUE_NUM_MAX 0x034
#define REG_QUEUE_NUM 0x038
#define REG_QUEUE_READY 0x044
#define REG_QUEUE_NOTIFY 0x050
#define REG_INTERRUPT_ACK 0x064
#define REG_STATUS 0x070
#define REG_QUEUE_DESC 0x080
#define REG_QUEUE_DRIVER 0x090
#define REG_QUEUE_DEVICE 0x0a0
#define REG_CONFIG 0x100

#define S_ACK 1
#define S_DRIVER 2
#define S_DRIVER_OK 4
#define S_FEATURES_OK 8
#define S_NEEDS_RESET 64

#define F_NEXT 1
#define F_WRITE 2
#define F_INDIRECT 4

#define ID_BLOCK 2
#define ID_ENTROPY 4
#define BLK_T_IN 0
#define BLK_T_OUT 1

enum outcome { DONE, BROKEN };

struct desc {
	uint64_t addr;
	uint32_t len;
	uint16_t flags, next;
};

/* The queue's memory and the buffers, in RAM (bss). */
static struct desc table[256] __attribute__((aligned(4096)));
static volatile uint16_t avail[2 + 256 + 1] __attribute__((aligned(4096)));
static volatile uint32_t used[1 + 2 * 256 + 1] __attribute__((aligned(4096)));
static struct desc indirect[10000] __attribute__((aligned(16)));
static uint8_t header[16] __attribute__((aligned(16)));
static uint8_t buf[4096 + 64] __attribute__((aligned(4096))); /* 64 guard bytes after the 4 KiB */
static volatile uint8_t status_byte;
static uint16_t qsize, avail_idx;
static uint32_t device_id;
static uint64_t freq;

static uint64_t now(void)
{
	isb();
	return read_sysreg(cntvct_el0);
}

static uint32_t reg(uint32_t off)
{
	return mmio_read32(DEV + off);
}

static void set_reg(uint32_t off, uint32_t v)
{
	mmio_write32(DEV + off, v);
}

static void set_reg64(uint32_t off, uint64_t v)
{
	set_reg(off, (uint32_t)v);
	set_reg(off + 4, (uint32_t)(v >> 32));
}

/* Resets the device and sets up queue 0 with `size` entries at the given rings; returns false if it refused. */
static bool setup_at(uint16_t size, uint64_t desc_gpa, uint64_t avail_gpa, uint64_t used_gpa)
{
	set_reg(REG_STATUS, 0);
	set_reg(REG_STATUS, S_ACK | S_DRIVER);
	set_reg(REG_DRIVER_FEATURES_SEL, 1);
	set_reg(REG_DRIVER_FEATURES, 1); /* VIRTIO_F_VERSION_1 */
	set_reg(REG_DRIVER_FEATURES_SEL, 0);
	set_reg(REG_DRIVER_FEATURES, 0);
	set_reg(REG_STATUS, S_ACK | S_DRIVER | S_FEATURES_OK);
	GUEST_ASSERT(reg(REG_STATUS) & S_FEATURES_OK);
	memset(table, 0, sizeof(table));
	memset((void *)avail, 0, sizeof(avail));
	memset((void *)used, 0, sizeof(used));
	avail_idx = 0;
	qsize = size;
	set_reg(REG_QUEUE_SEL, 0);
	GUEST_ASSERT(reg(REG_QUEUE_NUM_MAX) >= size);
	set_reg(REG_QUEUE_NUM, size);
	set_reg64(REG_QUEUE_DESC, desc_gpa);
	set_reg64(REG_QUEUE_DRIVER, avail_gpa);
	set_reg64(REG_QUEUE_DEVICE, used_gpa);
	dsb(sy);
	set_reg(REG_QUEUE_READY, 1);
	set_reg(REG_STATUS, S_ACK | S_DRIVER | S_FEATURES_OK | S_DRIVER_OK);
	return !(reg(REG_STATUS) & S_NEEDS_RESET);
}

static void setup(uint16_t size)
{
	GUEST_ASSERT(setup_at(size, (uint64_t)(uintptr_t)table, (uint64_t)(uintptr_t)avail, (uint64_t)(uintptr_t)used));
}

static void put(uint16_t i, uint64_t addr, uint32_t len, uint16_t flags, uint16_t next)
{
	table[i] = (struct desc){addr, len, flags, next};
}

/* Makes chain `head` available (ring entries may be placed `ahead` further on) and notifies. */
static void submit(uint16_t head, uint16_t ahead)
{
	avail[2 + avail_idx % qsize] = head;
	dmb(ishst);
	avail_idx = (uint16_t)(avail_idx + 1 + ahead);
	avail[1] = avail_idx;
	dsb(sy);
	set_reg(REG_QUEUE_NOTIFY, 0);
}

/* Waits until the device used the last chain or needs a reset. */
static enum outcome wait(const char *phase)
{
	uint64_t deadline = now() + WAIT_S * freq;
	for (;;) {
		if (reg(REG_STATUS) & S_NEEDS_RESET)
			return BROKEN;
		if (__atomic_load_n(&((volatile uint16_t *)used)[1], __ATOMIC_ACQUIRE) == avail_idx)
			return DONE;
		if (now() > deadline)
			GUEST_ABORT("%s: the device neither used the chain nor asked for a reset in %d s", phase,
				    WAIT_S);
	}
}

/* A request with one data buffer: the disk's header, data and status, or the entropy device's buffer alone. */
static uint16_t request(uint32_t type, uint64_t sector, uint64_t data, uint32_t len, uint16_t data_flags)
{
	if (device_id == ID_ENTROPY) {
		put(0, data, len, F_WRITE | (data_flags & ~F_WRITE), 0);
		return 0;
	}
	for (int i = 0; i < 4; i++)
		header[i] = (uint8_t)(type >> (8 * i));
	for (int i = 0; i < 8; i++)
		header[8 + i] = (uint8_t)(sector >> (8 * i));
	status_byte = 0xee;
	put(0, (uint64_t)(uintptr_t)header, 16, F_NEXT, 1);
	put(1, data, len, data_flags | F_NEXT, 2);
	put(2, (uint64_t)(uintptr_t)&status_byte, 1, F_WRITE, 0);
	return 0;
}

/* A request that reads into a buffer (disk: sector 0; entropy: random bytes). */
static uint16_t read_request(uint64_t data, uint32_t len)
{
	return request(BLK_T_IN, 0, data, len, F_WRITE);
}

static void expect(const char *phase, enum outcome want)
{
	enum outcome got = wait(phase);
	if (got != want)
		GUEST_ABORT("%s: the device %s", phase, got == DONE ? "carried it out" : "asked for a reset");
	guest_printf("hostile-virtio: %s: %s\n", phase, got == DONE ? "done" : "refused, the device needs a reset");
}

/*
 * roam reports at most 4 malformed requests a second per device: waiting a second before each single attack lets
 * the test see every one of their reasons.
 */
static void new_log_second(void)
{
	uint64_t until = now() + freq + freq / 10;
	while (now() < until)
		cpu_relax();
}

/* One malformed request on a fresh queue of 16: refused with NEEDS_RESET. */
static void refused(const char *phase, uint64_t data, uint32_t len)
{
	new_log_second();
	setup(16);
	submit(read_request(data, len), 0);
	expect(phase, BROKEN);
}

/* The PV-lock struct of vCPU 0 keeps its reserved bytes zero (nothing wrote into the read-only region). */
static void check_pvlock(const char *phase)
{
	const volatile uint8_t *p = (const volatile uint8_t *)(uintptr_t)ARM64_PVLOCK_BASE;
	for (int i = 8; i < 64; i++)
		if (p[i])
			GUEST_ABORT("%s: byte %d of the PV-lock struct is 0x%x", phase, i, p[i]);
}

/* A valid request works (after a reset), and the buffer's guard bytes are intact. */
static void still_works(const char *phase)
{
	setup(16);
	memset(buf, 0xa5, sizeof(buf));
	submit(read_request((uint64_t)(uintptr_t)buf, 4096), 0);
	expect(phase, DONE);
	GUEST_ASSERT_EQ(used[1], 0); /* used element 0: the chain's head, then its length */
	GUEST_ASSERT_EQ(used[2], device_id == ID_ENTROPY ? 4096 : 4097);
	if (device_id == ID_BLOCK)
		GUEST_ASSERT_EQ(status_byte, 0);
	for (int i = 4096; i < (int)sizeof(buf); i++)
		if (buf[i] != 0xa5)
			GUEST_ABORT("%s: the device wrote past the buffer (guard byte %d is 0x%x)", phase, i - 4096,
				    buf[i]);
}

static void chains(void)
{
	/* A loop: 0 -> 1 -> 0. */
	new_log_second();
	setup(16);
	put(0, (uint64_t)(uintptr_t)buf, 16, F_NEXT | F_WRITE, 1);
	put(1, (uint64_t)(uintptr_t)buf, 16, F_NEXT | F_WRITE, 0);
	submit(0, 0);
	expect("a chain that loops", BROKEN);

	/* All 256 descriptors of the largest queue, and back to the first. */
	new_log_second();
	setup(256);
	for (int i = 0; i < 256; i++)
		put((uint16_t)i, (uint64_t)(uintptr_t)buf, 16, F_NEXT | F_WRITE, (uint16_t)((i + 1) % 256));
	submit(0, 0);
	expect("a chain through 256 descriptors and back", BROKEN);

	/* 10,000 descriptors in one indirect table. */
	new_log_second();
	setup(16);
	for (int i = 0; i < 10000; i++)
		indirect[i] = (struct desc){(uint64_t)(uintptr_t)buf, 1, F_NEXT | F_WRITE, (uint16_t)(i + 1)};
	indirect[9999].flags = F_WRITE;
	put(0, (uint64_t)(uintptr_t)indirect, sizeof(indirect), F_INDIRECT, 0);
	submit(0, 0);
	expect("an indirect table of 10000 descriptors", BROKEN);

	/* The available index 10,000 entries ahead. */
	new_log_second();
	setup(16);
	submit(read_request((uint64_t)(uintptr_t)buf, 64), 9999);
	expect("an available index 10000 ahead", BROKEN);
}

static void rings(void)
{
	new_log_second();
	GUEST_ASSERT(!setup_at(16, FAR_AWAY, (uint64_t)(uintptr_t)avail, (uint64_t)(uintptr_t)used));
	guest_printf("hostile-virtio: a descriptor table outside RAM: refused, the device needs a reset\n");
	new_log_second();
	GUEST_ASSERT(!setup_at(16, (uint64_t)(uintptr_t)table, (uint64_t)(uintptr_t)avail, ARM64_PVLOCK_BASE));
	guest_printf(
	    "hostile-virtio: a used ring in the read-only PV-lock region: refused, the device needs a reset\n");
	check_pvlock("a used ring in the PV-lock region");
}

/*
 * vCPU1 rewrites the descriptors of the chain vCPU0 submits, as fast as it can: addresses (the buffer, or nothing),
 * lengths (inside the buffer, or far past RAM: a device that honoured a length inside RAM would overwrite this
 * guest), the NEXT, WRITE and INDIRECT flags, and links.
 */
static atomic_int rewriting = 1, rewriter_stopped;
static atomic_ulong rewrites;

static void rewriter(unsigned int cpu)
{
	(void)cpu;
	volatile struct desc *d = table;
	for (uint64_t i = 0; atomic_load_explicit(&rewriting, memory_order_relaxed); i++) {
		int k = (int)(i % 3);
		switch ((i / 3) % 4) {
		case 0:
			d[k].addr = FAR_AWAY;
			break;
		case 1:
			d[k].addr = (uint64_t)(uintptr_t)buf;
			d[k].len = (i & 8) ? (uint32_t)(i % 4096) : 0xfffff000u;
			break;
		case 2:
			d[k].flags ^= (uint16_t)(1u << (i % 3));
			break;
		default:
			d[k].next = (uint16_t)(i % 5);
			break;
		}
		atomic_fetch_add_explicit(&rewrites, 1, memory_order_relaxed);
	}
	atomic_store(&rewriter_stopped, 1);
}

static void rewritten(void)
{
	int done = 0, broken = 0;
	GUEST_ASSERT_EQ(guest_smp_start(rewriter), 2);
	setup(16);
	for (int i = 0; i < 500; i++) {
		submit(read_request((uint64_t)(uintptr_t)buf, 4096), 0);
		if (wait("descriptors rewritten while the device works") == DONE) {
			done++;
			continue;
		}
		broken++;
		setup(16);
	}
	atomic_store(&rewriting, 0);
	uint64_t deadline = now() + WAIT_S * freq;
	while (!atomic_load(&rewriter_stopped))
		if (now() > deadline)
			GUEST_ABORT("vCPU1 did not stop rewriting");
	guest_printf(
	    "hostile-virtio: descriptors rewritten while the device works: %d done, %d refused, %llu rewrites\n", done,
	    broken, (unsigned long long)atomic_load(&rewrites));
}

static void reset_loop(void)
{
	for (int i = 0; i < 200; i++) {
		setup(16);
		submit(read_request(FAR_AWAY, 64), 0);
		if (wait("a reset loop") != BROKEN)
			GUEST_ABORT("a reset loop: round %d was carried out", i);
	}
	guest_printf("hostile-virtio: a reset loop: 200 rounds refused\n");
}

static void disk(void)
{
	uint64_t capacity = reg(REG_CONFIG) | (uint64_t)reg(REG_CONFIG + 4) << 32;
	setup(16);
	memset(buf, 0x5a, 512);
	submit(request(BLK_T_OUT, capacity, (uint64_t)(uintptr_t)buf, 512, 0), 0);
	expect("a write past the end of the disk", DONE);
	GUEST_ASSERT_EQ(status_byte, 1); /* VIRTIO_BLK_S_IOERR */
	new_log_second();
	setup(16);
	submit(request(BLK_T_OUT, 0, FAR_AWAY, 512, 0), 0);
	expect("a write of data outside RAM", BROKEN);
}

void guest_main(uint64_t dtb)
{
	(void)dtb;
	freq = read_sysreg(cntfrq_el0);
	device_id = reg(REG_DEVICE_ID);
	GUEST_ASSERT(device_id == ID_BLOCK || device_id == ID_ENTROPY);
	guest_printf("hostile-virtio: attacking a %s\n", device_id == ID_BLOCK ? "disk" : "entropy device");
	still_works("a valid request");
	refused("a buffer outside RAM", FAR_AWAY, 64);
	refused("a buffer across the end of RAM", RAM_END - 8, 64);
	refused("a buffer in MMIO space", ARM64_UART_BASE, 64);
	refused("a device-writable buffer in the PV-lock region", ARM64_PVLOCK_BASE, 64);
	check_pvlock("a buffer in the PV-lock region");
	chains();
	rings();
	if (device_id == ID_BLOCK)
		disk();
	reset_loop();
	rewritten();
	still_works("a valid request after all that");
	check_pvlock("the end");
	GUEST_DONE();
}
