/* Capturing this LoongArch host's CPU profile through KVM and the cpucfg instruction (see profile_kvm.c). */
#ifndef ROAM_LOONGARCH_PROFILE_KVM_H
#define ROAM_LOONGARCH_PROFILE_KVM_H

#include "cpucfg.h"

/*
 * Fills the host words (cpucfg instruction), KVM's writable masks and PV features (through vCPU `vcpu_fd`'s
 * KVM_LOONGARCH_VCPU_CPUCFG attribute) and the VM features (`vm_fd`) of `p`; leaves name, kernel and the
 * user_hcall / virt_extioi probes alone. `object` names the vCPU in messages. Returns 0 or -errno.
 */
int loongarch_profile_read(int vm_fd, int vcpu_fd, const char *object, struct loongarch_cpu_profile *p);

/*
 * Fills `p` from scratch VMs on `kvm_path` (nothing of them survives the call), including whether KVM accepts the
 * USER_HCALL and VIRT_EXTIOI features. `name` labels the host (NULL: the host name). Returns 0 or -errno.
 */
int loongarch_profile_capture(const char *kvm_path, const char *name, struct loongarch_cpu_profile *p);

#endif
