/*
 * The minimal EFI system table a direct-boot LoongArch kernel reads (Documentation/arch/loongarch/booting.rst: a2
 * points to it): the table header, a vendor string, no boot or runtime services, and three configuration tables that
 * arch/loongarch/kernel/efi.c and the generic EFI code look for:
 *   LINUX_EFI_BOOT_MEMMAP_GUID   struct efi_boot_memmap followed by the memory descriptors (the kernel's only RAM map);
 *   DEVICE_TREE_GUID             the device tree's guest-physical address;
 *   LINUX_EFI_INITRD_MEDIA_GUID  struct linux_efi_initrd {base, size} (only with an initrd).
 * Everything is written little-endian, field by field, into one blob placed at a known guest-physical address, so the
 * pointers inside it are absolute. Pure: unit-tested by an independent decoder.
 */
#ifndef ROAM_LOONGARCH_EFI_H
#define ROAM_LOONGARCH_EFI_H

#include "layout.h"

#include <stddef.h>
#include <stdint.h>

/* EFI memory types (UEFI spec) that roam uses. */
#define EFI_LOADER_CODE 1
#define EFI_LOADER_DATA 2
#define EFI_CONVENTIONAL_MEMORY 7
#define EFI_MEMORY_WB 0x8ull
#define EFI_PAGE_SIZE 4096ull

#define EFI_SYSTEM_TABLE_SIGNATURE 0x5453595320494249ull /* "IBI SYST" */
#define EFI_SYSTEM_TABLE_REVISION ((2u << 16) | 70u) /* 2.70 */
#define EFI_SYSTEM_TABLE_SIZE 120 /* the 64-bit efi_system_table_t */
#define EFI_CONFIG_TABLE_SIZE 24 /* GUID + 64-bit pointer */
#define EFI_BOOT_MEMMAP_HEADER_SIZE 40 /* struct efi_boot_memmap without its descriptors */
#define EFI_MEMORY_DESC_SIZE 40 /* efi_memory_desc_t */
#define EFI_MEMORY_DESC_VERSION 1

#define LOONGARCH_EFI_MAX_RANGES 4
#define LOONGARCH_EFI_MAX_DESCS (LOONGARCH_MAX_RAM_BANKS * (2 * LOONGARCH_EFI_MAX_RANGES + 1))

/* Guest RAM that holds something (boot data, kernel, initrd): described with `type` instead of as free memory. */
struct loongarch_efi_range {
	uint64_t base;
	uint64_t size;
	uint32_t type; /* EFI_LOADER_CODE or EFI_LOADER_DATA */
};

struct loongarch_efi_params {
	uint64_t table_gpa; /* where the blob will be in guest memory */
	int nr_banks;
	struct loongarch_ram_bank banks[LOONGARCH_MAX_RAM_BANKS];
	int nr_ranges;
	struct loongarch_efi_range ranges[LOONGARCH_EFI_MAX_RANGES];
	uint64_t fdt_gpa; /* 0: no device-tree table */
	uint64_t initrd_gpa; /* with initrd_size 0: no initrd table */
	uint64_t initrd_size;
};

struct loongarch_efi_desc {
	uint32_t type;
	uint64_t base;
	uint64_t pages;
};

/*
 * The EFI memory map of the banks with the ranges carved out, in address order: ranges are widened to whole pages
 * and keep their type, the rest of each bank is EFI_CONVENTIONAL_MEMORY. Returns the number of descriptors, or -EINVAL
 * with *why set when a bank is not page aligned or a range lies outside the banks or overlaps another.
 */
int loongarch_efi_memmap(const struct loongarch_efi_params *p, struct loongarch_efi_desc descs[LOONGARCH_EFI_MAX_DESCS],
			 const char **why);

/*
 * Writes the system table (at offset 0), its configuration tables and the memory map into `buf`. Returns the bytes
 * used, or -EINVAL / -ENOSPC with *why set.
 */
int loongarch_efi_build(const struct loongarch_efi_params *p, uint8_t *buf, size_t len, const char **why);

/* The CRC-32 (IEEE 802.3, as EFI table headers use) of `len` bytes. */
uint32_t loongarch_efi_crc32(const uint8_t *data, size_t len);

#endif
