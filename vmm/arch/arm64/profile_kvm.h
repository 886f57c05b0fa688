/* Capturing this host's CPU profile through KVM (see profile_kvm.c). */
#ifndef ROAM_ARM64_PROFILE_KVM_H
#define ROAM_ARM64_PROFILE_KVM_H

#include "cpu_profile.h"

/*
 * Fills `p` from a scratch VM on `kvm_path`. `name` labels the host (NULL: the host name). Returns 0 or -errno
 * with a message naming the ioctl that failed.
 */
int arm64_profile_capture(const char *kvm_path, const char *name, struct arm64_cpu_profile *p);

/* The KVM ONE_REG id of a system register encoding (ARM64_SYSREG_ENC). */
uint64_t arm64_sysreg_id(uint32_t enc);

#endif
