/*
 * What decides whether a guest can run on (and move to) an arm64 host: its identity registers, its feature ID
 * registers with KVM's writable masks, and the VM features KVM offers. `roam cpu-profile` captures one of these per
 * host; `roam targets merge` turns several into a targets config (struct arm64_targets) that every one of those
 * hosts can provide.
 */
#ifndef ROAM_ARM64_CPU_PROFILE_H
#define ROAM_ARM64_CPU_PROFILE_H

#include <stdbool.h>
#include <stdint.h>

#define ARM64_PROFILE_MAX_REGS 64
#define ARM64_TARGETS_MAX_IMPLS 16
#define ARM64_TARGETS_MAX_LOWERED 128 /* notes kept in struct arm64_targets.lowered */
#define ARM64_TARGETS_NOTE_LEN 128 /* bytes per note, NUL included */

/* A system register encoding, packed like the Arm ARM's (op0, op1, CRn, CRm, op2). */
#define ARM64_SYSREG_ENC(op0, op1, crn, crm, op2)                                                                      \
	((uint32_t)(((op0) << 14) | ((op1) << 11) | ((crn) << 7) | ((crm) << 3) | (op2)))
#define ARM64_SYSREG_OP0(enc) (((enc) >> 14) & 3)
#define ARM64_SYSREG_OP1(enc) (((enc) >> 11) & 7)
#define ARM64_SYSREG_CRN(enc) (((enc) >> 7) & 15)
#define ARM64_SYSREG_CRM(enc) (((enc) >> 3) & 15)
#define ARM64_SYSREG_OP2(enc) ((enc)&7)

#define ARM64_MIDR_EL1 ARM64_SYSREG_ENC(3, 0, 0, 0, 0)
#define ARM64_MPIDR_EL1 ARM64_SYSREG_ENC(3, 0, 0, 0, 5)
#define ARM64_REVIDR_EL1 ARM64_SYSREG_ENC(3, 0, 0, 0, 6)
#define ARM64_AIDR_EL1 ARM64_SYSREG_ENC(3, 1, 0, 0, 7)

struct arm64_id_reg {
	uint32_t enc; /* ARM64_SYSREG_ENC */
	uint64_t value; /* what KVM gives a new vCPU on this host */
	uint64_t writable; /* KVM_ARM_GET_REG_WRITABLE_MASKS: bits userspace may change (0: none / unknown) */
};

/*
 * What a host must match beyond the ID registers, read from a scratch VM (docs/targets.md): the read-only fields of
 * its GIC CPU interface, its PMU, and its counter frequency (which a guest reads from the hardware).
 */
struct arm64_compat {
	bool known; /* false: recorded by an older roam, so unknown */
	uint64_t icc_ctlr; /* ICC_CTLR_EL1's read-only fields (gic_cpuif.h) */
	uint32_t pmu_counters; /* PMCR_EL0.N of a vCPU with a PMU: event counters (0: no PMU) */
	uint32_t pmu_version; /* ID_AA64DFR0_EL1.PMUVer of that vCPU (0: no PMU); unused in targets */
	bool pmu_counters_settable; /* KVM_ARM_VCPU_PMU_V3_SET_NR_COUNTERS lowers N; unused in targets */
	uint64_t cntfrq; /* CNTFRQ_EL0, in Hz */
};

struct arm64_cpu_profile {
	char name[64]; /* a label for the host: --name, else the host name */
	char kernel[65]; /* uname -r of the host */
	uint64_t midr, revidr, aidr;
	int nr_regs;
	/* Every register of the ID range (op0=3, op1 in {0,1,3}, CRn=0, CRm 0..7) that KVM_GET_REG_LIST reports,
	 * sorted by encoding; MIDR/REVIDR/AIDR appear here too, with their masks. */
	struct arm64_id_reg regs[ARM64_PROFILE_MAX_REGS];
	bool has_writable_masks; /* KVM_CAP_ARM_SUPPORTED_REG_MASK_RANGES */
	bool writable_imp_regs; /* KVM_CAP_ARM_WRITABLE_IMP_ID_REGS: MIDR/REVIDR/AIDR can be set */
	uint32_t ipa_bits; /* KVM_CAP_ARM_VM_IPA_SIZE */
	uint32_t gic_version; /* 3 if KVM emulates a GICv3 (the only one roam uses), else 0 */
	bool sve; /* KVM_CAP_ARM_SVE */
	uint32_t sve_max_vl; /* bytes; 0 without SVE */
	bool ptrauth; /* KVM_CAP_ARM_PTRAUTH_ADDRESS and _GENERIC */
	bool mte; /* KVM_CAP_ARM_MTE */
	bool pmu; /* KVM_CAP_ARM_PMU_V3 */
	bool counter_offset; /* KVM_CAP_COUNTER_OFFSET */
	bool smccc_filter; /* the KVM_ARM_VM_SMCCC_FILTER attribute */
	struct arm64_compat compat; /* profile version 2; unknown (compat.known false) in an older profile */
};

struct arm64_impl {
	char name[64]; /* the profile's name */
	uint64_t midr, revidr, aidr;
};

/* A targets config: the implementations a guest may run on, and the one CPU they can all present. */
struct arm64_targets {
	int nr_impls;
	struct arm64_impl impls[ARM64_TARGETS_MAX_IMPLS];
	uint64_t guest_midr, guest_revidr, guest_aidr; /* guest-visible identity (default: the first target's) */
	int nr_regs;
	struct arm64_id_reg regs[ARM64_PROFILE_MAX_REGS]; /* safe values; `writable` = the AND of the hosts' masks */
	uint32_t min_ipa_bits; /* the smallest IPA size among the targets */
	uint32_t gic_version; /* required: 3 */
	uint32_t sve_max_vl; /* the smallest among the targets (0: no SVE for the guest) */
	/* The GIC CPU interface with the fewest priority and ID bits, the fewest PMU counters, the one frequency. */
	struct arm64_compat compat;
	/* For people: what the merge changed, one "REG.FIELD: 0x1 -> 0x0 (host, ...)" line per field and old value. */
	int nr_lowered;
	char lowered[ARM64_TARGETS_MAX_LOWERED][ARM64_TARGETS_NOTE_LEN];
};

#endif
