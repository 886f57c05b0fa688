/*
 * The virtio-mmio transport, version 2 (virtio 1.x, section 4.2): the register window of one virtio device, feature
 * negotiation (VIRTIO_F_VERSION_1 required), queue setup, the device status and its NEEDS_RESET state, interrupt
 * status and acknowledge, the config space and its generation, and the device-tree node.
 *
 * Transports take the next free 0x200-byte slot of the architecture's VM_REGION_VIRTIO, with interrupt
 * region.irq + slot. Queue notifications arrive through one ioeventfd per queue (KVM_IOEVENTFD on QueueNotify with
 * the queue index as datamatch) and are served by the device's I/O thread (io_loop.h), never by a vCPU; interrupts
 * leave through an irqfd (KVM_IRQFD, registered at the first interrupt) as edge-triggered pulses. Without KVM (unit
 * tests: vm_fd < 0) or if the kernel refuses them, a QueueNotify write wakes the same eventfd from the vCPU and
 * interrupts go through vm_irq_line.
 *
 * Locking: the transport lock covers registers, queues and the backend. The I/O thread holds it while it calls the
 * backend (queue_notify and backend fd handlers); other threads calling into a backend take it with
 * virtio_mmio_lock. InterruptStatus/ACK and QueueNotify need no lock, so a guest's interrupt handler never waits for
 * device I/O.
 *
 * A device file (virtio_blk.c, ...) keeps `struct virtio_mmio *` as the FIRST member of its state, so the generic
 * device_desc hooks below (virtio_mmio_dev_*) work on every virtio device.
 */
#ifndef ROAM_VIRTIO_MMIO_H
#define ROAM_VIRTIO_MMIO_H

#include "guest_log.h"
#include "io_loop.h"
#include "virtqueue.h"

#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>

struct vm;
struct fdt_builder;
struct snap_writer;
struct snap_reader;

/* Device status bits (virtio 1.x section 2.1). */
#define VIRTIO_STATUS_ACKNOWLEDGE 1
#define VIRTIO_STATUS_DRIVER 2
#define VIRTIO_STATUS_DRIVER_OK 4
#define VIRTIO_STATUS_FEATURES_OK 8
#define VIRTIO_STATUS_NEEDS_RESET 64
#define VIRTIO_STATUS_FAILED 128

/* Transport feature bits. */
#define VIRTIO_F_INDIRECT_DESC 28
#define VIRTIO_F_VERSION_1 32

/* InterruptStatus bits. */
#define VIRTIO_INT_USED_BUFFER 1
#define VIRTIO_INT_CONFIG_CHANGE 2

#define VIRTIO_MMIO_SLOT_SIZE 0x200
#define VIRTIO_MMIO_MAX_QUEUES 4
#define VIRTIO_MMIO_CONFIG_MAX 64
#define VIRTIO_MMIO_FAIL_LOG_BURST 4 /* lines a second about malformed queues, per device */

struct virtio_mmio;

/* What a device type plugs into the transport. Every hook is called with the transport locked. */
struct virtio_backend_ops {
	const char *kind; /* "blk", "net", "rng", "console": names the device "virtio-<kind><instance>" */
	uint32_t device_id; /* virtio device ID: 1 net, 2 block, 3 console, 4 entropy */
	int nr_queues;
	/* The driver made buffers available on `queue` (or the device was kicked). Runs on the I/O thread. */
	void (*queue_notify)(void *backend, int queue);
	/* The driver set DRIVER_OK (NULL: nothing to do). */
	void (*driver_ok)(void *backend);
	/* The driver reset the device (NULL: nothing to do). Queues are already reset. */
	void (*reset)(void *backend);
	/* Device-specific state for snapshots, after the transport's (NULL: none). restore returns 0 or -errno. */
	void (*save)(void *backend, struct snap_writer *w);
	int (*restore)(void *backend, struct snap_reader *r);
};

struct virtio_mmio_queue {
	struct virtio_mmio *t;
	int index;
	int eventfd; /* the queue's notifications, written by KVM (ioeventfd) or by roam (fallback) */
	bool ioeventfd; /* registered with KVM_IOEVENTFD */
	struct virtqueue vq;
};

struct virtio_mmio {
	struct vm *vm;
	const struct virtio_backend_ops *ops;
	void *backend;
	char name[32]; /* "virtio-blk0" */
	int slot;
	uint64_t base;
	uint32_t irq;
	pthread_mutex_t lock;
	struct io_loop loop;
	bool paused;

	uint64_t device_features;
	uint64_t driver_features;
	uint32_t device_features_sel, driver_features_sel, queue_sel, shm_sel;
	uint32_t status;
	atomic_uint interrupt_status;
	uint32_t config_generation;
	uint8_t config[VIRTIO_MMIO_CONFIG_MAX];
	uint32_t config_size;
	bool broken; /* NEEDS_RESET: queues are not processed until the driver resets the device */
	bool bad_access_reported;
	struct guest_log_rate fail_log; /* virtio_mmio_fail's lines: VIRTIO_MMIO_FAIL_LOG_BURST a second */

	int irqfd; /* -1 until the first interrupt registers it */
	bool irqfd_failed; /* KVM refused it: interrupts go through vm_irq_line */
	struct virtio_mmio_queue queues[VIRTIO_MMIO_MAX_QUEUES];
};

/*
 * Creates a transport in the next free slot, registers its window on the VM's bus and its queue eventfds (with KVM
 * when vm->vm_fd >= 0), and prepares its I/O thread. `features` are the device-specific feature bits; the transport
 * adds VIRTIO_F_VERSION_1 and VIRTIO_F_INDIRECT_DESC. `config` (config_size bytes, at most VIRTIO_MMIO_CONFIG_MAX)
 * is the initial config space. Returns 0 or -errno with a message.
 */
int virtio_mmio_create(struct vm *vm, const struct virtio_backend_ops *ops, void *backend, int instance,
		       uint64_t features, const void *config, uint32_t config_size, struct virtio_mmio **out);

/* Starts the I/O thread; call once the backend has added its own fds. Returns 0 or -errno. */
int virtio_mmio_start(struct virtio_mmio *t);

/* Stops the I/O thread, unregisters the eventfds and irqfd from KVM, and frees the transport. NULL is a no-op. */
void virtio_mmio_destroy(struct virtio_mmio *t);

/* Watches a backend fd on the device's I/O thread; `fn` runs with the transport locked. Returns 0 or -errno. */
int virtio_mmio_watch(struct virtio_mmio *t, int fd, uint32_t events, io_loop_fn fn, void *opaque);

/* Changes the events watched on a backend fd (0: none). */
int virtio_mmio_watch_modify(struct virtio_mmio *t, int fd, uint32_t events);

/* Lock for entry points from other threads (e.g. console input). */
void virtio_mmio_lock(struct virtio_mmio *t);
void virtio_mmio_unlock(struct virtio_mmio *t);

/* Queue `q`'s ring when the device may use it now (driver OK, queue ready, not broken, not paused), else NULL. */
struct virtqueue *virtio_mmio_queue(struct virtio_mmio *t, int q);

/* The guest memory the queues live in. */
const struct guest_memory *virtio_mmio_memory(const struct virtio_mmio *t);

/* Raises a used-buffer interrupt unless the driver suppressed it on `vq` (NULL: raise it). */
void virtio_mmio_notify(struct virtio_mmio *t, const struct virtqueue *vq);

/*
 * A malformed queue `q` (reason in its vq.error) or a backend failure (`why` non-NULL): logs one line (at most
 * VIRTIO_MMIO_FAIL_LOG_BURST a second; the rest are counted), sets NEEDS_RESET and raises a config-change interrupt.
 * The device stops using its queues until the driver resets it.
 */
void virtio_mmio_fail(struct virtio_mmio *t, int q, const char *why);

/* Wakes the I/O thread as if the driver had notified queue `q`. Safe from any thread. */
void virtio_mmio_kick(struct virtio_mmio *t, int q);

/*
 * Generic device_desc hooks for any device whose state starts with `struct virtio_mmio *`. restore leaves the device
 * paused (guest memory may come later in the snapshot): resume, once everything is restored, lets it look at its
 * rings again.
 */
void virtio_mmio_dev_fdt(void *state, struct fdt_builder *b);
void virtio_mmio_dev_save(void *state, struct snap_writer *w);
int virtio_mmio_dev_restore(void *state, struct snap_reader *r, uint32_t version);
void virtio_mmio_dev_pause(void *state);
void virtio_mmio_dev_resume(void *state);

/* The snapshot payload version virtio_mmio_dev_save writes. */
#define VIRTIO_MMIO_SNAPSHOT_VERSION 1

/*
 * The MMIO register handler (bus_access_fn), exposed for unit tests that drive a transport as a guest driver would.
 */
int virtio_mmio_access(void *opaque, uint64_t offset, uint8_t *data, uint32_t len, bool is_write);

#endif
