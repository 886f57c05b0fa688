/*
 * Unit test of guest memory: slot validation, the checked guest-address translation (rule 8), huge-page alignment,
 * and where a slot may hold data (memory_slot_data_range: touched pages only, and asking maps nothing).
 */
#include "check.h"
#include "core/memory.h"

#include <errno.h>
#include <sys/mman.h>

/* A 64-page slot with small pages: pages 3, 4 and 63 written; the ranges are exactly those, and reading them as a
 * snapshot does (range by range) leaves the rest unmapped. */
static void test_data_ranges(void)
{
	enum { PAGE = 4096, PAGES = 64 };
	struct guest_memory mem;
	memory_init(&mem);
	CHECK_EQ(memory_add_slot(&mem, "ram", 0x40000000, PAGES * PAGE, false), 0);
	struct memory_slot *slot = &mem.slots[0];
	CHECK_EQ(slot->map_size, PAGES * PAGE); /* small: no huge page (it would be 2 MiB for 256 KiB) */
	uint64_t start = 1, end = 1;
	CHECK_EQ(memory_slot_data_range(slot, 0, &start, &end), 0); /* never touched */
	slot->host[3 * PAGE + 5] = 1;
	slot->host[4 * PAGE] = 2;
	slot->host[63 * PAGE + PAGE - 1] = 3;
	CHECK_EQ(memory_slot_data_range(slot, 0, &start, &end), 1);
	CHECK_EQ(start, 3 * PAGE);
	CHECK_EQ(end, 5 * PAGE);
	CHECK_EQ(memory_slot_data_range(slot, end, &start, &end), 1);
	CHECK_EQ(start, 63 * PAGE);
	CHECK_EQ(end, PAGES * PAGE);
	CHECK_EQ(memory_slot_data_range(slot, end, &start, &end), 0);
	CHECK_EQ(memory_slot_data_range(slot, 4 * PAGE + 100, &start, &end), 1); /* from inside a range */
	CHECK_EQ(start, 4 * PAGE);
	unsigned char resident[PAGES];
	CHECK_EQ(mincore(slot->host, PAGES * PAGE, resident), 0);
	int mapped = 0;
	for (int i = 0; i < PAGES; i++)
		mapped += resident[i] & 1;
	CHECK_EQ(mapped, 3);
	/* A large slot is 2 MiB aligned: huge pages from its first byte. */
	CHECK_EQ(memory_add_slot(&mem, "big", 0x80000000, 3u << 20, false), 1);
	CHECK_EQ((uintptr_t)mem.slots[1].host % (2u << 20), 0);
	CHECK_EQ(mem.slots[1].map_size, 4u << 20);
	memory_fini(&mem);
}

int main(void)
{
	struct guest_memory mem;
	memory_init(&mem);

	CHECK_EQ(memory_add_slot(&mem, "unaligned", 0x1001, 0x1000, false), -EINVAL);
	CHECK_EQ(memory_add_slot(&mem, "empty", 0x1000, 0, false), -EINVAL);
	CHECK_EQ(memory_add_slot(&mem, "wrap", UINT64_MAX - 0xfff, 0x2000, false), -EINVAL);
	CHECK_EQ(memory_add_slot(&mem, "ram", 0x40000000, 0x200000, false), 0);
	CHECK_EQ(memory_add_slot(&mem, "overlap", 0x401ff000, 0x2000, false), -EEXIST);
	CHECK_EQ(memory_add_slot(&mem, "pvlock", 0x09100000, 0x10000, true), 1);
	CHECK(mem.slots[1].guest_readonly);

	uint8_t *base = memory_gpa_to_host(&mem, 0x40000000, 1);
	CHECK(base != NULL);
	CHECK(memory_gpa_to_host(&mem, 0x40000000, 0x200000) == base);
	CHECK(memory_gpa_to_host(&mem, 0x401fffff, 1) == base + 0x1fffff);
	CHECK(memory_gpa_to_host(&mem, 0x401fffff, 2) == NULL); /* runs off the end */
	CHECK(memory_gpa_to_host(&mem, 0x3fffffff, 2) == NULL); /* starts before */
	CHECK(memory_gpa_to_host(&mem, 0x40000000, 0) == NULL); /* empty */
	CHECK(memory_gpa_to_host(&mem, 0x40000010, UINT64_MAX) == NULL); /* gpa + len overflows */
	CHECK(memory_gpa_to_host(&mem, UINT64_MAX, 2) == NULL);
	CHECK(memory_gpa_to_host(&mem, 0x091000ff, 0x10000) == NULL); /* crosses out of the small slot */

	uint64_t value = 0x1122334455667788ull, back = 0;
	CHECK_EQ(memory_write(&mem, 0x40000100, &value, sizeof(value)), 0);
	CHECK_EQ(memory_read(&mem, 0x40000100, &back, sizeof(back)), 0);
	CHECK_EQ(back, value);
	CHECK_EQ(memory_read(&mem, 0x50000000, &back, sizeof(back)), -EFAULT);
	CHECK(memory_find_slot(&mem, 0x09100000) == &mem.slots[1]);
	memory_fini(&mem);
	CHECK_EQ(mem.nr_slots, 0);
	test_data_ranges();
	return check_exit();
}
