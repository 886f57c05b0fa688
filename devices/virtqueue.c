/*
 * Split virtqueue processing: see virtqueue.h. Ring layout (all little-endian):
 *   descriptor table: size x {u64 addr; u32 len; u16 flags; u16 next}
 *   available ring:   u16 flags; u16 idx; u16 ring[size]; (u16 used_event)
 *   used ring:        u16 flags; u16 idx; {u32 id; u32 len} ring[size]; (u16 avail_event)
 * The driver runs on other CPUs at the same time: the available index is read with acquire semantics before the
 * entries it covers, and the used index is published with release semantics after the entries.
 */
#include "virtqueue.h"

#include "snapshot/snap_codec.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#define VIRTQ_DESC_SIZE 16

static uint16_t le16_at(const uint8_t *p)
{
	return (uint16_t)(p[0] | p[1] << 8);
}

static uint32_t le32_at(const uint8_t *p)
{
	return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

static uint64_t le64_at(const uint8_t *p)
{
	return (uint64_t)le32_at(p) | (uint64_t)le32_at(p + 4) << 32;
}

static void put_le32(uint8_t *p, uint32_t v)
{
	for (int i = 0; i < 4; i++)
		p[i] = (uint8_t)(v >> (8 * i));
}

/* Ring indices are naturally aligned u16s, so atomic accesses on them are single loads and stores. */
static uint16_t ring_load_idx(const uint8_t *p)
{
	uint16_t v = __atomic_load_n((const uint16_t *)(const void *)p, __ATOMIC_ACQUIRE);
	return le16_at((const uint8_t *)&v);
}

static void ring_store_idx(uint8_t *p, uint16_t idx)
{
	uint16_t v;
	uint8_t *b = (uint8_t *)&v;
	b[0] = (uint8_t)idx;
	b[1] = (uint8_t)(idx >> 8);
	__atomic_store_n((uint16_t *)(void *)p, v, __ATOMIC_RELEASE);
}

/* Device-writable memory must be memory the guest may write itself (not a slot mapped read-only into it). */
static bool vq_guest_writable(const struct guest_memory *mem, uint64_t gpa)
{
	const struct memory_slot *slot = memory_find_slot(mem, gpa);
	return slot && !slot->guest_readonly;
}

__attribute__((format(printf, 2, 3))) static int vq_fail(struct virtqueue *vq, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(vq->error, sizeof(vq->error), fmt, ap);
	va_end(ap);
	return -EINVAL;
}

void virtqueue_reset(struct virtqueue *vq)
{
	memset(vq, 0, sizeof(*vq));
}

int virtqueue_enable(struct virtqueue *vq, const struct guest_memory *mem)
{
	uint64_t n = vq->size;
	if (n == 0 || n > VIRTQUEUE_MAX_SIZE || (n & (n - 1)))
		return vq_fail(vq, "queue size %llu is not a power of two from 1 to %d", (unsigned long long)n,
			       VIRTQUEUE_MAX_SIZE);
	if ((vq->desc_gpa & 15) || (vq->avail_gpa & 1) || (vq->used_gpa & 3))
		return vq_fail(vq, "rings at %#llx/%#llx/%#llx are not aligned to 16/2/4 bytes",
			       (unsigned long long)vq->desc_gpa, (unsigned long long)vq->avail_gpa,
			       (unsigned long long)vq->used_gpa);
	vq->mem = mem;
	vq->desc = memory_gpa_to_host(mem, vq->desc_gpa, n * VIRTQ_DESC_SIZE);
	vq->avail = memory_gpa_to_host(mem, vq->avail_gpa, 6 + 2 * n);
	vq->used = memory_gpa_to_host(mem, vq->used_gpa, 6 + 8 * n);
	if (!vq->desc || !vq->avail || !vq->used) {
		const char *which = !vq->desc ? "descriptor table" : !vq->avail ? "available ring" : "used ring";
		uint64_t gpa = !vq->desc ? vq->desc_gpa : !vq->avail ? vq->avail_gpa : vq->used_gpa;
		vq->desc = vq->avail = vq->used = NULL;
		return vq_fail(vq, "the %s at %#llx (queue size %llu) is not inside guest RAM", which,
			       (unsigned long long)gpa, (unsigned long long)n);
	}
	if (!vq_guest_writable(mem, vq->used_gpa)) {
		vq->desc = vq->avail = vq->used = NULL;
		return vq_fail(vq, "the used ring at %#llx is in memory the guest cannot write",
			       (unsigned long long)vq->used_gpa);
	}
	return 0;
}

bool virtqueue_has_avail(const struct virtqueue *vq)
{
	return vq->avail && ring_load_idx(vq->avail + 2) != vq->last_avail_idx;
}

/* Appends one descriptor's buffer to the chain, checking it and the readable-before-writable order. */
static int chain_add(struct virtqueue *vq, const struct guest_memory *mem, struct virtq_chain *chain, const uint8_t *d,
		     const char *where, unsigned idx)
{
	uint64_t addr = le64_at(d);
	uint32_t len = le32_at(d + 8);
	bool write = le16_at(d + 12) & VIRTQ_DESC_F_WRITE;
	if (len == 0)
		return 0; /* nothing to transfer; the descriptor still counts towards the chain's length */
	void *host = memory_gpa_to_host(mem, addr, len);
	if (!host)
		return vq_fail(vq, "chain %u: %s descriptor %u (addr %#llx, len %u) is not inside guest RAM",
			       chain->head, where, idx, (unsigned long long)addr, len);
	if (write && !vq_guest_writable(mem, addr))
		return vq_fail(
		    vq, "chain %u: %s descriptor %u (addr %#llx) is device-writable in memory the guest cannot write",
		    chain->head, where, idx, (unsigned long long)addr);
	if (!write && chain->nr_write)
		return vq_fail(vq, "chain %u: %s descriptor %u is device-readable after a device-writable one",
			       chain->head, where, idx);
	int n = chain->nr_read + chain->nr_write;
	if (n == VIRTQUEUE_MAX_SEGS)
		return vq_fail(vq, "chain %u is longer than %d buffers", chain->head, VIRTQUEUE_MAX_SEGS);
	chain->iov[n] = (struct iovec){.iov_base = host, .iov_len = len};
	if (write) {
		chain->nr_write++;
		chain->write_len += len;
	} else {
		chain->nr_read++;
		chain->read_len += len;
	}
	return 0;
}

/* Walks an indirect table of `bytes` bytes at `gpa`. */
static int chain_walk_indirect(struct virtqueue *vq, const struct guest_memory *mem, struct virtq_chain *chain,
			       uint64_t gpa, uint32_t bytes)
{
	if (bytes == 0 || bytes % VIRTQ_DESC_SIZE)
		return vq_fail(vq, "chain %u: indirect table length %u is not a positive multiple of 16", chain->head,
			       bytes);
	uint32_t entries = bytes / VIRTQ_DESC_SIZE;
	if (entries > VIRTQUEUE_MAX_SEGS)
		return vq_fail(vq, "chain %u: indirect table of %u descriptors is longer than %d", chain->head, entries,
			       VIRTQUEUE_MAX_SEGS);
	const uint8_t *table = memory_gpa_to_host(mem, gpa, bytes);
	if (!table)
		return vq_fail(vq, "chain %u: indirect table at %#llx (%u bytes) is not inside guest RAM", chain->head,
			       (unsigned long long)gpa, bytes);
	uint32_t idx = 0;
	for (uint32_t count = 1;; count++) {
		const uint8_t *d = table + (size_t)idx * VIRTQ_DESC_SIZE;
		uint16_t flags = le16_at(d + 12);
		if (flags & VIRTQ_DESC_F_INDIRECT)
			return vq_fail(vq, "chain %u: indirect descriptor %u points to another indirect table",
				       chain->head, idx);
		int ret = chain_add(vq, mem, chain, d, "indirect", idx);
		if (ret < 0)
			return ret;
		if (!(flags & VIRTQ_DESC_F_NEXT))
			return 0;
		idx = le16_at(d + 14);
		if (idx >= entries)
			return vq_fail(vq, "chain %u: indirect descriptor links to %u, past the table's %u entries",
				       chain->head, idx, entries);
		if (count == entries)
			return vq_fail(vq, "chain %u: the indirect table loops (more than its %u entries)", chain->head,
				       entries);
	}
}

int virtqueue_pop(struct virtqueue *vq, const struct guest_memory *mem, struct virtq_chain *chain)
{
	uint16_t avail_idx = ring_load_idx(vq->avail + 2);
	uint16_t pending = (uint16_t)(avail_idx - vq->last_avail_idx);
	if (pending == 0)
		return 0;
	if (pending > vq->size)
		return vq_fail(vq,
			       "available index %u is %u entries ahead of the device's %u, more than the queue size %u",
			       avail_idx, pending, vq->last_avail_idx, vq->size);
	uint16_t head = le16_at(vq->avail + 4 + 2 * (vq->last_avail_idx & (vq->size - 1)));
	chain->head = head;
	chain->nr_read = chain->nr_write = 0;
	chain->read_len = chain->write_len = 0;
	if (head >= vq->size)
		return vq_fail(vq, "available ring entry %u names descriptor %u, past the queue size %u",
			       vq->last_avail_idx, head, vq->size);
	uint16_t idx = head;
	for (uint32_t count = 1;; count++) {
		const uint8_t *d = vq->desc + (size_t)idx * VIRTQ_DESC_SIZE;
		uint16_t flags = le16_at(d + 12);
		int ret;
		if (flags & VIRTQ_DESC_F_INDIRECT) {
			if (flags & VIRTQ_DESC_F_NEXT)
				return vq_fail(vq, "chain %u: descriptor %u is both indirect and chained", head, idx);
			ret = chain_walk_indirect(vq, mem, chain, le64_at(d), le32_at(d + 8));
			if (ret < 0)
				return ret;
			break;
		}
		ret = chain_add(vq, mem, chain, d, "queue", idx);
		if (ret < 0)
			return ret;
		if (!(flags & VIRTQ_DESC_F_NEXT))
			break;
		idx = le16_at(d + 14);
		if (idx >= vq->size)
			return vq_fail(vq, "chain %u: descriptor links to %u, past the queue size %u", head, idx,
				       vq->size);
		if (count == vq->size)
			return vq_fail(vq, "chain %u loops (more than the queue's %u descriptors)", head, vq->size);
	}
	vq->last_avail_idx++;
	return 1;
}

void virtqueue_unpop(struct virtqueue *vq)
{
	vq->last_avail_idx--;
}

void virtqueue_push(struct virtqueue *vq, const struct virtq_chain *chain, uint32_t len)
{
	/* What the device wrote into the chain's buffers, before the guest can see it is done. */
	uint64_t left = len;
	for (int i = chain->nr_read; left && i < chain->nr_read + chain->nr_write; i++) {
		size_t n = chain->iov[i].iov_len < left ? chain->iov[i].iov_len : (size_t)left;
		memory_mark_dirty(vq->mem, chain->iov[i].iov_base, n);
		left -= n;
	}
	uint8_t *elem = vq->used + 4 + 8 * (size_t)(vq->used_idx & (vq->size - 1));
	put_le32(elem, chain->head);
	put_le32(elem + 4, len);
	vq->used_idx++;
	ring_store_idx(vq->used + 2, vq->used_idx); /* release: the element is visible before the index */
	memory_mark_dirty(vq->mem, elem, 8);
	memory_mark_dirty(vq->mem, vq->used + 2, 2);
}

bool virtqueue_set_notify(struct virtqueue *vq, bool on)
{
	ring_store_idx(vq->used, on ? 0 : VIRTQ_USED_F_NO_NOTIFY);
	if (!on)
		return false;
	/* Order the flag store before reading the available index (the driver does the mirror image). */
	__atomic_thread_fence(__ATOMIC_SEQ_CST);
	return virtqueue_has_avail(vq);
}

bool virtqueue_wants_interrupt(const struct virtqueue *vq)
{
	/* Order the used-index store before reading the driver's flags (the driver does the mirror image). */
	__atomic_thread_fence(__ATOMIC_SEQ_CST);
	return !(ring_load_idx(vq->avail) & VIRTQ_AVAIL_F_NO_INTERRUPT);
}

/* Copies between buf and the chain's segments [first, first+count) starting at byte `off`. */
static size_t chain_copy(const struct iovec *iov, int count, uint64_t off, void *buf, size_t len, bool to_chain)
{
	size_t done = 0;
	for (int i = 0; i < count && done < len; i++) {
		if (off >= iov[i].iov_len) {
			off -= iov[i].iov_len;
			continue;
		}
		size_t n = iov[i].iov_len - off;
		if (n > len - done)
			n = len - done;
		uint8_t *seg = (uint8_t *)iov[i].iov_base + off;
		if (to_chain)
			memcpy(seg, (const uint8_t *)buf + done, n);
		else
			memcpy((uint8_t *)buf + done, seg, n);
		done += n;
		off = 0;
	}
	return done;
}

size_t virtq_chain_read(const struct virtq_chain *chain, uint64_t off, void *buf, size_t len)
{
	return chain_copy(chain->iov, chain->nr_read, off, buf, len, false);
}

size_t virtq_chain_write(const struct virtq_chain *chain, uint64_t off, const void *buf, size_t len)
{
	return chain_copy(chain->iov + chain->nr_read, chain->nr_write, off, (void *)buf, len, true);
}

int virtq_chain_writable_iov(const struct virtq_chain *chain, uint64_t limit, struct iovec *out, int max)
{
	int n = 0;
	const struct iovec *iov = chain->iov + chain->nr_read;
	for (int i = 0; i < chain->nr_write && limit && n < max; i++) {
		size_t len = iov[i].iov_len < limit ? iov[i].iov_len : (size_t)limit;
		out[n++] = (struct iovec){.iov_base = iov[i].iov_base, .iov_len = len};
		limit -= len;
	}
	return n;
}

int virtq_chain_readable_iov(const struct virtq_chain *chain, uint64_t skip, struct iovec *out, int max)
{
	int n = 0;
	for (int i = 0; i < chain->nr_read && n < max; i++) {
		if (skip >= chain->iov[i].iov_len) {
			skip -= chain->iov[i].iov_len;
			continue;
		}
		out[n++] = (struct iovec){.iov_base = (uint8_t *)chain->iov[i].iov_base + skip,
					  .iov_len = chain->iov[i].iov_len - skip};
		skip = 0;
	}
	return n;
}

void virtqueue_save(const struct virtqueue *vq, struct snap_writer *w)
{
	snap_put_u16(w, vq->size);
	snap_put_u8(w, vq->ready);
	snap_put_u64(w, vq->desc_gpa);
	snap_put_u64(w, vq->avail_gpa);
	snap_put_u64(w, vq->used_gpa);
	snap_put_u16(w, vq->last_avail_idx);
	snap_put_u16(w, vq->used_idx);
}

int virtqueue_restore(struct virtqueue *vq, const struct guest_memory *mem, struct snap_reader *r)
{
	virtqueue_reset(vq);
	vq->size = snap_get_u16(r, "queue size");
	uint8_t ready = snap_get_u8(r, "queue ready");
	vq->desc_gpa = snap_get_u64(r, "descriptor table address");
	vq->avail_gpa = snap_get_u64(r, "available ring address");
	vq->used_gpa = snap_get_u64(r, "used ring address");
	vq->last_avail_idx = snap_get_u16(r, "last available index");
	vq->used_idx = snap_get_u16(r, "used index");
	if (r->err)
		return r->err;
	if (ready > 1) {
		snap_reader_fail(r, "queue ready flag");
		return r->err;
	}
	vq->ready = ready;
	return vq->ready ? virtqueue_enable(vq, mem) : 0;
}
