/*
 * LoongArch kernel images and where a direct boot puts things in guest RAM. Two formats boot:
 *  - an ELF vmlinux (EM_LOONGARCH, 64-bit little-endian): its PT_LOAD segments at their physical addresses;
 *  - an uncompressed EFI image (vmlinux.efi/vmlinuz.efi), whose 64-byte header (booting.rst) gives the entry point,
 *    the effective size and the load offset from the start of RAM.
 * Compressed images (EFI zboot, gzip) are refused with the reason. Addresses in headers may be direct-mapped
 * virtual addresses (0x9000...); the low 48 bits are the physical address, which is what the vCPU starts at (it
 * starts in direct-address mode). Pure: unit-tested without KVM.
 */
#ifndef ROAM_LOONGARCH_IMAGE_H
#define ROAM_LOONGARCH_IMAGE_H

#include "layout.h"

#include <stddef.h>
#include <stdint.h>

#define LOONGARCH_IMAGE_HEAD_SIZE 4096 /* bytes of the file the parser needs (ELF program headers included) */
#define LOONGARCH_KERNEL_MAX_SEGMENTS 8
#define LOONGARCH_LINUX_PE_MAGIC 0x818223cdu
#define LOONGARCH_PHYS_MASK 0x0000ffffffffffffull
/* Room left above the kernel before the initrd: the kernel may relocate itself (KASLR) by up to this much. */
#define LOONGARCH_KERNEL_SLACK 0x01000000ull

enum loongarch_kernel_format {
	LOONGARCH_KERNEL_ELF,
	LOONGARCH_KERNEL_EFI,
};

struct loongarch_kernel_segment {
	uint64_t file_offset;
	uint64_t file_size;
	uint64_t mem_size; /* >= file_size; the rest is zeroed */
	uint64_t paddr;
};

struct loongarch_kernel {
	enum loongarch_kernel_format format;
	uint64_t entry; /* physical */
	uint64_t start, end; /* the physical extent of all segments, bss included */
	int nr_segments;
	struct loongarch_kernel_segment segments[LOONGARCH_KERNEL_MAX_SEGMENTS];
};

/*
 * Parses the first `head_len` bytes of a kernel file of `file_size` bytes. Returns 0, or -EINVAL with *why naming
 * the problem ("not a LoongArch kernel: ...", "an EFI zboot (compressed) image: ...").
 */
int loongarch_kernel_parse(const uint8_t *head, size_t head_len, uint64_t file_size, struct loongarch_kernel *k,
			   const char **why);

struct loongarch_boot_plan {
	uint64_t entry; /* the boot vCPU's PC */
	uint64_t kernel_start, kernel_end;
	uint64_t initrd_gpa; /* 0 without an initrd */
	uint64_t initrd_size;
	uint64_t fdt_gpa, efi_gpa, cmdline_gpa, stub_gpa; /* inside the boot-info window */
};

/*
 * Places the kernel (where its headers say), the boot-info window and the initrd in the RAM `banks`. The initrd goes
 * at the top of low RAM when it fits there at least LOONGARCH_KERNEL_SLACK above the kernel, else at the start of
 * high RAM. Returns 0, or -ENOSPC / -EINVAL with *why for people ("the kernel ... lies outside guest RAM", ...).
 */
int loongarch_plan_boot(const struct loongarch_ram_bank *banks, int nr_banks, const struct loongarch_kernel *k,
			uint64_t initrd_size, struct loongarch_boot_plan *plan, const char **why);

#endif
