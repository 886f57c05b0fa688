/* LoongArch kernel image parsing and boot placement: see image.h. */
#include "image.h"

#include <errno.h>
#include <stdbool.h>
#include <string.h>

#define ELF_MACHINE_LOONGARCH 258
#define ELF_PT_LOAD 1
#define ELF_EHDR_SIZE 64
#define ELF_PHDR_SIZE 56

static uint64_t get_le(const uint8_t *p, int bytes)
{
	uint64_t v = 0;
	for (int i = bytes - 1; i >= 0; i--)
		v = (v << 8) | p[i];
	return v;
}

static int fail(const char **why, const char *reason)
{
	*why = reason;
	return -EINVAL;
}

static void kernel_add_extent(struct loongarch_kernel *k, uint64_t paddr, uint64_t size)
{
	if (k->nr_segments == 1 || paddr < k->start)
		k->start = paddr;
	if (k->nr_segments == 1 || paddr + size > k->end)
		k->end = paddr + size;
}

static int parse_elf(const uint8_t *h, size_t len, uint64_t file_size, struct loongarch_kernel *k, const char **why)
{
	if (len < ELF_EHDR_SIZE)
		return fail(why, "not a LoongArch kernel: the ELF header is truncated");
	if (h[4] != 2 || h[5] != 1)
		return fail(why, "not a LoongArch kernel: a 32-bit or big-endian ELF file");
	if (get_le(h + 18, 2) != ELF_MACHINE_LOONGARCH)
		return fail(why, "not a LoongArch kernel: an ELF file for another machine");
	uint64_t phoff = get_le(h + 32, 8), phentsize = get_le(h + 54, 2), phnum = get_le(h + 56, 2);
	if (phentsize != ELF_PHDR_SIZE || phnum == 0 || phoff > len || phnum * ELF_PHDR_SIZE > len - phoff)
		return fail(why, "not a LoongArch kernel: its ELF program headers are missing or not at the start");
	k->format = LOONGARCH_KERNEL_ELF;
	k->entry = get_le(h + 24, 8) & LOONGARCH_PHYS_MASK;
	for (uint64_t i = 0; i < phnum; i++) {
		const uint8_t *ph = h + phoff + i * ELF_PHDR_SIZE;
		if (get_le(ph, 4) != ELF_PT_LOAD)
			continue;
		struct loongarch_kernel_segment s = {
		    .file_offset = get_le(ph + 8, 8),
		    .file_size = get_le(ph + 32, 8),
		    .mem_size = get_le(ph + 40, 8),
		    .paddr = get_le(ph + 24, 8) & LOONGARCH_PHYS_MASK,
		};
		if (s.mem_size == 0)
			continue;
		if (s.file_size > s.mem_size || s.file_offset > file_size || s.file_size > file_size - s.file_offset)
			return fail(why, "a loadable ELF segment extends past the end of the file (truncated kernel?)");
		if (s.paddr + s.mem_size < s.paddr || s.paddr + s.mem_size > LOONGARCH_PHYS_MASK)
			return fail(why, "a loadable ELF segment wraps around the physical address space");
		if (k->nr_segments == LOONGARCH_KERNEL_MAX_SEGMENTS)
			return fail(why, "more loadable ELF segments than roam supports (8)");
		k->segments[k->nr_segments++] = s;
		kernel_add_extent(k, s.paddr, s.mem_size);
	}
	if (k->nr_segments == 0)
		return fail(why, "not a LoongArch kernel: the ELF file has no loadable segment");
	return 0;
}

static int parse_efi(const uint8_t *h, size_t len, uint64_t file_size, struct loongarch_kernel *k, const char **why)
{
	if (len >= 8 && !memcmp(h + 4, "zimg", 4))
		return fail(why,
			    "an EFI zboot image (a compressed kernel behind a decompressor, as Debian ships); extract "
			    "the kernel inside (docs/loongarch.md shows how) or boot the vmlinux ELF");
	if (len < 64 || get_le(h + 0x38, 4) != LOONGARCH_LINUX_PE_MAGIC)
		return fail(why,
			    "not a LoongArch kernel: an EFI (\"MZ\") file without the LoongArch Linux image header");
	uint64_t entry = get_le(h + 8, 8) & LOONGARCH_PHYS_MASK, size = get_le(h + 16, 8);
	uint64_t load = get_le(h + 24, 8) & LOONGARCH_PHYS_MASK;
	if (size < file_size)
		size = file_size;
	if (load + size < load || load + size > LOONGARCH_PHYS_MASK)
		return fail(why, "the EFI image header's load offset and size wrap around the address space");
	k->format = LOONGARCH_KERNEL_EFI;
	k->entry = entry;
	k->segments[0] = (struct loongarch_kernel_segment){0, file_size, size, load};
	k->nr_segments = 1;
	kernel_add_extent(k, load, size);
	return 0;
}

int loongarch_kernel_parse(const uint8_t *head, size_t head_len, uint64_t file_size, struct loongarch_kernel *k,
			   const char **why)
{
	memset(k, 0, sizeof(*k));
	if (head_len > file_size)
		head_len = (size_t)file_size;
	if (head_len >= 2 && head[0] == 0x1f && head[1] == 0x8b)
		return fail(why, "it is gzip-compressed; boot the uncompressed vmlinux (ELF) or vmlinux.efi");
	int ret;
	if (head_len >= 4 && !memcmp(head, "\177ELF", 4))
		ret = parse_elf(head, head_len, file_size, k, why);
	else if (head_len >= 2 && head[0] == 'M' && head[1] == 'Z')
		ret = parse_efi(head, head_len, file_size, k, why);
	else
		return fail(why, "not a LoongArch kernel: neither an ELF vmlinux nor an EFI (\"MZ\") image");
	if (ret == 0 && (k->entry < k->start || k->entry >= k->end))
		return fail(why, "the kernel's entry point lies outside its loaded image");
	return ret;
}

static bool overlaps(uint64_t a, uint64_t a_end, uint64_t b, uint64_t b_end)
{
	return a < b_end && b < a_end;
}

/* The bank that holds [base, end) entirely, or -1. */
static int bank_of(const struct loongarch_ram_bank *banks, int n, uint64_t base, uint64_t end)
{
	for (int i = 0; i < n; i++)
		if (base >= banks[i].base && end <= banks[i].base + banks[i].size && end >= base)
			return i;
	return -1;
}

static int plan_initrd(const struct loongarch_ram_bank *banks, int n, struct loongarch_boot_plan *plan,
		       const char **why)
{
	const uint64_t align = 0x10000;
	uint64_t keep_end = plan->kernel_end + LOONGARCH_KERNEL_SLACK, size = plan->initrd_size;
	uint64_t top0 = banks[0].base + banks[0].size;
	uint64_t candidates[3] = {
	    top0 >= size ? (top0 - size) & ~(align - 1) : 0,
	    n > 1 ? (banks[1].base + align - 1) & ~(align - 1) : 0,
	    (keep_end + align - 1) & ~(align - 1),
	};
	for (int i = 0; i < 3; i++) {
		uint64_t gpa = candidates[i];
		if (gpa == 0 || gpa + size < gpa || bank_of(banks, n, gpa, gpa + size) < 0)
			continue;
		if (overlaps(gpa, gpa + size, plan->kernel_start, keep_end) ||
		    overlaps(gpa, gpa + size, LOONGARCH_BOOTINFO_BASE,
			     LOONGARCH_BOOTINFO_BASE + LOONGARCH_BOOTINFO_SIZE))
			continue;
		plan->initrd_gpa = gpa;
		return 0;
	}
	*why = "guest RAM has no room for the initrd beside the kernel (16 MiB are kept free above the kernel for "
	       "its relocation); give the guest more memory";
	return -ENOSPC;
}

int loongarch_plan_boot(const struct loongarch_ram_bank *banks, int nr_banks, const struct loongarch_kernel *k,
			uint64_t initrd_size, struct loongarch_boot_plan *plan, const char **why)
{
	memset(plan, 0, sizeof(*plan));
	uint64_t bootinfo_end = LOONGARCH_BOOTINFO_BASE + LOONGARCH_BOOTINFO_SIZE;
	if (nr_banks < 1 || bank_of(banks, nr_banks, LOONGARCH_BOOTINFO_BASE, bootinfo_end) != 0) {
		*why = "guest RAM does not reach the boot-info window at 1 MiB";
		return -ENOSPC;
	}
	if (k->start < LOONGARCH_KERNEL_MIN_BASE)
		return fail(why, "the kernel wants to load below 2 MiB, where the boot information lives");
	if (bank_of(banks, nr_banks, k->start, k->end) < 0) {
		*why = "the kernel's load address and size lie outside guest RAM; give the guest more memory";
		return -ENOSPC;
	}
	plan->entry = k->entry;
	plan->kernel_start = k->start;
	plan->kernel_end = k->end;
	plan->initrd_size = initrd_size;
	plan->fdt_gpa = LOONGARCH_BOOTINFO_BASE + LOONGARCH_BOOT_FDT_OFFSET;
	plan->efi_gpa = LOONGARCH_BOOTINFO_BASE + LOONGARCH_BOOT_EFI_OFFSET;
	plan->cmdline_gpa = LOONGARCH_BOOTINFO_BASE + LOONGARCH_BOOT_CMDLINE_OFFSET;
	plan->stub_gpa = LOONGARCH_BOOTINFO_BASE + LOONGARCH_BOOT_STUB_OFFSET;
	return initrd_size ? plan_initrd(banks, nr_banks, plan, why) : 0;
}
