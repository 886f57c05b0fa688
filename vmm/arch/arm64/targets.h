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
 *  - min_ipa_bits and sve_max_vl are the smallest of the hosts', and every host must offer an in-kernel GICv3.
 */
#ifndef ROAM_ARM64_TARGETS_H
#define ROAM_ARM64_TARGETS_H

#include "cpu_profile.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Options of arm64_targets_merge_opts(); all-zero means "the defaults", as arm64_targets_merge() uses. */
struct arm64_merge_options {
	const char *const *names; /* NULL, or n labels replacing the profiles' names (an entry may be NULL) */
	/* The guest identity override (`roam targets merge --midr/--revidr/--aidr`); unset ones are the first
	 * profile's. */
	bool set_midr, set_revidr, set_aidr;
	uint64_t midr, revidr, aidr;
};

/*
 * Merges `n` profiles into `out` with default options and the given names (NULL: the profiles' own). Returns 0, or
 * a negative errno with one line in `err` naming the register, field and host at fault (and how many other problems
 * there are): -EINVAL for conflicts, -E2BIG when there are more than ARM64_TARGETS_MAX_IMPLS different CPUs or more
 * than ARM64_PROFILE_MAX_REGS registers. `out` is fully written on success and unspecified on failure.
 */
int arm64_targets_merge(const struct arm64_cpu_profile *p, int n, const char *const *names, struct arm64_targets *out,
			char *err, size_t err_len);

/* arm64_targets_merge() with options (`opt` may be NULL). An override MIDR must fit in 32 bits (63:32 are RES0). */
int arm64_targets_merge_opts(const struct arm64_cpu_profile *p, int n, const struct arm64_merge_options *opt,
			     struct arm64_targets *out, char *err, size_t err_len);

#define ARM64_CHECK_MAX_FINDINGS 64
#define ARM64_FINDING_MESSAGE_LEN 256

enum arm64_finding_severity {
	ARM64_FINDING_OK,
	ARM64_FINDING_ERROR,
};

/*
 * One finding of a check. Codes (stable, for scripts): ok ones "host-in-targets", "identity-ok", "regs-ok",
 * "ipa-ok", "gic-ok", "sve-ok"; errors "host-not-in-targets", "imp-regs-not-writable", "reg-not-writable",
 * "reg-missing", "reg-not-in-targets", "ipa-too-small", "gic-missing", "sve-vl".
 */
struct arm64_finding {
	enum arm64_finding_severity severity;
	const char *code; /* a static string */
	char message[ARM64_FINDING_MESSAGE_LEN];
};

struct arm64_check_report {
	char host[64]; /* the checked profile's name */
	int nr_errors; /* errors found, kept or not */
	int nr_dropped; /* findings that did not fit in `findings` */
	int nr_findings; /* entries used in `findings`, in the order found */
	struct arm64_finding findings[ARM64_CHECK_MAX_FINDINGS];
};

/*
 * Checks whether `host` (a freshly captured profile) can run guests made for `t`: its MIDR+REVIDR is one of the
 * targets, it can present the guest identity, every target register value differs from the host's value only in
 * bits its KVM can write, its IPA size, GIC and SVE vector length suffice, and it has no non-zero feature register
 * the targets do not list. Fills `r` (never fails); the host passes when r->nr_errors == 0.
 */
void arm64_targets_check(const struct arm64_targets *t, const struct arm64_cpu_profile *host,
			 struct arm64_check_report *r);

/*
 * Renders a report for people: one "ok    CODE  MESSAGE" or "error CODE  MESSAGE" line per finding and a closing
 * verdict naming `targets_label` (e.g. the file name). Returns a malloc'd NUL-terminated string, or NULL without
 * memory.
 */
char *arm64_check_report_text(const struct arm64_check_report *r, const char *targets_label);

#endif
