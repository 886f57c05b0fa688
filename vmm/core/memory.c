/* Guest physical memory slots and checked guest-address translation: see memory.h. */
#include "memory.h"

#include "log.h"

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#define MEMORY_PAGE 4096ull
#define MEMORY_HUGE (2ull << 20) /* the host's huge page (arm64 and x86 with 4 KiB pages) */
#define PAGEMAP_PRESENT (1ull << 63)
#define PAGEMAP_SWAPPED (1ull << 62)
#define PAGEMAP_BATCH 4096 /* entries read at once (32 KiB) */

void memory_init(struct guest_memory *mem)
{
	memset(mem, 0, sizeof(*mem));
}

static bool ranges_overlap(uint64_t a, uint64_t alen, uint64_t b, uint64_t blen)
{
	return a < b + blen && b < a + alen;
}

int memory_add_slot(struct guest_memory *mem, const char *name, uint64_t gpa, uint64_t size, bool guest_readonly)
{
	if (mem->nr_slots == MEMORY_MAX_SLOTS)
		return log_errno(-ENOSPC, "memory %s: more than %d memory slots", name, MEMORY_MAX_SLOTS);
	if (size == 0 || (gpa | size) & (MEMORY_PAGE - 1))
		return log_errno(-EINVAL, "memory %s: base %#llx size %#llx is empty or not page aligned", name,
				 (unsigned long long)gpa, (unsigned long long)size);
	if (gpa + size < gpa)
		return log_errno(-EINVAL, "memory %s: base %#llx size %#llx wraps around", name,
				 (unsigned long long)gpa, (unsigned long long)size);
	for (int i = 0; i < mem->nr_slots; i++)
		if (ranges_overlap(gpa, size, mem->slots[i].gpa, mem->slots[i].size))
			return log_errno(-EEXIST, "memory %s: overlaps %s", name, mem->slots[i].name);

	/*
	 * 2 MiB aligned, so that the host can back it with huge pages from the first byte. A slot smaller than that
	 * (the PV-lock region) keeps small pages: one huge page would cost 2 MiB of RAM and, when the host's memory is
	 * fragmented, a compaction stall at its first touch.
	 */
	bool huge = size >= MEMORY_HUGE;
	size_t map_size = huge ? (size_t)((size + MEMORY_HUGE - 1) & ~(MEMORY_HUGE - 1)) : (size_t)size;
	size_t extra = huge ? MEMORY_HUGE : 0;
	uint8_t *raw =
	    mmap(NULL, map_size + extra, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
	if (raw == MAP_FAILED)
		return log_errno(-errno, "memory %s: cannot map %llu MiB: %s", name, (unsigned long long)(size >> 20),
				 strerror(errno));
	uint8_t *host = huge ? (uint8_t *)(((uintptr_t)raw + MEMORY_HUGE - 1) & ~(uintptr_t)(MEMORY_HUGE - 1)) : raw;
	if (host > raw)
		munmap(raw, (size_t)(host - raw));
	if (raw + extra > host)
		munmap(host + map_size, (size_t)(raw + extra - host));
	if (huge) /* not fatal: a host without THP (or with it off) backs the slot with small pages */
		madvise(host, map_size, MADV_HUGEPAGE);
	struct memory_slot *slot = &mem->slots[mem->nr_slots];
	*slot = (struct memory_slot){.name = name,
				     .gpa = gpa,
				     .size = size,
				     .host = host,
				     .map_size = map_size,
				     .guest_readonly = guest_readonly};
	return mem->nr_slots++;
}

void memory_fini(struct guest_memory *mem)
{
	for (int i = 0; i < mem->nr_slots; i++) {
		munmap(mem->slots[i].host, mem->slots[i].map_size);
		free(mem->slots[i].dirty);
		mem->slots[i].dirty = NULL;
	}
	mem->nr_slots = 0;
}

const struct memory_slot *memory_find_slot(const struct guest_memory *mem, uint64_t gpa)
{
	for (int i = 0; i < mem->nr_slots; i++) {
		const struct memory_slot *slot = &mem->slots[i];
		if (gpa >= slot->gpa && gpa - slot->gpa < slot->size)
			return slot;
	}
	return NULL;
}

void *memory_gpa_to_host(const struct guest_memory *mem, uint64_t gpa, uint64_t len)
{
	if (len == 0)
		return NULL;
	const struct memory_slot *slot = memory_find_slot(mem, gpa);
	if (!slot)
		return NULL;
	uint64_t offset = gpa - slot->gpa;
	/* offset < size here, so size - offset cannot underflow and the comparison cannot overflow. */
	if (len > slot->size - offset)
		return NULL;
	return slot->host + offset;
}

int memory_read(const struct guest_memory *mem, uint64_t gpa, void *buf, uint64_t len)
{
	const void *src = memory_gpa_to_host(mem, gpa, len);
	if (!src)
		return -EFAULT;
	memcpy(buf, src, len);
	return 0;
}

int memory_write(const struct guest_memory *mem, uint64_t gpa, const void *buf, uint64_t len)
{
	void *dst = memory_gpa_to_host(mem, gpa, len);
	if (!dst)
		return -EFAULT;
	memcpy(dst, buf, len);
	return 0;
}

/* Whether the pagemap entry says the page may hold data. */
static bool pagemap_has_data(uint64_t entry)
{
	return entry & (PAGEMAP_PRESENT | PAGEMAP_SWAPPED);
}

int memory_slot_data_range(const void *slot_arg, uint64_t from, uint64_t *start, uint64_t *end)
{
	const struct memory_slot *slot = slot_arg;
	from &= ~(MEMORY_PAGE - 1);
	if (from >= slot->size)
		return 0;
	int fd = open("/proc/self/pagemap", O_RDONLY | O_CLOEXEC);
	if (fd < 0) {
		*start = from;
		*end = slot->size;
		return 1;
	}
	uint64_t entries[PAGEMAP_BATCH];
	uint64_t first_page = (uintptr_t)slot->host / MEMORY_PAGE, npages = slot->size / MEMORY_PAGE;
	bool in_data = false;
	int ret = 0;
	for (uint64_t page = from / MEMORY_PAGE; page < npages;) {
		uint64_t want = npages - page < PAGEMAP_BATCH ? npages - page : PAGEMAP_BATCH;
		ssize_t n =
		    pread(fd, entries, want * sizeof(entries[0]), (off_t)((first_page + page) * sizeof(entries[0])));
		if (n < (ssize_t)sizeof(entries[0])) { /* cannot tell: the rest may hold data */
			*start = in_data ? *start : page * MEMORY_PAGE;
			*end = slot->size;
			ret = 1;
			break;
		}
		for (uint64_t i = 0; i < (uint64_t)n / sizeof(entries[0]); i++, page++) {
			bool data = pagemap_has_data(entries[i]);
			if (data && !in_data) {
				in_data = true;
				*start = page * MEMORY_PAGE;
			} else if (!data && in_data) {
				*end = page * MEMORY_PAGE;
				close(fd);
				return 1;
			}
		}
	}
	if (in_data && !ret) {
		*end = slot->size;
		ret = 1;
	}
	close(fd);
	return ret;
}
