/* ID register names, field layouts and field merge rules: see idregs.h. The table itself is in idregs_table.c. */
#include "idregs.h"

#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

/* Defined in idregs_table.c, sorted by encoding. */
extern const struct arm64_idreg_desc arm64_idreg_table[];
extern const int arm64_idreg_table_len;

int arm64_idreg_count(void)
{
	return arm64_idreg_table_len;
}

const struct arm64_idreg_desc *arm64_idreg_at(int i)
{
	if (i < 0 || i >= arm64_idreg_table_len)
		return NULL;
	return &arm64_idreg_table[i];
}

const struct arm64_idreg_desc *arm64_idreg_find(uint32_t enc)
{
	int lo = 0, hi = arm64_idreg_table_len;
	while (lo < hi) {
		int mid = lo + (hi - lo) / 2;
		if (arm64_idreg_table[mid].enc == enc)
			return &arm64_idreg_table[mid];
		if (arm64_idreg_table[mid].enc < enc)
			lo = mid + 1;
		else
			hi = mid;
	}
	return NULL;
}

bool arm64_idreg_in_id_range(uint32_t enc)
{
	uint32_t op1 = ARM64_SYSREG_OP1(enc);
	return enc <= ARM64_SYSREG_ENC(3, 7, 15, 15, 7) && ARM64_SYSREG_OP0(enc) == 3 &&
	       (op1 == 0 || op1 == 1 || op1 == 3) && ARM64_SYSREG_CRN(enc) == 0 && ARM64_SYSREG_CRM(enc) <= 7;
}

bool arm64_idreg_is_identity(uint32_t enc)
{
	return enc == ARM64_MIDR_EL1 || enc == ARM64_REVIDR_EL1 || enc == ARM64_AIDR_EL1 || enc == ARM64_MPIDR_EL1;
}

const char *arm64_idreg_name(uint32_t enc, char *buf)
{
	const struct arm64_idreg_desc *d = arm64_idreg_find(enc);
	if (d)
		snprintf(buf, ARM64_IDREG_NAME_MAX, "%s", d->name);
	else
		snprintf(buf, ARM64_IDREG_NAME_MAX, "S%u_%u_C%u_C%u_%u", (unsigned)ARM64_SYSREG_OP0(enc),
			 (unsigned)ARM64_SYSREG_OP1(enc), (unsigned)ARM64_SYSREG_CRN(enc),
			 (unsigned)ARM64_SYSREG_CRM(enc), (unsigned)ARM64_SYSREG_OP2(enc));
	return buf;
}

/* Parses decimal digits at *s (no sign, at most two digits) up to `max`; advances *s. */
static int parse_small(const char **s, unsigned max, unsigned *out)
{
	const char *p = *s;
	unsigned v = 0;
	int digits = 0;
	while (*p >= '0' && *p <= '9' && digits < 3) {
		v = v * 10 + (unsigned)(*p - '0');
		p++;
		digits++;
	}
	if (digits == 0 || digits > 2 || v > max)
		return -EINVAL;
	*s = p;
	*out = v;
	return 0;
}

static int expect(const char **s, const char *lit)
{
	size_t n = strlen(lit);
	if (strncasecmp(*s, lit, n) != 0)
		return -EINVAL;
	*s += n;
	return 0;
}

int arm64_idreg_parse(const char *s, uint32_t *enc)
{
	for (int i = 0; i < arm64_idreg_table_len; i++) {
		if (strcasecmp(s, arm64_idreg_table[i].name) == 0) {
			*enc = arm64_idreg_table[i].enc;
			return 0;
		}
	}
	unsigned op0, op1, crn, crm, op2;
	const char *p = s;
	if (expect(&p, "S") || parse_small(&p, 3, &op0) || expect(&p, "_") || parse_small(&p, 7, &op1) ||
	    expect(&p, "_C") || parse_small(&p, 15, &crn) || expect(&p, "_C") || parse_small(&p, 15, &crm) ||
	    expect(&p, "_") || parse_small(&p, 7, &op2) || *p != '\0')
		return -EINVAL;
	*enc = ARM64_SYSREG_ENC(op0, op1, crn, crm, op2);
	return 0;
}

uint64_t arm64_field_mask(const struct arm64_idreg_field *f)
{
	uint64_t ones = f->width >= 64 ? ~0ull : (1ull << f->width) - 1;
	return ones << f->shift;
}

uint64_t arm64_field_get(const struct arm64_idreg_field *f, uint64_t reg)
{
	return (reg & arm64_field_mask(f)) >> f->shift;
}

uint64_t arm64_field_set(const struct arm64_idreg_field *f, uint64_t reg, uint64_t value)
{
	uint64_t mask = arm64_field_mask(f);
	return (reg & ~mask) | ((value << f->shift) & mask);
}

/* The field value as a signed number (its top bit is the sign). */
static int64_t field_signed(const struct arm64_idreg_field *f, uint64_t v)
{
	if (f->width >= 64)
		return (int64_t)v;
	uint64_t sign = 1ull << (f->width - 1);
	return (int64_t)(v ^ sign) - (int64_t)sign;
}

/* TGran*_2 order: 1 (not at stage 2) < 0 (as at stage 1) < 2 (supported) < 3 (52-bit) < others as they come. */
static uint64_t stage2_rank(uint64_t v)
{
	if (v == 0)
		return 1;
	if (v == 1)
		return 0;
	return v;
}

uint64_t arm64_field_combine(const struct arm64_idreg_field *f, uint64_t a, uint64_t b, bool *conflict)
{
	switch ((enum arm64_field_rule)f->rule) {
	case ARM64_FIELD_LOWER_SAFE:
		return a < b ? a : b;
	case ARM64_FIELD_SIGNED_LOWER_SAFE:
		return field_signed(f, a) < field_signed(f, b) ? a : b;
	case ARM64_FIELD_HIGHER_SAFE:
		return a > b ? a : b;
	case ARM64_FIELD_HIGHER_OR_ZERO_SAFE:
		if (a == 0 || b == 0)
			return 0;
		return a > b ? a : b;
	case ARM64_FIELD_STAGE2_GRANULE:
		return stage2_rank(a) < stage2_rank(b) ? a : b;
	case ARM64_FIELD_EXACT:
		if (a != b)
			*conflict = true;
		return a;
	}
	return a < b ? a : b;
}

const char *arm64_field_label(uint32_t enc, const struct arm64_idreg_field *f, char *buf)
{
	char name[ARM64_IDREG_NAME_MAX];
	arm64_idreg_name(enc, name);
	if (f->name)
		snprintf(buf, ARM64_FIELD_LABEL_MAX, "%s.%s", name, f->name);
	else if (f->width == 1)
		snprintf(buf, ARM64_FIELD_LABEL_MAX, "%s[%u]", name, f->shift);
	else
		snprintf(buf, ARM64_FIELD_LABEL_MAX, "%s[%u:%u]", name, f->shift + f->width - 1u, f->shift);
	return buf;
}

const char *arm64_field_rule_name(enum arm64_field_rule rule)
{
	switch (rule) {
	case ARM64_FIELD_LOWER_SAFE:
		return "LOWER_SAFE";
	case ARM64_FIELD_SIGNED_LOWER_SAFE:
		return "SIGNED_LOWER_SAFE";
	case ARM64_FIELD_HIGHER_SAFE:
		return "HIGHER_SAFE";
	case ARM64_FIELD_HIGHER_OR_ZERO_SAFE:
		return "HIGHER_OR_ZERO_SAFE";
	case ARM64_FIELD_STAGE2_GRANULE:
		return "STAGE2_GRANULE";
	case ARM64_FIELD_EXACT:
		return "EXACT";
	}
	return "?";
}

static int field_cmp_shift(const void *a, const void *b)
{
	const struct arm64_idreg_field *x = a, *y = b;
	return (int)x->shift - (int)y->shift;
}

int arm64_idreg_layout(uint32_t enc, struct arm64_idreg_field *out)
{
	const struct arm64_idreg_desc *d = arm64_idreg_find(enc);
	int n = 0;
	uint64_t covered = 0;
	if (d) {
		for (int i = 0; i < d->nr_fields && n < ARM64_IDREG_MAX_FIELDS; i++) {
			out[n++] = d->fields[i];
			covered |= arm64_field_mask(&d->fields[i]);
		}
	}
	/* Fill each uncovered run with default fields that never cross a nibble boundary. */
	for (unsigned bit = 0; bit < 64 && n < ARM64_IDREG_MAX_FIELDS;) {
		if (covered & (1ull << bit)) {
			bit++;
			continue;
		}
		unsigned end = bit + 1;
		while (end < 64 && end % 4 != 0 && !(covered & (1ull << end)))
			end++;
		out[n++] =
		    (struct arm64_idreg_field){NULL, (uint8_t)bit, (uint8_t)(end - bit), ARM64_FIELD_LOWER_SAFE, 0};
		bit = end;
	}
	qsort(out, (size_t)n, sizeof(out[0]), field_cmp_shift);
	return n;
}
