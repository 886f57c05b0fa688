/* The MMIO bus: see bus.h. The table is small and sorted; a linear scan beats anything cleverer at this size. */
#include "bus.h"

#include "log.h"

#include <errno.h>
#include <string.h>

void bus_init(struct bus *bus)
{
	memset(bus, 0, sizeof(*bus));
}

int bus_insert(struct bus *bus, uint64_t base, uint64_t len, const char *name, bus_access_fn access, void *opaque)
{
	if (len == 0)
		return log_errno(-EINVAL, "bus: %s has a zero-length window", name);
	if (base + len < base)
		return log_errno(-EINVAL, "bus: %s window %#llx+%#llx wraps around", name, (unsigned long long)base,
				 (unsigned long long)len);
	if (bus->nr_ranges == BUS_MAX_RANGES)
		return log_errno(-ENOSPC, "bus: no room for %s (%d windows)", name, BUS_MAX_RANGES);
	int pos = 0;
	for (; pos < bus->nr_ranges; pos++) {
		const struct bus_range *r = &bus->ranges[pos];
		if (base < r->base + r->len && r->base < base + len)
			return log_errno(-EEXIST, "bus: %s window %#llx+%#llx overlaps %s", name,
					 (unsigned long long)base, (unsigned long long)len, r->name);
		if (base < r->base)
			break;
	}
	for (int i = pos; i < bus->nr_ranges; i++)
		if (base + len > bus->ranges[i].base)
			return log_errno(-EEXIST, "bus: %s window %#llx+%#llx overlaps %s", name,
					 (unsigned long long)base, (unsigned long long)len, bus->ranges[i].name);
	memmove(&bus->ranges[pos + 1], &bus->ranges[pos], sizeof(bus->ranges[0]) * (size_t)(bus->nr_ranges - pos));
	bus->ranges[pos] = (struct bus_range){base, len, name, access, opaque};
	bus->nr_ranges++;
	return 0;
}

const struct bus_range *bus_find(const struct bus *bus, uint64_t addr, uint32_t len, uint64_t *offset)
{
	for (int i = 0; i < bus->nr_ranges; i++) {
		const struct bus_range *r = &bus->ranges[i];
		if (addr >= r->base && addr - r->base < r->len) {
			if (len > r->len - (addr - r->base))
				return NULL;
			*offset = addr - r->base;
			return r;
		}
	}
	return NULL;
}

int bus_access(const struct bus *bus, uint64_t addr, uint8_t *data, uint32_t len, bool is_write)
{
	uint64_t offset;
	const struct bus_range *r = bus_find(bus, addr, len, &offset);
	if (!r) {
		if (!is_write)
			memset(data, 0, len);
		return -ENOENT;
	}
	return r->access(r->opaque, offset, data, len, is_write);
}
