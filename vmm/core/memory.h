/*
 * Guest physical memory: a small set of slots, each a memfd mapped into roam, and the one checked translation from
 * guest-physical ranges to host pointers (DESIGN.md rule 8). Registering the slots with KVM is the VM's job, so this
 * file needs no /dev/kvm and is unit-tested directly.
 */
#ifndef ROAM_MEMORY_H
#define ROAM_MEMORY_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define MEMORY_MAX_SLOTS 8

struct memory_slot {
	const char *name; /* "ram", "pvlock", ...: used in messages */
	uint64_t gpa;
	uint64_t size;
	uint8_t *host; /* mapping in roam, read-write */
	int fd; /* the memfd behind it */
	bool guest_readonly; /* mapped read-only into the guest (KVM_MEM_READONLY) */
};

struct guest_memory {
	struct memory_slot slots[MEMORY_MAX_SLOTS];
	int nr_slots;
};

/* Initializes an empty memory map. */
void memory_init(struct guest_memory *mem);

/*
 * Adds a slot of `size` bytes at `gpa`, backed by a new zero-filled memfd. gpa and size must be page aligned, the
 * range must not overflow or overlap another slot. Returns the slot index, or -errno with a message naming `name`.
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

/* The slot that holds `gpa`, or NULL. */
const struct memory_slot *memory_find_slot(const struct guest_memory *mem, uint64_t gpa);

#endif
