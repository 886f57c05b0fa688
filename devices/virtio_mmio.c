/*
 * The virtio-mmio transport (version 2): registers, negotiation, queue setup, notifications through ioeventfds and
 * interrupts through an irqfd. See virtio_mmio.h for the model and the locking rules.
 */
#include "virtio_mmio.h"

#include "arch.h"
#include "core/log.h"
#include "core/sys_ioctl.h"
#include "core/vm.h"
#include "fdt/fdt_builder.h"

#include <errno.h>
#include <linux/kvm.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <unistd.h>

enum virtio_mmio_reg {
	REG_MAGIC = 0x000,
	REG_VERSION = 0x004,
	REG_DEVICE_ID = 0x008,
	REG_VENDOR_ID = 0x00c,
	REG_DEVICE_FEATURES = 0x010,
	REG_DEVICE_FEATURES_SEL = 0x014,
	REG_DRIVER_FEATURES = 0x020,
	REG_DRIVER_FEATURES_SEL = 0x024,
	REG_QUEUE_SEL = 0x030,
	REG_QUEUE_NUM_MAX = 0x034,
	REG_QUEUE_NUM = 0x038,
	REG_QUEUE_READY = 0x044,
	REG_QUEUE_NOTIFY = 0x050,
	REG_INTERRUPT_STATUS = 0x060,
	REG_INTERRUPT_ACK = 0x064,
	REG_STATUS = 0x070,
	REG_QUEUE_DESC_LOW = 0x080,
	REG_QUEUE_DESC_HIGH = 0x084,
	REG_QUEUE_DRIVER_LOW = 0x090,
	REG_QUEUE_DRIVER_HIGH = 0x094,
	REG_QUEUE_DEVICE_LOW = 0x0a0,
	REG_QUEUE_DEVICE_HIGH = 0x0a4,
	REG_SHM_SEL = 0x0ac,
	REG_SHM_LEN_LOW = 0x0b0,
	REG_SHM_LEN_HIGH = 0x0b4,
	REG_SHM_BASE_LOW = 0x0b8,
	REG_SHM_BASE_HIGH = 0x0bc,
	REG_CONFIG_GENERATION = 0x0fc,
	REG_CONFIG = 0x100,
};

#define VIRTIO_MMIO_MAGIC 0x74726976 /* "virt" */
#define VIRTIO_MMIO_VENDOR 0x4d414f52 /* "ROAM" */

static uint32_t get_le32(const uint8_t *p)
{
	return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

static void put_le32(uint8_t *p, uint32_t v)
{
	for (int i = 0; i < 4; i++)
		p[i] = (uint8_t)(v >> (8 * i));
}

static uint64_t set_half(uint64_t v, bool high, uint32_t half)
{
	return high ? (v & 0xffffffffull) | (uint64_t)half << 32 : (v & ~0xffffffffull) | half;
}

void virtio_mmio_lock(struct virtio_mmio *t)
{
	pthread_mutex_lock(&t->lock);
}

void virtio_mmio_unlock(struct virtio_mmio *t)
{
	pthread_mutex_unlock(&t->lock);
}

const struct guest_memory *virtio_mmio_memory(const struct virtio_mmio *t)
{
	return &t->vm->mem;
}

struct virtqueue *virtio_mmio_queue(struct virtio_mmio *t, int q)
{
	if (q < 0 || q >= t->ops->nr_queues || t->broken || t->paused || !(t->status & VIRTIO_STATUS_DRIVER_OK))
		return NULL;
	struct virtqueue *vq = &t->queues[q].vq;
	return vq->ready ? vq : NULL;
}

void virtio_mmio_kick(struct virtio_mmio *t, int q)
{
	uint64_t one = 1;
	ssize_t unused = write(t->queues[q].eventfd, &one, sizeof(one));
	(void)unused;
}

/* Registers the irqfd on first use, after the interrupt controller exists (the vCPUs run by then). */
static void virtio_mmio_setup_irqfd(struct virtio_mmio *t)
{
	if (t->vm->vm_fd < 0) {
		t->irqfd_failed = true;
		return;
	}
	int fd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	if (fd < 0) {
		log_info("%s: eventfd for its irqfd: %s; interrupts go through KVM_IRQ_LINE", t->name, strerror(errno));
		t->irqfd_failed = true;
		return;
	}
	struct kvm_irqfd irqfd = {.fd = (uint32_t)fd, .gsi = arch_irqfd_gsi(t->irq)};
	long ret = __SYS_IOCTL(t->vm->vm_fd, KVM_IRQFD, &irqfd);
	if (ret < 0) {
		log_info("KVM_IRQFD(%s): %s; interrupts go through KVM_IRQ_LINE", t->name, strerror((int)-ret));
		close(fd);
		t->irqfd_failed = true;
		return;
	}
	t->irqfd = fd;
}

static void virtio_mmio_raise(struct virtio_mmio *t, uint32_t reason)
{
	atomic_fetch_or(&t->interrupt_status, reason);
	if (t->irqfd < 0 && !t->irqfd_failed)
		virtio_mmio_setup_irqfd(t);
	if (t->irqfd >= 0) {
		uint64_t one = 1;
		ssize_t unused = write(t->irqfd, &one, sizeof(one));
		(void)unused;
	} else {
		/* An edge: the device tree declares the line rising-edge triggered. */
		vm_irq_line(t->vm, t->irq, true);
		vm_irq_line(t->vm, t->irq, false);
	}
}

void virtio_mmio_notify(struct virtio_mmio *t, const struct virtqueue *vq)
{
	if (!vq || virtqueue_wants_interrupt(vq))
		virtio_mmio_raise(t, VIRTIO_INT_USED_BUFFER);
}

void virtio_mmio_fail(struct virtio_mmio *t, int q, const char *why)
{
	if (t->broken)
		return;
	/* A guest that breaks and resets the device in a loop gets a few lines a second, not one per round. */
	uint64_t dropped;
	bool last;
	if (guest_log_rate_allow(&t->fail_log, VIRTIO_MMIO_FAIL_LOG_BURST, guest_log_now_ns(), &dropped, &last)) {
		if (dropped)
			log_error(
			    "%s (virtio_mmio@%llx): %llu more malformed requests were not reported (more than %d a "
			    "second)",
			    t->name, (unsigned long long)t->base, (unsigned long long)dropped,
			    VIRTIO_MMIO_FAIL_LOG_BURST);
		const char *more = last ? " (more this second are not reported)" : "";
		if (why)
			log_error("%s (virtio_mmio@%llx): %s; the device needs a reset%s", t->name,
				  (unsigned long long)t->base, why, more);
		else
			log_error("%s (virtio_mmio@%llx) queue %d: %s; the device needs a reset%s", t->name,
				  (unsigned long long)t->base, q, t->queues[q].vq.error, more);
	}
	t->broken = true;
	t->status |= VIRTIO_STATUS_NEEDS_RESET;
	/* Only a driver that got as far as DRIVER_OK listens for this interrupt. */
	if (t->status & VIRTIO_STATUS_DRIVER_OK)
		virtio_mmio_raise(t, VIRTIO_INT_CONFIG_CHANGE);
}

static void virtio_mmio_reset(struct virtio_mmio *t)
{
	for (int q = 0; q < t->ops->nr_queues; q++)
		virtqueue_reset(&t->queues[q].vq);
	t->driver_features = 0;
	t->device_features_sel = t->driver_features_sel = t->queue_sel = t->shm_sel = 0;
	t->status = 0;
	t->broken = false;
	atomic_store(&t->interrupt_status, 0);
	if (t->ops->reset)
		t->ops->reset(t->backend);
}

/* FEATURES_OK is accepted only for a subset of what the device offers that includes VIRTIO_F_VERSION_1. */
static bool virtio_mmio_features_ok(struct virtio_mmio *t)
{
	uint64_t extra = t->driver_features & ~t->device_features;
	if (extra) {
		log_info("%s: the driver asked for features %#llx the device does not offer; refusing FEATURES_OK",
			 t->name, (unsigned long long)extra);
		return false;
	}
	if (!(t->driver_features & (1ull << VIRTIO_F_VERSION_1))) {
		log_info("%s: the driver did not accept VIRTIO_F_VERSION_1 (legacy drivers are not supported); "
			 "refusing FEATURES_OK",
			 t->name);
		return false;
	}
	return true;
}

static void virtio_mmio_write_status(struct virtio_mmio *t, uint32_t value)
{
	if (value == 0) {
		virtio_mmio_reset(t);
		return;
	}
	uint32_t was = t->status;
	if ((value & VIRTIO_STATUS_FEATURES_OK) && !(was & VIRTIO_STATUS_FEATURES_OK) && !virtio_mmio_features_ok(t))
		value &= ~(uint32_t)VIRTIO_STATUS_FEATURES_OK;
	t->status = (value & 0xff & ~(uint32_t)VIRTIO_STATUS_NEEDS_RESET) | (was & VIRTIO_STATUS_NEEDS_RESET);
	if ((t->status & VIRTIO_STATUS_DRIVER_OK) && !(was & VIRTIO_STATUS_DRIVER_OK)) {
		if (t->ops->driver_ok)
			t->ops->driver_ok(t->backend);
		for (int q = 0; q < t->ops->nr_queues; q++)
			if (t->queues[q].vq.ready)
				virtio_mmio_kick(t, q); /* buffers made available before DRIVER_OK */
	}
}

static void virtio_mmio_queue_ready(struct virtio_mmio *t, struct virtio_mmio_queue *mq, uint32_t value)
{
	if (!value) {
		mq->vq.ready = false;
		return;
	}
	if (mq->vq.ready)
		return;
	if (virtqueue_enable(&mq->vq, &t->vm->mem) < 0) {
		virtio_mmio_fail(t, mq->index, NULL);
		return;
	}
	mq->vq.last_avail_idx = mq->vq.used_idx = 0;
	mq->vq.ready = true;
}

static uint32_t virtio_mmio_read_reg(struct virtio_mmio *t, uint64_t offset)
{
	struct virtio_mmio_queue *mq = t->queue_sel < (uint32_t)t->ops->nr_queues ? &t->queues[t->queue_sel] : NULL;
	switch (offset) {
	case REG_MAGIC:
		return VIRTIO_MMIO_MAGIC;
	case REG_VERSION:
		return 2;
	case REG_DEVICE_ID:
		return t->ops->device_id;
	case REG_VENDOR_ID:
		return VIRTIO_MMIO_VENDOR;
	case REG_DEVICE_FEATURES:
		return t->device_features_sel < 2 ? (uint32_t)(t->device_features >> (32 * t->device_features_sel)) : 0;
	case REG_QUEUE_NUM_MAX:
		return mq ? VIRTQUEUE_MAX_SIZE : 0;
	case REG_QUEUE_READY:
		return mq ? mq->vq.ready : 0;
	case REG_STATUS:
		return t->status;
	case REG_QUEUE_DESC_LOW:
	case REG_QUEUE_DESC_HIGH:
		return mq ? (uint32_t)(mq->vq.desc_gpa >> (offset == REG_QUEUE_DESC_HIGH ? 32 : 0)) : 0;
	case REG_QUEUE_DRIVER_LOW:
	case REG_QUEUE_DRIVER_HIGH:
		return mq ? (uint32_t)(mq->vq.avail_gpa >> (offset == REG_QUEUE_DRIVER_HIGH ? 32 : 0)) : 0;
	case REG_QUEUE_DEVICE_LOW:
	case REG_QUEUE_DEVICE_HIGH:
		return mq ? (uint32_t)(mq->vq.used_gpa >> (offset == REG_QUEUE_DEVICE_HIGH ? 32 : 0)) : 0;
	case REG_SHM_LEN_LOW:
	case REG_SHM_LEN_HIGH:
		return 0xffffffff; /* no shared memory regions: length -1 */
	case REG_CONFIG_GENERATION:
		return t->config_generation;
	default:
		return 0;
	}
}

static void virtio_mmio_write_reg(struct virtio_mmio *t, uint64_t offset, uint32_t value)
{
	struct virtio_mmio_queue *mq = t->queue_sel < (uint32_t)t->ops->nr_queues ? &t->queues[t->queue_sel] : NULL;
	bool queue_writable = mq && !mq->vq.ready; /* a live queue's setup must not change under the device */
	switch (offset) {
	case REG_DEVICE_FEATURES_SEL:
		t->device_features_sel = value;
		break;
	case REG_DRIVER_FEATURES:
		if (!(t->status & VIRTIO_STATUS_FEATURES_OK) && t->driver_features_sel < 2)
			t->driver_features = set_half(t->driver_features, t->driver_features_sel == 1, value);
		break;
	case REG_DRIVER_FEATURES_SEL:
		t->driver_features_sel = value;
		break;
	case REG_QUEUE_SEL:
		t->queue_sel = value;
		break;
	case REG_QUEUE_NUM:
		if (queue_writable)
			mq->vq.size = value > 0xffff ? 0 : (uint16_t)value;
		break;
	case REG_QUEUE_READY:
		if (mq)
			virtio_mmio_queue_ready(t, mq, value);
		break;
	case REG_STATUS:
		virtio_mmio_write_status(t, value);
		break;
	case REG_QUEUE_DESC_LOW:
	case REG_QUEUE_DESC_HIGH:
		if (queue_writable)
			mq->vq.desc_gpa = set_half(mq->vq.desc_gpa, offset == REG_QUEUE_DESC_HIGH, value);
		break;
	case REG_QUEUE_DRIVER_LOW:
	case REG_QUEUE_DRIVER_HIGH:
		if (queue_writable)
			mq->vq.avail_gpa = set_half(mq->vq.avail_gpa, offset == REG_QUEUE_DRIVER_HIGH, value);
		break;
	case REG_QUEUE_DEVICE_LOW:
	case REG_QUEUE_DEVICE_HIGH:
		if (queue_writable)
			mq->vq.used_gpa = set_half(mq->vq.used_gpa, offset == REG_QUEUE_DEVICE_HIGH, value);
		break;
	case REG_SHM_SEL:
		t->shm_sel = value;
		break;
	default:
		break; /* read-only or reserved: ignored */
	}
}

static int virtio_mmio_config_access(struct virtio_mmio *t, uint64_t offset, uint8_t *data, uint32_t len, bool is_write)
{
	pthread_mutex_lock(&t->lock);
	for (uint32_t i = 0; i < len; i++) {
		uint64_t at = offset + i;
		if (is_write)
			continue; /* roam's devices have no writable config fields */
		data[i] = at < t->config_size ? t->config[at] : 0;
	}
	pthread_mutex_unlock(&t->lock);
	return 0;
}

int virtio_mmio_access(void *opaque, uint64_t offset, uint8_t *data, uint32_t len, bool is_write)
{
	struct virtio_mmio *t = opaque;
	if (offset >= REG_CONFIG)
		return virtio_mmio_config_access(t, offset - REG_CONFIG, data, len, is_write);
	if (len != 4 || (offset & 3)) {
		if (!t->bad_access_reported) {
			t->bad_access_reported = true;
			log_error("%s: the guest %s %u bytes at register offset %#llx; registers are 32-bit words "
				  "(further reports suppressed)",
				  t->name, is_write ? "wrote" : "read", len, (unsigned long long)offset);
		}
		if (!is_write)
			memset(data, 0, len);
		return -EINVAL;
	}
	if (!is_write) {
		uint32_t value;
		if (offset == REG_INTERRUPT_STATUS) {
			value = atomic_load(&t->interrupt_status);
		} else {
			pthread_mutex_lock(&t->lock);
			value = virtio_mmio_read_reg(t, offset);
			pthread_mutex_unlock(&t->lock);
		}
		put_le32(data, value);
		return 0;
	}
	uint32_t value = get_le32(data);
	if (offset == REG_INTERRUPT_ACK) {
		atomic_fetch_and(&t->interrupt_status, ~value);
		return 0;
	}
	if (offset == REG_QUEUE_NOTIFY) {
		/* Only reached when KVM did not take the write through the queue's ioeventfd. */
		if (value < (uint32_t)t->ops->nr_queues)
			virtio_mmio_kick(t, (int)value);
		return 0;
	}
	pthread_mutex_lock(&t->lock);
	virtio_mmio_write_reg(t, offset, value);
	pthread_mutex_unlock(&t->lock);
	return 0;
}

static void virtio_mmio_on_notify(void *opaque, int fd, uint32_t events)
{
	struct virtio_mmio_queue *mq = opaque;
	struct virtio_mmio *t = mq->t;
	uint64_t count;
	(void)events;
	ssize_t unused = read(fd, &count, sizeof(count));
	(void)unused;
	pthread_mutex_lock(&t->lock);
	if (virtio_mmio_queue(t, mq->index))
		t->ops->queue_notify(t->backend, mq->index);
	pthread_mutex_unlock(&t->lock);
}

/* The first slot of the virtio region that nothing occupies yet, or -ENOSPC. */
static int virtio_mmio_free_slot(struct vm *vm)
{
	const struct vm_region_info *region = arch_region(VM_REGION_VIRTIO);
	int slots = (int)(region->size / VIRTIO_MMIO_SLOT_SIZE);
	for (int slot = 0; slot < slots; slot++) {
		uint64_t offset;
		if (!bus_find(&vm->mmio, region->base + (uint64_t)slot * VIRTIO_MMIO_SLOT_SIZE, 4, &offset))
			return slot;
	}
	return log_errno(-ENOSPC, "virtio: all %d virtio-mmio slots are taken; use fewer devices", slots);
}

static int virtio_mmio_ioeventfd(struct virtio_mmio *t, struct virtio_mmio_queue *mq, bool assign)
{
	struct kvm_ioeventfd io = {
	    .datamatch = (uint64_t)mq->index,
	    .addr = t->base + REG_QUEUE_NOTIFY,
	    .len = 4,
	    .fd = mq->eventfd,
	    .flags = KVM_IOEVENTFD_FLAG_DATAMATCH | (assign ? 0 : KVM_IOEVENTFD_FLAG_DEASSIGN),
	};
	long ret = __SYS_IOCTL(t->vm->vm_fd, KVM_IOEVENTFD, &io);
	return ret < 0 ? (int)ret : 0;
}

int virtio_mmio_create(struct vm *vm, const struct virtio_backend_ops *ops, void *backend, int instance,
		       uint64_t features, const void *config, uint32_t config_size, struct virtio_mmio **out)
{
	const struct vm_region_info *region = arch_region(VM_REGION_VIRTIO);
	if (ops->nr_queues > VIRTIO_MMIO_MAX_QUEUES || config_size > VIRTIO_MMIO_CONFIG_MAX)
		return log_errno(-EINVAL, "virtio-%s%d: %d queues and %u config bytes exceed the transport's limits",
				 ops->kind, instance, ops->nr_queues, config_size);
	int slot = virtio_mmio_free_slot(vm);
	if (slot < 0)
		return slot;
	struct virtio_mmio *t = calloc(1, sizeof(*t));
	if (!t)
		return -ENOMEM;
	t->vm = vm;
	t->ops = ops;
	t->backend = backend;
	t->slot = slot;
	t->base = region->base + (uint64_t)slot * VIRTIO_MMIO_SLOT_SIZE;
	t->irq = region->irq + (uint32_t)slot;
	t->irqfd = -1;
	t->device_features = features | 1ull << VIRTIO_F_VERSION_1 | 1ull << VIRTIO_F_INDIRECT_DESC;
	if (config_size)
		memcpy(t->config, config, config_size);
	t->config_size = config_size;
	snprintf(t->name, sizeof(t->name), "virtio-%s%d", ops->kind, instance);
	pthread_mutex_init(&t->lock, NULL);
	for (int q = 0; q < VIRTIO_MMIO_MAX_QUEUES; q++)
		t->queues[q] = (struct virtio_mmio_queue){.t = t, .index = q, .eventfd = -1};
	*out = t;

	int ret = io_loop_init(&t->loop, t->name);
	if (ret < 0)
		return ret;
	for (int q = 0; q < ops->nr_queues; q++) {
		struct virtio_mmio_queue *mq = &t->queues[q];
		mq->eventfd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
		if (mq->eventfd < 0)
			return log_errno(-errno, "%s: eventfd for queue %d: %s", t->name, q, strerror(errno));
		ret = io_loop_add(&t->loop, mq->eventfd, EPOLLIN, virtio_mmio_on_notify, mq);
		if (ret < 0)
			return ret;
		if (vm->vm_fd >= 0) {
			ret = virtio_mmio_ioeventfd(t, mq, true);
			if (ret < 0)
				log_info("KVM_IOEVENTFD(%s queue %d): %s; notifications take the slower MMIO exit",
					 t->name, q, strerror(-ret));
			mq->ioeventfd = ret == 0;
		}
	}
	return bus_insert(&vm->mmio, t->base, VIRTIO_MMIO_SLOT_SIZE, t->name, virtio_mmio_access, t);
}

int virtio_mmio_start(struct virtio_mmio *t)
{
	return io_loop_start(&t->loop);
}

int virtio_mmio_watch(struct virtio_mmio *t, int fd, uint32_t events, io_loop_fn fn, void *opaque)
{
	return io_loop_add(&t->loop, fd, events, fn, opaque);
}

int virtio_mmio_watch_modify(struct virtio_mmio *t, int fd, uint32_t events)
{
	return io_loop_modify(&t->loop, fd, events);
}

void virtio_mmio_destroy(struct virtio_mmio *t)
{
	if (!t)
		return;
	io_loop_fini(&t->loop);
	for (int q = 0; q < VIRTIO_MMIO_MAX_QUEUES; q++) {
		struct virtio_mmio_queue *mq = &t->queues[q];
		if (mq->ioeventfd)
			virtio_mmio_ioeventfd(t, mq, false);
		if (mq->eventfd >= 0)
			close(mq->eventfd);
	}
	if (t->irqfd >= 0) {
		struct kvm_irqfd irqfd = {
		    .fd = (uint32_t)t->irqfd, .gsi = arch_irqfd_gsi(t->irq), .flags = KVM_IRQFD_FLAG_DEASSIGN};
		__SYS_IOCTL(t->vm->vm_fd, KVM_IRQFD, &irqfd);
		close(t->irqfd);
	}
	pthread_mutex_destroy(&t->lock);
	free(t);
}

void virtio_mmio_dev_fdt(void *state, struct fdt_builder *b)
{
	const struct virtio_mmio *t = *(struct virtio_mmio *const *)state;
	char name[40];
	uint32_t irq[3];
	snprintf(name, sizeof(name), "virtio_mmio@%llx", (unsigned long long)t->base);
	fdtb_begin_node(b, name);
	fdtb_prop_string(b, "compatible", "virtio,mmio");
	fdtb_prop_reg64(b, t->base, VIRTIO_MMIO_SLOT_SIZE);
	fdtb_prop_cells(b, "interrupts", irq, arch_fdt_edge_irq_cells(t->irq, irq));
	fdtb_prop_empty(b, "dma-coherent");
	fdtb_end_node(b);
}

void virtio_mmio_dev_pause(void *state)
{
	struct virtio_mmio *t = *(struct virtio_mmio **)state;
	io_loop_pause(&t->loop); /* returns between two requests: nothing is in flight */
	pthread_mutex_lock(&t->lock);
	t->paused = true;
	pthread_mutex_unlock(&t->lock);
}

void virtio_mmio_dev_resume(void *state)
{
	struct virtio_mmio *t = *(struct virtio_mmio **)state;
	pthread_mutex_lock(&t->lock);
	t->paused = false;
	/* Chains the driver made available meanwhile (or before a snapshot) are taken now; net watches its TAP. */
	for (int q = 0; q < t->ops->nr_queues; q++)
		if (t->queues[q].vq.ready)
			virtio_mmio_kick(t, q);
	if ((t->status & VIRTIO_STATUS_DRIVER_OK) && !t->broken && t->ops->driver_ok)
		t->ops->driver_ok(t->backend);
	pthread_mutex_unlock(&t->lock);
	io_loop_resume(&t->loop);
}
