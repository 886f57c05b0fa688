/*
 * Dirty tracking of roam's own writes into guest memory: see memory.h. One atomic bitmap per writable slot; writers
 * (device I/O threads) set bits with relaxed atomics after writing, and the collector exchanges whole words with
 * zero, so no write is lost between the two.
 */
#include "memory.h"

#include <errno.h>
#include <stdlib.h>

static uint64_t slot_words(const struct memory_slot *slot)
{
	uint64_t pages = slot->size / MEMORY_DIRTY_PAGE;
	return (pages + 63) / 64;
}

int memory_track_start(struct guest_memory *mem)
{
	for (int i = 0; i < mem->nr_slots; i++) {
		struct memory_slot *slot = &mem->slots[i];
		if (slot->guest_readonly || slot->dirty)
			continue;
		slot->dirty = calloc(slot_words(slot), sizeof(*slot->dirty));
		if (!slot->dirty)
			return -ENOMEM;
	}
	atomic_store_explicit(&mem->tracking, true, memory_order_release);
	return 0;
}

void memory_track_stop(struct guest_memory *mem)
{
	atomic_store_explicit(&mem->tracking, false, memory_order_release);
}

void memory_mark_dirty(const struct guest_memory *mem, const void *host, size_t len)
{
	if (!len || !atomic_load_explicit(&mem->tracking, memory_order_acquire))
		return;
	const uint8_t *p = host;
	for (int i = 0; i < mem->nr_slots; i++) {
		const struct memory_slot *slot = &mem->slots[i];
		if (!slot->dirty || p < slot->host || (size_t)(p - slot->host) >= slot->size)
			continue;
		uint64_t off = (uint64_t)(p - slot->host);
		uint64_t last = off + len - 1 < slot->size ? off + len - 1 : slot->size - 1;
		for (uint64_t page = off / MEMORY_DIRTY_PAGE; page <= last / MEMORY_DIRTY_PAGE; page++)
			atomic_fetch_or_explicit(&slot->dirty[page / 64], 1ull << (page % 64), memory_order_relaxed);
		return;
	}
}

uint64_t memory_take_dirty(struct guest_memory *mem, int slot, uint64_t *bitmap)
{
	struct memory_slot *s = &mem->slots[slot];
	uint64_t added = 0;
	if (!s->dirty)
		return 0;
	for (uint64_t w = 0; w < slot_words(s); w++) {
		uint64_t bits = atomic_exchange_explicit(&s->dirty[w], 0, memory_order_acquire);
		added += (uint64_t)__builtin_popcountll(bits & ~bitmap[w]);
		bitmap[w] |= bits;
	}
	return added;
}
