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

/* The vendor-hypervisor FEATURES call (SMC32), answered by roam when it adds services of its own. */
#define SMCCC_VENDOR_HYP_KVM_FEATURES 0x86000000u

/*
 * roam's PV-lock calls: SMC64 vendor-hypervisor function numbers 96 and 97, which no upstream kernel assigns
 * (include/linux/arm-smccc.h uses 0-65 and 127). docs/hypercalls.md has the ABI.
 */
#define ROAM_PV_LOCK_FEATURES 0xc6000060u
#define ROAM_PV_LOCK_PREEMPTED 0xc6000061u

/*
 * Registers every service roam answers (hypercalls/services.h) under the SMCCC function IDs: target discovery with a
 * targets config, and with a PV-lock region the PV-lock calls and the vendor FEATURES call, which then answers KVM's
 * own service bitmaps plus roam's bits, so a guest probing the standard way sees every service. Call after the
 * firmware bitmaps are final.
 */
int arm64_smccc_register_services(struct vcpu *vcpu);

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
