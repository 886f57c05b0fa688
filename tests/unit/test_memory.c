/* Unit test of guest memory: slot validation and the checked guest-address translation (rule 8). */
#include "check.h"
#include "core/memory.h"

#include <errno.h>

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
	return check_exit();
}
