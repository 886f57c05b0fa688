/*
 * The arm64 device tree: root, chosen, memory, cpus (PSCI), psci, GICv3, timer, and the devices' own nodes.
 * Pure: built from a parameter struct, so the unit test compares it against a golden .dts without KVM.
 */
#ifndef ROAM_ARM64_FDT_H
#define ROAM_ARM64_FDT_H

#include <stdint.h>

struct fdt_builder;

struct arm64_fdt_params {
	uint64_t ram_base;
	uint64_t ram_size;
	int nr_cpus;
	const uint64_t *mpidr; /* nr_cpus MPIDR values */
	const char *cmdline;
	uint64_t initrd_start; /* 0 for no initrd */
	uint64_t initrd_end;
	const char *stdout_path; /* "/uart@9000000" */
	uint64_t pvlock_base; /* the PV-lock region, reserved for roam (size 0: none) */
	uint64_t pvlock_size;
	/* Adds the devices' nodes under the root node. */
	void (*add_devices)(void *opaque, struct fdt_builder *b);
	void *opaque;
};

/* The MPIDR KVM gives vCPU `vcpu_id` at reset (the device tree's cpu reg values). */
uint64_t arm64_vcpu_mpidr(int vcpu_id);

/* Builds the whole tree into `b` (fresh from fdt_builder_init). Returns fdt_builder_finish()'s result. */
int arm64_fdt_build(struct fdt_builder *b, const struct arm64_fdt_params *p);

#endif
