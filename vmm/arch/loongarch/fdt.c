/*
 * The LoongArch device tree: see fdt.h. The interrupt tree is cpuic <- eiointc <- platic (PCH-PIC) <- devices; the
 * root's interrupt-parent is the PCH-PIC, so the CPU interrupt controller names itself as its parent to stay the
 * root of the interrupt tree (Linux's of_irq_init treats a self-parent as "no parent").
 */
#include "fdt.h"

#include "fdt/fdt_builder.h"
#include "fdt/fdt_nodes.h"
#include "power.h"

#include <stdio.h>

static void loongarch_fdt_cpus(struct fdt_builder *b, const struct loongarch_fdt_params *p)
{
	fdtb_begin_node(b, "cpus");
	fdtb_prop_u32(b, "#address-cells", 1);
	fdtb_prop_u32(b, "#size-cells", 0);
	for (int i = 0; i < p->nr_cpus; i++) {
		char name[32];
		snprintf(name, sizeof(name), "cpu@%x", (unsigned)i);
		fdtb_begin_node(b, name);
		fdtb_prop_string(b, "device_type", "cpu");
		fdtb_prop_string(b, "compatible", "loongarch,Loongson-3A5000");
		fdtb_prop_u32(b, "reg", (uint32_t)i);
		fdtb_end_node(b);
	}
	fdtb_end_node(b);
}

static void loongarch_fdt_irqchips(struct fdt_builder *b, uint32_t cpuic, uint32_t eiointc, uint32_t pch_pic)
{
	char name[40];
	fdtb_begin_node(b, "cpuic");
	fdtb_prop_string(b, "compatible", "loongson,cpu-interrupt-controller");
	fdtb_prop_empty(b, "interrupt-controller");
	fdtb_prop_u32(b, "#interrupt-cells", 1);
	fdtb_prop_u32(b, "interrupt-parent", cpuic);
	fdtb_prop_u32(b, "phandle", cpuic);
	fdtb_end_node(b);

	snprintf(name, sizeof(name), "eiointc@%x", LOONGARCH_IOCSR_EIOINTC_BASE);
	fdtb_begin_node(b, name);
	fdtb_prop_string(b, "compatible", "loongson,ls2k2000-eiointc");
	fdtb_prop_empty(b, "interrupt-controller");
	fdtb_prop_u32(b, "#interrupt-cells", 1);
	fdtb_prop_u32(b, "interrupt-parent", cpuic);
	fdtb_prop_u32(b, "interrupts", LOONGARCH_EIOINTC_PARENT_IRQ);
	fdtb_prop_reg64(b, LOONGARCH_IOCSR_EIOINTC_BASE, LOONGARCH_IOCSR_EIOINTC_SIZE);
	fdtb_prop_u32(b, "phandle", eiointc);
	fdtb_end_node(b);

	snprintf(name, sizeof(name), "platic@%llx", (unsigned long long)LOONGARCH_PCH_PIC_BASE);
	fdtb_begin_node(b, name);
	fdtb_prop_string(b, "compatible", "loongson,pch-pic-1.0");
	fdtb_prop_reg64(b, LOONGARCH_PCH_PIC_BASE, LOONGARCH_PCH_PIC_SIZE);
	fdtb_prop_empty(b, "interrupt-controller");
	fdtb_prop_u32(b, "#interrupt-cells", 2);
	fdtb_prop_u32(b, "interrupt-parent", eiointc);
	fdtb_prop_u32(b, "loongson,pic-base-vec", 0);
	fdtb_prop_u32(b, "phandle", pch_pic);
	fdtb_end_node(b);
}

/* The power-off and reset registers (power.h): a syscon window with poweroff and reboot on it. */
static void loongarch_fdt_power(struct fdt_builder *b)
{
	char name[48];
	uint32_t syscon = fdt_builder_alloc_phandle(b);
	snprintf(name, sizeof(name), "power-controller@%llx", (unsigned long long)LOONGARCH_POWER_BASE);
	fdtb_begin_node(b, name);
	fdtb_prop_string(b, "compatible", "syscon");
	fdtb_prop_reg64(b, LOONGARCH_POWER_BASE, LOONGARCH_POWER_SIZE);
	fdtb_prop_u32(b, "reg-io-width", 4);
	fdtb_prop_u32(b, "phandle", syscon);
	fdtb_end_node(b);
	const char *nodes[2][2] = {{"poweroff", "syscon-poweroff"}, {"reboot", "syscon-reboot"}};
	for (int i = 0; i < 2; i++) {
		fdtb_begin_node(b, nodes[i][0]);
		fdtb_prop_string(b, "compatible", nodes[i][1]);
		fdtb_prop_u32(b, "regmap", syscon);
		fdtb_prop_u32(b, "offset", i ? LOONGARCH_POWER_RESET_OFFSET : LOONGARCH_POWER_OFF_OFFSET);
		fdtb_prop_u32(b, "value", LOONGARCH_POWER_VALUE);
		fdtb_end_node(b);
	}
}

int loongarch_fdt_build(struct fdt_builder *b, const struct loongarch_fdt_params *p)
{
	uint32_t cpuic = fdt_builder_alloc_phandle(b);
	uint32_t eiointc = fdt_builder_alloc_phandle(b);
	uint32_t pch_pic = fdt_builder_alloc_phandle(b);

	fdtb_prop_string(b, "compatible", "linux,dummy-loongson3");
	fdtb_prop_u32(b, "#address-cells", 2);
	fdtb_prop_u32(b, "#size-cells", 2);
	fdtb_prop_u32(b, "interrupt-parent", pch_pic);

	fdt_node_chosen(b, p->cmdline, p->initrd_start, p->initrd_end, p->stdout_path);
	for (int i = 0; i < p->nr_banks; i++)
		fdt_node_memory(b, p->banks[i].base, p->banks[i].size);
	fdt_node_pvlock(b, p->pvlock_base, p->pvlock_size);
	loongarch_fdt_cpus(b, p);
	loongarch_fdt_irqchips(b, cpuic, eiointc, pch_pic);
	loongarch_fdt_power(b);
	if (p->add_devices)
		p->add_devices(p->opaque, b);
	return fdt_builder_finish(b);
}
