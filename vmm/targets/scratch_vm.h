/*
 * A scratch VM for `roam cpu-profile` and the host checks: KVM opened, a VM and optionally its vCPU 0 created,
 * used to ask KVM what a guest would see on this host, and closed again; nothing of it survives. The architecture
 * initializes the vCPU itself where it needs to (arm64: KVM_ARM_VCPU_INIT with the features it probes).
 */
#ifndef ROAM_TARGETS_SCRATCH_VM_H
#define ROAM_TARGETS_SCRATCH_VM_H

#include <stdbool.h>

struct scratch_vm {
	int kvm_fd, vm_fd, vcpu_fd; /* -1 when not open */
};

/*
 * Opens `kvm_path`, creates a VM and, with `vcpu`, its vCPU 0. `what` names them in messages ("profile" gives
 * "KVM_CREATE_VM(profile VM)", "KVM_CREATE_VCPU(profile vCPU)"). Returns 0 or -errno after a message; call
 * scratch_vm_close() either way.
 */
int scratch_vm_open(struct scratch_vm *s, const char *kvm_path, const char *what, bool vcpu);

/* Closes whatever scratch_vm_open opened. */
void scratch_vm_close(struct scratch_vm *s);

/* KVM_CHECK_EXTENSION on `fd` (KVM or VM): the capability's value, 0 when it is unsupported or the call fails. */
long scratch_vm_cap(int fd, long cap);

#endif
