/* LoongArch answers to the architecture-neutral layout questions of arch.h, from the const table in layout.h. */
#include "layout.h"

#include "arch.h"

const char *arch_name(void)
{
	return "loongarch64";
}

static const struct vm_region_info loongarch_regions[VM_REGION_COUNT] = {
    [VM_REGION_RAM] = {LOONGARCH_LOWRAM_BASE, LOONGARCH_LOWRAM_SIZE, 0},
    [VM_REGION_UART] = {LOONGARCH_UART_BASE, LOONGARCH_UART_SIZE, LOONGARCH_UART_PIN},
    [VM_REGION_UCALL] = {LOONGARCH_UCALL_BASE, LOONGARCH_UCALL_SIZE, 0},
    [VM_REGION_PVLOCK] = {LOONGARCH_PVLOCK_BASE, LOONGARCH_PVLOCK_SIZE, 0},
    [VM_REGION_VIRTIO] = {LOONGARCH_VIRTIO_BASE, LOONGARCH_VIRTIO_SIZE, LOONGARCH_VIRTIO_PIN_FIRST},
    [VM_REGION_RAM_HIGH] = {LOONGARCH_HIGHRAM_BASE, LOONGARCH_HIGHRAM_MAX_SIZE, 0},
};

const struct vm_region_info *arch_region(enum vm_region region)
{
	return &loongarch_regions[region];
}

int arch_max_vcpus(void)
{
	return LOONGARCH_MAX_VCPUS;
}

int arch_fdt_irq_cells(uint32_t irq, uint32_t cells[3])
{
	cells[0] = irq; /* the PCH-PIC input */
	cells[1] = 4; /* IRQ_TYPE_LEVEL_HIGH */
	return 2;
}

int arch_fdt_edge_irq_cells(uint32_t irq, uint32_t cells[3])
{
	cells[0] = irq;
	cells[1] = 1; /* IRQ_TYPE_EDGE_RISING */
	return 2;
}

uint32_t arch_irqfd_gsi(uint32_t irq)
{
	/* KVM creates the PCH-PIC with a default routing of gsi N to PIC input N. */
	return irq;
}

int loongarch_ram_banks(uint64_t ram_size, struct loongarch_ram_bank banks[LOONGARCH_MAX_RAM_BANKS])
{
	const struct layout_region *low = &loongarch_layout[LOONGARCH_REGION_LOWRAM];
	const struct layout_region *high = &loongarch_layout[LOONGARCH_REGION_HIGHRAM];
	if (ram_size == 0 || ram_size > low->size + high->size)
		return 0;
	banks[0].base = low->base;
	banks[0].size = ram_size < low->size ? ram_size : low->size;
	if (ram_size == banks[0].size)
		return 1;
	banks[1].base = high->base;
	banks[1].size = ram_size - banks[0].size;
	return 2;
}
