/*
 * The LoongArch guest registers roam reads and writes through KVM, as data: the CSRs (in save/restore order) and the
 * CPUCFG words, with their names for messages, and the KVM ONE_REG ids for both (arch/loongarch/include/uapi/asm/
 * kvm.h: set 1 = CSR, set 4 = CPUCFG, index << 3). GPRs and the PC go through KVM_GET_REGS/KVM_SET_REGS, not ONE_REG.
 *
 * The CSR list is the guest state KVM keeps for a vCPU (arch/loongarch/kvm/main.c marks them as hardware guest CSRs)
 * minus the read-only PGD and PRCFG1..3. The timer CSRs come last, after CNTC, so a restored timer counts from the
 * restored counter compare. PMU, debug and machine-error CSRs are left out: roam gives the guest no PMU (CPUCFG6 = 0)
 * and no debug or machine-error features. Pure: unit-tested without KVM.
 */
#ifndef ROAM_LOONGARCH_CSR_H
#define ROAM_LOONGARCH_CSR_H

#include <stdint.h>

/* CSR numbers (the LoongArch reference manual's). */
#define LOONGARCH_CSR_CRMD 0x0
#define LOONGARCH_CSR_ECFG 0x4
#define LOONGARCH_CSR_ESTAT 0x5
#define LOONGARCH_CSR_CPUID 0x20
#define LOONGARCH_CSR_TMID 0x40
#define LOONGARCH_CSR_TCFG 0x41
#define LOONGARCH_CSR_TVAL 0x42
#define LOONGARCH_CSR_CNTC 0x43

/* KVM keeps CPUCFG words 0..20 per vCPU (KVM_MAX_CPUCFG_REGS); the guest reads what the VMM wrote there. */
#define LOONGARCH_NR_CPUCFG 21

struct loongarch_csr_desc {
	uint16_t num;
	const char *name;
};

/* The number of CSRs roam saves and restores. */
int loongarch_csr_count(void);

/* The i-th CSR in save/restore order (0 <= i < loongarch_csr_count()). */
const struct loongarch_csr_desc *loongarch_csr_at(int i);

/* The position of CSR `num` in the list, or -1 when roam does not handle it. */
int loongarch_csr_index(uint16_t num);

/* "CRMD", ... for a CSR in the list; "CSR 0x123" (in `buf`, 16 bytes) for another. */
const char *loongarch_csr_name(uint16_t num, char buf[16]);

/* KVM ONE_REG ids. */
uint64_t loongarch_csr_reg_id(uint16_t num);
uint64_t loongarch_cpucfg_reg_id(uint32_t index);

#endif
