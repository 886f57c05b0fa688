/*
 * State private to the arm64 implementation of arch.h, and the register helpers its files share.
 */
#ifndef ROAM_ARM64_H
#define ROAM_ARM64_H

#include <stdbool.h>
#include <stdint.h>

struct vcpu;

struct arch_vm {
	int gic_fd;
	uint32_t ipa_bits;
	uint64_t restored_counter; /* the guest counter a restore continues from */
	bool counter_restored; /* the counter offset restored time: skip per-vCPU counter registers */
};

struct arch_vcpu {
	uint64_t mpidr; /* as KVM reports it after KVM_ARM_VCPU_INIT */
};

/* KVM_GET_ONE_REG / KVM_SET_ONE_REG on a vCPU (core/vcpu_reg.h); `what` names the register ("PC", "MIDR_EL1"). */
int arm64_get_reg(struct vcpu *vcpu, uint64_t id, uint64_t *value, const char *what);
int arm64_set_reg(struct vcpu *vcpu, uint64_t id, uint64_t value, const char *what);

/*
 * Creates the in-kernel GICv3 of the VM `vm_fd` (whose vCPUs exist) at the layout's addresses, with `nr_irqs`
 * interrupts (0: KVM's default), and initializes it. Returns its fd, or -errno after a message. For the VM and for
 * the scratch VM of a CPU profile.
 */
int arm64_gic_create(int vm_fd, uint32_t nr_irqs);

/* ONE_REG ids of core registers x0..x30, the PC and PSTATE. */
uint64_t arm64_core_reg_x(int n);
uint64_t arm64_core_reg_pc(void);
uint64_t arm64_core_reg_pstate(void);

#endif
