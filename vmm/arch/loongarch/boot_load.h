/*
 * The LoongArch direct boot, up to the registers: reads the kernel (ELF or EFI image) and the initrd into guest
 * RAM, and writes the boot-info window: the command line, the device tree, the EFI system table with its memory map
 * and configuration tables, and the wait loop for secondary vCPUs. The caller sets the registers it returns (KVM).
 * No KVM here: unit-tested on a guest_memory and temporary files.
 */
#ifndef ROAM_LOONGARCH_BOOT_LOAD_H
#define ROAM_LOONGARCH_BOOT_LOAD_H

#include "image.h"
#include "layout.h"

#include <stdint.h>

struct guest_memory;
struct fdt_builder;

struct loongarch_boot_inputs {
	const char *kernel_path;
	const char *initrd_path; /* NULL for none */
	const char *cmdline;
	int nr_banks;
	struct loongarch_ram_bank banks[LOONGARCH_MAX_RAM_BANKS];
	int nr_cpus;
	uint64_t pvlock_base, pvlock_size; /* size 0: none */
	void (*add_devices)(void *opaque, struct fdt_builder *b);
	void *opaque;
	const char *dump_dtb_path; /* --dump-dtb: also write the device tree there (NULL: no) */
};

struct loongarch_boot_result {
	struct loongarch_boot_plan plan;
	uint64_t pc; /* the boot vCPU: PC and a0..a2 (booting.rst) */
	uint64_t a0; /* efi_boot: 1, the EFI system table is valid */
	uint64_t a1; /* the command line */
	uint64_t a2; /* the EFI system table */
	uint64_t secondary_pc; /* every other vCPU starts in the wait loop */
};

/* The secondary-vCPU wait loop (stub.S). */
extern const uint8_t loongarch_secondary_stub[], loongarch_secondary_stub_end[];

/* Checks that `path` is a kernel roam can boot. Returns 0 or -errno after one line naming the file and reason. */
int loongarch_kernel_check_file(const char *path);

/* Does the whole load into `mem`. Returns 0, or -errno after one line naming the file or limit at fault. */
int loongarch_boot_prepare(const struct loongarch_boot_inputs *in, struct guest_memory *mem,
			   struct loongarch_boot_result *out);

#endif
