/*
 * Split virtqueues (virtio 1.x, section 2.7) over guest memory, from the device's side: validate a queue the driver
 * set up, take descriptor chains from the available ring, return them on the used ring. Pure code over struct
 * guest_memory (no KVM, no threads), so it is unit-tested on a fake memory built with memory_add_slot.
 *
 * Every guest address goes through memory_gpa_to_host, which checks range and overflow; what the device writes (the
 * used ring, device-writable buffers) must also be memory the guest may write. Chain walking is bounded: a
 * chain may not be longer than its table (which catches loops), nor than VIRTQUEUE_MAX_SEGS segments; indirect
 * tables are supported (one level). A malformed queue or chain is reported with a one-line reason in vq->error and
 * -EINVAL; the transport then puts the device into NEEDS_RESET.
 */
#ifndef ROAM_VIRTQUEUE_H
#define ROAM_VIRTQUEUE_H

#include "core/memory.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/uio.h>

#define VIRTQ_DESC_F_NEXT 1
#define VIRTQ_DESC_F_WRITE 2
#define VIRTQ_DESC_F_INDIRECT 4
#define VIRTQ_AVAIL_F_NO_INTERRUPT 1
#define VIRTQ_USED_F_NO_NOTIFY 1

/* The largest queue roam offers (QueueNumMax), and the longest chain it accepts, indirect entries included. */
#define VIRTQUEUE_MAX_SIZE 256
#define VIRTQUEUE_MAX_SEGS 256

struct virtqueue {
	/* Set by the driver through the transport. */
	uint16_t size; /* QueueNum: a power of two up to VIRTQUEUE_MAX_SIZE */
	bool ready;
	uint64_t desc_gpa, avail_gpa, used_gpa;
	/* Device state. */
	uint16_t last_avail_idx; /* the next available-ring entry the device takes */
	uint16_t used_idx; /* the device's copy of used->idx */
	/* Host views of the rings, resolved by virtqueue_enable, and the memory they are in (for dirty tracking). */
	uint8_t *desc, *avail, *used;
	const struct guest_memory *mem;
	char error[192]; /* why the last call failed */
};

/* One descriptor chain: device-readable segments first (iov[0..nr_read)), then device-writable ones. */
struct virtq_chain {
	uint16_t head;
	int nr_read, nr_write;
	uint64_t read_len, write_len; /* bytes in each part */
	struct iovec iov[VIRTQUEUE_MAX_SEGS];
};

/* Forgets the driver's setup and the device's indices (device reset). */
void virtqueue_reset(struct virtqueue *vq);

/*
 * Checks the driver's setup (size a power of two up to VIRTQUEUE_MAX_SIZE, ring alignment, each ring wholly inside
 * guest memory) and resolves the rings' host addresses. Returns 0, or -EINVAL with the reason in vq->error.
 */
int virtqueue_enable(struct virtqueue *vq, const struct guest_memory *mem);

/*
 * Takes the next available chain. Returns 1 with *chain filled, 0 when the ring is empty, or -EINVAL for a malformed
 * ring or chain (reason in vq->error; the queue must not be used again until reset). The queue must be enabled.
 */
int virtqueue_pop(struct virtqueue *vq, const struct guest_memory *mem, struct virtq_chain *chain);

/* Gives back the chain the last virtqueue_pop returned, unused (e.g. a receive buffer when no packet came). */
void virtqueue_unpop(struct virtqueue *vq);

/* True when the driver has made chains available that the device has not taken. */
bool virtqueue_has_avail(const struct virtqueue *vq);

/*
 * Returns `chain` to the driver with `len` bytes written into its device-writable part. The first `len` writable
 * bytes and the used-ring entry are recorded as written by roam (memory_mark_dirty): a migration sends them again.
 */
void virtqueue_push(struct virtqueue *vq, const struct virtq_chain *chain, uint32_t len);

/*
 * Asks the driver not to notify (VIRTQ_USED_F_NO_NOTIFY) while the device is working through the ring anyway, or
 * to notify again. Returns, when re-enabling, whether chains arrived meanwhile (the device must then go on: the
 * driver may have skipped its notification).
 */
bool virtqueue_set_notify(struct virtqueue *vq, bool on);

/* After pushes: false when the driver asked not to be interrupted (VIRTQ_AVAIL_F_NO_INTERRUPT). */
bool virtqueue_wants_interrupt(const struct virtqueue *vq);

/* Copies up to `len` bytes from offset `off` of the chain's readable part into buf; returns the bytes copied. */
size_t virtq_chain_read(const struct virtq_chain *chain, uint64_t off, void *buf, size_t len);

/* Copies up to `len` bytes into the chain's writable part at offset `off`; returns the bytes copied. */
size_t virtq_chain_write(const struct virtq_chain *chain, uint64_t off, const void *buf, size_t len);

/*
 * Fills `out` (room for `max` entries) with the writable part limited to its first `limit` bytes. Returns the
 * number of entries (for readv/preadv).
 */
int virtq_chain_writable_iov(const struct virtq_chain *chain, uint64_t limit, struct iovec *out, int max);

/* The same over the readable part, skipping its first `skip` bytes (e.g. a request header). */
int virtq_chain_readable_iov(const struct virtq_chain *chain, uint64_t skip, struct iovec *out, int max);

struct snap_writer;
struct snap_reader;

/* Writes the queue's driver setup and indices to a snapshot payload. */
void virtqueue_save(const struct virtqueue *vq, struct snap_writer *w);

/*
 * Reads what virtqueue_save wrote. A ready queue is re-enabled against `mem`; returns 0, or -EINVAL (reason in
 * vq->error) or the reader's error.
 */
int virtqueue_restore(struct virtqueue *vq, const struct guest_memory *mem, struct snap_reader *r);

#endif
