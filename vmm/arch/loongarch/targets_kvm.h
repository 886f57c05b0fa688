/*
 * The guest CPU on LoongArch: `roam run --targets` loads the targets config before any vCPU exists (the shared
 * targets_vm_load); vCPU 0's initialization then reads this host's profile through its own vCPU, refuses a host
 * that is not in the targets (or cannot present their words; targets_vm_check_host) and fixes the CPUCFG words
 * every vCPU gets: the targets', or without --targets this host's own (within KVM's masks and roam's policy).
 */
#ifndef ROAM_LOONGARCH_TARGETS_KVM_H
#define ROAM_LOONGARCH_TARGETS_KVM_H

struct vm;
struct vcpu;

/* Computes vm->arch->cpucfg through `vcpu` (the first one), checking the host against the targets. */
int loongarch_guest_words_prepare(struct vcpu *vcpu);

/* Writes CPUCFG words 0..20 into the vCPU and reads every one back. */
int loongarch_cpucfg_apply(struct vcpu *vcpu);

#endif
