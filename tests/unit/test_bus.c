/* Unit test of the MMIO bus: range validation (zero length, wrap-around, overlap) and dispatch by offset. */
#include "check.h"
#include "core/bus.h"

#include <errno.h>

struct fake_dev {
	uint64_t last_offset;
	uint32_t last_len;
	int writes;
};

static int fake_access(void *opaque, uint64_t offset, uint8_t *data, uint32_t len, bool is_write)
{
	struct fake_dev *d = opaque;
	d->last_offset = offset;
	d->last_len = len;
	if (is_write)
		d->writes++;
	else
		data[0] = 0x5a;
	return 0;
}

int main(void)
{
	struct bus bus;
	struct fake_dev a = {0}, b = {0};
	bus_init(&bus);

	CHECK_EQ(bus_insert(&bus, 0x1000, 0, "zero", fake_access, &a), -EINVAL);
	CHECK_EQ(bus_insert(&bus, UINT64_MAX - 0xf, 0x20, "wrap", fake_access, &a), -EINVAL);
	CHECK_EQ(bus_insert(&bus, 0x2000, 0x100, "b", fake_access, &b), 0);
	CHECK_EQ(bus_insert(&bus, 0x1000, 0x100, "a", fake_access, &a), 0);
	CHECK_EQ(bus_insert(&bus, 0x10ff, 0x2, "overlap-end", fake_access, &a), -EEXIST);
	CHECK_EQ(bus_insert(&bus, 0x0f00, 0x101, "overlap-start", fake_access, &a), -EEXIST);
	CHECK_EQ(bus_insert(&bus, 0x1800, 0x1000, "overlap-next", fake_access, &a), -EEXIST);
	CHECK_EQ(bus_insert(&bus, 0x1100, 0xf00, "exact-gap", fake_access, &a), 0);
	CHECK_EQ(bus.nr_ranges, 3);
	CHECK(bus.ranges[0].base < bus.ranges[1].base && bus.ranges[1].base < bus.ranges[2].base);

	uint8_t data[8] = {0};
	CHECK_EQ(bus_access(&bus, 0x2010, data, 4, true), 0);
	CHECK_EQ(b.last_offset, 0x10);
	CHECK_EQ(b.last_len, 4);
	CHECK_EQ(b.writes, 1);
	CHECK_EQ(bus_access(&bus, 0x1004, data, 1, false), 0);
	CHECK_EQ(data[0], 0x5a);
	CHECK_EQ(a.last_offset, 4);

	/* Unmapped addresses and accesses straddling a window's end read as zero and report -ENOENT. */
	data[0] = 0xff;
	CHECK_EQ(bus_access(&bus, 0x3000, data, 1, false), -ENOENT);
	CHECK_EQ(data[0], 0);
	CHECK_EQ(bus_access(&bus, 0x20fe, data, 4, false), -ENOENT);

	for (int i = 0; i < BUS_MAX_RANGES; i++)
		bus_insert(&bus, 0x100000 + 0x1000 * (uint64_t)i, 0x10, "fill", fake_access, &a);
	CHECK_EQ(bus.nr_ranges, BUS_MAX_RANGES);
	CHECK_EQ(bus_insert(&bus, 0x900000, 0x10, "full", fake_access, &a), -ENOSPC);
	return check_exit();
}
