/*
 * What decides whether a guest can run on (and move to) a LoongArch host: the CPUCFG words. Unlike arm64, KVM on
 * LoongArch shows the guest only what the VMM writes (KVM_IOC_CPUCFG(0..20)), accepting bits within a per-word mask
 * (KVM_LOONGARCH_VCPU_CPUCFG attribute) and a few consistency rules. So a host profile records the host's own CPUCFG
 * words (read with the cpucfg instruction), KVM's masks, PRID (CPUCFG0) and the paravirtual features KVM offers;
 * `roam targets merge` computes the words every host of a set can present, field by field:
 *   LOWER  the smallest value (feature bits, version numbers, address widths): every host can present less;
 *   EXACT  all hosts must agree (the ISA level, the stable-counter frequency words, PMU counter width, cache
 *          geometry words): the guest would misbehave on a host where they differ.
 * Bits no field names are one-bit LOWER fields. PRID is not merged: the guest sees one identity (CPUCFG0 is fully
 * writable), the first profile's unless overridden. roam's own policy masks off what it cannot save or does not
 * emulate: binary translation (LBT), the PMU, message interrupts and the virtualization bits. Pure: no KVM, no files.
 */
#ifndef ROAM_LOONGARCH_CPUCFG_H
#define ROAM_LOONGARCH_CPUCFG_H

#include "csr.h"
#include "targets/targets.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* CPUCFG2 bits roam needs by name. */
#define LOONGARCH_CPUCFG2_FP (1u << 0)
#define LOONGARCH_CPUCFG2_FPSP (1u << 1)
#define LOONGARCH_CPUCFG2_FPDP (1u << 2)
#define LOONGARCH_CPUCFG2_LSX (1u << 6)
#define LOONGARCH_CPUCFG2_LASX (1u << 7)
#define LOONGARCH_CPUCFG2_LLFTP (1u << 14)

/* Paravirtual feature bits (asm/kvm_para.h, CPUCFG 0x40000004): 24..31 are the VMM's to set. */
#define LOONGARCH_PV_IPI (1u << 1)
#define LOONGARCH_PV_STEAL_TIME (1u << 2)
#define LOONGARCH_PV_PREEMPT (1u << 3)
#define LOONGARCH_PV_VIRT_EXTIOI (1u << 24)
#define LOONGARCH_PV_USER_HCALL (1u << 25)

#define LOONGARCH_TARGETS_MAX_IMPLS 16
#define LOONGARCH_TARGETS_MAX_NOTES 64
#define LOONGARCH_TARGETS_NOTE_LEN 128

struct loongarch_cpu_profile {
	char name[64]; /* a label for the host: --name, else the host name */
	char kernel[65]; /* uname -r */
	uint32_t cpucfg[LOONGARCH_NR_CPUCFG]; /* the host's words (cpucfg instruction); [0] is PRID */
	uint32_t writable[LOONGARCH_NR_CPUCFG]; /* KVM's mask of bits a VMM may set, per word */
	uint32_t pv_features; /* what KVM gives a new VM at CPUCFG 0x40000004 */
	bool user_hcall; /* KVM accepts the USER_HCALL feature (user-service hypercalls reach roam) */
	bool virt_extioi; /* KVM accepts the VIRT_EXTIOI feature (more than 4 vCPUs) */
	uint32_t vm_features; /* bit N: KVM_LOONGARCH_VM_FEAT_CTRL attribute N exists (LSX 0, LASX 1, ..., PMU 5) */
};

struct loongarch_impl {
	char name[64];
	uint32_t prid;
};

/* A targets config: the hosts a guest may run on, and the CPUCFG words they can all present. */
struct loongarch_targets {
	int nr_impls;
	struct loongarch_impl impls[LOONGARCH_TARGETS_MAX_IMPLS];
	uint32_t guest_prid;
	uint32_t cpucfg[LOONGARCH_NR_CPUCFG]; /* [0] equals guest_prid */
	int nr_notes; /* what the merge lowered, for people */
	char notes[LOONGARCH_TARGETS_MAX_NOTES][LOONGARCH_TARGETS_NOTE_LEN];
};

enum loongarch_field_rule {
	LOONGARCH_FIELD_LOWER,
	LOONGARCH_FIELD_EXACT,
};

struct loongarch_cpucfg_field {
	uint8_t word;
	uint8_t lo, hi; /* bits lo..hi */
	enum loongarch_field_rule rule;
	const char *name; /* "CPUCFG2.LSX"; NULL for an unnamed bit */
};

/* The fields of CPUCFG word `word`, covering every bit 0..31 (unnamed bits are one-bit LOWER fields). */
int loongarch_cpucfg_fields(uint32_t word, struct loongarch_cpucfg_field out[32]);

/* The bits roam lets a guest see in word `word` (its policy, before KVM's mask). */
uint32_t loongarch_cpucfg_policy(uint32_t word);

/*
 * The CPUCFG words a guest gets on this host without a targets config: the host's words within KVM's masks and
 * roam's policy. Returns 0, or -EINVAL with *why when the result breaks a rule KVM enforces (no constant timer).
 */
int loongarch_guest_cpucfg(const struct loongarch_cpu_profile *p, uint32_t out[LOONGARCH_NR_CPUCFG], const char **why);

/*
 * Merges `n` profiles (each host's guest words as loongarch_guest_cpucfg computes them); opt->id[0] overrides the
 * guest's PRID (default: the first profile's), opt->names the profiles' names. Returns 0, or -EINVAL
 * (an EXACT field differs, naming word, field and two hosts; or a profile's words are unusable) / -E2BIG (more than
 * LOONGARCH_TARGETS_MAX_IMPLS distinct PRIDs) with one line in `err`.
 */
int loongarch_targets_merge_opts(const struct loongarch_cpu_profile *p, int n, const struct targets_merge_options *opt,
				 struct loongarch_targets *out, char *err, size_t err_len);

/*
 * Checks whether `host` can run guests made for `t`: its PRID is one of the targets, KVM there accepts every target
 * word (bits within its mask), no LOWER field exceeds the host's own value and every EXACT field equals it, and KVM
 * passes user-service hypercalls to roam (target discovery). Never fails; the host passes when r->nr_errors == 0.
 * Codes (stable, for scripts): ok "host-in-targets", "cpucfg-ok", "user-hcall-ok"; errors "host-not-in-targets",
 * "cpucfg-unusable", "cpucfg-not-writable", "cpucfg-above-host", "cpucfg-differs", "user-hcall-missing".
 */
void loongarch_targets_check(const struct loongarch_targets *t, const struct loongarch_cpu_profile *host,
			     struct targets_report *r);

/* The profile's identity registers for the shared code: PRID (then 0, 0). */
void loongarch_profile_ids(const struct loongarch_cpu_profile *p, uint64_t id[TARGETS_MAX_IDS]);

/* The targets as the shared code sees them (name, PRID); returns the count. */
int loongarch_targets_impls(const struct loongarch_targets *t, struct targets_impl *out);

/*
 * LoongArch's part of the shared migration targets (vmm/targets/targets.h): the identity register PRID (--prid),
 * struct loongarch_cpu_profile and struct loongarch_targets with their JSON (targets_json.c), the merge and the
 * check above.
 */
extern const struct targets_arch_ops loongarch_targets_ops;

#endif
