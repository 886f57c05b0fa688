/*
 * Unit test of the LoongArch EFI system table and memory map. An independent decoder, written from the UEFI and
 * Linux structure layouts (not from efi.c), walks the blob the way arch/loongarch/kernel/efi.c does: system table
 * signature, header size and CRC, vendor string, configuration tables by GUID, then the boot memory map, and checks
 * that the descriptors cover exactly the RAM banks, in order, with the reserved ranges typed. Also the error cases.
 */
#include "arch/loongarch/efi.h"
#include "check.h"

#include <errno.h>
#include <stdlib.h>

#define TABLE_GPA 0x110000ull

/* --- the independent decoder ------------------------------------------------------------------------------ */

static uint64_t rd(const uint8_t *p, int n)
{
	uint64_t v = 0;
	for (int i = 0; i < n; i++)
		v |= (uint64_t)p[i] << (8 * i);
	return v;
}

/* Table-driven CRC-32 (a different implementation from efi.c's bitwise one). */
static uint32_t crc32_table_driven(const uint8_t *p, size_t len)
{
	uint32_t table[256];
	for (uint32_t i = 0; i < 256; i++) {
		uint32_t c = i;
		for (int k = 0; k < 8; k++)
			c = c & 1 ? 0xedb88320u ^ (c >> 1) : c >> 1;
		table[i] = c;
	}
	uint32_t crc = 0xffffffffu;
	for (size_t i = 0; i < len; i++)
		crc = table[(crc ^ p[i]) & 0xff] ^ (crc >> 8);
	return crc ^ 0xffffffffu;
}

/* A GUID in its text form ("800f683f-d08b-423a-a293-965c3c6fe2b4") as the 16 bytes EFI stores. */
static void guid_bytes(const char *text, uint8_t out[16])
{
	unsigned a, b, c, d[8];
	sscanf(text, "%8x-%4x-%4x-%2x%2x-%2x%2x%2x%2x%2x%2x", &a, &b, &c, &d[0], &d[1], &d[2], &d[3], &d[4], &d[5],
	       &d[6], &d[7]);
	for (int i = 0; i < 4; i++)
		out[i] = (uint8_t)(a >> (8 * i));
	out[4] = (uint8_t)b, out[5] = (uint8_t)(b >> 8), out[6] = (uint8_t)c, out[7] = (uint8_t)(c >> 8);
	for (int i = 0; i < 8; i++)
		out[8 + i] = (uint8_t)d[i];
}

struct decoded {
	uint64_t memmap_gpa, fdt_gpa, initrd_table_gpa;
	int nr_tables;
	int nr_desc;
	struct {
		uint32_t type;
		uint64_t base, pages, attr;
	} desc[32];
	uint64_t initrd_base, initrd_size;
	char vendor[16];
};

/* Decodes the blob at TABLE_GPA; returns 0 or a negative line number of the first violation. */
static int decode(const uint8_t *buf, size_t len, struct decoded *d)
{
	memset(d, 0, sizeof(*d));
	if (len < 120 || rd(buf, 8) != 0x5453595320494249ull || rd(buf + 12, 4) != 120)
		return -__LINE__;
	uint8_t hdr[120];
	memcpy(hdr, buf, 120);
	memset(hdr + 16, 0, 4);
	if (crc32_table_driven(hdr, 120) != rd(buf + 16, 4) || rd(buf + 8, 4) >> 16 != 2)
		return -__LINE__;
	uint64_t vendor = rd(buf + 24, 8) - TABLE_GPA;
	for (int i = 0; i < 15 && vendor + 2 * i + 1 < len && rd(buf + vendor + 2 * i, 2); i++)
		d->vendor[i] = (char)rd(buf + vendor + 2 * i, 2);
	if (rd(buf + 88, 8) || rd(buf + 96, 8)) /* no runtime or boot services */
		return -__LINE__;
	d->nr_tables = (int)rd(buf + 104, 8);
	uint64_t tables = rd(buf + 112, 8) - TABLE_GPA;
	uint8_t g_memmap[16], g_fdt[16], g_initrd[16];
	guid_bytes("800f683f-d08b-423a-a293-965c3c6fe2b4", g_memmap);
	guid_bytes("b1b621d5-f19c-41a5-830b-d9152c69aae0", g_fdt);
	guid_bytes("5568e427-68fc-4f3d-ac74-ca555231cc68", g_initrd);
	for (int i = 0; i < d->nr_tables; i++) {
		const uint8_t *t = buf + tables + 24 * (uint64_t)i;
		if (tables + 24 * (uint64_t)(i + 1) > len)
			return -__LINE__;
		if (!memcmp(t, g_memmap, 16))
			d->memmap_gpa = rd(t + 16, 8);
		else if (!memcmp(t, g_fdt, 16))
			d->fdt_gpa = rd(t + 16, 8);
		else if (!memcmp(t, g_initrd, 16))
			d->initrd_table_gpa = rd(t + 16, 8);
		else
			return -__LINE__;
	}
	if (!d->memmap_gpa)
		return -__LINE__;
	const uint8_t *m = buf + (d->memmap_gpa - TABLE_GPA);
	uint64_t map_size = rd(m, 8), desc_size = rd(m + 8, 8);
	if (desc_size < 40 || rd(m + 16, 4) != 1 || map_size % desc_size || rd(m + 32, 8) < map_size)
		return -__LINE__;
	d->nr_desc = (int)(map_size / desc_size);
	for (int i = 0; i < d->nr_desc && i < 32; i++) {
		const uint8_t *e = m + 40 + desc_size * (uint64_t)i;
		d->desc[i].type = (uint32_t)rd(e, 4);
		d->desc[i].base = rd(e + 8, 8);
		d->desc[i].pages = rd(e + 24, 8);
		d->desc[i].attr = rd(e + 32, 8);
	}
	if (d->initrd_table_gpa) {
		const uint8_t *t = buf + (d->initrd_table_gpa - TABLE_GPA);
		d->initrd_base = rd(t, 8);
		d->initrd_size = rd(t + 8, 8);
	}
	return 0;
}

/* --- the cases -------------------------------------------------------------------------------------------- */

static struct loongarch_efi_params params_2banks(void)
{
	struct loongarch_efi_params p = {
	    .table_gpa = TABLE_GPA,
	    .nr_ranges = 3,
	    .ranges = {{0x100000, 0x100000, EFI_LOADER_DATA},
		       {0x200000, 0x1234567, EFI_LOADER_CODE},
		       {0x0e000000, 0x100001, EFI_LOADER_DATA}},
	    .fdt_gpa = 0x100000,
	    .initrd_gpa = 0x0e000000,
	    .initrd_size = 0x100001,
	};
	p.nr_banks = loongarch_ram_banks(768ull << 20, p.banks);
	return p;
}

static void test_full_table(void)
{
	struct loongarch_efi_params p = params_2banks();
	uint8_t *buf = calloc(1, 0x10000);
	const char *why = NULL;
	int len = loongarch_efi_build(&p, buf, 0x10000, &why);
	CHECK(len > 0);
	struct decoded d;
	CHECK_EQ(decode(buf, (size_t)len, &d), 0);
	CHECK(!strcmp(d.vendor, "roam"));
	CHECK_EQ(d.nr_tables, 3);
	CHECK_EQ(d.fdt_gpa, 0x100000);
	CHECK_EQ(d.initrd_base, 0x0e000000);
	CHECK_EQ(d.initrd_size, 0x100001);
	/* low bank: free, boot info, kernel (rounded up to pages), free, initrd (rounded), free; high bank: free */
	static const struct {
		uint32_t type;
		uint64_t base, end;
	} want[] = {
	    {EFI_CONVENTIONAL_MEMORY, 0, 0x100000},
	    {EFI_LOADER_DATA, 0x100000, 0x200000},
	    {EFI_LOADER_CODE, 0x200000, 0x1435000},
	    {EFI_CONVENTIONAL_MEMORY, 0x1435000, 0x0e000000},
	    {EFI_LOADER_DATA, 0x0e000000, 0x0e101000},
	    {EFI_CONVENTIONAL_MEMORY, 0x0e101000, 0x10000000},
	    {EFI_CONVENTIONAL_MEMORY, 0x80000000, 0xa0000000},
	};
	CHECK_EQ(d.nr_desc, 7);
	for (int i = 0; i < 7 && i < d.nr_desc; i++) {
		CHECK_EQ(d.desc[i].type, want[i].type);
		CHECK_EQ(d.desc[i].base, want[i].base);
		CHECK_EQ(d.desc[i].base + d.desc[i].pages * 4096, want[i].end);
		CHECK_EQ(d.desc[i].attr, EFI_MEMORY_WB);
	}
	/* The total is exactly the guest's RAM. */
	uint64_t pages = 0;
	for (int i = 0; i < d.nr_desc; i++)
		pages += d.desc[i].pages;
	CHECK_EQ(pages * 4096, 768ull << 20);
	/* A corrupted header fails the CRC. */
	buf[40] ^= 1;
	CHECK(decode(buf, (size_t)len, &d) < 0);
	free(buf);
}

static void test_no_initrd_no_fdt(void)
{
	struct loongarch_efi_params p = params_2banks();
	p.initrd_size = 0;
	p.fdt_gpa = 0;
	p.nr_ranges = 2;
	p.nr_banks = loongarch_ram_banks(64ull << 20, p.banks);
	p.ranges[1].size = 0x100000;
	uint8_t buf[4096];
	const char *why = NULL;
	int len = loongarch_efi_build(&p, buf, sizeof(buf), &why);
	struct decoded d;
	CHECK(len > 0);
	CHECK_EQ(decode(buf, (size_t)len, &d), 0);
	CHECK_EQ(d.nr_tables, 1);
	CHECK_EQ(d.initrd_table_gpa, 0);
	CHECK_EQ(d.nr_desc, 4);
	CHECK_EQ(d.desc[3].base + d.desc[3].pages * 4096, 64ull << 20);
	/* Too small a window. */
	CHECK_EQ(loongarch_efi_build(&p, buf, 200, &why), -ENOSPC);
	CHECK_CONTAINS(why, "do not fit");
}

static void test_bad_ranges(void)
{
	struct loongarch_efi_params p = params_2banks();
	struct loongarch_efi_desc descs[LOONGARCH_EFI_MAX_DESCS];
	const char *why = NULL;
	p.ranges[2].base = 0x1300000; /* overlaps the kernel's last page */
	CHECK_EQ(loongarch_efi_memmap(&p, descs, &why), -EINVAL);
	CHECK_CONTAINS(why, "share a page");
	p = params_2banks();
	p.ranges[2].base = 0x0ff00000; /* crosses the end of low RAM */
	p.ranges[2].size = 0x200000;
	CHECK_EQ(loongarch_efi_memmap(&p, descs, &why), -EINVAL);
	CHECK_CONTAINS(why, "crosses the end of a RAM bank");
	p = params_2banks();
	p.ranges[2].base = 0x40000000; /* between the banks */
	CHECK_EQ(loongarch_efi_memmap(&p, descs, &why), -EINVAL);
	CHECK_CONTAINS(why, "outside guest RAM");
	p = params_2banks();
	p.banks[0].size = 0x1000001;
	CHECK_EQ(loongarch_efi_memmap(&p, descs, &why), -EINVAL);
	CHECK_CONTAINS(why, "not page aligned");
	p = params_2banks();
	p.nr_ranges = LOONGARCH_EFI_MAX_RANGES + 1;
	CHECK_EQ(loongarch_efi_memmap(&p, descs, &why), -EINVAL);
	p = params_2banks();
	p.ranges[0].base = UINT64_MAX - 10;
	CHECK_EQ(loongarch_efi_memmap(&p, descs, &why), -EINVAL);
	CHECK_CONTAINS(why, "wraps");
	p = params_2banks();
	p.nr_banks = 0;
	CHECK_EQ(loongarch_efi_memmap(&p, descs, &why), -EINVAL);
}

int main(void)
{
	/* The CRC of "123456789" is the standard check value. */
	CHECK_EQ(loongarch_efi_crc32((const uint8_t *)"123456789", 9), 0xcbf43926);
	CHECK_EQ(crc32_table_driven((const uint8_t *)"123456789", 9), 0xcbf43926);
	test_full_table();
	test_no_initrd_no_fdt();
	test_bad_ranges();
	return check_exit();
}
