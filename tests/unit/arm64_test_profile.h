/*
 * A minimal arm64 host profile for the targets unit tests: a name and MIDR, writable masks and identity registers,
 * a 44-bit IPA, a GICv3, and the `compat` values of a lab cortex-a57 (5 priority bits, 16-bit IDs, A3V; 6 PMU
 * counters; 62.5 MHz). Tests change what they exercise.
 */
#ifndef ROAM_TEST_ARM64_TEST_PROFILE_H
#define ROAM_TEST_ARM64_TEST_PROFILE_H

#include "arch/arm64/cpu_profile.h"

#include <stdio.h>
#include <string.h>

static inline void arm64_test_profile(struct arm64_cpu_profile *p, const char *name, uint64_t midr)
{
	memset(p, 0, sizeof(*p));
	snprintf(p->name, sizeof(p->name), "%s", name);
	p->midr = midr;
	p->writable_imp_regs = p->has_writable_masks = true;
	p->ipa_bits = 44;
	p->gic_version = 3;
	p->compat = (struct arm64_compat){
	    .known = true, .icc_ctlr = 4ull << 8 | 1ull << 15, .pmu_counters = 6, .pmu_version = 4, .cntfrq = 62500000};
}

#endif
