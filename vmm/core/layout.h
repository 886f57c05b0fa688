/*
 * The form of every architecture's memory map (DESIGN.md rule 7, after QEMU's hw/arm/virt.c): a const table of
 * named {base, size} regions indexed by an enum, both made by LAYOUT_DEFINE from one list, so the enum and the table
 * cannot disagree. Freestanding (guest code includes the maps too) and only for C, not assembly.
 */
#ifndef ROAM_LAYOUT_H
#define ROAM_LAYOUT_H

#include <stdint.h>

struct layout_region {
	const char *name;
	uint64_t base;
	uint64_t size;
};

#define LAYOUT_ENUM_ENTRY(P, id, name, base, size) P##_REGION_##id,
#define LAYOUT_TABLE_ENTRY(P, id, name, base, size) [P##_REGION_##id] = {name, base, size},

/*
 * Defines `enum lower_region` with UPPER_REGION_<id> for every region and UPPER_REGION_COUNT, and the table
 * `static const struct layout_region lower_layout[]`. LIST(M, P) must expand to M(P, id, "name", base, size) for
 * every region, in address order.
 */
#define LAYOUT_DEFINE(lower, UPPER, LIST)                                                                              \
	enum lower##_region{LIST(LAYOUT_ENUM_ENTRY, UPPER) UPPER##_REGION_COUNT};                                      \
	static const struct layout_region lower##_layout[UPPER##_REGION_COUNT] = {LIST(LAYOUT_TABLE_ENTRY, UPPER)};

/*
 * The first pair of the `n` regions that overlap, other than a pair the caller allows (nested(i, k) true), as
 * indexes into *a < *b; returns 0 when there is none, 1 when it found one. For the maps' unit tests.
 */
static inline int layout_find_overlap(const struct layout_region *r, int n, int (*nested)(int i, int k), int *a, int *b)
{
	for (int i = 0; i < n; i++)
		for (int k = i + 1; k < n; k++)
			if (r[i].base < r[k].base + r[k].size && r[k].base < r[i].base + r[i].size &&
			    !(nested && nested(i, k))) {
				*a = i;
				*b = k;
				return 1;
			}
	return 0;
}

#endif
