/* The arm64 device tree: see fdt.h. Node layout follows what Linux's arm64 "virt"-style boards expect. */
#include "fdt.h"

#include "fdt/fdt_builder.h"
#include "fdt/fdt_nodes.h"
#include "layout.h"

#include <stdio.h>

#define GIC_PPI 1
#define IRQ_TYPE_LEVEL_HIGH 4

static void arm64_fdt_cpus(struct fdt_builder *b, const struct arm64_fdt_params *p)
{
	fdtb_begin_node(b, "cpus");
	fdtb_prop_u32(b, "#address-cells", 1);
	fdtb_prop_u32(b, "#size-cells", 0);
	for (int i = 0; i < p->nr_cpus; i++) {
		char name[32];
		uint32_t reg = (uint32_t)(p->mpidr[i] & 0xffffff);
		snprintf(name, sizeof(name), "cpu@%x", reg);
		fdtb_begin_node(b, name);
		fdtb_prop_string(b, "device_type", "cpu");
		fdtb_prop_string(b, "compatible", "arm,arm-v8");
		fdtb_prop_string(b, "enable-method", "psci");
		fdtb_prop_u32(b, "reg", reg);
		fdtb_end_node(b);
	}
	fdtb_end_node(b);
}

static void arm64_fdt_gic(struct fdt_builder *b, const struct arm64_fdt_params *p, uint32_t phandle)
{
	char name[32];
	snprintf(name, sizeof(name), "intc@%x", ARM64_GIC_DIST_BASE);
	uint64_t redist_size = (uint64_t)p->nr_cpus * ARM64_GIC_REDIST_STRIDE;
	uint32_t reg[8] = {0,
			   ARM64_GIC_DIST_BASE,
			   0,
			   ARM64_GIC_DIST_SIZE,
			   0,
			   ARM64_GIC_REDIST_BASE,
			   (uint32_t)(redist_size >> 32),
			   (uint32_t)redist_size};
	fdtb_begin_node(b, name);
	fdtb_prop_string(b, "compatible", "arm,gic-v3");
	fdtb_prop_u32(b, "#interrupt-cells", 3);
	fdtb_prop_empty(b, "interrupt-controller");
	fdtb_prop_u32(b, "#redistributor-regions", 1);
	fdtb_prop_cells(b, "reg", reg, 8);
	fdtb_prop_u32(b, "phandle", phandle);
	fdtb_end_node(b);
}

static void arm64_fdt_timer(struct fdt_builder *b)
{
	const uint32_t irqs[12] = {
	    GIC_PPI, ARM64_TIMER_PPI_SEC,  IRQ_TYPE_LEVEL_HIGH, GIC_PPI, ARM64_TIMER_PPI_PHYS, IRQ_TYPE_LEVEL_HIGH,
	    GIC_PPI, ARM64_TIMER_PPI_VIRT, IRQ_TYPE_LEVEL_HIGH, GIC_PPI, ARM64_TIMER_PPI_HYP,  IRQ_TYPE_LEVEL_HIGH};
	fdtb_begin_node(b, "timer");
	fdtb_prop_string(b, "compatible", "arm,armv8-timer");
	fdtb_prop_cells(b, "interrupts", irqs, 12);
	fdtb_prop_empty(b, "always-on");
	fdtb_end_node(b);
}

int arm64_fdt_build(struct fdt_builder *b, const struct arm64_fdt_params *p)
{
	uint32_t gic_phandle = fdt_builder_alloc_phandle(b);

	fdtb_prop_string(b, "compatible", "linux,dummy-virt");
	fdtb_prop_u32(b, "#address-cells", 2);
	fdtb_prop_u32(b, "#size-cells", 2);
	fdtb_prop_u32(b, "interrupt-parent", gic_phandle);

	fdt_node_chosen(b, p->cmdline, p->initrd_start, p->initrd_end, p->stdout_path);
	fdt_node_memory(b, p->ram_base, p->ram_size);
	fdt_node_pvlock(b, p->pvlock_base, p->pvlock_size);

	arm64_fdt_cpus(b, p);

	fdtb_begin_node(b, "psci");
	const char *psci[] = {"arm,psci-1.0", "arm,psci-0.2"};
	fdtb_prop_strings(b, "compatible", psci, 2);
	fdtb_prop_string(b, "method", "hvc");
	fdtb_end_node(b);

	arm64_fdt_gic(b, p, gic_phandle);
	arm64_fdt_timer(b);
	if (p->add_devices)
		p->add_devices(p->opaque, b);
	return fdt_builder_finish(b);
}
