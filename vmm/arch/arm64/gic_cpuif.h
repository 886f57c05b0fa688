/*
 * The read-only fields of the GICv3 CPU interface's ICC_CTLR_EL1, as KVM shows and accepts them
 * (arch/arm64/kvm/vgic-sys-reg-v3.c): PRIbits [10:8] (priority bits - 1), IDbits [13:11] (0: 16-bit, 1: 24-bit
 * interrupt IDs), SEIS [14], A3V [15], RSS [18] and ExtRange [19] (always 0 under KVM's emulation).
 *
 * A written ICC_CTLR_EL1 is accepted when its PRIbits and IDbits are at most the host's (KVM then keeps the lower
 * values for the vCPU) and its SEIS and A3V equal the host's. So a targets config lowers PRIbits and IDbits to the
 * smallest among its hosts and cannot merge hosts whose SEIS or A3V differ. Pure computation, no KVM.
 */
#ifndef ROAM_ARM64_GIC_CPUIF_H
#define ROAM_ARM64_GIC_CPUIF_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* ICC_CTLR_EL1's encoding, as KVM_DEV_ARM_VGIC_GRP_CPU_SYSREGS attributes carry it in bits 15:0. */
#define ARM64_ICC_CTLR_EL1_ENC ((3u << 14) | (0u << 11) | (12u << 7) | (12u << 3) | 4u)

/* The read-only fields roam compares and merges: PRIbits, IDbits, SEIS, A3V, RSS, ExtRange. */
#define ARM64_ICC_CTLR_RO_MASK ((7ull << 8) | (7ull << 11) | (1ull << 14) | (1ull << 15) | (3ull << 18))

struct arm64_gic_cpuif {
	unsigned pri_bits; /* priority bits implemented: PRIbits + 1 (1..8) */
	unsigned id_bits; /* 16 or 24 */
	bool seis, a3v, rss, ext_range;
};

/* The fields of an ICC_CTLR_EL1 value. */
struct arm64_gic_cpuif arm64_gic_cpuif_decode(uint64_t icc_ctlr);

/* "5 priority bits, 16-bit IDs, SEIS 0, A3V 1" (for messages; at least 96 bytes). Returns buf. */
char *arm64_gic_cpuif_text(uint64_t icc_ctlr, char *buf, size_t size);

/*
 * The value a vCPU of both `a` and `b` can be given: the fewer priority and ID bits, RSS and ExtRange only if both
 * have them. SEIS and A3V must be equal; *mismatch says which differ (bit 14 SEIS, bit 15 A3V; 0: none), and the
 * result then keeps `a`'s. Only the read-only fields are kept.
 */
uint64_t arm64_gic_cpuif_merge(uint64_t a, uint64_t b, uint64_t *mismatch);

/*
 * Writes into buf why a guest whose CPU interface is `guest` cannot run over a host's `host` ("" if it can: no more
 * priority or ID bits than the host's, the same SEIS and A3V). `who` starts the line ("ICC_CTLR_EL1 of CPU 0x0"),
 * `whose` names the guest's side ("the source's", "the targets'").
 */
void arm64_gic_cpuif_problem(const char *who, const char *whose, uint64_t guest, uint64_t host, char *buf, size_t size);

#endif
