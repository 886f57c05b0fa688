/*
 * arm64 glue between KVM's SMCCC filter and roam's hypercall dispatcher: installs FWD_TO_USER ranges for the
 * function IDs roam answers, turns KVM_EXIT_HYPERCALL into a dispatcher call (arguments read lazily with
 * KVM_GET_ONE_REG, results written to x0..x3), and sets the guest-visible vendor-hypervisor service bitmap.
 */
#ifndef ROAM_ARM64_SMCCC_H
#define ROAM_ARM64_SMCCC_H

#include <stdbool.h>
#include <stdint.h>

struct vm;
struct vcpu;

#define SMCCC_RET_INVALID_PARAMETER (-3)

/* Upstream KVM vendor-hypervisor function IDs (include/linux/arm-smccc.h). */
#define SMCCC_KVM_DISCOVER_IMPL_VER 0xc6000040u
#define SMCCC_KVM_DISCOVER_IMPL_CPUS 0xc6000041u

/* Installs a forwarding filter for every function registered in vm->hypercalls. Fails clearly without support. */
int arm64_smccc_install_filters(struct vm *vm);

/* Answers a KVM_EXIT_HYPERCALL. Returns 0 (continue) or -errno. */
int arm64_smccc_handle_exit(struct vcpu *vcpu);

/*
 * Sets (or clears) the DISCOVER_IMPL_VER/CPUS bits of KVM_REG_ARM_VENDOR_HYP_BMAP_2 through `vcpu`, before any vCPU
 * has run. Returns 0 or -errno.
 */
int arm64_smccc_set_discover_bits(struct vcpu *vcpu, bool enable);

#endif
