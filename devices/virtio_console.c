/*
 * virtio-console (device ID 3), with --console virtio: one port, the guest's hvc0, as an alternative console. The
 * terminal's input goes to it instead of the 16550; what the guest writes to hvc0 goes to the terminal like the
 * 16550's output (which still prints, e.g. the kernel's early messages on ttyS0).
 *
 * Output (transmitq0) is handled on the device's I/O thread. Input arrives from roam's console loop through
 * vm->console_rx into the buffers of receiveq0; while the guest offers none (driver not loaded yet, buffers full)
 * the input waits in roam. It also waits until the guest has written to hvc0 once: Linux posts receive buffers
 * before it marks the port connected, and drops what arrives in between (without VIRTIO_CONSOLE_F_MULTIPORT the
 * device is not told when the port opens).
 */
#include "device.h"
#include "virtio_mmio.h"

#include "core/device_options.h"
#include "core/vm.h"
#include "snapshot/snap_codec.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define VIRTIO_ID_CONSOLE 3
#define CONSOLE_RX_QUEUE 0
#define CONSOLE_TX_QUEUE 1
#define CONSOLE_CONFIG_SIZE 12 /* cols u16, rows u16, max_nr_ports u32, emerg_wr u32 */

struct virtio_console {
	struct virtio_mmio *t; /* first: see virtio_mmio.h */
	struct vm *vm;
	bool guest_wrote; /* the port is connected: input may go in */
	struct virtq_chain tx_chain, rx_chain;
};

static void virtio_console_tx(void *backend, int q)
{
	struct virtio_console *con = backend;
	if (q != CONSOLE_TX_QUEUE)
		return; /* new receive buffers: roam's console loop retries on its own */
	struct virtqueue *vq = virtio_mmio_queue(con->t, q);
	struct virtq_chain *c = &con->tx_chain;
	bool done = false;
	int ret;
	do {
		virtqueue_set_notify(vq, false);
		while ((ret = virtqueue_pop(vq, virtio_mmio_memory(con->t), c)) > 0) {
			for (int i = 0; i < c->nr_read; i++)
				for (size_t j = 0; j < c->iov[i].iov_len; j++)
					vm_console_output(con->vm, ((const uint8_t *)c->iov[i].iov_base)[j]);
			virtqueue_push(vq, c, 0);
			con->guest_wrote = true;
			done = true;
		}
	} while (ret == 0 && virtqueue_set_notify(vq, true));
	if (ret < 0)
		virtio_mmio_fail(con->t, q, NULL);
	if (done)
		virtio_mmio_notify(con->t, vq);
}

/* vm->console_rx: called on roam's main thread with terminal input. */
static size_t virtio_console_rx(void *opaque, const uint8_t *buf, size_t len)
{
	struct virtio_console *con = opaque;
	size_t taken = 0;
	virtio_mmio_lock(con->t);
	struct virtqueue *vq = con->guest_wrote ? virtio_mmio_queue(con->t, CONSOLE_RX_QUEUE) : NULL;
	struct virtq_chain *c = &con->rx_chain;
	int ret = 0;
	while (vq && taken < len && (ret = virtqueue_pop(vq, virtio_mmio_memory(con->t), c)) > 0) {
		size_t n = virtq_chain_write(c, 0, buf + taken, len - taken);
		virtqueue_push(vq, c, (uint32_t)n);
		taken += n;
	}
	if (ret < 0)
		virtio_mmio_fail(con->t, CONSOLE_RX_QUEUE, NULL);
	if (taken)
		virtio_mmio_notify(con->t, vq);
	virtio_mmio_unlock(con->t);
	return taken;
}

static void virtio_console_reset(void *backend)
{
	struct virtio_console *con = backend;
	con->guest_wrote = false;
}

static void virtio_console_save(void *backend, struct snap_writer *w)
{
	struct virtio_console *con = backend;
	snap_put_u8(w, con->guest_wrote);
}

static int virtio_console_restore(void *backend, struct snap_reader *r)
{
	struct virtio_console *con = backend;
	uint8_t wrote = snap_get_u8(r, "console connected flag");
	if (wrote > 1)
		snap_reader_fail(r, "console connected flag");
	con->guest_wrote = wrote;
	return r->err;
}

static const struct virtio_backend_ops virtio_console_ops = {
    .kind = "console",
    .device_id = VIRTIO_ID_CONSOLE,
    .nr_queues = 2,
    .queue_notify = virtio_console_tx,
    .reset = virtio_console_reset,
    .save = virtio_console_save,
    .restore = virtio_console_restore,
};

/* --console serial|virtio: the 16550 (ttyS0) always exists and prints; with virtio, hvc0 takes the terminal. */
static bool console_check(const char *value, const struct vm_config *cfg, char *err, size_t err_len)
{
	(void)cfg;
	if (!strcmp(value, "serial") || !strcmp(value, "virtio"))
		return true;
	snprintf(err, err_len, "--console: '%s' is not serial or virtio", value);
	return false;
}

static const struct device_option virtio_console_option = {
    .name = "console",
    .syntax = "serial|virtio",
    .help = "where the terminal is connected: the 16550 (ttyS0, default) or a virtio console (hvc0)",
    .max = 1,
    .check = console_check,
};

static int virtio_console_count(const struct vm *vm)
{
	const char *value = device_option_value(&vm->cfg, virtio_console_option.name, 0);
	return value && !strcmp(value, "virtio") ? 1 : 0;
}

static void virtio_console_destroy(void *state)
{
	struct virtio_console *con = state;
	virtio_mmio_destroy(con->t);
	free(con);
}

static int virtio_console_create(struct vm *vm, int instance, void **state)
{
	struct virtio_console *con = calloc(1, sizeof(*con));
	if (!con)
		return -ENOMEM;
	con->vm = vm;
	*state = con;
	uint8_t config[CONSOLE_CONFIG_SIZE] = {0};
	int ret = virtio_mmio_create(vm, &virtio_console_ops, con, instance, 0, config, sizeof(config), &con->t);
	if (ret < 0)
		return ret;
	vm->console_rx = virtio_console_rx;
	vm->console_rx_opaque = con;
	return virtio_mmio_start(con->t);
}

const struct device_desc virtio_console_device = {
    .name = "virtio-console",
    .option = &virtio_console_option,
    .count = virtio_console_count,
    .create_nth = virtio_console_create,
    .destroy = virtio_console_destroy,
    .fdt = virtio_mmio_dev_fdt,
    .snapshot_version = VIRTIO_MMIO_SNAPSHOT_VERSION,
    .save = virtio_mmio_dev_save,
    .restore = virtio_mmio_dev_restore,
    .pause = virtio_mmio_dev_pause,
    .resume = virtio_mmio_dev_resume,
};
