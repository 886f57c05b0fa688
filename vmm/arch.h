/*
 * The architecture boundary (DESIGN.md rule 2): what the core needs from vmm/arch/<arch>/. Each architecture
 * implements every function here once; nothing outside arch/ tests which architecture it is built for.
 */
#ifndef ROAM_ARCH_H
#define ROAM_ARCH_H

#include <stdbool.h>
#include <stddef.h>
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
	VM_REGION_RAM_HIGH, /* a second RAM bank, used for RAM beyond VM_REGION_RAM's size (size 0: none) */
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

/* The same for an edge-triggered (rising) interrupt, such as virtio-mmio's irqfd pulses. */
int arch_fdt_edge_irq_cells(uint32_t irq, uint32_t cells[3]);

/* The KVM_IRQFD gsi that raises interrupt `irq` through the in-kernel interrupt controller's default routing. */
uint32_t arch_irqfd_gsi(uint32_t irq);

/*
 * Checks, without KVM, that `path` is a kernel this architecture can boot (readable, right format). Returns 0 or
 * -errno after one line naming the file and the reason.
 */
int arch_check_kernel(const char *path);

/* Migration targets (vmm/targets/): the architecture's identity registers, profile and targets formats and rules. */
struct targets_arch_ops;
const struct targets_arch_ops *arch_targets_ops(void);

/* Captures this host's CPU profile (the ops' profile struct) through a scratch VM on `kvm_path`; `name` labels the
 * host (NULL: the host name). Returns 0 or -errno after a message naming the ioctl that failed. */
int arch_profile_capture(const char *kvm_path, const char *name, void *profile);

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

/*
 * Snapshots: the architecture's components (core/component.h) and the header's architecture id. Its components sit
 * in two places of the component table: CPU after the PV lock (the counter, the vCPUs, the interrupt controller,
 * restored in that order) and LATE after guest memory (state that lives in guest memory, such as an ITS's tables).
 */
struct component;
struct arch_components {
	const struct component *const *cpu; /* after the PV lock: counter, vCPUs, interrupt controller */
	int nr_cpu;
	const struct component *const *late; /* after guest memory */
	int nr_late;
};

/* The architecture's components, in order. */
const struct arch_components *arch_components(void);

/* The snapshot header's architecture id (1 arm64, 2 loongarch64). */
uint32_t arch_snapshot_id(void);

/* This host's CPU identity for the snapshot's HOST section (arm64: MIDR, REVIDR; LoongArch: PRID, 0). */
void arch_host_identity(uint64_t id[2]);

/* The VM's targets for the snapshot's TARGETS summary (names and identities). Only called with targets. */
struct snapshot_targets_info;
void arch_targets_summary(struct vm *vm, struct snapshot_targets_info *info);

/* The VM's targets config as text (JSON), or NULL without --targets. The string belongs to the VM. */
const char *arch_targets_text(struct vm *vm);

/*
 * A live migration's destination once the whole memory arrived, while the source guest still runs: work a restore
 * would otherwise do in the guest's downtime (arm64: the stage-2 prefault of erratum-834220 hosts). Returns 0 or
 * -errno after a message; the restore's own end does the work then.
 */
int arch_restore_memory_in(struct vm *vm);

/* Frees vm->arch. Safe when arch_vm_init failed or was not called. */
void arch_vm_fini(struct vm *vm);

#endif
