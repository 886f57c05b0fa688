/*
 * KVM_GET_ONE_REG / KVM_SET_ONE_REG of a 64-bit vCPU register, for every architecture's KVM glue. A failure names
 * the ioctl, the vCPU and the register: "KVM_SET_ONE_REG(vcpu0 MIDR_EL1): Invalid argument".
 */
#ifndef ROAM_VCPU_REG_H
#define ROAM_VCPU_REG_H

#include <stdint.h>

struct vcpu;

/* Reads register `id` of the vCPU into *value; `what` names it in messages ("PC", "CSR.CPUID"). 0 or -errno. */
int vcpu_get_one_reg(struct vcpu *vcpu, uint64_t id, uint64_t *value, const char *what);

/* Writes `value` into register `id` of the vCPU. Returns 0 or -errno after the message. */
int vcpu_set_one_reg(struct vcpu *vcpu, uint64_t id, uint64_t value, const char *what);

#endif
