/*
 * Migration targets: merging the CPU profiles of several arm64 hosts into one targets config (the ID register
 * values every one of them can present to a guest), and checking whether a host can run guests made for a targets
 * config. Pure computation over struct arm64_cpu_profile and struct arm64_targets (cpu_profile.h): no KVM, no files.
 *
 * Merge rules, in short (docs/targets.md has the whole story):
 *  - every feature register is merged field by field with the field's rule (idregs.h); a host whose value differs
 *    from the merged one must report those bits writable (KVM_ARM_GET_REG_WRITABLE_MASKS), else the merge fails
 *    naming register, field and host;
 *  - MIDR/REVIDR/AIDR are not merged: the guest sees one identity (the first profile's, or an override), and every
 *    host whose own identity differs must allow setting it (KVM_CAP_ARM_WRITABLE_IMP_ID_REGS); MPIDR is per vCPU and
 *    left out;
 *  - a register some profiles lack counts as reading 0 there and not writable (KVM reads unknown ID registers as 0);
 *  - min_ipa_bits and sve_max_vl are the smallest of the hosts', and every host must offer an in-kernel GICv3;
 *  - the GIC CPU interface (ICC_CTLR_EL1) gets the fewest priority and ID bits, and SEIS and A3V must be equal; the
 *    PMU gets the fewest event counters; the counter frequency must be equal; profiles of an older roam, which lack
 *    these, are refused naming the host to profile again.
 * A failed merge lists every problem, one line each.
 */
#ifndef ROAM_ARM64_TARGETS_H
#define ROAM_ARM64_TARGETS_H

#include "cpu_profile.h"
#include "targets/targets.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/*
 * Merges `n` profiles into `out` with default options and the given names (NULL: the profiles' own). Returns 0, or
 * a negative errno with one line per problem in `err`, each naming the register, field and host at fault: -EINVAL for
 * conflicts, -E2BIG when there are more than ARM64_TARGETS_MAX_IMPLS different CPUs or more than ARM64_PROFILE_MAX_REGS
 * registers. `out` is fully written on success and unspecified on failure.
 */
int arm64_targets_merge(const struct arm64_cpu_profile *p, int n, const char *const *names, struct arm64_targets *out,
			char *err, size_t err_len);

/*
 * arm64_targets_merge() with options (`opt` may be NULL): opt->id[] overrides MIDR, REVIDR and AIDR (in that order,
 * arm64_targets_ops.id.regs). An override MIDR must fit in 32 bits (63:32 are RES0).
 */
int arm64_targets_merge_opts(const struct arm64_cpu_profile *p, int n, const struct targets_merge_options *opt,
			     struct arm64_targets *out, char *err, size_t err_len);

/*
 * Checks whether `host` (a freshly captured profile) can run guests made for `t`: its MIDR+REVIDR is one of the
 * targets, it can present the guest identity, every target register value differs from the host's value only in
 * bits its KVM can write, its IPA size, GIC and SVE vector length suffice, and it has no non-zero feature register
 * the targets do not list. Fills `r` (never fails); the host passes when r->nr_errors == 0. Codes (stable, for
 * scripts): ok ones "host-in-targets", "identity-ok", "regs-ok", "ipa-ok", "gic-ok", "sve-ok", "cntfrq-ok",
 * "gic-cpuif-ok", "pmu-ok", "compat-unknown" (targets from older profiles); errors "host-not-in-targets",
 * "imp-regs-not-writable", "reg-not-writable", "reg-missing", "reg-not-in-targets", "ipa-too-small", "gic-missing",
 * "sve-vl", "cntfrq-differs", "gic-cpuif", "pmu-counters", "profile-old" (a host profile of an older roam).
 */
void arm64_targets_check(const struct arm64_targets *t, const struct arm64_cpu_profile *host, struct targets_report *r);

/*
 * arm64's part of the shared migration targets (vmm/targets/targets.h): identity registers MIDR, REVIDR and AIDR
 * (--midr/--revidr/--aidr), struct arm64_cpu_profile and struct arm64_targets with their JSON (targets_json.c), the
 * merge and the check above.
 */
extern const struct targets_arch_ops arm64_targets_ops;

/* The profile's identity registers for the shared code: MIDR, REVIDR, AIDR. */
void arm64_profile_ids(const struct arm64_cpu_profile *p, uint64_t id[TARGETS_MAX_IDS]);

/* The targets as the shared code sees them (name, MIDR, REVIDR, AIDR); returns the count. */
int arm64_targets_impls(const struct arm64_targets *t, struct targets_impl *out);

#endif
