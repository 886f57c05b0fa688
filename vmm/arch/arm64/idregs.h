/*
 * The arm64 ID registers roam knows by name (op0=3, op1 in {0,1,3}, CRn=0, CRm 0..7): their architectural names and,
 * for the feature registers, a field table saying how values from several hosts merge into one value that every
 * host can offer a guest (LOWER_SAFE, SIGNED_LOWER_SAFE, HIGHER_SAFE, ...). Field layouts follow the Arm ARM as
 * summarized in Linux's arch/arm64/tools/sysreg; merge rules follow Linux's cpufeature rules where those describe
 * what a guest may safely be told, with the exceptions documented at each field in idregs_table.c.
 *
 * Bits that no table entry covers (unknown registers, reserved or unknown fields of known registers) are merged as
 * 4-bit unsigned LOWER_SAFE fields aligned on nibbles: new ID fields are almost always 4-bit "0 = not implemented,
 * higher = more" fields, so the lowest value is the one every host can provide. Pure data and functions, no KVM.
 */
#ifndef ROAM_ARM64_IDREGS_H
#define ROAM_ARM64_IDREGS_H

#include "cpu_profile.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Enough for "ID_AA64SMFR0_EL1" and for "S3_7_C15_C15_7". */
#define ARM64_IDREG_NAME_MAX 24
/* Enough for "ID_AA64SMFR0_EL1.SYSINSTR_128" and for "S3_7_C15_C15_7[63:60]". */
#define ARM64_FIELD_LABEL_MAX 48
/* A register splits into at most 64 fields (one per bit). */
#define ARM64_IDREG_MAX_FIELDS 64

/* How the values of one field on several hosts merge into the value every one of them can present. */
enum arm64_field_rule {
	ARM64_FIELD_LOWER_SAFE, /* unsigned: the smallest value */
	ARM64_FIELD_SIGNED_LOWER_SAFE, /* two's complement in the field (0xF = -1 = not implemented): the smallest */
	ARM64_FIELD_HIGHER_SAFE, /* unsigned: the largest value (e.g. SpecSEI: "may raise an SError") */
	ARM64_FIELD_HIGHER_OR_ZERO_SAFE, /* 0 means "not reported, assume the worst": 0 if any host has 0, else largest
					  */
	ARM64_FIELD_STAGE2_GRANULE, /* TGran*_2: ordered 1 (none) < 0 (as at stage 1) < 2 (yes) < 3 (52-bit) */
	ARM64_FIELD_EXACT, /* every host must have the same value */
};

/* Field flags. */
#define ARM64_FIELD_IMPDEF_ALGO 1u /* an IMPLEMENTATION DEFINED algorithm: 0 unless all hosts are the same CPU */

struct arm64_idreg_field {
	const char *name; /* NULL for the default nibble fields arm64_idreg_layout() fills gaps with */
	uint8_t shift;
	uint8_t width; /* 1..64 */
	uint8_t rule; /* enum arm64_field_rule */
	uint8_t flags; /* ARM64_FIELD_* flags */
};

enum arm64_idreg_kind {
	ARM64_IDREG_FEATURE, /* merged field by field */
	ARM64_IDREG_IDENTITY, /* MIDR, REVIDR, AIDR (the guest identity) and MPIDR (per vCPU): never merged */
};

struct arm64_idreg_desc {
	uint32_t enc;
	const char *name;
	enum arm64_idreg_kind kind;
	const struct arm64_idreg_field *fields; /* the named fields, from the most significant down */
	int nr_fields;
};

/* The number of registers in the table; arm64_idreg_at(0 .. count-1) walks them in encoding order. */
int arm64_idreg_count(void);

/* The i-th register of the table (0 <= i < arm64_idreg_count()), or NULL when i is out of range. */
const struct arm64_idreg_desc *arm64_idreg_at(int i);

/* The table's entry for an encoding, or NULL if roam does not know that register by name. */
const struct arm64_idreg_desc *arm64_idreg_find(uint32_t enc);

/* True if `enc` lies in the ID register range roam handles: op0=3, op1 in {0,1,3}, CRn=0, CRm 0..7. */
bool arm64_idreg_in_id_range(uint32_t enc);

/* True for the registers that are not merged field by field: MIDR_EL1, REVIDR_EL1, AIDR_EL1 and MPIDR_EL1. */
bool arm64_idreg_is_identity(uint32_t enc);

/*
 * Writes the register's architectural name into `buf` (ARM64_IDREG_NAME_MAX bytes), or the generic encoding
 * "S<op0>_<op1>_C<crn>_C<crm>_<op2>" (e.g. "S3_1_C0_C0_7") for a register not in the table. Returns `buf`.
 */
const char *arm64_idreg_name(uint32_t enc, char *buf);

/*
 * Parses an architectural name from the table (case-insensitive) or a generic "S3_1_C0_C0_7" encoding (any system
 * register; op0 0..3, op1 0..7, CRn/CRm 0..15, op2 0..7). Returns 0 and sets *enc, or -EINVAL.
 */
int arm64_idreg_parse(const char *s, uint32_t *enc);

/*
 * Fills `out` (ARM64_IDREG_MAX_FIELDS entries) with fields that cover bits 0..63 of the register exactly once, in
 * ascending bit order: the table's named fields, and default fields (name NULL, 4-bit-aligned, LOWER_SAFE) for every
 * bit they leave uncovered. An unknown register yields sixteen default nibbles. Returns the number of fields.
 */
int arm64_idreg_layout(uint32_t enc, struct arm64_idreg_field *out);

/* The field's bits within the register: ((1 << width) - 1) << shift, correct for width 64. */
uint64_t arm64_field_mask(const struct arm64_idreg_field *f);

/* The field's value taken out of a register value (shifted down to bit 0). */
uint64_t arm64_field_get(const struct arm64_idreg_field *f, uint64_t reg);

/* `reg` with the field replaced by `value` (bits of `value` beyond the field's width are ignored). */
uint64_t arm64_field_set(const struct arm64_idreg_field *f, uint64_t reg, uint64_t value);

/*
 * The safe combination of two values `a` and `b` (shifted down, as from arm64_field_get) of the field under its rule.
 * For EXACT fields with a != b, sets *conflict to true and returns `a`; otherwise leaves *conflict alone. The
 * combination is associative and commutative, so folding it over any number of hosts gives the same result.
 */
uint64_t arm64_field_combine(const struct arm64_idreg_field *f, uint64_t a, uint64_t b, bool *conflict);

/*
 * Writes "REG.FIELD" (e.g. "ID_AA64PFR0_EL1.FP") into `buf` (ARM64_FIELD_LABEL_MAX bytes), or "REG[hi:lo]" (e.g.
 * "CTR_EL0[13:4]") for a default field. Returns `buf`.
 */
const char *arm64_field_label(uint32_t enc, const struct arm64_idreg_field *f, char *buf);

/* The rule's name as used in docs and messages: "LOWER_SAFE", "SIGNED_LOWER_SAFE", ... */
const char *arm64_field_rule_name(enum arm64_field_rule rule);

#endif
