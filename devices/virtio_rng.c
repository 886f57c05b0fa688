/*
 * virtio-rng (device ID 4), with --rng: fills each buffer the guest offers (up to 64 KiB per request) with bytes
 * from the host's getrandom(2) (the kernel's CSPRNG), on the device's I/O thread. The guest sees it as /dev/hwrng
 * (virtio_rng).
 */
#include "device.h"
#include "virtio_mmio.h"

#include "core/device_options.h"
#include "core/log.h"
#include "core/vm.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>

#define VIRTIO_ID_ENTROPY 4
#define RNG_REQUEST_MAX 65536 /* bytes per request: a guest's huge buffer does not hold the thread for long */

struct virtio_rng {
	struct virtio_mmio *t; /* first: see virtio_mmio.h */
	struct virtq_chain chain;
};

/* Fills one buffer; returns the bytes written, or -errno. */
static long rng_fill(void *buf, size_t len)
{
	size_t done = 0;
	while (done < len) {
		ssize_t n = getrandom((uint8_t *)buf + done, len - done, 0);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return -errno;
		done += (size_t)n;
	}
	return (long)done;
}

static void virtio_rng_notify(void *backend, int q)
{
	struct virtio_rng *rng = backend;
	struct virtqueue *vq = virtio_mmio_queue(rng->t, q);
	struct virtq_chain *c = &rng->chain;
	bool done = false;
	int ret;
	do {
		virtqueue_set_notify(vq, false);
		while ((ret = virtqueue_pop(vq, virtio_mmio_memory(rng->t), c)) > 0) {
			uint64_t total = 0;
			for (int i = c->nr_read; i < c->nr_read + c->nr_write && total < RNG_REQUEST_MAX; i++) {
				size_t len = c->iov[i].iov_len;
				if (len > RNG_REQUEST_MAX - total)
					len = (size_t)(RNG_REQUEST_MAX - total);
				long n = rng_fill(c->iov[i].iov_base, len);
				if (n < 0) {
					char why[96];
					snprintf(why, sizeof(why), "getrandom: %s", strerror((int)-n));
					virtio_mmio_fail(rng->t, q, why);
					return;
				}
				total += (uint64_t)n;
			}
			virtqueue_push(vq, c, (uint32_t)total);
			done = true;
		}
	} while (ret == 0 && virtqueue_set_notify(vq, true));
	if (ret < 0)
		virtio_mmio_fail(rng->t, q, NULL);
	if (done)
		virtio_mmio_notify(rng->t, vq);
}

static const struct virtio_backend_ops virtio_rng_ops = {
    .kind = "rng",
    .device_id = VIRTIO_ID_ENTROPY,
    .nr_queues = 1,
    .queue_notify = virtio_rng_notify,
};

static const struct device_option virtio_rng_option = {
    .name = "rng",
    .help = "a virtio-rng entropy device (the host's getrandom)",
    .max = 1,
};

static int virtio_rng_count(const struct vm *vm)
{
	return device_option_count(&vm->cfg, virtio_rng_option.name);
}

static void virtio_rng_destroy(void *state)
{
	struct virtio_rng *rng = state;
	virtio_mmio_destroy(rng->t);
	free(rng);
}

static int virtio_rng_create(struct vm *vm, int instance, void **state)
{
	struct virtio_rng *rng = calloc(1, sizeof(*rng));
	if (!rng)
		return -ENOMEM;
	*state = rng;
	int ret = virtio_mmio_create(vm, &virtio_rng_ops, rng, instance, 0, NULL, 0, &rng->t);
	return ret < 0 ? ret : virtio_mmio_start(rng->t);
}

const struct device_desc virtio_rng_device = {
    .name = "virtio-rng",
    .option = &virtio_rng_option,
    .count = virtio_rng_count,
    .create_nth = virtio_rng_create,
    .destroy = virtio_rng_destroy,
    .fdt = virtio_mmio_dev_fdt,
    .snapshot_version = VIRTIO_MMIO_SNAPSHOT_VERSION,
    .save = virtio_mmio_dev_save,
    .restore = virtio_mmio_dev_restore,
    .pause = virtio_mmio_dev_pause,
    .resume = virtio_mmio_dev_resume,
};
