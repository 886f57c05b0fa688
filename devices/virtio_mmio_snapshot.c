/*
 * Snapshot hooks of virtio-mmio devices (device_desc save/restore for every virtio device): the transport's state,
 * its queues and the backend's own state, with the placement and the device's identity checked on restore. See
 * virtio_mmio.h and docs/devices.md.
 */
#include "virtio_mmio.h"

#include "core/log.h"
#include "core/vm.h"
#include "snapshot/snap_codec.h"

#include <errno.h>
#include <string.h>

/*
 * Payload (version 1): slot u32, base u64, irq u32, device features u64, config blob; then driver features u64,
 * the selectors (4 x u32), status u32, interrupt status u32, config generation u32, broken u8, the queue count u32
 * each queue (virtqueue_save), and the backend's own state (ops->save). The first part describes the device as the
 * command line made it and must match the restoring VM's.
 */
void virtio_mmio_dev_save(void *state, struct snap_writer *w)
{
	struct virtio_mmio *t = *(struct virtio_mmio **)state;
	pthread_mutex_lock(&t->lock);
	snap_put_u32(w, (uint32_t)t->slot);
	snap_put_u64(w, t->base);
	snap_put_u32(w, t->irq);
	snap_put_u64(w, t->device_features);
	snap_put_blob(w, t->config, t->config_size);
	snap_put_u64(w, t->driver_features);
	snap_put_u32(w, t->device_features_sel);
	snap_put_u32(w, t->driver_features_sel);
	snap_put_u32(w, t->queue_sel);
	snap_put_u32(w, t->shm_sel);
	snap_put_u32(w, t->status);
	snap_put_u32(w, atomic_load(&t->interrupt_status));
	snap_put_u32(w, t->config_generation);
	snap_put_u8(w, t->broken);
	snap_put_u32(w, (uint32_t)t->ops->nr_queues);
	for (int q = 0; q < t->ops->nr_queues; q++)
		virtqueue_save(&t->queues[q].vq, w);
	if (t->ops->save)
		t->ops->save(t->backend, w);
	pthread_mutex_unlock(&t->lock);
}

static int virtio_mmio_restore_locked(struct virtio_mmio *t, struct snap_reader *r)
{
	uint8_t config[VIRTIO_MMIO_CONFIG_MAX];
	uint32_t slot = snap_get_u32(r, "virtio slot");
	uint64_t base = snap_get_u64(r, "virtio base");
	uint32_t irq = snap_get_u32(r, "virtio interrupt");
	uint64_t features = snap_get_u64(r, "device features");
	uint32_t config_size = snap_get_blob(r, config, sizeof(config), "device config");
	if (r->err)
		return log_errno(r->err, "%s: snapshot section is truncated or invalid (%s)", t->name, r->what);
	if (slot != (uint32_t)t->slot || base != t->base || irq != t->irq)
		return log_errno(-EINVAL,
				 "%s: the snapshot has it at %#llx (interrupt %u), this VM at %#llx (interrupt %u); "
				 "give the same device options as when the snapshot was taken",
				 t->name, (unsigned long long)base, irq, (unsigned long long)t->base, t->irq);
	if (features != t->device_features || config_size != t->config_size ||
	    memcmp(config, t->config, config_size) != 0)
		return log_errno(
		    -EINVAL,
		    "%s: the snapshot's device differs from this VM's (features %#llx, config of %u bytes, "
		    "here %#llx and %u bytes; e.g. another disk size, read-only flag or MAC)",
		    t->name, (unsigned long long)features, config_size, (unsigned long long)t->device_features,
		    t->config_size);
	t->driver_features = snap_get_u64(r, "driver features");
	t->device_features_sel = snap_get_u32(r, "device features select");
	t->driver_features_sel = snap_get_u32(r, "driver features select");
	t->queue_sel = snap_get_u32(r, "queue select");
	t->shm_sel = snap_get_u32(r, "shared memory select");
	t->status = snap_get_u32(r, "device status");
	atomic_store(&t->interrupt_status, snap_get_u32(r, "interrupt status"));
	t->config_generation = snap_get_u32(r, "config generation");
	uint8_t broken = snap_get_u8(r, "needs-reset flag");
	uint32_t nr_queues = snap_get_u32(r, "queue count");
	if (!r->err && (nr_queues != (uint32_t)t->ops->nr_queues || broken > 1))
		snap_reader_fail(r, nr_queues != (uint32_t)t->ops->nr_queues ? "queue count" : "needs-reset flag");
	t->broken = broken;
	for (int q = 0; q < t->ops->nr_queues && !r->err; q++) {
		struct virtqueue *vq = &t->queues[q].vq;
		if (virtqueue_restore(vq, &t->vm->mem, r) < 0 && !r->err)
			return log_errno(-EINVAL, "%s: snapshot queue %d: %s", t->name, q, vq->error);
	}
	if (!r->err && t->ops->restore) {
		int ret = t->ops->restore(t->backend, r);
		if (ret < 0 && !r->err)
			return ret;
	}
	if (!snap_reader_done(r))
		return log_errno(r->err ? r->err : -EBADMSG, "%s: snapshot section is truncated or invalid (%s)",
				 t->name, r->what ? r->what : "trailing bytes");
	/* Guest memory may not be restored yet: the device waits for resume before it looks at its rings. */
	t->paused = true;
	return 0;
}

int virtio_mmio_dev_restore(void *state, struct snap_reader *r, uint32_t version)
{
	struct virtio_mmio *t = *(struct virtio_mmio **)state;
	if (version != VIRTIO_MMIO_SNAPSHOT_VERSION)
		return log_errno(-EINVAL, "%s: snapshot section version %u is not supported (roam writes %u)", t->name,
				 version, VIRTIO_MMIO_SNAPSHOT_VERSION);
	pthread_mutex_lock(&t->lock);
	int ret = virtio_mmio_restore_locked(t, r);
	pthread_mutex_unlock(&t->lock);
	return ret;
}
