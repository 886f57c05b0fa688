/*
 * Unit test of virtio-net, virtio-rng and virtio-console without KVM, driven by the test driver
 * (virtio_test_driver.h): frames both ways between the guest's queues and a SOCK_SEQPACKET socketpair standing in
 * for the TAP (with the 12-byte virtio_net_hdr and num_buffers = 1), entropy buffers filled, console output and
 * input through hvc0's queues, slots and device-tree-visible placement in registry order, a paused device holding
 * its queue until resumed, and save -> restore -> save identity for each device.
 */
#include "devices/device.h"
#include "devices/virtio_net.h"
#include "fdt/fdt_builder.h"
#include "snapshot/snap_codec.h"
#include "virtio_test_driver.h"

#include <errno.h>
#include <libfdt.h>
#include <sys/socket.h>

extern const struct device_desc virtio_net_device;
extern const struct device_desc virtio_rng_device;
extern const struct device_desc virtio_console_device;

#define NET_FEATURES (1ull << VIRTIO_F_VERSION_1 | 1ull << 5 /* MAC */ | 1ull << 16 /* STATUS */)

static void test_net(void)
{
	static struct vm vm;
	struct drv d;
	int sv[2];
	const uint8_t mac[6] = {0x52, 0x54, 0x00, 0x12, 0x34, 0x56};
	test_vm_init(&vm);
	CHECK_EQ(socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_NONBLOCK | SOCK_CLOEXEC, 0, sv), 0);
	void *dev = NULL;
	CHECK_EQ(virtio_net_create_on_fd(&vm, 0, sv[0], mac, &dev), 0);
	drv_init(&d, &vm, 0);
	CHECK_EQ(drv_rd(&d, 0x008), 1);
	CHECK_EQ(drv_rd(&d, 0x100), 0x12005452); /* the MAC, first four bytes */
	CHECK_EQ(drv_rd(&d, 0x104) & 0xffffff, 0x010000 | 0x5634); /* the rest, then status LINK_UP */
	CHECK(drv_setup(&d, NET_FEATURES, 2));

	/* A frame sent by the host arrives in a receive buffer, header first. */
	uint64_t rx = drv_alloc(&d, 1526);
	struct drv_seg rx_seg = {rx, 1526, true};
	drv_add(&d, 0, &rx_seg, 1);
	drv_kick(&d, 0);
	usleep(20000); /* the device finds the TAP empty and must wait for it */
	uint8_t frame[72] = {0};
	for (int i = 12; i < 72; i++)
		frame[i] = (uint8_t)i;
	CHECK_EQ(send(sv[1], frame, sizeof(frame), 0), (ssize_t)sizeof(frame));
	CHECK(drv_wait_used(&d, 0, 1));
	CHECK_EQ(drv_used_len(&d, 0, 0), 72);
	CHECK(memcmp(test_host(&vm, rx) + 12, frame + 12, 60) == 0);
	CHECK_EQ(drv_get(test_host(&vm, rx) + 10, 2), 1); /* num_buffers */

	/* Without a receive buffer the frame waits; a new buffer takes it. */
	CHECK_EQ(send(sv[1], frame, 40, 0), 40);
	usleep(20000);
	CHECK_EQ(drv_used_idx(&d, 0), 1);
	drv_add(&d, 0, &rx_seg, 1);
	drv_kick(&d, 0);
	CHECK(drv_wait_used(&d, 0, 2));
	CHECK_EQ(drv_used_len(&d, 0, 1), 40);

	/* A runt (shorter than the header) is dropped; the frame after it arrives. */
	CHECK_EQ(send(sv[1], frame, 4, 0), 4);
	CHECK_EQ(send(sv[1], frame, 50, 0), 50);
	drv_add(&d, 0, &rx_seg, 1);
	drv_kick(&d, 0);
	CHECK(drv_wait_used(&d, 0, 3));
	CHECK_EQ(drv_used_len(&d, 0, 2), 50);

	/* A frame the guest sends, header and payload in two buffers, leaves as one packet. */
	uint64_t tx = drv_alloc(&d, 72);
	memcpy(test_host(&vm, tx), frame, sizeof(frame));
	struct drv_seg tx_segs[2] = {{tx, 12, false}, {tx + 12, 60, false}};
	drv_add(&d, 1, tx_segs, 2);
	drv_kick(&d, 1);
	CHECK(drv_wait_used(&d, 1, 1));
	uint8_t got[128];
	CHECK_EQ(recv(sv[1], got, sizeof(got), 0), 72);
	CHECK(memcmp(got, frame, 72) == 0);

	/* A receive chain too small for the header is malformed. */
	struct drv_seg tiny = {rx, 4, true};
	drv_add(&d, 0, &tiny, 1);
	CHECK_EQ(send(sv[1], frame, sizeof(frame), 0), (ssize_t)sizeof(frame));
	drv_kick(&d, 0);
	CHECK(drv_wait_status(&d, VIRTIO_STATUS_NEEDS_RESET));

	struct snap_writer w1, w2;
	struct snap_reader r;
	snap_writer_init(&w1);
	snap_writer_init(&w2);
	virtio_net_device.save(dev, &w1);
	CHECK_EQ(virtio_net_device.restore(dev, (snap_reader_init(&r, w1.buf, w1.len), &r), 1), 0);
	virtio_net_device.save(dev, &w2);
	CHECK(w1.len == w2.len && memcmp(w1.buf, w2.buf, w1.len) == 0);
	snap_writer_fini(&w1);
	snap_writer_fini(&w2);
	virtio_net_device.destroy(dev);
	close(sv[1]);
	memory_fini(&vm.mem);
}

/* The device-tree node of the device in slot 1 (SPI 17, edge-triggered). */
static void test_fdt_node(void *state)
{
	struct fdt_builder b;
	CHECK_EQ(fdt_builder_init(&b, 4096), 0);
	virtio_console_device.fdt(state, &b);
	CHECK_EQ(fdt_builder_finish(&b), 0);
	int node = fdt_path_offset(b.blob, "/virtio_mmio@a000200");
	CHECK(node >= 0);
	int len = 0;
	const char *compatible = fdt_getprop(b.blob, node, "compatible", &len);
	CHECK(compatible && !strcmp(compatible, "virtio,mmio"));
	const fdt32_t *irq = fdt_getprop(b.blob, node, "interrupts", &len);
	CHECK_EQ(len, 12);
	if (irq && len == 12) {
		CHECK_EQ(fdt32_to_cpu(irq[1]), arch_region(VM_REGION_VIRTIO)->irq + 1);
		CHECK_EQ(fdt32_to_cpu(irq[2]), 1); /* IRQ_TYPE_EDGE_RISING */
	}
	const fdt32_t *reg = fdt_getprop(b.blob, node, "reg", &len); /* two cells of address, two of size */
	CHECK_EQ(len, 16);
	if (reg && len == 16) {
		uint64_t base = (uint64_t)fdt32_to_cpu(reg[0]) << 32 | fdt32_to_cpu(reg[1]);
		CHECK_EQ(base, arch_region(VM_REGION_VIRTIO)->base + VIRTIO_MMIO_SLOT_SIZE);
		CHECK_EQ(fdt32_to_cpu(reg[3]), VIRTIO_MMIO_SLOT_SIZE);
	}
	CHECK(fdt_getprop(b.blob, node, "dma-coherent", &len) != NULL && len == 0);
	fdt_builder_fini(&b);
}

static void test_rng_and_console(void)
{
	static struct vm vm;
	test_vm_init(&vm);
	vm.cfg.nr_device_options = 2;
	snprintf(vm.cfg.device_options[0].name, sizeof(vm.cfg.device_options[0].name), "rng");
	snprintf(vm.cfg.device_options[1].name, sizeof(vm.cfg.device_options[1].name), "console");
	snprintf(vm.cfg.device_options[1].value, sizeof(vm.cfg.device_options[1].value), "virtio");
	void *rng = NULL, *con = NULL;
	CHECK_EQ(virtio_rng_device.count(&vm), 1);
	CHECK_EQ(virtio_rng_device.create_nth(&vm, 0, &rng), 0);
	CHECK_EQ(virtio_console_device.create_nth(&vm, 0, &con), 0);
	struct drv dr, dc;
	drv_init(&dr, &vm, 0);
	drv_init(&dc, &vm, 1); /* the next free slot */
	CHECK_EQ(drv_rd(&dr, 0x008), 4);
	CHECK_EQ(drv_rd(&dc, 0x008), 3);
	CHECK_EQ(((struct virtio_mmio *)*(void **)con)->irq, arch_region(VM_REGION_VIRTIO)->irq + 1);

	/* Entropy: a 64-byte buffer comes back full (and not all zeros). */
	CHECK(drv_setup(&dr, 1ull << VIRTIO_F_VERSION_1, 1));
	uint64_t buf = drv_alloc(&dr, 64);
	struct drv_seg seg = {buf, 64, true};
	/* With dirty tracking on, the pages only the device writes (the buffer, the used ring) are recorded. */
	CHECK_EQ(memory_track_start(&vm.mem), 0);
	drv_add(&dr, 0, &seg, 1);
	drv_kick(&dr, 0);
	CHECK(drv_wait_used(&dr, 0, 1));
	CHECK_EQ(drv_used_len(&dr, 0, 0), 64);
	int nonzero = 0;
	for (int i = 0; i < 64; i++)
		nonzero += test_host(&vm, buf)[i] != 0;
	CHECK(nonzero > 32);
	const struct memory_slot *ram = memory_find_slot(&vm.mem, buf);
	uint64_t *dirty = calloc(ram->size / MEMORY_DIRTY_PAGE / 64 + 1, sizeof(uint64_t));
	uint64_t buf_page = (buf - ram->gpa) / MEMORY_DIRTY_PAGE,
		 used_page = (dr.q[0].used - ram->gpa) / MEMORY_DIRTY_PAGE;
	CHECK(memory_take_dirty(&vm.mem, (int)(ram - vm.mem.slots), dirty) >= 1);
	CHECK(dirty[buf_page / 64] >> (buf_page % 64) & 1);
	CHECK(dirty[used_page / 64] >> (used_page % 64) & 1);
	uint64_t again[4096] = {0};
	CHECK_EQ(memory_take_dirty(&vm.mem, (int)(ram - vm.mem.slots), again), 0); /* taken: cleared */
	memory_track_stop(&vm.mem);
	free(dirty);

	/* Paused, the device leaves requests alone; resumed, it takes them. */
	virtio_rng_device.pause(rng);
	drv_add(&dr, 0, &seg, 1);
	drv_kick(&dr, 0);
	usleep(30000);
	CHECK_EQ(drv_used_idx(&dr, 0), 1);
	struct snap_writer w1, w2;
	struct snap_reader r;
	snap_writer_init(&w1);
	snap_writer_init(&w2);
	virtio_rng_device.save(rng, &w1);
	snap_reader_init(&r, w1.buf, w1.len);
	CHECK_EQ(virtio_rng_device.restore(rng, &r, 1), 0);
	virtio_rng_device.save(rng, &w2);
	CHECK(w1.len == w2.len && memcmp(w1.buf, w2.buf, w1.len) == 0);
	virtio_rng_device.resume(rng);
	CHECK(drv_wait_used(&dr, 0, 2));

	/* Console: input waits until the driver offers buffers; output reaches the console. */
	CHECK(vm.console_rx != NULL);
	CHECK_EQ(vm.console_rx(vm.console_rx_opaque, (const uint8_t *)"abc", 3), 0);
	CHECK(drv_setup(&dc, 1ull << VIRTIO_F_VERSION_1, 2));
	uint64_t in = drv_alloc(&dc, 16), out = drv_alloc(&dc, 16);
	struct drv_seg in_seg = {in, 2, true};
	drv_add(&dc, 0, &in_seg, 1);
	drv_add(&dc, 0, &in_seg, 1);
	/* Input waits until the guest has written to the port once (then it is connected). */
	CHECK_EQ(vm.console_rx(vm.console_rx_opaque, (const uint8_t *)"abcde", 5), 0);
	memcpy(test_host(&vm, out), "hello\n", 6);
	struct drv_seg out_seg = {out, 6, false};
	drv_add(&dc, 1, &out_seg, 1);
	drv_kick(&dc, 1);
	CHECK(drv_wait_used(&dc, 1, 1));
	CHECK_EQ(atomic_load(&test_console_len), 6);
	CHECK(memcmp(test_console, "hello\n", 6) == 0);
	CHECK_EQ(vm.console_rx(vm.console_rx_opaque, (const uint8_t *)"abcde", 5), 4);
	CHECK_EQ(drv_used_idx(&dc, 0), 2);
	CHECK_EQ(drv_used_len(&dc, 0, 1), 2);
	CHECK(memcmp(test_host(&vm, in), "cd", 2) == 0);

	snap_writer_fini(&w2);
	snap_writer_init(&w2);
	snap_writer_fini(&w1);
	snap_writer_init(&w1);
	virtio_console_device.save(con, &w1);
	snap_reader_init(&r, w1.buf, w1.len);
	CHECK_EQ(virtio_console_device.restore(con, &r, 1), 0);
	virtio_console_device.save(con, &w2);
	CHECK(w1.len == w2.len && memcmp(w1.buf, w2.buf, w1.len) == 0);
	/* A section of another device (rng's, in slot 0) is refused by the console. */
	snap_writer_fini(&w2);
	snap_writer_init(&w2);
	virtio_rng_device.save(rng, &w2);
	snap_reader_init(&r, w2.buf, w2.len);
	CHECK_EQ(virtio_console_device.restore(con, &r, 1), -EINVAL);
	snap_writer_fini(&w1);
	snap_writer_fini(&w2);

	test_fdt_node(con);
	virtio_console_device.destroy(con);
	virtio_rng_device.destroy(rng);
	memory_fini(&vm.mem);
}

static void test_slots_exhausted(void)
{
	static struct vm vm;
	test_vm_init(&vm);
	void *devs[33] = {0};
	int n = (int)(arch_region(VM_REGION_VIRTIO)->size / VIRTIO_MMIO_SLOT_SIZE);
	for (int i = 0; i < n; i++)
		CHECK_EQ(virtio_rng_device.create_nth(&vm, i, &devs[i]), 0);
	CHECK_EQ(virtio_rng_device.create_nth(&vm, n, &devs[n]), -ENOSPC);
	for (int i = 0; i <= n; i++)
		if (devs[i])
			virtio_rng_device.destroy(devs[i]);
	memory_fini(&vm.mem);
}

int main(void)
{
	test_net();
	test_rng_and_console();
	test_slots_exhausted();
	return check_exit();
}
