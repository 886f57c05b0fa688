/*
 * LoongArch state for snapshots, as plain structs and their section payloads (DESIGN.md rule 9: little-endian
 * put/get through vmm/snap_codec.h, never memcpy of a struct). Pure: the KVM side (state_kvm.c) fills and applies the
 * structs; the unit test runs save -> restore -> save and compares bytes.
 *
 * vCPU (version 1): GPRs r0..r31 and the PC; the CSRs as (number, value) pairs, so a restore names any CSR it does
 * not know; CPUCFG words 0..20; the paravirtual features; the steal-time area's address; the FPU state at the width
 * the guest has (0: none, 64: FP, 128: LSX, 256: LASX): FCSR, the eight condition flags and 32 registers.
 * Interrupt controllers (version 1): the IPI registers of every vCPU, the EIOINTC (registers, per-vCPU in-service
 * bits, its software state) and the PCH-PIC. Timer (version 1): the guest's stable counter.
 */
#ifndef ROAM_LOONGARCH_SNAPSHOT_H
#define ROAM_LOONGARCH_SNAPSHOT_H

#include "csr.h"
#include "layout.h"

#include <stdint.h>

struct snap_writer;
struct snap_reader;

#define LOONGARCH_VCPU_STATE_VERSION 1
#define LOONGARCH_IRQCHIP_STATE_VERSION 1
#define LOONGARCH_TIMER_STATE_VERSION 1
#define LOONGARCH_MAX_CSRS 64

struct loongarch_vcpu_state {
	uint64_t gpr[32];
	uint64_t pc;
	uint32_t nr_csrs;
	uint16_t csr_num[LOONGARCH_MAX_CSRS];
	uint64_t csr_val[LOONGARCH_MAX_CSRS];
	uint32_t cpucfg[LOONGARCH_NR_CPUCFG];
	uint32_t pv_features;
	uint64_t steal_time_gpa; /* KVM_LOONGARCH_VCPU_PVTIME_GPA, 0 when the guest registered none */
	uint32_t fp_width; /* 0, 64, 128 or 256 bits per register */
	uint32_t fcsr;
	uint64_t fcc; /* eight 8-bit condition flags */
	uint64_t fpr[32][4]; /* fp_width / 64 words of each register are meaningful */
};

/* The FPU width the guest has, from its CPUCFG2 (FP, LSX, LASX). */
uint32_t loongarch_fp_width(uint32_t cpucfg2);

void loongarch_vcpu_state_save(const struct loongarch_vcpu_state *st, struct snap_writer *w);

/*
 * Decodes a version-1 payload into `st`. Returns 0, or -EBADMSG with r->what naming the bad field ("CSR 0x999",
 * "FPU width", a truncated field, trailing bytes).
 */
int loongarch_vcpu_state_restore(struct snap_reader *r, struct loongarch_vcpu_state *st);

#define LOONGARCH_EIOINTC_COREISR_WORDS 8

struct loongarch_ipi_state {
	uint32_t status, en, set, clear;
	uint64_t buf[4]; /* the mailboxes at 0x20, 0x28, 0x30, 0x38 */
};

struct loongarch_eiointc_state {
	uint32_t num_cpu, features, status; /* the software state */
	uint32_t nodetype[8], ipmap[2], enable[8], bounce[8], isr[8], coremap[64];
	uint32_t coreisr[LOONGARCH_MAX_VCPUS][LOONGARCH_EIOINTC_COREISR_WORDS];
};

struct loongarch_pch_pic_state {
	uint64_t mask, htmsi_en, edge, auto_ctrl0, auto_ctrl1, irr, isr, polarity;
	uint8_t route_entry[64], htmsi_vector[64];
};

struct loongarch_irqchip_state {
	uint32_t nr_cpus;
	struct loongarch_ipi_state ipi[LOONGARCH_MAX_VCPUS];
	struct loongarch_eiointc_state eiointc;
	struct loongarch_pch_pic_state pch_pic;
};

void loongarch_irqchip_state_save(const struct loongarch_irqchip_state *st, struct snap_writer *w);

/* Decodes a version-1 payload. Returns 0 or -EBADMSG (r->what says why: "vCPU count", a truncated field, ...). */
int loongarch_irqchip_state_restore(struct snap_reader *r, struct loongarch_irqchip_state *st);

void loongarch_timer_state_save(uint64_t counter, struct snap_writer *w);
int loongarch_timer_state_restore(struct snap_reader *r, uint64_t *counter);

#endif
