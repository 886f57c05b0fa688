/*
 * The paravirtual-lock hypercalls (the guest ABI is in docs/hypercalls.md). Stateless: each call names what it asks
 * about, and the answer depends only on the caller's vCPU index and the region's fixed base.
 *
 *   PV_LOCK_FEATURES  r1 = a function ID -> status 0 if roam implements that function, else -1 (NOT_SUPPORTED).
 *   PV_LOCK_PREEMPTED no arguments        -> status 0, r1 = guest-physical address of the calling vCPU's 64-byte
 *                                            struct (preempted: little-endian u64 at offset 0).
 *
 * Following the SMCCC reviewers' rule, r0 is always a signed status and the address comes back in r1.
 */
#ifndef ROAM_HYPERCALLS_PVLOCK_H
#define ROAM_HYPERCALLS_PVLOCK_H

#include "hypercall.h"

#define PVLOCK_STRUCT_SIZE 64u
#define PVLOCK_REGION_ALIGN 0x10000u /* regions are 64 KiB aligned and sized in 64 KiB units */

struct pvlock_service {
	uint64_t region_gpa;
	int nr_vcpus;
	uint64_t fid_features;
	uint64_t fid_preempted;
};

/* Bytes of region needed for `nr_vcpus` structs, rounded up to 64 KiB. */
uint64_t pvlock_region_size(int nr_vcpus);

/* Registers both calls under the architecture's function IDs. */
int pvlock_register(struct hypercall_table *t, struct pvlock_service *s);

#endif
