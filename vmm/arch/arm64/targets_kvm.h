/*
 * `roam run --targets` on arm64: before any vCPU exists, load the targets config and check this host against it
 * through a scratch VM (the shared steps of targets/targets_vm.h), and allow writing the implementation ID
 * registers; then, for each vCPU, write the guest's MIDR/REVIDR/AIDR and ID registers and read every one back;
 * once the GIC is initialized, give every vCPU's GIC CPU interface the targets' ICC_CTLR_EL1 (fewer priority and ID
 * bits where the targets lowered them) and read it back.
 */
#ifndef ROAM_ARM64_TARGETS_KVM_H
#define ROAM_ARM64_TARGETS_KVM_H

struct vm;
struct vcpu;

/* Does the VM-wide part (see above) when vm->cfg.targets_path is set. Returns 0 or -errno after a message. */
int arm64_targets_prepare(struct vm *vm);

/* Programs and verifies the vCPU's identity and ID registers when a targets config is loaded. */
int arm64_targets_apply(struct vcpu *vcpu);

/* Programs and verifies every vCPU's ICC_CTLR_EL1 when the targets config records one (after the GIC's init). */
int arm64_targets_apply_gic(struct vm *vm);

#endif
