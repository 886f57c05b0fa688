/*
 * The guest CPU on LoongArch: `roam run --targets` loads the targets config and registers the target-discovery
 * hypercalls before any vCPU exists; vCPU 0's initialization then reads this host's profile through its own vCPU,
 * refuses a host that is not in the targets (or cannot present their words) and fixes the CPUCFG words every vCPU
 * gets: the targets', or without --targets this host's own (within KVM's masks and roam's policy).
 */
#ifndef ROAM_LOONGARCH_TARGETS_KVM_H
#define ROAM_LOONGARCH_TARGETS_KVM_H

struct vm;
struct vcpu;

/* With vm->cfg.targets_path: loads the config and registers discovery. Returns 0 or -errno after a message. */
int loongarch_targets_prepare(struct vm *vm);

/* Computes vm->arch->cpucfg through `vcpu` (the first one), checking the host against the targets. */
int loongarch_guest_words_prepare(struct vcpu *vcpu);

/* Writes CPUCFG words 0..20 into the vCPU and reads every one back. */
int loongarch_cpucfg_apply(struct vcpu *vcpu);

/* Frees what loongarch_targets_prepare allocated. */
void loongarch_targets_release(struct vm *vm);

#endif
