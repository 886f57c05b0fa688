/*
 * A tiny virtio-mmio guest driver for unit tests: a VM without KVM (vm_fd -1, guest RAM from memory_add_slot, the
 * bus), register access through the bus as a vCPU's MMIO exits would do, queue setup, descriptor chains, kicks
 * (QueueNotify: the fallback path wakes the device's I/O thread) and waiting for the used ring. It also provides
 * the VM functions devices call (vm_irq_line counts interrupt pulses, vm_console_output collects the console).
 * Include it from exactly one file per test program.
 */
#ifndef ROAM_VIRTIO_TEST_DRIVER_H
#define ROAM_VIRTIO_TEST_DRIVER_H

#include "arch.h"
#include "check.h"
#include "core/vm.h"
#include "devices/virtio_mmio.h"

#include <stdatomic.h>
#include <stdlib.h>
#include <time.h>
#include <unistd.h>

#define TEST_RAM_BASE 0x40000000ull
#define TEST_RAM_SIZE 0x400000ull
#define TEST_QSIZE 16

/* The test program's own record of what devices did through the VM. */
static atomic_int test_irq_pulses;
static char test_console[256];
static atomic_size_t test_console_len;

int vm_irq_line(struct vm *vm, uint32_t irq, bool level)
{
	(void)vm;
	(void)irq;
	if (level)
		atomic_fetch_add(&test_irq_pulses, 1);
	return 0;
}

void vm_console_output(struct vm *vm, uint8_t byte)
{
	(void)vm;
	size_t n = atomic_load(&test_console_len);
	if (n < sizeof(test_console) - 1) {
		test_console[n] = (char)byte;
		atomic_store(&test_console_len, n + 1);
	}
}

/* A VM with RAM and a bus but no KVM; cfg is zeroed for the test to fill. */
static void test_vm_init(struct vm *vm)
{
	memset(vm, 0, sizeof(*vm));
	vm->kvm_fd = vm->vm_fd = vm->stop_eventfd = -1;
	memory_init(&vm->mem);
	bus_init(&vm->mmio);
	CHECK_EQ(memory_add_slot(&vm->mem, "ram", TEST_RAM_BASE, TEST_RAM_SIZE, false), 0);
}

static uint8_t *test_host(struct vm *vm, uint64_t gpa)
{
	return memory_gpa_to_host(&vm->mem, gpa, 1);
}

struct drv_queue {
	uint64_t desc, avail, used;
	uint16_t avail_idx, next_desc;
};

struct drv {
	struct vm *vm;
	uint64_t base; /* the transport's window */
	struct drv_queue q[VIRTIO_MMIO_MAX_QUEUES];
	uint64_t next_buf; /* bump allocator for buffers in guest RAM */
};

static uint32_t drv_rd(struct drv *d, uint64_t off)
{
	uint8_t b[4];
	bus_access(&d->vm->mmio, d->base + off, b, 4, false);
	return (uint32_t)b[0] | (uint32_t)b[1] << 8 | (uint32_t)b[2] << 16 | (uint32_t)b[3] << 24;
}

static void drv_wr(struct drv *d, uint64_t off, uint32_t v)
{
	uint8_t b[4] = {(uint8_t)v, (uint8_t)(v >> 8), (uint8_t)(v >> 16), (uint8_t)(v >> 24)};
	bus_access(&d->vm->mmio, d->base + off, b, 4, true);
}

/* The driver of the transport in virtio slot `slot`. */
static void drv_init(struct drv *d, struct vm *vm, int slot)
{
	memset(d, 0, sizeof(*d));
	d->vm = vm;
	d->base = arch_region(VM_REGION_VIRTIO)->base + (uint64_t)slot * VIRTIO_MMIO_SLOT_SIZE;
	d->next_buf = TEST_RAM_BASE + 0x100000;
}

static uint64_t drv_alloc(struct drv *d, uint64_t len)
{
	uint64_t gpa = d->next_buf;
	d->next_buf += (len + 63) & ~63ull;
	return gpa;
}

/*
 * Resets the device and negotiates `features` (VIRTIO_F_VERSION_1 is not added), then sets up `nr_queues` queues of
 * TEST_QSIZE and DRIVER_OK. Returns false when the device refused FEATURES_OK (the driver then stops).
 */
static bool drv_setup(struct drv *d, uint64_t features, int nr_queues)
{
	drv_wr(d, 0x70, 0);
	drv_wr(d, 0x70, VIRTIO_STATUS_ACKNOWLEDGE | VIRTIO_STATUS_DRIVER);
	drv_wr(d, 0x24, 0);
	drv_wr(d, 0x20, (uint32_t)features);
	drv_wr(d, 0x24, 1);
	drv_wr(d, 0x20, (uint32_t)(features >> 32));
	drv_wr(d, 0x70, VIRTIO_STATUS_ACKNOWLEDGE | VIRTIO_STATUS_DRIVER | VIRTIO_STATUS_FEATURES_OK);
	if (!(drv_rd(d, 0x70) & VIRTIO_STATUS_FEATURES_OK))
		return false;
	for (int q = 0; q < nr_queues; q++) {
		struct drv_queue *dq = &d->q[q];
		uint64_t slot = (d->base - arch_region(VM_REGION_VIRTIO)->base) / VIRTIO_MMIO_SLOT_SIZE;
		uint64_t area = TEST_RAM_BASE + 0x8000 + 0x4000 * (slot * VIRTIO_MMIO_MAX_QUEUES + (uint64_t)q);
		*dq = (struct drv_queue){.desc = area, .avail = area + 0x1000, .used = area + 0x2000};
		memset(test_host(d->vm, area), 0, 0x3000);
		drv_wr(d, 0x30, (uint32_t)q);
		drv_wr(d, 0x38, TEST_QSIZE);
		drv_wr(d, 0x80, (uint32_t)dq->desc);
		drv_wr(d, 0x84, (uint32_t)(dq->desc >> 32));
		drv_wr(d, 0x90, (uint32_t)dq->avail);
		drv_wr(d, 0x94, 0);
		drv_wr(d, 0xa0, (uint32_t)dq->used);
		drv_wr(d, 0xa4, 0);
		drv_wr(d, 0x44, 1);
	}
	drv_wr(d, 0x70,
	       VIRTIO_STATUS_ACKNOWLEDGE | VIRTIO_STATUS_DRIVER | VIRTIO_STATUS_FEATURES_OK | VIRTIO_STATUS_DRIVER_OK);
	return true;
}

struct drv_seg {
	uint64_t gpa;
	uint32_t len;
	bool write;
};

static void drv_put(uint8_t *p, uint64_t v, int bytes)
{
	for (int i = 0; i < bytes; i++)
		p[i] = (uint8_t)(v >> (8 * i));
}

static uint64_t drv_get(const uint8_t *p, int bytes)
{
	uint64_t v = 0;
	for (int i = bytes - 1; i >= 0; i--)
		v = v << 8 | p[i];
	return v;
}

/* Writes a chain of `n` segments into queue q's descriptor table and makes it available; returns its head. */
static uint16_t drv_add(struct drv *d, int q, const struct drv_seg *segs, int n)
{
	struct drv_queue *dq = &d->q[q];
	uint16_t head = dq->next_desc;
	for (int i = 0; i < n; i++) {
		uint16_t idx = (uint16_t)((dq->next_desc + i) % TEST_QSIZE);
		uint8_t *desc = test_host(d->vm, dq->desc + 16ull * idx);
		uint16_t flags =
		    (uint16_t)((segs[i].write ? VIRTQ_DESC_F_WRITE : 0) | (i + 1 < n ? VIRTQ_DESC_F_NEXT : 0));
		drv_put(desc, segs[i].gpa, 8);
		drv_put(desc + 8, segs[i].len, 4);
		drv_put(desc + 12, flags, 2);
		drv_put(desc + 14, (idx + 1) % TEST_QSIZE, 2);
	}
	dq->next_desc = (uint16_t)((dq->next_desc + n) % TEST_QSIZE);
	drv_put(test_host(d->vm, dq->avail + 4 + 2 * (dq->avail_idx % TEST_QSIZE)), head, 2);
	dq->avail_idx++;
	__atomic_thread_fence(__ATOMIC_SEQ_CST);
	drv_put(test_host(d->vm, dq->avail + 2), dq->avail_idx, 2);
	return head;
}

static void drv_kick(struct drv *d, int q)
{
	drv_wr(d, 0x50, (uint32_t)q);
}

static uint16_t drv_used_idx(struct drv *d, int q)
{
	return (uint16_t)__atomic_load_n((uint16_t *)(void *)test_host(d->vm, d->q[q].used + 2), __ATOMIC_ACQUIRE);
}

/* Waits up to 2 s for queue q's used index to reach `idx`. */
static bool drv_wait_used(struct drv *d, int q, uint16_t idx)
{
	for (int i = 0; i < 2000; i++) {
		if (drv_used_idx(d, q) == idx)
			return true;
		usleep(1000);
	}
	return false;
}

/* The length of used element `i` of queue q. */
static uint32_t drv_used_len(struct drv *d, int q, uint16_t i)
{
	return (uint32_t)drv_get(test_host(d->vm, d->q[q].used + 4 + 8 * (i % TEST_QSIZE) + 4), 4);
}

/* Waits up to 2 s for the device status to show `bits`. */
static bool drv_wait_status(struct drv *d, uint32_t bits)
{
	for (int i = 0; i < 2000; i++) {
		if ((drv_rd(d, 0x70) & bits) == bits)
			return true;
		usleep(1000);
	}
	return false;
}

#endif
