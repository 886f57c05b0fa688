/*
 * Target-implementation discovery (upstream Linux >= 6.15, Documentation/virt/kvm/arm/hypercalls.rst): the guest
 * asks how many CPU implementations it may run on and, by index, each one's identity, so its kernel enables the
 * errata workarounds of all of them. Stateless: the guest passes the index it wants.
 *
 *   VER:  no arguments -> status 0, r1 = version 0x00010000 (1.0), r2 = number of implementations, r3 = 0.
 *   CPUS: r1 = index, r2 = r3 = 0 -> status 0, r1 = MIDR, r2 = REVIDR, r3 = AIDR (LoongArch: PRID, 0, 0).
 *         An index out of range or a nonzero r2/r3 -> the architecture's invalid-parameter status.
 */
#ifndef ROAM_DISCOVER_IMPL_H
#define ROAM_DISCOVER_IMPL_H

#include "hypercall.h"

#define DISCOVER_IMPL_MAX 16
#define DISCOVER_IMPL_VERSION 0x00010000u

struct discover_impl_service {
	int nr;
	struct {
		uint64_t id[3]; /* MIDR, REVIDR, AIDR */
	} impl[DISCOVER_IMPL_MAX];
};

/* Registers the two calls under the architecture's function IDs. */
int discover_impl_register(struct hypercall_table *t, struct discover_impl_service *s, uint64_t fid_ver,
			   uint64_t fid_cpus);

#endif
