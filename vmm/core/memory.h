/*
 * Guest physical memory: a small set of slots, each anonymous memory in roam (transparent huge pages where the host
 * has them, as kvmtool and QEMU get), and the one checked translation from
 * guest-physical ranges to host pointers (DESIGN.md rule 8). Registering the slots with KVM is the VM's job, so this
 * file needs no /dev/kvm and is unit-tested directly.
 */
#ifndef ROAM_MEMORY_H
#define ROAM_MEMORY_H

#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define MEMORY_MAX_SLOTS 8
#define MEMORY_DIRTY_PAGE 4096u /* the granule of dirty tracking */

struct memory_slot {
	const char *name; /* "ram", "pvlock", ...: used in messages */
	uint64_t gpa;
	uint64_t size;
	uint8_t *host; /* mapping in roam, read-write, 2 MiB aligned if the slot is that large */
	size_t map_size; /* the mapping behind host (a large slot's size rounded up to 2 MiB) */
	bool guest_readonly; /* mapped read-only into the guest (KVM_MEM_READONLY) */
	/* roam's own writes into the slot while tracking is on: bit i = page i (memory_dirty.c); NULL until first on */
	_Atomic uint64_t *dirty;
};

struct guest_memory {
	struct memory_slot slots[MEMORY_MAX_SLOTS];
	int nr_slots;
	atomic_bool tracking; /* roam's writes are being recorded (a live migration or diff snapshot is on) */
};

/* Initializes an empty memory map. */
void memory_init(struct guest_memory *mem);

/*
 * Adds a slot of `size` bytes at `gpa`, backed by new zero-filled anonymous memory; from 2 MiB up, 2 MiB aligned and
 * advised for transparent huge pages (a guest touching 2 MiB takes one host fault and one stage-2 mapping, not 512).
 * gpa and size must be page aligned, the range must not overflow or overlap another slot. Returns the slot index, or
 * -errno with a message naming `name`.
 */
int memory_add_slot(struct guest_memory *mem, const char *name, uint64_t gpa, uint64_t size, bool guest_readonly);

/* Unmaps and closes every slot. Safe on a partly initialized map. */
void memory_fini(struct guest_memory *mem);

/*
 * The checked translation: returns the host pointer for [gpa, gpa+len) if the whole range lies inside one slot,
 * else NULL. len 0 is refused. Overflow of gpa+len is refused.
 */
void *memory_gpa_to_host(const struct guest_memory *mem, uint64_t gpa, uint64_t len);

/* Copies between guest memory and a host buffer through memory_gpa_to_host. Returns 0 or -EFAULT. */
int memory_read(const struct guest_memory *mem, uint64_t gpa, void *buf, uint64_t len);
int memory_write(const struct guest_memory *mem, uint64_t gpa, const void *buf, uint64_t len);

/*
 * The next range of a slot (`slot` is a const struct memory_slot *; the signature is snapshot_data_map's) at or after
 * byte `from` that may hold data: sets [*start, *end) in bytes from the slot's start, page aligned, and returns 1;
 * returns 0 when the rest was never touched (reads as zero). A page may hold data when it is present or swapped out
 * (/proc/self/pagemap): snapshots skip the rest without reading it, which would map it. Without pagemap, the whole
 * rest may hold data.
 */
int memory_slot_data_range(const void *slot, uint64_t from, uint64_t *start, uint64_t *end);

/* The slot that holds `gpa`, or NULL. */
const struct memory_slot *memory_find_slot(const struct guest_memory *mem, uint64_t gpa);

/*
 * Dirty tracking of roam's own writes (memory_dirty.c). KVM's dirty log sees what the guest writes, not what roam
 * writes into guest memory itself (virtio used rings and buffers, restored pages): those writers call
 * memory_mark_dirty after writing, and a migration collects both. Starting allocates one bitmap per writable slot
 * (kept until memory_fini, so a late writer never touches freed memory). Returns 0 or -ENOMEM.
 */
int memory_track_start(struct guest_memory *mem);

/* Stops recording; what was recorded stays until collected. */
void memory_track_stop(struct guest_memory *mem);

/*
 * Records that roam wrote [host, host + len) (a host pointer into guest memory; anything else is ignored). Cheap
 * when tracking is off. Safe from any thread. Call it after the write: a page collected in between is collected
 * again.
 */
void memory_mark_dirty(const struct guest_memory *mem, const void *host, size_t len);

/*
 * Moves slot `slot`'s recorded pages into `bitmap` (ORed in; one bit per MEMORY_DIRTY_PAGE, 64-bit words, as
 * KVM_GET_DIRTY_LOG writes them) and clears them. Returns how many bits it set that were not set.
 */
uint64_t memory_take_dirty(struct guest_memory *mem, int slot, uint64_t *bitmap);

#endif
