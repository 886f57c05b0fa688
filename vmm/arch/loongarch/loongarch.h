/*
 * State private to the LoongArch implementation of arch.h, and the KVM register and attribute helpers its files
 * share. Every helper names the ioctl, the vCPU or device and the register in its failure message.
 */
#ifndef ROAM_LOONGARCH_H
#define ROAM_LOONGARCH_H

#include "cpucfg.h"
#include "iocsr.h"

#include <stdbool.h>
#include <stdint.h>

struct vcpu;
struct kvm_regs;

struct arch_vm {
	int ipi_fd, eiointc_fd, pch_pic_fd; /* the in-kernel interrupt controllers */
	bool guest_words_ready; /* cpucfg[] below is computed (by vCPU 0's init) */
	uint32_t cpucfg[LOONGARCH_NR_CPUCFG]; /* what every vCPU's CPUCFG instruction returns */
	uint32_t pv_features; /* every vCPU's CPUCFG 0x40000004 */
	uint32_t eiointc_features; /* KVM_DEV_LOONGARCH_EXTIOI_CTRL_INIT_FEATURE */
	uint64_t saved_counter; /* the stable counter of the last timer save or restore */
	struct loongarch_iocsr iocsr; /* the IOCSR registers roam emulates */
};

struct arch_vcpu {
	uint32_t cpuid; /* CSR.CPUID: the physical id IPIs and the device tree use (= the vCPU index) */
};

/* KVM_GET_REGS / KVM_SET_REGS: the 32 GPRs and the PC. */
int loongarch_get_regs(struct vcpu *vcpu, struct kvm_regs *regs);
int loongarch_set_regs(struct vcpu *vcpu, const struct kvm_regs *regs);

/* KVM_GET_ONE_REG / KVM_SET_ONE_REG of a 64-bit register (core/vcpu_reg.h); `what` names it ("CSR.CPUID"). */
int loongarch_get_one(struct vcpu *vcpu, uint64_t id, uint64_t *value, const char *what);
int loongarch_set_one(struct vcpu *vcpu, uint64_t id, uint64_t value, const char *what);

/*
 * KVM_{GET,SET}_DEVICE_ATTR on `fd` (a vCPU or an in-kernel device); `object` names it in messages. The raw
 * variant returns -errno silently (for probing).
 */
int loongarch_attr(int fd, bool set, uint32_t group, uint64_t attr, void *value, const char *object);
int __loongarch_attr(int fd, bool set, uint32_t group, uint64_t attr, void *value);

/* Reads CPUCFG word `index` of the CPU roam runs on (the cpucfg instruction, allowed in user mode). */
uint32_t loongarch_host_cpucfg(uint32_t index);

/* The interrupt controllers' component (IPI, EIOINTC, PCH-PIC state; irqchip_kvm.c). */
extern const struct component loongarch_irqchip_component;

#endif
