/*
 * The LoongArch device tree: root, chosen, memory banks, the PV-lock reservation, cpus, the three interrupt
 * controllers (CPU interrupt controller, EIOINTC in IOCSR space, PCH-PIC in MMIO space), the power-off and reset
 * registers (power.h) and the devices' own nodes.
 * Node layout follows what Linux's LoongArch drivers expect on the QEMU virt machine. Pure: built from a parameter
 * struct, so the unit test compares it against a golden .dts without KVM.
 */
#ifndef ROAM_LOONGARCH_FDT_H
#define ROAM_LOONGARCH_FDT_H

#include "layout.h"

#include <stdint.h>

struct fdt_builder;

struct loongarch_fdt_params {
	int nr_banks;
	struct loongarch_ram_bank banks[LOONGARCH_MAX_RAM_BANKS];
	int nr_cpus; /* cpu N has physical id (CSR.CPUID) N */
	const char *cmdline;
	uint64_t initrd_start; /* 0 for no initrd */
	uint64_t initrd_end;
	const char *stdout_path; /* "/uart@1fe001e0" */
	uint64_t pvlock_base; /* the PV-lock region, reserved for roam (size 0: none) */
	uint64_t pvlock_size;
	/* Adds the devices' nodes under the root node (their interrupts go to the PCH-PIC, the root's parent). */
	void (*add_devices)(void *opaque, struct fdt_builder *b);
	void *opaque;
};

/* Builds the whole tree into `b` (fresh from fdt_builder_init). Returns fdt_builder_finish()'s result. */
int loongarch_fdt_build(struct fdt_builder *b, const struct loongarch_fdt_params *p);

#endif
