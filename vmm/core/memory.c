/* Guest physical memory slots and checked guest-address translation: see memory.h. */
#include "memory.h"

#include "log.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#define MEMORY_PAGE 4096ull

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

	int fd = memfd_create(name, MFD_CLOEXEC);
	if (fd < 0)
		return log_errno(-errno, "memory %s: memfd_create: %s", name, strerror(errno));
	if (ftruncate(fd, (off_t)size) < 0) {
		int err = -errno;
		close(fd);
		return log_errno(err, "memory %s: cannot size %llu MiB: %s", name, (unsigned long long)(size >> 20),
				 strerror(-err));
	}
	void *host = mmap(NULL, size, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_NORESERVE, fd, 0);
	if (host == MAP_FAILED) {
		int err = -errno;
		close(fd);
		return log_errno(err, "memory %s: cannot map %llu MiB: %s", name, (unsigned long long)(size >> 20),
				 strerror(-err));
	}
	struct memory_slot *slot = &mem->slots[mem->nr_slots];
	*slot = (struct memory_slot){
	    .name = name, .gpa = gpa, .size = size, .host = host, .fd = fd, .guest_readonly = guest_readonly};
	return mem->nr_slots++;
}

void memory_fini(struct guest_memory *mem)
{
	for (int i = 0; i < mem->nr_slots; i++) {
		munmap(mem->slots[i].host, mem->slots[i].size);
		close(mem->slots[i].fd);
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
