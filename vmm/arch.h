/*
 * The architecture boundary (DESIGN.md rule 2): what the core needs from vmm/arch/<arch>/. Each architecture
 * implements every function here once; nothing outside arch/ tests which architecture it is built for.
 */
#ifndef ROAM_ARCH_H
#define ROAM_ARCH_H

#include <stdbool.h>
#include <stdint.h>

struct vm;
struct vcpu;
struct fdt_builder;

/* Guest-physical regions the core and the devices place things in. */
enum vm_region {
	VM_REGION_RAM,
	VM_REGION_UART,
	VM_REGION_UCALL,
	VM_REGION_PVLOCK,
	VM_REGION_VIRTIO,
	VM_REGION_COUNT,
};

struct vm_region_info {
	uint64_t base;
	uint64_t size;
	uint32_t irq; /* the architecture's interrupt number for the region's device (arm64: SPI number), 0 if none */
};

/* The architecture's name as used in messages and snapshot headers ("arm64", "loongarch64"). */
const char *arch_name(void);

/* The region's place in this architecture's const memory map. */
const struct vm_region_info *arch_region(enum vm_region region);

/* The largest vCPU count the architecture's interrupt controller supports. */
int arch_max_vcpus(void);

/* Writes the interrupt specifier of `irq` (level-triggered) into cells; returns the number of cells. */
int arch_fdt_irq_cells(uint32_t irq, uint32_t cells[3]);

/*
 * Checks, without KVM, that `path` is a kernel this architecture can boot (readable, right format). Returns 0 or
 * -errno after one line naming the file and the reason.
 */
int arch_check_kernel(const char *path);

/* Returns the KVM_CREATE_VM type for this VM (e.g. the IPA size on arm64), or -errno with a message. */
int arch_vm_type(struct vm *vm);

/* After KVM_CREATE_VM, before memory and vCPUs: enables VM capabilities, allocates vm->arch. */
int arch_vm_init(struct vm *vm);

/* Initializes a freshly created vCPU (KVM_ARM_VCPU_INIT, CPUCFG, ...). */
int arch_vcpu_init(struct vcpu *vcpu);

/* Frees vcpu->arch. Safe when arch_vcpu_init failed or was not called. */
void arch_vcpu_fini(struct vcpu *vcpu);

/* After every vCPU exists: creates and initializes the in-kernel interrupt controller(s). */
int arch_irqchip_init(struct vm *vm);

/* Loads kernel, initrd and device tree into guest memory and sets the boot vCPU's registers. */
int arch_boot_setup(struct vm *vm);

/* Sets an interrupt line of the in-kernel interrupt controller. */
int arch_irq_line(struct vm *vm, uint32_t irq, bool level);

/*
 * Handles an exit the core does not know. Returns 0 to continue running, 1 when the vCPU should stop (the VM's stop
 * reason is then set), or -errno on failure.
 */
int arch_handle_exit(struct vcpu *vcpu);

/* Frees vm->arch. Safe when arch_vm_init failed or was not called. */
void arch_vm_fini(struct vm *vm);

#endif
