/*
 * The in-kernel GICv3's state for snapshots, through the KVM device attribute groups of
 * Documentation/virt/kvm/devices/arm-vgic-v3.rst: distributor and redistributor registers (the raw pending latch),
 * line levels, and the CPU-interface system registers. Entries are saved in the order they must be restored:
 * GICD_IIDR and GICD_CTLR, each redistributor (configuration before line level before pending/enable/active), the
 * distributor's SPI registers in the same order, then each CPU interface. What KVM would refuse is an error naming
 * it, never silently dropped: a GICD_IIDR of another GIC or of a revision KVM here does not emulate, an ICC_CTLR_EL1
 * with more priority or ID bits than this host's GIC, or another SEIS or A3V (fewer bits are fine: KVM lowers the
 * vCPU's CPU interface to the source's).
 */
#ifndef ROAM_ARM64_GIC_STATE_H
#define ROAM_ARM64_GIC_STATE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct vm;
struct snap_writer;
struct snap_reader;

#define ARM64_GIC_STATE_VERSION 1

/* Saves the GIC of a VM whose vCPUs are all paused. Returns 0 or -errno after a message naming the register. */
int arm64_gic_save(struct vm *vm, struct snap_writer *w);

/* Restores into the freshly initialized GIC of a VM that has not run. Returns 0 or -errno after a message. */
int arm64_gic_restore(struct vm *vm, struct snap_reader *r);

/*
 * Would the saved GIC state restore into `vm` (initialized, holding no state yet)? Checks what this host's GIC could
 * refuse: GICD_IIDR (tried: written, and this host's put back), the read-only fields of each CPU interface's
 * ICC_CTLR_EL1, the interrupt and vCPU counts. Appends one line per problem to report and returns how many.
 */
int arm64_gic_check(struct vm *vm, struct snap_reader *r, char *report, size_t size);

/*
 * Gives every vCPU's GIC CPU interface the read-only fields of `icc_ctlr` (a targets config's: as many priority and
 * ID bits or fewer than this host's, the same SEIS and A3V) and reads each back. For an initialized GIC of a VM that
 * has not run. Returns 0 or -errno after a message naming the vCPU.
 */
int arm64_gic_set_cpuif(struct vm *vm, uint64_t icc_ctlr);

#endif
