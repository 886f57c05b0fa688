/*
 * Every service roam answers itself, registered in one place for every architecture: target discovery (with a
 * targets config), the PV lock (with a PV-lock region) and, where the architecture has one, the call that lists
 * the services (arm64: the vendor-hypervisor FEATURES call, which must then name roam's calls next to KVM's). The
 * architecture gives its function-ID table; its glue only decodes the exits and writes the result registers.
 */
#ifndef ROAM_HYPERCALLS_SERVICES_H
#define ROAM_HYPERCALLS_SERVICES_H

#include "discover_impl.h"
#include "hypercall.h"
#include "pvlock.h"

#include <stdint.h>

/* An architecture's function IDs of roam's services. */
struct hypercall_fids {
	uint64_t discover_ver, discover_cpus;
	uint64_t pvlock_features, pvlock_preempted;
	uint64_t features; /* the call listing the services as a 128-bit map (bit N: function N), 0 for none */
};

/* The services' state: owned by the VM, filled before hypercall_services_register. */
struct hypercall_services {
	struct discover_impl_service discover; /* answered when discover.nr > 0 */
	struct pvlock_service pvlock; /* answered when pvlock.nr_vcpus > 0 (region_gpa set) */
	uint32_t features[4]; /* the FEATURES answer: the hypervisor's own map, to which roam adds its calls */
};

/*
 * Registers every service `s` enables, under the architecture's `fids` (which it copies into the services). The
 * FEATURES call is taken over only when roam answers calls the hypervisor does not know (the PV lock); the PV-lock
 * functions are then added to s->features. Returns 0, or hypercall_register()'s -errno after its message.
 */
int hypercall_services_register(struct hypercall_table *t, struct hypercall_services *s,
				const struct hypercall_fids *fids);

#endif
