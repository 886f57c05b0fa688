/* The direct-boot EFI system table, configuration tables and memory map: see efi.h. */
#include "efi.h"

#include <errno.h>
#include <stdbool.h>
#include <string.h>

struct efi_guid {
	uint32_t a;
	uint16_t b, c;
	uint8_t d[8];
};

/* include/linux/efi.h */
static const struct efi_guid efi_guid_boot_memmap = {
    0x800f683f, 0xd08b, 0x423a, {0xa2, 0x93, 0x96, 0x5c, 0x3c, 0x6f, 0xe2, 0xb4}};
static const struct efi_guid efi_guid_device_tree = {
    0xb1b621d5, 0xf19c, 0x41a5, {0x83, 0x0b, 0xd9, 0x15, 0x2c, 0x69, 0xaa, 0xe0}};
static const struct efi_guid efi_guid_initrd_media = {
    0x5568e427, 0x68fc, 0x4f3d, {0xac, 0x74, 0xca, 0x55, 0x52, 0x31, 0xcc, 0x68}};

uint32_t loongarch_efi_crc32(const uint8_t *data, size_t len)
{
	uint32_t crc = 0xffffffffu;
	for (size_t i = 0; i < len; i++) {
		crc ^= data[i];
		for (int bit = 0; bit < 8; bit++)
			crc = (crc >> 1) ^ (0xedb88320u & (0u - (crc & 1u)));
	}
	return ~crc;
}

static void put_le(uint8_t *p, uint64_t v, int bytes)
{
	for (int i = 0; i < bytes; i++)
		p[i] = (uint8_t)(v >> (8 * i));
}

static void put_guid(uint8_t *p, const struct efi_guid *g)
{
	put_le(p, g->a, 4);
	put_le(p + 4, g->b, 2);
	put_le(p + 6, g->c, 2);
	memcpy(p + 8, g->d, 8);
}

static uint64_t align_up(uint64_t v, uint64_t a)
{
	return (v + a - 1) & ~(a - 1);
}

static int fail(const char **why, const char *reason)
{
	*why = reason;
	return -EINVAL;
}

/* The ranges widened to whole pages, without empty ones, sorted by address. */
static int efi_sorted_ranges(const struct loongarch_efi_params *p, struct loongarch_efi_range *out, const char **why)
{
	int n = 0;
	if (p->nr_ranges < 0 || p->nr_ranges > LOONGARCH_EFI_MAX_RANGES)
		return fail(why, "too many reserved ranges for the EFI memory map");
	for (int i = 0; i < p->nr_ranges; i++) {
		const struct loongarch_efi_range *r = &p->ranges[i];
		if (r->size == 0)
			continue;
		if (r->base + r->size < r->base || r->base + r->size > UINT64_MAX - EFI_PAGE_SIZE)
			return fail(why, "a reserved range wraps around the address space");
		struct loongarch_efi_range w = {r->base & ~(EFI_PAGE_SIZE - 1), 0, r->type};
		w.size = align_up(r->base + r->size, EFI_PAGE_SIZE) - w.base;
		int j = n++;
		while (j > 0 && out[j - 1].base > w.base) {
			out[j] = out[j - 1];
			j--;
		}
		out[j] = w;
	}
	for (int i = 1; i < n; i++)
		if (out[i - 1].base + out[i - 1].size > out[i].base)
			return fail(why, "two reserved ranges share a page");
	return n;
}

static int efi_emit(struct loongarch_efi_desc *descs, int n, uint32_t type, uint64_t base, uint64_t end)
{
	descs[n].type = type;
	descs[n].base = base;
	descs[n].pages = (end - base) / EFI_PAGE_SIZE;
	return n + 1;
}

int loongarch_efi_memmap(const struct loongarch_efi_params *p, struct loongarch_efi_desc descs[LOONGARCH_EFI_MAX_DESCS],
			 const char **why)
{
	struct loongarch_efi_range ranges[LOONGARCH_EFI_MAX_RANGES];
	int nr = efi_sorted_ranges(p, ranges, why);
	if (nr < 0)
		return nr;
	if (p->nr_banks < 1 || p->nr_banks > LOONGARCH_MAX_RAM_BANKS)
		return fail(why, "no RAM bank for the EFI memory map");
	int n = 0, placed = 0;
	for (int b = 0; b < p->nr_banks; b++) {
		uint64_t start = p->banks[b].base, end = start + p->banks[b].size, cursor = start;
		if ((start | end) & (EFI_PAGE_SIZE - 1) || end <= start)
			return fail(why, "a RAM bank is empty or not page aligned");
		for (int i = 0; i < nr; i++) {
			uint64_t r_end = ranges[i].base + ranges[i].size;
			if (ranges[i].base >= end || r_end <= start)
				continue;
			if (ranges[i].base < start || r_end > end)
				return fail(why, "a reserved range crosses the end of a RAM bank");
			if (ranges[i].base > cursor)
				n = efi_emit(descs, n, EFI_CONVENTIONAL_MEMORY, cursor, ranges[i].base);
			n = efi_emit(descs, n, ranges[i].type, ranges[i].base, r_end);
			cursor = r_end;
			placed++;
		}
		if (cursor < end)
			n = efi_emit(descs, n, EFI_CONVENTIONAL_MEMORY, cursor, end);
	}
	if (placed != nr)
		return fail(why, "a reserved range lies outside guest RAM");
	return n;
}

static void efi_put_desc(uint8_t *p, const struct loongarch_efi_desc *d)
{
	memset(p, 0, EFI_MEMORY_DESC_SIZE);
	put_le(p, d->type, 4);
	put_le(p + 8, d->base, 8); /* physical address */
	put_le(p + 16, 0, 8); /* virtual address: no runtime mapping */
	put_le(p + 24, d->pages, 8);
	put_le(p + 32, EFI_MEMORY_WB, 8);
}

int loongarch_efi_build(const struct loongarch_efi_params *p, uint8_t *buf, size_t len, const char **why)
{
	static const char vendor[] = "roam";
	struct loongarch_efi_desc descs[LOONGARCH_EFI_MAX_DESCS];
	int nr_descs = loongarch_efi_memmap(p, descs, why);
	if (nr_descs < 0)
		return nr_descs;
	bool has_initrd = p->initrd_size != 0;
	int nr_tables = 1 + (p->fdt_gpa != 0) + has_initrd;

	size_t vendor_off = EFI_SYSTEM_TABLE_SIZE;
	size_t tables_off = align_up(vendor_off + 2 * sizeof(vendor), 8);
	size_t initrd_off = tables_off + (size_t)nr_tables * EFI_CONFIG_TABLE_SIZE;
	size_t memmap_off = initrd_off + (has_initrd ? 16 : 0);
	size_t map_size = (size_t)nr_descs * EFI_MEMORY_DESC_SIZE;
	size_t total = memmap_off + EFI_BOOT_MEMMAP_HEADER_SIZE + map_size;
	if (total > len) {
		*why = "the EFI tables do not fit in their window";
		return -ENOSPC;
	}
	memset(buf, 0, total);

	for (size_t i = 0; i < sizeof(vendor); i++)
		put_le(buf + vendor_off + 2 * i, (uint8_t)vendor[i], 2); /* UCS-2, NUL included */

	uint8_t *t = buf + tables_off;
	put_guid(t, &efi_guid_boot_memmap);
	put_le(t + 16, p->table_gpa + memmap_off, 8);
	t += EFI_CONFIG_TABLE_SIZE;
	if (p->fdt_gpa) {
		put_guid(t, &efi_guid_device_tree);
		put_le(t + 16, p->fdt_gpa, 8);
		t += EFI_CONFIG_TABLE_SIZE;
	}
	if (has_initrd) {
		put_guid(t, &efi_guid_initrd_media);
		put_le(t + 16, p->table_gpa + initrd_off, 8);
		put_le(buf + initrd_off, p->initrd_gpa, 8);
		put_le(buf + initrd_off + 8, p->initrd_size, 8);
	}

	uint8_t *m = buf + memmap_off;
	put_le(m, map_size, 8); /* map_size */
	put_le(m + 8, EFI_MEMORY_DESC_SIZE, 8); /* desc_size */
	put_le(m + 16, EFI_MEMORY_DESC_VERSION, 4); /* desc_ver (then 4 bytes of padding) */
	put_le(m + 24, 0, 8); /* map_key */
	put_le(m + 32, map_size, 8); /* buff_size */
	for (int i = 0; i < nr_descs; i++)
		efi_put_desc(m + EFI_BOOT_MEMMAP_HEADER_SIZE + (size_t)i * EFI_MEMORY_DESC_SIZE, &descs[i]);

	put_le(buf, EFI_SYSTEM_TABLE_SIGNATURE, 8);
	put_le(buf + 8, EFI_SYSTEM_TABLE_REVISION, 4);
	put_le(buf + 12, EFI_SYSTEM_TABLE_SIZE, 4);
	put_le(buf + 24, p->table_gpa + vendor_off, 8); /* fw_vendor */
	put_le(buf + 32, 0x00010000, 4); /* fw_revision */
	put_le(buf + 104, (uint64_t)nr_tables, 8);
	put_le(buf + 112, p->table_gpa + tables_off, 8);
	put_le(buf + 16, loongarch_efi_crc32(buf, EFI_SYSTEM_TABLE_SIZE), 4); /* computed with the field at 0 */
	return (int)total;
}
