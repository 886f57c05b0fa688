/*
 * The MMIO bus: a sorted table of non-overlapping guest-physical windows, each owned by a device that only ever sees
 * offsets inside its own window (DESIGN.md rule 6). The table is built before vCPUs run and is read-only afterwards,
 * so lookups need no lock; devices lock their own state.
 */
#ifndef ROAM_BUS_H
#define ROAM_BUS_H

#include <stdbool.h>
#include <stdint.h>

#define BUS_MAX_RANGES 64

/*
 * A device's access handler. `data` holds `len` bytes (1, 2, 4 or 8) in guest byte order (little-endian): read
 * handlers fill it, write handlers consume it. Returns 0, or a negative errno for an access the device rejects
 * (roam then logs it; reads return zeros).
 */
typedef int (*bus_access_fn)(void *opaque, uint64_t offset, uint8_t *data, uint32_t len, bool is_write);

struct bus_range {
	uint64_t base;
	uint64_t len;
	const char *name;
	bus_access_fn access;
	void *opaque;
};

struct bus {
	struct bus_range ranges[BUS_MAX_RANGES];
	int nr_ranges;
};

/* Initializes an empty bus. */
void bus_init(struct bus *bus);

/*
 * Adds a window. Refuses (with a message naming `name`) a zero length, a range that wraps around, a range that
 * overlaps an existing window, and a full table. Returns 0 or -EINVAL/-EEXIST/-ENOSPC.
 */
int bus_insert(struct bus *bus, uint64_t base, uint64_t len, const char *name, bus_access_fn access, void *opaque);

/* The window that fully contains [addr, addr+len), or NULL; *offset receives addr - base. */
const struct bus_range *bus_find(const struct bus *bus, uint64_t addr, uint32_t len, uint64_t *offset);

/*
 * Dispatches one access. Returns 0 when a device handled it, -ENOENT when nothing is mapped there (reads then
 * return zeros), or the device's error.
 */
int bus_access(const struct bus *bus, uint64_t addr, uint8_t *data, uint32_t len, bool is_write);

#endif
