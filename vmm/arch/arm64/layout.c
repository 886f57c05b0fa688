/* arm64 answers to the architecture-neutral layout questions of arch.h, from the const table in layout.h. */
#include "layout.h"
#include "arch.h"

const char *arch_name(void)
{
	return "arm64";
}

static const struct vm_region_info arm64_regions[VM_REGION_COUNT] = {
    [VM_REGION_RAM] = {ARM64_RAM_BASE, ARM64_RAM_MAX_SIZE, 0},
    [VM_REGION_UART] = {ARM64_UART_BASE, ARM64_UART_SIZE, ARM64_UART_SPI},
    [VM_REGION_UCALL] = {ARM64_UCALL_BASE, ARM64_UCALL_SIZE, 0},
    [VM_REGION_PVLOCK] = {ARM64_PVLOCK_BASE, ARM64_PVLOCK_SIZE, 0},
    [VM_REGION_VIRTIO] = {ARM64_VIRTIO_BASE, ARM64_VIRTIO_SIZE, ARM64_VIRTIO_SPI_FIRST},
};

const struct vm_region_info *arch_region(enum vm_region region)
{
	return &arm64_regions[region];
}

int arch_max_vcpus(void)
{
	return ARM64_MAX_VCPUS;
}

int arch_fdt_irq_cells(uint32_t irq, uint32_t cells[3])
{
	cells[0] = 0; /* GIC_SPI */
	cells[1] = irq;
	cells[2] = 4; /* IRQ_TYPE_LEVEL_HIGH */
	return 3;
}

int arch_fdt_edge_irq_cells(uint32_t irq, uint32_t cells[3])
{
	cells[0] = 0; /* GIC_SPI */
	cells[1] = irq;
	cells[2] = 1; /* IRQ_TYPE_EDGE_RISING */
	return 3;
}

uint32_t arch_irqfd_gsi(uint32_t irq)
{
	/* KVM's default routing on arm64 maps gsi N to SPI N (INTID 32 + N). */
	return irq;
}

uint64_t arm64_vcpu_mpidr(int vcpu_id)
{
	/* KVM's reset value: Aff0 holds 16 vCPUs (the GICv3 target-list limit), Aff1 and Aff2 the rest. */
	uint64_t id = (uint64_t)vcpu_id;
	return (1ull << 31) | (id & 0x0f) | (((id >> 4) & 0xff) << 8) | (((id >> 12) & 0xff) << 16);
}
