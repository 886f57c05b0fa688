/*
 * Unit test of the CPU profile and targets JSON files: write -> read -> write gives the same bytes, files are
 * written atomically, and every kind of broken hand edit gets its own one-line message naming file, JSON path and
 * reason (table-driven: each case is one small edit of a valid document).
 */
#include "arch/arm64/idregs.h"
#include "arch/arm64/targets.h"
#include "arch/arm64/targets_json.h"
#include "check.h"
#include "core/file_util.h"
#include "targets/report.h"

#include <dirent.h>
#include <errno.h>
#include <jansson.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

#define ENC(op1, crm, op2) ARM64_SYSREG_ENC(3, op1, 0, crm, op2)

static void add_reg(struct arm64_cpu_profile *p, uint32_t enc, uint64_t value, uint64_t writable)
{
	p->regs[p->nr_regs++] = (struct arm64_id_reg){enc, value, writable};
}

static void make_profile(struct arm64_cpu_profile *p, const char *name, uint64_t midr, uint64_t isar0)
{
	memset(p, 0, sizeof(*p));
	snprintf(p->name, sizeof(p->name), "%s", name);
	snprintf(p->kernel, sizeof(p->kernel), "7.2.13-arm64");
	p->midr = midr;
	p->aidr = 0x1234;
	p->has_writable_masks = p->writable_imp_regs = true;
	p->ipa_bits = 48;
	p->gic_version = 3;
	p->compat = (struct arm64_compat){.known = true,
					  .icc_ctlr = (4ull << 8 | 1ull << 15),
					  .pmu_counters = 6,
					  .pmu_version = 4,
					  .cntfrq = 62500000};
	p->sve = true;
	p->sve_max_vl = 256;
	p->pmu = p->counter_offset = p->smccc_filter = true;
	add_reg(p, ARM64_MIDR_EL1, midr, ~0ull);
	add_reg(p, ARM64_MPIDR_EL1, 0x80000000, 0);
	add_reg(p, ARM64_REVIDR_EL1, 0, ~0ull);
	add_reg(p, ENC(0, 3, 3), 0, 0); /* reserved: written as S3_0_C0_C3_3 */
	add_reg(p, ENC(0, 4, 0), 0x1100000011111111ull, 0x0f000000000f0000ull);
	add_reg(p, ENC(0, 6, 0), isar0, 0xfffffffffffffff0ull);
	add_reg(p, ARM64_AIDR_EL1, 0x1234, ~0ull);
	add_reg(p, ENC(3, 0, 1), 0xb444c004, 0x3000f00f);
}

static void test_round_trips(void)
{
	struct arm64_cpu_profile p[2], back;
	static struct arm64_targets t, tback;
	char err[512] = "";
	make_profile(&p[0], "neoverse-n1", 0x414fd0c1, 0x0000100010211120ull);
	make_profile(&p[1], "cortex-a72", 0x410fd083, 0x0000000000011120ull);

	char *a = arm64_profile_to_json(&p[0]);
	CHECK_EQ(arm64_profile_from_json(a, strlen(a), "p.json", &back, err, sizeof(err)), 0);
	CHECK_CONTAINS(err, "");
	char *b = arm64_profile_to_json(&back);
	CHECK(a && b && strcmp(a, b) == 0);
	CHECK_CONTAINS(a, "\"format\": \"roam-cpu-profile\",\n  \"version\": 2,\n  \"arch\": \"arm64\",\n");
	CHECK_CONTAINS(a, "\"compat\": {\n    \"icc_ctlr_el1\": \"0x0000000000008400\",\n    \"pmu_counters\": 6,\n    "
			  "\"pmu_version\": 4,\n    \"pmu_counters_settable\": false,\n    \"cntfrq\": 62500000\n  }");
	CHECK(back.compat.known && back.compat.icc_ctlr == 0x8400 && back.compat.cntfrq == 62500000);
	CHECK_CONTAINS(a, "\"midr\": \"0x00000000414fd0c1\"");
	CHECK_CONTAINS(a, "\"S3_0_C0_C3_3\": {");
	CHECK_CONTAINS(a, "\"ID_AA64PFR0_EL1\": {\n      \"value\": \"0x1100000011111111\",\n      \"writable\": "
			  "\"0x0f000000000f0000\"\n    }");
	CHECK_EQ(back.nr_regs, p[0].nr_regs);
	CHECK_EQ(back.regs[4].enc, ENC(0, 4, 0));
	CHECK_EQ(back.regs[4].writable, 0x0f000000000f0000ull);
	CHECK_EQ(back.sve_max_vl, 256);
	CHECK(back.smccc_filter && !back.mte && back.writable_imp_regs);
	free(a);
	free(b);

	CHECK_EQ(arm64_targets_merge(p, 2, NULL, &t, err, sizeof(err)), 0);
	a = arm64_targets_to_json(&t);
	CHECK_EQ(arm64_targets_from_json(a, strlen(a), "t.json", &tback, err, sizeof(err)), 0);
	b = arm64_targets_to_json(&tback);
	CHECK(a && b && strcmp(a, b) == 0);
	CHECK_CONTAINS(a, "\"format\": \"roam-targets\"");
	CHECK_CONTAINS(a, "\"guest\": {\n    \"midr\": \"0x00000000414fd0c1\",");
	CHECK_CONTAINS(a, "\"ID_AA64ISAR0_EL1\": \"0x0000000000011120\"");
	CHECK_CONTAINS(
	    a, "\"requirements\": {\n    \"min_ipa_bits\": 48,\n    \"gic_version\": 3,\n    \"sve_max_vl\": 256");
	CHECK_CONTAINS(a, "\"ID_AA64ISAR0_EL1.ATOMIC: 0x2 -> 0x0 (neoverse-n1)\"");
	CHECK(strstr(a, "MIDR_EL1\"") == NULL && strstr(a, "MPIDR") == NULL);
	CHECK_EQ(tback.nr_impls, 2);
	CHECK_EQ(tback.nr_regs, t.nr_regs);
	CHECK_EQ(tback.nr_lowered, t.nr_lowered);
	CHECK_EQ(tback.regs[0].writable, 0);
	free(a);
	free(b);
}

static void test_files(void)
{
	char dir[] = "/tmp/roam-test-targets-XXXXXX", path[128], err[512];
	struct arm64_cpu_profile p, back;
	static struct arm64_targets t, tback;
	CHECK(mkdtemp(dir) != NULL);
	make_profile(&p, "host", 0x410fd083, 0x10);

	snprintf(path, sizeof(path), "%s/host.json", dir);
	CHECK_EQ(targets_save_profile(&arm64_targets_ops, path, &p, err, sizeof(err)), 0);
	CHECK_EQ(targets_save_profile(&arm64_targets_ops, path, &p, err, sizeof(err)), 0); /* replaces the file */
	CHECK_EQ(targets_load_profile(&arm64_targets_ops, path, &back, err, sizeof(err)), 0);
	CHECK_EQ(back.midr, 0x410fd083);
	struct stat st;
	CHECK_EQ(stat(path, &st), 0);
	CHECK_EQ(st.st_mode & 0777, 0644);

	snprintf(path, sizeof(path), "%s/targets.json", dir);
	CHECK_EQ(arm64_targets_merge(&p, 1, NULL, &t, err, sizeof(err)), 0);
	CHECK_EQ(targets_save_targets(&arm64_targets_ops, path, &t, err, sizeof(err)), 0);
	CHECK_EQ(targets_load_targets(&arm64_targets_ops, path, &tback, err, sizeof(err)), 0);
	CHECK_EQ(tback.guest_aidr, 0x1234);
	/* A profile where a targets file is expected says so. */
	snprintf(path, sizeof(path), "%s/host.json", dir);
	CHECK_EQ(targets_load_targets(&arm64_targets_ops, path, &tback, err, sizeof(err)), -EINVAL);
	CHECK_CONTAINS(err, "host.json: format: \"roam-cpu-profile\" is not \"roam-targets\"");

	/* No temporary files stay behind. */
	DIR *d = opendir(dir);
	int entries = 0;
	for (struct dirent *e; d && (e = readdir(d));)
		entries += e->d_name[0] != '.';
	if (d)
		closedir(d);
	CHECK_EQ(entries, 2);

	snprintf(path, sizeof(path), "%s/missing.json", dir);
	CHECK_EQ(targets_load_targets(&arm64_targets_ops, path, &tback, err, sizeof(err)), -ENOENT);
	CHECK_CONTAINS(err, "missing.json: cannot read: No such file or directory");
	snprintf(path, sizeof(path), "%s/no/such/dir.json", dir);
	CHECK_EQ(targets_save_targets(&arm64_targets_ops, path, &t, err, sizeof(err)), -ENOENT);
	CHECK_CONTAINS(err, "dir.json: cannot write: No such file or directory");

	/* Too large to be a roam JSON file. */
	size_t big = TARGETS_JSON_MAX_FILE + 10;
	char *junk = malloc(big);
	memset(junk, ' ', big);
	snprintf(path, sizeof(path), "%s/big.json", dir);
	CHECK_EQ(write_file_atomic(path, junk, big), 0);
	free(junk);
	CHECK_EQ(targets_load_targets(&arm64_targets_ops, path, &tback, err, sizeof(err)), -EFBIG);
	CHECK_CONTAINS(err, "big.json: larger than 1048576 bytes");
	char *data;
	size_t len;
	CHECK_EQ(read_file_all(path, big, &data, &len), 0);
	CHECK_EQ(len, big);
	free(data);

	unlink(path);
	snprintf(path, sizeof(path), "%s/host.json", dir);
	unlink(path);
	snprintf(path, sizeof(path), "%s/targets.json", dir);
	unlink(path);
	CHECK_EQ(rmdir(dir), 0);
}

static void test_report_json(void)
{
	struct arm64_cpu_profile p;
	static struct arm64_targets t;
	static struct targets_report r;
	char err[256];
	make_profile(&p, "a72", 0x410fd083, 0x10);
	CHECK_EQ(arm64_targets_merge(&p, 1, NULL, &t, err, sizeof(err)), 0);
	p.ipa_bits = 40;
	arm64_targets_check(&t, &p, &r);
	char *text = targets_report_json(&r, "targets.json");
	json_error_t je;
	json_t *root = json_loads(text, 0, &je);
	CHECK(root != NULL);
	CHECK(json_is_false(json_object_get(root, "ok")));
	CHECK_EQ(json_integer_value(json_object_get(root, "errors")), 1);
	CHECK(strcmp(json_string_value(json_object_get(root, "targets")), "targets.json") == 0);
	json_t *findings = json_object_get(root, "findings");
	CHECK_EQ(json_array_size(findings), 9);
	CHECK_CONTAINS(text,
		       "{\n      \"severity\": \"error\",\n      \"code\": \"ipa-too-small\",\n      \"message\": "
		       "\"KVM here offers 40-bit guest physical addresses, the targets need 48\"\n    }");
	json_decref(root);
	free(text);
}

/* A valid targets file; each bad case edits one spot of it. */
static const char targets_base[] =
    "{\n"
    "  \"format\": \"roam-targets\",\n"
    "  \"version\": 1,\n"
    "  \"arch\": \"arm64\",\n"
    "  \"targets\": [{\"name\": \"a72\", \"midr\": \"0x410fd083\", \"revidr\": \"0x0\", "
    "\"aidr\": 0}],\n"
    "  \"guest\": {\"midr\": \"0x410fd083\", \"revidr\": \"0x0\", \"aidr\": \"0x0\"},\n"
    "  \"id_registers\": {\"ID_AA64PFR0_EL1\": \"0x11\", \"ID_AA64ISAR0_EL1\": 16},\n"
    "  \"requirements\": {\"min_ipa_bits\": 40, \"gic_version\": 3, \"sve_max_vl\": 0},\n"
    "  \"lowered\": [\"ID_AA64PFR0_EL1.FP: 0x1 -> 0x0 (n1)\"]\n"
    "}\n";

static const char profile_base[] =
    "{\"format\": \"roam-cpu-profile\", \"version\": 1, \"arch\": \"arm64\",\n"
    " \"name\": \"a72\", \"kernel\": \"7.2\", \"midr\": \"0x410fd083\", \"revidr\": "
    "\"0x0\", \"aidr\": \"0x0\",\n"
    " \"kvm\": {\"writable_masks\": true, \"writable_imp_regs\": true, \"ipa_bits\": 44, "
    "\"gic_version\": 3, \"sve\": false, \"sve_max_vl\": 0, \"ptrauth\": false, \"mte\": "
    "false, \"pmu\": true, \"counter_offset\": true, \"smccc_filter\": true},\n"
    " \"id_registers\": {\"MIDR_EL1\": {\"value\": \"0x410fd083\", \"writable\": "
    "\"0x0\"}, \"ID_AA64PFR0_EL1\": {\"value\": \"0x11\", \"writable\": \"0x0\"}}}\n";

struct bad_case {
	char kind; /* 't': targets_base, 'p': profile_base */
	const char *from; /* replaced by `to` (NULL: the whole document is `to`) */
	const char *to;
	const char *message; /* the start of the expected error */
};

static const struct bad_case bad_cases[] = {
    {'t', NULL, "", "t.json: line 1, column 0: "},
    {'t', "\"version\": 1,", "\"version\": 1,,", "t.json: line 3, column "},
    {'t', NULL, "[1]", "t.json: not a JSON object"},
    {'t', "\"format\": \"roam-targets\",", "", "t.json: format: missing (expected \"roam-targets\")"},
    {'t', "\"roam-targets\"", "\"roam-cpu-profile\"",
     "t.json: format: \"roam-cpu-profile\" is not \"roam-targets\" (this is one host's CPU profile; make a targets "
     "file with roam targets merge)"},
    {'t', "\"roam-targets\"", "\"roam-snapshot\"", "t.json: format: \"roam-snapshot\" is not \"roam-targets\""},
    {'t', "\"roam-targets\"", "7", "t.json: format: not a string"},
    {'t', "\"version\": 1", "\"version\": 3", "t.json: version: 3 is not supported (this roam reads versions 1 to 2)"},
    {'t', "\"version\": 1", "\"version\": 0", "t.json: version: 0 is not supported (this roam reads versions 1 to 2)"},
    {'t', "\"version\": 1", "\"version\": \"1\"", "t.json: version: not an integer"},
    {'t', "\"version\": 1,", "", "t.json: version: missing (expected 2)"},
    /* compat (version 2): the GIC CPU interface, the PMU, the counter frequency */
    {'t', "\"version\": 1,", "\"version\": 2, \"compat\": 1,", "t.json: compat: not an object"},
    {'t', "\"version\": 1,", "\"version\": 2, \"compat\": {\"pmu_counters\": 6, \"cntfrq\": 62500000},",
     "t.json: compat.icc_ctlr_el1: missing"},
    {'t', "\"version\": 1,",
     "\"version\": 2, \"compat\": {\"icc_ctlr_el1\": \"0x8403\", \"pmu_counters\": 6, \"cntfrq\": 62500000},",
     "t.json: compat.icc_ctlr_el1: 0x8403 sets bits other than the read-only fields"},
    {'t', "\"version\": 1,",
     "\"version\": 2, \"compat\": {\"icc_ctlr_el1\": \"0x8400\", \"pmu_counters\": 32, \"cntfrq\": 62500000},",
     "t.json: compat.pmu_counters: 32 is out of range (0 to 31)"},
    {'t', "\"version\": 1,",
     "\"version\": 2, \"compat\": {\"icc_ctlr_el1\": \"0x8400\", \"pmu_counters\": 6, \"cntfrq\": 0},",
     "t.json: compat.cntfrq: 0 is out of range (1 to 4294967295)"},
    {'t', "\"version\": 1,",
     "\"version\": 2, \"compat\": {\"icc_ctlr_el1\": \"0x8400\", \"pmu_counters\": 6, \"pmu_version\": 4, "
     "\"cntfrq\": 1},",
     "t.json: compat.pmu_version: unknown key"},
    {'p', "\"version\": 1,",
     "\"version\": 2, \"compat\": {\"icc_ctlr_el1\": \"0x8400\", \"pmu_counters\": 6, \"pmu_version\": 16, "
     "\"cntfrq\": 1},",
     "p.json: compat.pmu_version: 16 is out of range (0 to 15)"},
    {'t', "\"arm64\"", "\"loongarch64\"", "t.json: arch: \"loongarch64\" is not \"arm64\""},
    {'t', "\"arch\": \"arm64\",", "", "t.json: arch: missing"},
    {'t', "\"version\": 1,", "\"version\": 1, \"colour\": \"blue\",", "t.json: colour: unknown key"},
    {'t', "\"version\": 1,", "\"version\": 1, \"version\": 1,", "t.json: line 3, column "},
    {'t', "\"targets\": [{", "\"targetz\": [{", "t.json: targetz: unknown key"},
    {'t', "\"targets\": [{\"name\"", "\"targets\": {\"a\": {\"name\"", "t.json: line 5, column"},
    {'t', "[{\"name\": \"a72\", \"midr\": \"0x410fd083\", \"revidr\": \"0x0\", \"aidr\": 0}]", "[]",
     "t.json: targets: empty; list at least one host"},
    {'t', "[{\"name\": \"a72\", \"midr\": \"0x410fd083\", \"revidr\": \"0x0\", \"aidr\": 0}]", "{}",
     "t.json: targets: not an array"},
    {'t', "[{\"name\": \"a72\", \"midr\": \"0x410fd083\", \"revidr\": \"0x0\", \"aidr\": 0}]", "[\"a72\"]",
     "t.json: targets[0]: not an object with name, midr, revidr and aidr"},
    {'t', "{\"name\": \"a72\", ", "{", "t.json: targets[0].name: missing"},
    {'t', "\"name\": \"a72\"", "\"name\": 72", "t.json: targets[0].name: not a string"},
    {'t', "\"name\": \"a72\"", "\"name\": \"0123456789012345678901234567890123456789012345678901234567890123\"",
     "t.json: targets[0].name: longer than 63 bytes"},
    {'t', "\"midr\": \"0x410fd083\", \"revidr\"", "\"midr\": \"0x41G\", \"revidr\"",
     "t.json: targets[0].midr: not a hex string ('G' is not a hex digit)"},
    {'t', "\"midr\": \"0x410fd083\", \"revidr\"", "\"midr\": \"410fd083\", \"revidr\"",
     "t.json: targets[0].midr: not a hex string (write it as \"0x...\")"},
    {'t', "\"midr\": \"0x410fd083\", \"revidr\"", "\"midr\": \"0x\", \"revidr\"",
     "t.json: targets[0].midr: not a hex string (no digits after 0x)"},
    {'t', "\"midr\": \"0x410fd083\", \"revidr\"", "\"midr\": \"0x1410fd083\", \"revidr\"",
     "t.json: targets[0].midr: 0x1410fd083 is out of range (at most 0xffffffff)"},
    {'t', "\"aidr\": 0}", "\"aidr\": 9007199254740992}",
     "t.json: targets[0].aidr: out of range (write values of 2^53 and more as hex strings)"},
    {'t', "\"aidr\": 0}", "\"aidr\": -1}", "t.json: targets[0].aidr: out of range (negative)"},
    {'t', "\"aidr\": 0}", "\"aidr\": \"0x10000000000000000\"}",
     "t.json: targets[0].aidr: out of range (more than 64 bits)"},
    {'t', "\"aidr\": 0}", "\"aidr\": true}", "t.json: targets[0].aidr: not a hex string"},
    {'t', "\"aidr\": 0}", "\"aidr\": 0, \"colour\": 1}", "t.json: targets[0].colour: unknown key"},
    {'t', "\"aidr\": 0}]",
     "\"aidr\": 0}, {\"name\": \"again\", \"midr\": \"0x410fd083\", \"revidr\": \"0\", "
     "\"aidr\": \"0x1\"}]",
     "t.json: targets[1].revidr: not a hex string"},
    {'t', "\"aidr\": 0}]",
     "\"aidr\": 0}, {\"name\": \"again\", \"midr\": \"0x410fd083\", \"revidr\": \"0x0\", "
     "\"aidr\": \"0x1\"}]",
     "t.json: targets[1]: the same MIDR and REVIDR as targets[0] (\"a72\")"},
    {'t', "\"guest\": {\"midr\": \"0x410fd083\", \"revidr\": \"0x0\", \"aidr\": \"0x0\"},\n", "",
     "t.json: guest: missing"},
    {'t', ", \"aidr\": \"0x0\"}", "}", "t.json: guest.aidr: missing"},
    {'t', "{\"midr\": \"0x410fd083\", \"revidr\": \"0x0\", \"aidr\": \"0x0\"}", "[]", "t.json: guest: not an object"},
    {'t', "\"ID_AA64PFR0_EL1\": \"0x11\"", "\"ID_AA64FOO_EL1\": \"0x11\"",
     "t.json: id_registers.ID_AA64FOO_EL1: unknown register (use an architectural name such as ID_AA64PFR0_EL1, "
     "or S3_<op1>_C0_C<CRm>_<op2>)"},
    {'t', "\"ID_AA64PFR0_EL1\": \"0x11\"", "\"ID_AA64PFR0_EL1\": 1.5",
     "t.json: id_registers.ID_AA64PFR0_EL1: not a hex string"},
    {'t', "\"ID_AA64PFR0_EL1\": \"0x11\"", "\"ID_AA64PFR0_EL1\": \"17\"",
     "t.json: id_registers.ID_AA64PFR0_EL1: not a hex string (write it as \"0x...\")"},
    {'t', "\"ID_AA64PFR0_EL1\": \"0x11\"", "\"S3_0_C1_C0_0\": \"0x11\"",
     "t.json: id_registers.S3_0_C1_C0_0: not an ID register (op0 3, op1 0, 1 or 3, CRn 0, CRm 0 to 7)"},
    {'t', "\"ID_AA64PFR0_EL1\": \"0x11\"", "\"ID_AA64PFR0_EL1\": \"0x11\", \"S3_0_C0_C4_0\": \"0x11\"",
     "t.json: id_registers.S3_0_C0_C4_0: the same register as ID_AA64PFR0_EL1, given twice"},
    {'t', "\"ID_AA64PFR0_EL1\": \"0x11\"", "\"ID_AA64PFR0_EL1\": \"0x11\", \"ID_AA64PFR0_EL1\": \"0x11\"",
     "t.json: line 7, column "},
    {'t', "\"ID_AA64PFR0_EL1\": \"0x11\"", "\"MIDR_EL1\": \"0x11\"",
     "t.json: id_registers.MIDR_EL1: the guest's MIDR, REVIDR and AIDR belong in \"guest\""},
    {'t', "\"ID_AA64PFR0_EL1\": \"0x11\"", "\"MPIDR_EL1\": \"0x11\"",
     "t.json: id_registers.MPIDR_EL1: MPIDR_EL1 is per vCPU and set by roam; remove it"},
    {'t', "{\"ID_AA64PFR0_EL1\": \"0x11\", \"ID_AA64ISAR0_EL1\": 16}", "[]", "t.json: id_registers: not an object"},
    {'t', "\"min_ipa_bits\": 40", "\"min_ipa_bits\": 30",
     "t.json: requirements.min_ipa_bits: 30 is out of range (32 to 52)"},
    {'t', "\"min_ipa_bits\": 40, ", "", "t.json: requirements.min_ipa_bits: missing"},
    {'t', "\"gic_version\": 3", "\"gic_version\": 2",
     "t.json: requirements.gic_version: 2 is not 3, the only value roam supports"},
    {'t', "\"sve_max_vl\": 0", "\"sve_max_vl\": 24", "t.json: requirements.sve_max_vl: 24 is not a multiple of 16"},
    {'t', "\"sve_max_vl\": 0", "\"sve_max_vl\": \"16\"", "t.json: requirements.sve_max_vl: not an integer"},
    {'t', "\"sve_max_vl\": 0", "\"sve_max_vl\": 0, \"smt\": 2", "t.json: requirements.smt: unknown key"},
    {'t', "[\"ID_AA64PFR0_EL1.FP: 0x1 -> 0x0 (n1)\"]", "\"x\"", "t.json: lowered: not an array of strings"},
    {'t', "[\"ID_AA64PFR0_EL1.FP: 0x1 -> 0x0 (n1)\"]", "[5]", "t.json: lowered[0]: not a string"},
    {'p', "\"roam-cpu-profile\"", "\"roam-targets\"",
     "p.json: format: \"roam-targets\" is not \"roam-cpu-profile\" (this is a targets file; roam targets merge "
     "takes CPU profiles)"},
    {'p', "\"kernel\": \"7.2\"", "\"kernel\": \"01234567890123456789012345678901234567890123456789012345678901234\"",
     "p.json: kernel: longer than 64 bytes"},
    {'p', "\"midr\": \"0x410fd083\"", "\"midr\": \"0x1410fd083\"", "p.json: midr: 0x1410fd083 is out of range"},
    {'p', "\"ipa_bits\": 44, ", "", "p.json: kvm.ipa_bits: missing"},
    {'p', "\"ipa_bits\": 44", "\"ipa_bits\": 64", "p.json: kvm.ipa_bits: 64 is out of range (32 to 52)"},
    {'p', "\"sve\": false", "\"sve\": \"no\"", "p.json: kvm.sve: not true or false"},
    {'p', "\"gic_version\": 3", "\"gic_version\": 2", "p.json: kvm.gic_version: 2 is neither 0 (no GICv3) nor 3"},
    {'p', "\"sve_max_vl\": 0", "\"sve_max_vl\": 16", "p.json: kvm.sve_max_vl: 16, but kvm.sve is false"},
    {'p', "\"smccc_filter\": true", "\"smccc_filter\": true, \"nv\": true", "p.json: kvm.nv: unknown key"},
    {'p', "{\"value\": \"0x11\", \"writable\": \"0x0\"}", "\"0x11\"",
     "p.json: id_registers.ID_AA64PFR0_EL1: not an object with \"value\" and \"writable\""},
    {'p', "{\"value\": \"0x11\", \"writable\": \"0x0\"}", "{\"value\": \"0x11\"}",
     "p.json: id_registers.ID_AA64PFR0_EL1.writable: missing"},
    {'p', "{\"value\": \"0x11\", \"writable\": \"0x0\"}", "{\"value\": \"0x11\", \"writable\": \"0x0\", \"x\": 1}",
     "p.json: id_registers.ID_AA64PFR0_EL1.x: unknown key"},
    {'p', "{\"value\": \"0x410fd083\"", "{\"value\": \"0x1\"",
     "p.json: id_registers.MIDR_EL1: value 0x1 differs from the profile's midr 0x410fd083"},
};

/* The document of a case: the base with one replacement. Returns a malloc'd string. */
static char *case_text(const struct bad_case *c)
{
	const char *base = c->kind == 't' ? targets_base : profile_base;
	if (!c->from)
		return strdup(c->to);
	const char *at = strstr(base, c->from);
	if (!at) {
		fprintf(stderr, "bad case: \"%s\" is not in the base document\n", c->from);
		return NULL;
	}
	size_t pre = (size_t)(at - base), flen = strlen(c->from), tlen = strlen(c->to);
	char *out = malloc(strlen(base) - flen + tlen + 1);
	memcpy(out, base, pre);
	memcpy(out + pre, c->to, tlen);
	strcpy(out + pre + tlen, at + flen);
	return out;
}

static void test_bad_documents(void)
{
	static struct arm64_targets t;
	struct arm64_cpu_profile p;
	char err[512];
	const size_t n = sizeof(bad_cases) / sizeof(bad_cases[0]);
	static char seen[sizeof(bad_cases) / sizeof(bad_cases[0])][512];

	/* The bases themselves are valid. */
	CHECK_EQ(arm64_targets_from_json(targets_base, strlen(targets_base), "t.json", &t, err, sizeof(err)), 0);
	CHECK_EQ(t.regs[0].enc, ENC(0, 4, 0)); /* sorted by encoding */
	CHECK_EQ(t.regs[1].value, 16);
	CHECK_EQ(t.nr_lowered, 1);
	CHECK_EQ(arm64_profile_from_json(profile_base, strlen(profile_base), "p.json", &p, err, sizeof(err)), 0);
	CHECK_EQ(p.ipa_bits, 44);
	CHECK(!p.compat.known && !t.compat.known); /* version 1: the GIC, PMU and frequency are unknown */

	for (size_t i = 0; i < n; i++) {
		const struct bad_case *c = &bad_cases[i];
		char *text = case_text(c);
		CHECK(text != NULL);
		if (!text)
			continue;
		err[0] = '\0';
		int ret = c->kind == 't' ? arm64_targets_from_json(text, strlen(text), "t.json", &t, err, sizeof(err))
					 : arm64_profile_from_json(text, strlen(text), "p.json", &p, err, sizeof(err));
		CHECK_EQ(ret, -EINVAL);
		if (strncmp(err, c->message, strlen(c->message)) != 0)
			fprintf(stderr, "case %zu: got \"%s\"\n          want \"%s...\"\n", i, err, c->message);
		CHECK(strncmp(err, c->message, strlen(c->message)) == 0);
		CHECK(strchr(err, '\n') == NULL);
		/* Each case has its own message. */
		bool unique = true;
		for (size_t k = 0; k < i; k++) {
			if (strcmp(seen[k], err) == 0) {
				fprintf(stderr, "cases %zu and %zu give the same message \"%s\"\n", k, i, err);
				unique = false;
			}
		}
		CHECK(unique);
		snprintf(seen[i], sizeof(seen[i]), "%s", err);
		free(text);
	}
}

/* Limits that need documents too long for the table: 17 targets, 65 registers, 129 notes. */
static void test_limits(void)
{
	static struct arm64_targets t;
	static char text[32768];
	char err[512];
	size_t len = 0;
	len += (size_t)snprintf(text + len, sizeof(text) - len,
				"{\"format\": \"roam-targets\", \"version\": 1, \"arch\": \"arm64\", \"targets\": [");
	for (int i = 0; i < 17; i++)
		len += (size_t)snprintf(
		    text + len, sizeof(text) - len,
		    "%s{\"name\": \"h%d\", \"midr\": \"0x%x\", \"revidr\": \"0x0\", \"aidr\": \"0x0\"}", i ? ", " : "",
		    i, 0x41000000 + i);
	snprintf(text + len, sizeof(text) - len, "]}");
	CHECK_EQ(arm64_targets_from_json(text, strlen(text), "t.json", &t, err, sizeof(err)), -EINVAL);
	CHECK_CONTAINS(err, "t.json: targets: 17 entries, more than the 16 roam supports");

	len = (size_t)snprintf(
	    text, sizeof(text),
	    "{\"format\": \"roam-targets\", \"version\": 1, \"arch\": \"arm64\", \"targets\": [{\"name\": "
	    "\"a\", \"midr\": \"0x1\", \"revidr\": \"0x0\", \"aidr\": \"0x0\"}], \"guest\": {\"midr\": \"0x1\", "
	    "\"revidr\": \"0x0\", \"aidr\": \"0x0\"}, \"id_registers\": {");
	for (int i = 0; i < 65; i++) /* op1 0, CRm 1..7, then op1 3: no identity register among them */
		len += (size_t)snprintf(text + len, sizeof(text) - len, "%s\"S3_%d_C0_C%d_%d\": \"0x0\"", i ? ", " : "",
					i < 56 ? 0 : 3, i < 56 ? 1 + i / 8 : (i - 56) / 8, i % 8);
	snprintf(text + len, sizeof(text) - len, "}}");
	CHECK_EQ(arm64_targets_from_json(text, strlen(text), "t.json", &t, err, sizeof(err)), -EINVAL);
	CHECK_CONTAINS(err, "t.json: id_registers: more than 64 registers");

	const char *lowered_at = strstr(targets_base, "[\"ID_AA64PFR0_EL1.FP");
	len = (size_t)snprintf(text, sizeof(text), "%.*s[", (int)(lowered_at - targets_base), targets_base);
	for (int i = 0; i < 129; i++)
		len += (size_t)snprintf(text + len, sizeof(text) - len, "%s\"note %d\"", i ? ", " : "", i);
	snprintf(text + len, sizeof(text) - len, "]}");
	CHECK_EQ(arm64_targets_from_json(text, strlen(text), "t.json", &t, err, sizeof(err)), -EINVAL);
	CHECK_CONTAINS(err, "t.json: lowered: more than 128 notes");
}

int main(void)
{
	test_round_trips();
	test_files();
	test_report_json();
	test_bad_documents();
	test_limits();
	return check_exit();
}
