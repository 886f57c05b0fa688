/*
 * Unit test of migration targets: the ID register table (names, encodings, field layouts), merging CPU profiles
 * (each field rule, conflicts and hosts that cannot take a value, with their messages), and checking a host against
 * a targets config (each finding code). No KVM: profiles are built in memory.
 */
#include "arch/arm64/idregs.h"
#include "arch/arm64/targets.h"
#include "check.h"
#include "targets/report.h"

#include <errno.h>
#include <stdlib.h>

#define ENC(op1, crm, op2) ARM64_SYSREG_ENC(3, op1, 0, crm, op2)
#define PFR0 ENC(0, 4, 0)
#define ISAR0 ENC(0, 6, 0)
#define ISAR1 ENC(0, 6, 1)
#define MMFR0 ENC(0, 7, 0)
#define MMFR1 ENC(0, 7, 1)
#define SMFR0 ENC(0, 4, 5)
#define DFR1 ENC(0, 5, 1)
#define CLIDR ENC(1, 0, 1)
#define CTR ENC(3, 0, 1)
#define DCZID ENC(3, 0, 7)
#define UNKNOWN_REG ENC(0, 3, 3)
#define ALL ~0ull

#define MIDR_A72 0x410fd083ull
#define MIDR_N1 0x414fd0c1ull

/* Adds or replaces a register of a profile, keeping them sorted by encoding. */
static void prof_set(struct arm64_cpu_profile *p, uint32_t enc, uint64_t value, uint64_t writable)
{
	int i = 0;
	while (i < p->nr_regs && p->regs[i].enc < enc)
		i++;
	if (i == p->nr_regs || p->regs[i].enc != enc) {
		memmove(&p->regs[i + 1], &p->regs[i], (size_t)(p->nr_regs - i) * sizeof(p->regs[0]));
		p->nr_regs++;
	}
	p->regs[i] = (struct arm64_id_reg){enc, value, writable};
}

static void prof_init(struct arm64_cpu_profile *p, const char *name, uint64_t midr)
{
	memset(p, 0, sizeof(*p));
	snprintf(p->name, sizeof(p->name), "%s", name);
	p->midr = midr;
	p->has_writable_masks = true;
	p->writable_imp_regs = true;
	p->ipa_bits = 48;
	p->gic_version = 3;
	p->compat = (struct arm64_compat){.known = true,
					  .icc_ctlr = (4ull << 8 | 1ull << 15),
					  .pmu_counters = 6,
					  .pmu_version = 4,
					  .cntfrq = 62500000};
	prof_set(p, ARM64_MIDR_EL1, midr, ALL);
	prof_set(p, ARM64_MPIDR_EL1, 0x80000000, 0);
	prof_set(p, ARM64_REVIDR_EL1, 0, ALL);
	prof_set(p, ARM64_AIDR_EL1, 0, ALL);
}

static const struct arm64_id_reg *find_reg(const struct arm64_targets *t, uint32_t enc)
{
	for (int i = 0; i < t->nr_regs; i++)
		if (t->regs[i].enc == enc)
			return &t->regs[i];
	return NULL;
}

/* One register on two hosts "a" and "b": the merged value, or the error the merge must give. */
struct merge_case {
	const char *what;
	uint32_t enc;
	uint64_t a, b; /* the hosts' values */
	uint64_t wa, wb; /* their writable masks */
	uint64_t want; /* the merged value when err is NULL */
	const char *err; /* a part of the expected error */
	uint64_t midr_b; /* b's MIDR (0: neoverse-n1's, a different design from a's cortex-a72) */
};

/* Both hosts can write every bit: only the rules decide. */
#define MERGED(w, e, va, vb, result)                                                                                   \
	{                                                                                                              \
		.what = w, .enc = e, .a = va, .b = vb, .wa = ALL, .wb = ALL, .want = result                            \
	}
#define FAILS(w, e, va, wra, vb, wrb, msg)                                                                             \
	{                                                                                                              \
		.what = w, .enc = e, .a = va, .b = vb, .wa = wra, .wb = wrb, .err = msg                                \
	}

static const struct merge_case merge_cases[] = {
    MERGED("signed FP/AdvSIMD: 0xF (none) beats 1", PFR0, 0x110011, 0xff0011, 0xff0011),
    MERGED("signed FP: 0 beats 1", PFR0, 0x10000, 0x00000, 0),
    MERGED("unsigned: the smaller AES", ISAR0, 0x20, 0x10, 0x10),
    MERGED("unsigned per field", ISAR0, 0x1021120, 0x2011210, 0x1011110),
    MERGED("higher safe: SpecSEI", MMFR1, 0x0000000, 0x1000000, 0x1000000),
    MERGED("higher-or-zero: CTR_EL0.CWG 4 vs 5", CTR, 0x84000000, 0x85000000, 0x85000000),
    MERGED("higher-or-zero: CTR_EL0.CWG 0 wins", CTR, 0x84000000, 0x80000000, 0x80000000),
    MERGED("CTR_EL0: DIC/IDC lower, L1Ip lower, ERG higher", CTR, 0xb444c004, 0x84548004, 0x84548004),
    MERGED("signed TGran4: 0xF (none) beats 0", MMFR0, 0x00000000, 0xf0000000, 0xf0000000),
    MERGED("stage-2 granule: 0 (as stage 1) beats 2", MMFR0, 0x20000000000ull, 0, 0),
    MERGED("stage-2 granule: 1 (none) beats 0", MMFR0, 0x10000000000ull, 0, 0x10000000000ull),
    MERGED("stage-2 granule: 2 beats 3", MMFR0, 0x20000000000ull, 0x30000000000ull, 0x20000000000ull),
    MERGED("one-bit SME fields and 4-bit I16I64", SMFR0, 0x80f0000000000000ull, 0x00f0000100000000ull,
	   0x00f0000000000000ull),
    MERGED("CLIDR_EL1: LoUU/LoUIS/Ctype higher", CLIDR, 0x0a200023ull, 0x02000020ull, 0x0a200023ull),
    MERGED("unknown register: 4-bit lower nibbles", UNKNOWN_REG, 0x21, 0x12, 0x11),
    MERGED("gap in a known register: ISAR0[3:0]", ISAR0, 0x3, 0x1, 0x1),
    MERGED("API (IMPDEF algorithm) on different CPUs: none", ISAR1, 0x110, 0x110, 0x010),
    {.what = "API (IMPDEF algorithm) on the same CPU design: kept",
     .enc = ISAR1,
     .a = 0x110,
     .b = 0x110,
     .wa = ALL,
     .wb = ALL,
     .want = 0x110,
     .midr_b = 0x411fd083},
    FAILS("EXACT DCZID_EL0.BS", DCZID, 0x4, ALL, 0x5, ALL,
	  "DCZID_EL0.BS must be the same on all hosts, but a has 0x4 and b has 0x5"),
    FAILS("EXACT DFR1.SYSPMUID", DFR1, 0x1, ALL, 0x2, ALL, "ID_AA64DFR1_EL1.SYSPMUID must be the same"),
    FAILS("not writable on a", ISAR0, 0x20, 0, 0x00, ALL,
	  "ID_AA64ISAR0_EL1.AES: a has 0x2, the merge needs 0x0, and KVM on that host cannot change it"),
    FAILS("writable elsewhere is not enough", ISAR0, 0x20, ~0xf0ull, 0x00, ALL, "ID_AA64ISAR0_EL1.AES: a has 0x2"),
    FAILS("signed FP not writable on b", PFR0, 0xf0000, ALL, 0x10000, 0,
	  "ID_AA64PFR0_EL1.FP: b has 0x1, the merge needs 0xf, and KVM on that host cannot change it"),
    FAILS("default field not writable", UNKNOWN_REG, 0x0, ALL, 0x100, 0,
	  "S3_0_C0_C3_3[11:8]: b has 0x1, the merge needs 0x0"),
    FAILS("two problems, one line each", ISAR0, 0x220, 0, 0x110, ALL,
	  "ID_AA64ISAR0_EL1.AES: a has 0x2, the merge needs 0x1, and KVM on that host cannot change it\n"
	  "ID_AA64ISAR0_EL1.SHA1: a has 0x2, the merge needs 0x1, and KVM on that host cannot change it"),
};

static void test_merge_cases(void)
{
	for (size_t i = 0; i < sizeof(merge_cases) / sizeof(merge_cases[0]); i++) {
		const struct merge_case *c = &merge_cases[i];
		struct arm64_cpu_profile p[2];
		static struct arm64_targets t;
		char err[512] = "";
		prof_init(&p[0], "a", MIDR_A72);
		prof_init(&p[1], "b", c->midr_b ? c->midr_b : MIDR_N1);
		prof_set(&p[0], c->enc, c->a, c->wa);
		prof_set(&p[1], c->enc, c->b, c->wb);
		int ret = arm64_targets_merge(p, 2, NULL, &t, err, sizeof(err));
		if (c->err) {
			CHECK_EQ(ret, -EINVAL);
			CHECK_CONTAINS(err, c->err);
			continue;
		}
		if (ret != 0)
			fprintf(stderr, "case \"%s\": %s\n", c->what, err);
		CHECK_EQ(ret, 0);
		const struct arm64_id_reg *r = find_reg(&t, c->enc);
		CHECK(r != NULL);
		if (r && r->value != c->want)
			fprintf(stderr, "case \"%s\": got 0x%" PRIx64 ", want 0x%" PRIx64 "\n", c->what, r->value,
				c->want);
		CHECK_EQ(r ? r->value : ~0ull, c->want);
	}
}

static void test_idregs(void)
{
	char name[ARM64_IDREG_NAME_MAX], label[ARM64_FIELD_LABEL_MAX];
	uint32_t enc = 0;
	for (int i = 0; i < arm64_idreg_count(); i++) {
		const struct arm64_idreg_desc *d = arm64_idreg_at(i);
		if (i > 0)
			CHECK(arm64_idreg_at(i - 1)->enc < d->enc);
		CHECK(arm64_idreg_in_id_range(d->enc));
		CHECK(arm64_idreg_find(d->enc) == d);
		CHECK_EQ(arm64_idreg_parse(d->name, &enc), 0);
		CHECK_EQ(enc, d->enc);
		CHECK(strcmp(arm64_idreg_name(d->enc, name), d->name) == 0);
		CHECK_EQ(arm64_idreg_is_identity(d->enc), d->kind == ARM64_IDREG_IDENTITY);
		/* Named fields never overlap; the layout covers every bit exactly once. */
		uint64_t named = 0;
		for (int f = 0; f < d->nr_fields; f++) {
			uint64_t m = arm64_field_mask(&d->fields[f]);
			CHECK((named & m) == 0);
			CHECK(d->fields[f].shift + d->fields[f].width <= 64);
			named |= m;
		}
		struct arm64_idreg_field fields[ARM64_IDREG_MAX_FIELDS];
		int nf = arm64_idreg_layout(d->enc, fields);
		uint64_t covered = 0;
		unsigned next = 0;
		for (int f = 0; f < nf; f++) {
			CHECK_EQ(fields[f].shift, next);
			next = fields[f].shift + fields[f].width;
			covered |= arm64_field_mask(&fields[f]);
		}
		CHECK_EQ(next, 64);
		CHECK_EQ(covered, ~0ull);
	}
	CHECK(arm64_idreg_count() >= 50);
	CHECK(arm64_idreg_at(-1) == NULL);
	CHECK(arm64_idreg_at(arm64_idreg_count()) == NULL);

	CHECK_EQ(arm64_idreg_parse("S3_1_C0_C0_7", &enc), 0);
	CHECK_EQ(enc, ARM64_AIDR_EL1);
	CHECK(strcmp(arm64_idreg_name(enc, name), "AIDR_EL1") == 0);
	CHECK_EQ(arm64_idreg_parse("id_aa64pfr0_el1", &enc), 0);
	CHECK_EQ(enc, PFR0);
	CHECK(strcmp(arm64_idreg_name(UNKNOWN_REG, name), "S3_0_C0_C3_3") == 0);
	CHECK_EQ(arm64_idreg_parse("S3_0_C0_C3_3", &enc), 0);
	CHECK_EQ(enc, UNKNOWN_REG);
	CHECK_EQ(arm64_idreg_parse("s3_3_c0_c0_1", &enc), 0);
	CHECK_EQ(enc, CTR);
	static const char *const bad[] = {"",
					  "FOO_EL1",
					  "S3_8_C0_C0_0",
					  "S4_0_C0_C0_0",
					  "S3_0_C16_C0_0",
					  "S3_0_C0_C0_8",
					  "S3_0_C0_C0_0x",
					  "S3_0_C0_C0",
					  "S3_00_C0_C0_123",
					  "S-1_0_C0_C0_0"};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		CHECK_EQ(arm64_idreg_parse(bad[i], &enc), -EINVAL);
	CHECK(!arm64_idreg_in_id_range(ARM64_SYSREG_ENC(3, 0, 1, 0, 0)));
	CHECK(!arm64_idreg_in_id_range(ARM64_SYSREG_ENC(3, 2, 0, 0, 0)));
	CHECK(!arm64_idreg_in_id_range(ARM64_SYSREG_ENC(3, 0, 0, 8, 0)));
	CHECK(arm64_idreg_in_id_range(UNKNOWN_REG));

	/* CTR_EL0 leaves bits 13:4 and 31:30 and 63:38 to default nibble-aligned fields. */
	struct arm64_idreg_field fields[ARM64_IDREG_MAX_FIELDS];
	int nf = arm64_idreg_layout(CTR, fields);
	CHECK(strcmp(arm64_field_label(CTR, &fields[1], label), "CTR_EL0[7:4]") == 0);
	CHECK(strcmp(arm64_field_label(CTR, &fields[3], label), "CTR_EL0[13:12]") == 0);
	CHECK(strcmp(arm64_field_label(CTR, &fields[4], label), "CTR_EL0.L1Ip") == 0);
	CHECK_EQ(nf, 19);
	CHECK_EQ(arm64_idreg_layout(UNKNOWN_REG, fields), 16);
	CHECK(strcmp(arm64_field_rule_name(ARM64_FIELD_SIGNED_LOWER_SAFE), "SIGNED_LOWER_SAFE") == 0);

	struct arm64_idreg_field whole = {"value", 0, 64, ARM64_FIELD_EXACT, 0};
	CHECK_EQ(arm64_field_mask(&whole), ~0ull);
	CHECK_EQ(arm64_field_get(&whole, 0x1234), 0x1234);
	struct arm64_idreg_field fp = {"FP", 16, 4, ARM64_FIELD_SIGNED_LOWER_SAFE, 0};
	CHECK_EQ(arm64_field_set(&fp, 0x110011, 0xf), 0x1f0011);
	bool conflict = false;
	CHECK_EQ(arm64_field_combine(&fp, 0x7, 0x8, &conflict), 0x8); /* 8 is -8 */
	CHECK(!conflict);
}

static void test_identity(void)
{
	struct arm64_cpu_profile p[3];
	static struct arm64_targets t;
	char err[512];

	/* Different MIDRs: every host must be able to set the identity, else the merge names the one that can't. */
	prof_init(&p[0], "cortex-a72", MIDR_A72);
	prof_init(&p[1], "neoverse-n1", MIDR_N1);
	p[1].writable_imp_regs = false;
	CHECK_EQ(arm64_targets_merge(p, 2, NULL, &t, err, sizeof(err)), -EINVAL);
	CHECK_CONTAINS(err, "neoverse-n1: the guest must see MIDR_EL1 0x410fd083 (from cortex-a72) but this host has "
			    "0x414fd0c1, and its KVM cannot set MIDR/REVIDR/AIDR (no KVM_CAP_ARM_WRITABLE_IMP_ID_REGS");
	/* The first host is the guest identity by default, so it needs nothing. */
	p[1].writable_imp_regs = true;
	p[0].writable_imp_regs = false;
	CHECK_EQ(arm64_targets_merge(p, 2, NULL, &t, err, sizeof(err)), 0);
	CHECK_EQ(t.guest_midr, MIDR_A72);
	/* Unless an override picks another identity. */
	struct targets_merge_options opt = {.set_id = {true, false, true}, .id = {MIDR_N1, 0, 7}};
	CHECK_EQ(arm64_targets_merge_opts(p, 2, &opt, &t, err, sizeof(err)), -EINVAL);
	CHECK_CONTAINS(err, "cortex-a72: the guest must see MIDR_EL1 0x414fd0c1 (from the override)");
	p[0].writable_imp_regs = true;
	CHECK_EQ(arm64_targets_merge_opts(p, 2, &opt, &t, err, sizeof(err)), 0);
	CHECK_EQ(t.guest_midr, MIDR_N1);
	CHECK_EQ(t.guest_revidr, 0);
	CHECK_EQ(t.guest_aidr, 7);
	opt.id[0] = 0x1410fd083ull;
	CHECK_EQ(arm64_targets_merge_opts(p, 2, &opt, &t, err, sizeof(err)), -EINVAL);
	CHECK_CONTAINS(err, "guest MIDR_EL1 0x1410fd083 sets bits 63:32, which are RES0");
	/* Same MIDR, different REVIDR, no writable identity: still an error, naming REVIDR. */
	prof_init(&p[1], "a72-r2", MIDR_A72);
	p[1].revidr = 2;
	p[1].writable_imp_regs = false;
	CHECK_EQ(arm64_targets_merge(p, 2, NULL, &t, err, sizeof(err)), -EINVAL);
	CHECK_CONTAINS(err, "a72-r2: the guest must see REVIDR_EL1 0x0");

	/* Identical hosts without writable identity registers merge fine, and duplicates are one target. */
	prof_init(&p[0], "a", MIDR_A72);
	prof_init(&p[1], "b", MIDR_N1);
	prof_init(&p[2], "c", MIDR_A72);
	CHECK_EQ(arm64_targets_merge(p, 3, NULL, &t, err, sizeof(err)), 0);
	CHECK_EQ(t.nr_impls, 2);
	CHECK(strcmp(t.impls[0].name, "a") == 0 && strcmp(t.impls[1].name, "b") == 0);
	CHECK_EQ(t.impls[1].midr, MIDR_N1);
	/* Names given to the merge replace the profiles'; MIDR/REVIDR/AIDR/MPIDR never become registers. */
	const char *const names[] = {"host-1", NULL, "host-3"};
	CHECK_EQ(arm64_targets_merge(p, 3, names, &t, err, sizeof(err)), 0);
	CHECK(strcmp(t.impls[0].name, "host-1") == 0 && strcmp(t.impls[1].name, "b") == 0);
	CHECK_EQ(t.nr_regs, 0);
}

static void test_merge_misc(void)
{
	struct arm64_cpu_profile *p = calloc(20, sizeof(*p));
	static struct arm64_targets t;
	char err[512];

	CHECK_EQ(arm64_targets_merge(p, 0, NULL, &t, err, sizeof(err)), -EINVAL);
	CHECK_CONTAINS(err, "no CPU profiles to merge");

	/* A register one host lacks reads 0 there: fine for unsigned fields, an error where the merge needs more. */
	prof_init(&p[0], "a", MIDR_A72);
	prof_init(&p[1], "old-kernel", MIDR_N1);
	prof_set(&p[0], ENC(0, 7, 4), 0x100, ALL);
	CHECK_EQ(arm64_targets_merge(p, 2, NULL, &t, err, sizeof(err)), 0);
	CHECK_EQ(t.nr_regs, 1);
	CHECK_EQ(t.regs[0].value, 0);
	CHECK_EQ(t.regs[0].writable, 0);
	prof_set(&p[0], ENC(0, 7, 4), 0xf000000, ALL); /* E2H0 = 0xF (-1): the merge needs it on both */
	CHECK_EQ(arm64_targets_merge(p, 2, NULL, &t, err, sizeof(err)), -EINVAL);
	CHECK_CONTAINS(err, "ID_AA64MMFR4_EL1.E2H0: old-kernel lacks the register (its KVM shows 0), the merge needs "
			    "0xf, and KVM on that host cannot change it");

	/* Writable masks: the AND of the hosts'; a host without masks is named as such. */
	prof_init(&p[0], "a", MIDR_A72);
	prof_init(&p[1], "b", MIDR_N1);
	prof_set(&p[0], ISAR0, 0x10, 0xff0);
	prof_set(&p[1], ISAR0, 0x10, 0x0ff);
	CHECK_EQ(arm64_targets_merge(p, 2, NULL, &t, err, sizeof(err)), 0);
	CHECK_EQ(t.regs[0].writable, 0x0f0);
	CHECK_EQ(t.nr_lowered, 0);
	prof_set(&p[1], ISAR0, 0x20, 0);
	p[1].has_writable_masks = false;
	CHECK_EQ(arm64_targets_merge(p, 2, NULL, &t, err, sizeof(err)), -EINVAL);
	CHECK_CONTAINS(err, "ID_AA64ISAR0_EL1.AES: b has 0x2, the merge needs 0x1, and KVM on that host cannot change "
			    "it (its kernel reports no writable ID register masks)");

	/* Notes: one per field and old value, hosts grouped. */
	prof_init(&p[0], "a", MIDR_A72);
	prof_init(&p[1], "b", MIDR_N1);
	prof_init(&p[2], "c", 0x411fd0c1);
	prof_set(&p[0], PFR0, 0x00011, ALL);
	prof_set(&p[1], PFR0, 0x10011, ALL);
	prof_set(&p[2], PFR0, 0x10012, ALL);
	CHECK_EQ(arm64_targets_merge(p, 3, NULL, &t, err, sizeof(err)), 0);
	CHECK_EQ(t.regs[0].value, 0x00011);
	CHECK_EQ(t.nr_lowered, 2);
	CHECK(strcmp(t.lowered[0], "ID_AA64PFR0_EL1.EL0: 0x2 -> 0x1 (c)") == 0);
	CHECK(strcmp(t.lowered[1], "ID_AA64PFR0_EL1.FP: 0x1 -> 0x0 (b, c)") == 0);

	/* Requirements: the smallest IPA and SVE vector length; every host needs a GICv3. */
	p[0].ipa_bits = 44;
	p[1].ipa_bits = 40;
	p[0].sve = p[1].sve = p[2].sve = true;
	p[0].sve_max_vl = 256;
	p[1].sve_max_vl = 64;
	p[2].sve_max_vl = 128;
	CHECK_EQ(arm64_targets_merge(p, 3, NULL, &t, err, sizeof(err)), 0);
	CHECK_EQ(t.min_ipa_bits, 40);
	CHECK_EQ(t.sve_max_vl, 64);
	CHECK_EQ(t.gic_version, 3);
	p[2].sve = false;
	p[2].sve_max_vl = 0;
	p[1].gic_version = 0;
	CHECK_EQ(arm64_targets_merge(p, 3, NULL, &t, err, sizeof(err)), -EINVAL);
	CHECK_CONTAINS(err, "b: KVM there offers no in-kernel GICv3 (gic_version 0), which roam needs");
	p[1].gic_version = 3;
	CHECK_EQ(arm64_targets_merge(p, 3, NULL, &t, err, sizeof(err)), 0);
	CHECK_EQ(t.sve_max_vl, 0);

	/* Too many changes to list: the last note says how many more there were. */
	static const uint32_t unknown[] = {ENC(0, 3, 3), ENC(0, 3, 7), ENC(0, 4, 3), ENC(0, 4, 6), ENC(0, 5, 3),
					   ENC(0, 5, 6), ENC(0, 5, 7), ENC(0, 6, 4), ENC(0, 6, 5), ENC(0, 6, 6)};
	prof_init(&p[0], "a", MIDR_A72);
	prof_init(&p[1], "b", MIDR_N1);
	for (size_t i = 0; i < sizeof(unknown) / sizeof(unknown[0]); i++) {
		prof_set(&p[0], unknown[i], 0x1111111111111111ull, ALL);
		prof_set(&p[1], unknown[i], 0x2222222222222222ull, ALL);
	}
	CHECK_EQ(arm64_targets_merge(p, 2, NULL, &t, err, sizeof(err)), 0);
	CHECK_EQ(t.nr_lowered, ARM64_TARGETS_MAX_LOWERED);
	CHECK(strcmp(t.lowered[0], "S3_0_C0_C3_3[3:0]: 0x2 -> 0x1 (b)") == 0);
	CHECK(strcmp(t.lowered[ARM64_TARGETS_MAX_LOWERED - 1], "... and 33 more changes not listed") == 0);

	/* At most ARM64_TARGETS_MAX_IMPLS different CPUs. */
	for (int i = 0; i < 17; i++)
		prof_init(&p[i], "h", 0x41000000 + (uint64_t)i * 0x10);
	CHECK_EQ(arm64_targets_merge(p, 17, NULL, &t, err, sizeof(err)), -E2BIG);
	CHECK_CONTAINS(err, "more than 16 different CPUs (MIDR and REVIDR) among the 17 profiles");
	CHECK_EQ(arm64_targets_merge(p, 16, NULL, &t, err, sizeof(err)), 0);
	CHECK_EQ(t.nr_impls, 16);
	free(p);
}

/* A change to the checked host, and the finding code the check must then report as an error. */
struct check_case {
	const char *what;
	void (*change)(struct arm64_cpu_profile *h);
	const char *code;
	const char *message;
};

static void other_cpu(struct arm64_cpu_profile *h)
{
	h->midr = 0x411fd070;
}
static void no_imp_regs(struct arm64_cpu_profile *h)
{
	h->midr = MIDR_N1; /* the second target: its identity differs from the guest's */
	h->writable_imp_regs = false;
}
static void aes_not_writable(struct arm64_cpu_profile *h)
{
	prof_set(h, ISAR0, 0x20, 0);
}
static void missing_reg(struct arm64_cpu_profile *h)
{
	int i = 0;
	while (h->regs[i].enc != ISAR0)
		i++;
	memmove(&h->regs[i], &h->regs[i + 1], (size_t)(h->nr_regs - i - 1) * sizeof(h->regs[0]));
	h->nr_regs--;
}
static void extra_reg(struct arm64_cpu_profile *h)
{
	prof_set(h, ENC(0, 7, 4), 0x10, 0);
}
static void small_ipa(struct arm64_cpu_profile *h)
{
	h->ipa_bits = 36;
}
static void no_gic(struct arm64_cpu_profile *h)
{
	h->gic_version = 0;
}
static void short_sve(struct arm64_cpu_profile *h)
{
	h->sve_max_vl = 32;
}
static void no_sve(struct arm64_cpu_profile *h)
{
	h->sve = false;
	h->sve_max_vl = 0;
}

static const struct check_case check_cases[] = {
    {"not a target", other_cpu, "host-not-in-targets",
     "this host (MIDR 0x411fd070, REVIDR 0x0) is not one of the targets (a72, n1); add its profile"},
    {"identity not settable", no_imp_regs, "imp-regs-not-writable",
     "the guest must see MIDR 0x410fd083, REVIDR 0x0, AIDR 0x0, but KVM here cannot set them"},
    {"register not writable", aes_not_writable, "reg-not-writable",
     "ID_AA64ISAR0_EL1.AES: this host has 0x2, the targets need 0x1, and KVM here cannot change it"},
    {"register missing", missing_reg, "reg-missing",
     "ID_AA64ISAR0_EL1: KVM here does not list it (a guest reads 0), but the targets need 0x0000000000000010"},
    {"register not in the targets", extra_reg, "reg-not-in-targets",
     "ID_AA64MMFR4_EL1: this host has 0x0000000000000010, which the targets do not list"},
    {"IPA too small", small_ipa, "ipa-too-small",
     "KVM here offers 36-bit guest physical addresses, the targets need 40"},
    {"no GICv3", no_gic, "gic-missing", "KVM here offers no in-kernel GICv3"},
    {"SVE vectors too short", short_sve, "sve-vl", "KVM here offers SVE vectors up to 32 bytes, the targets need 64"},
    {"no SVE", no_sve, "sve-vl", "KVM here offers no SVE; the targets need vectors of 64 bytes"},
};

static const struct targets_finding *find_code(const struct targets_report *r, const char *code)
{
	for (int i = 0; i < r->nr_findings; i++)
		if (strcmp(r->findings[i].code, code) == 0)
			return &r->findings[i];
	return NULL;
}

static void test_check(void)
{
	struct arm64_cpu_profile p[2], h;
	static struct arm64_targets t;
	static struct targets_report r;
	char err[512];
	prof_init(&p[0], "a72", MIDR_A72);
	prof_init(&p[1], "n1", MIDR_N1);
	for (int i = 0; i < 2; i++) {
		p[i].ipa_bits = 40 + 4 * (uint32_t)i;
		p[i].sve = true;
		p[i].sve_max_vl = 64;
		prof_set(&p[i], ISAR0, 0x10 + 0x10 * (uint64_t)i, ALL);
	}
	CHECK_EQ(arm64_targets_merge(p, 2, NULL, &t, err, sizeof(err)), 0);

	/* Each target passes, with one ok finding per aspect. */
	static const char *const ok_codes[] = {"host-in-targets", "identity-ok", "regs-ok",	 "ipa-ok", "gic-ok",
					       "sve-ok",	  "cntfrq-ok",	 "gic-cpuif-ok", "pmu-ok"};
	for (int i = 0; i < 2; i++) {
		arm64_targets_check(&t, &p[i], &r);
		CHECK_EQ(r.nr_errors, 0);
		CHECK_EQ(r.nr_findings, 9);
		for (size_t k = 0; k < sizeof(ok_codes) / sizeof(ok_codes[0]); k++) {
			const struct targets_finding *f = find_code(&r, ok_codes[k]);
			CHECK(f && f->severity == TARGETS_OK);
		}
	}
	CHECK_CONTAINS(find_code(&r, "host-in-targets")->message, "is target \"n1\"");
	CHECK_CONTAINS(find_code(&r, "regs-ok")->message, "all 1 ID registers can take their target values here (1 "
							  "differ from this host's)");

	for (size_t i = 0; i < sizeof(check_cases) / sizeof(check_cases[0]); i++) {
		const struct check_case *c = &check_cases[i];
		h = p[0];
		c->change(&h);
		arm64_targets_check(&t, &h, &r);
		const struct targets_finding *f = find_code(&r, c->code);
		if (!f)
			fprintf(stderr, "case \"%s\": no finding %s\n", c->what, c->code);
		CHECK(f && f->severity == TARGETS_ERROR);
		CHECK_CONTAINS(f ? f->message : NULL, c->message);
		CHECK_EQ(r.nr_errors, 1);
	}

	/* The text rendering: one line per finding and a verdict. */
	h = p[0];
	small_ipa(&h);
	arm64_targets_check(&t, &h, &r);
	char *text = targets_report_text(&r, "targets.json");
	CHECK_CONTAINS(text, "ok    host-in-targets       this host (MIDR 0x410fd083, REVIDR 0x0) is target \"a72\"\n");
	CHECK_CONTAINS(text, "error ipa-too-small         KVM here offers 36-bit");
	CHECK_CONTAINS(text, "a72 cannot run guests made for targets.json: 1 problem\n");
	free(text);
	arm64_targets_check(&t, &p[1], &r);
	text = targets_report_text(&r, "targets.json");
	CHECK_CONTAINS(text, "n1 can run guests made for targets.json\n");
	free(text);
}

int main(void)
{
	test_idregs();
	test_merge_cases();
	test_identity();
	test_merge_misc();
	test_check();
	return check_exit();
}
