/*
 * Fuzzes the JSON configs roam reads (docs/targets.md, docs/loongarch.md): CPU profiles and targets configs, arm64
 * and LoongArch. The first input byte picks the architecture (bit 0) and profile or targets (bit 1); the rest is the
 * file, loaded through its path as `roam targets merge`, `roam targets check` and `roam run --targets` load it
 * (targets_load_profile/targets). What loads is written back and read again (the text must come out the same:
 * write-read-write stable), merged (a profile alone and with a sample host) and checked (a targets config against
 * the sample host, a profile's merges against the profile), and the reports are rendered as text and as JSON (which
 * must parse).
 *
 * Everything goes through the shared targets module (vmm/targets/targets.h) and each architecture's ops table, as
 * the commands do. Seeds: profiles and targets configs the project's own writers produce.
 */
#include "arch/arm64/targets.h"
#include "arch/arm64/targets_json.h"
#include "arch/loongarch/cpucfg.h"
#include "arch/loongarch/targets_json.h"
#include "fuzz_util.h"
#include "targets/report.h"
#include "targets/targets.h"

#include <jansson.h>

/* The architectures, as the shared targets code sees them, and a sample host of each. */
static const struct targets_arch_ops *const arches[] = {&arm64_targets_ops, &loongarch_targets_ops};
#define NR_ARCHES (sizeof(arches) / sizeof(arches[0]))
static struct arm64_cpu_profile arm64_host;
static struct loongarch_cpu_profile loongarch_host;
static const void *const hosts[NR_ARCHES] = {&arm64_host, &loongarch_host};

/* write-read-write: text from the writer must be read back, and written again the same. */
static void check_stable(const struct targets_arch_ops *ops, const char *what, char *(*to_json)(const void *),
			 targets_parse_fn from_json, const void *thing, size_t size)
{
	char err[512];
	char *first = to_json(thing);
	void *again = calloc(1, size);
	FUZZ_ASSERT(first && again, "%s %s: the writer failed", ops->arch, what);
	int ret = from_json(first, strlen(first), "written", again, err, sizeof(err));
	FUZZ_ASSERT(ret == 0, "%s %s: what roam wrote does not read back: %s\n%s", ops->arch, what, err, first);
	char *second = to_json(again);
	FUZZ_ASSERT(second && !strcmp(first, second), "%s %s: write-read-write differs:\n%s\n---\n%s", ops->arch, what,
		    first, second ? second : "(nothing)");
	free(first);
	free(second);
	free(again);
}

/* A targets config: written back, checked against `host`, the report rendered both ways (the JSON must parse). */
static void use_targets(const struct targets_arch_ops *ops, const void *targets, const void *host)
{
	static struct targets_report r;
	check_stable(ops, "targets", ops->targets_to_json, ops->targets_from_json, targets, ops->targets_size);
	ops->check(targets, host, &r);
	free(targets_report_text(&r, "fuzz.json"));
	char *text = targets_report_json(&r, "fuzz.json");
	json_error_t e;
	json_t *j = text ? json_loads(text, 0, &e) : NULL;
	FUZZ_ASSERT(json_is_object(j), "%s: the check report is not JSON: %s", ops->arch, text ? text : "(nothing)");
	json_decref(j);
	free(text);
}

/* A profile: written back, merged alone and with the sample host, each merge used as a targets config. */
static void use_profile(const struct targets_arch_ops *ops, const void *profile, const void *host)
{
	char err[512];
	check_stable(ops, "profile", ops->profile_to_json, ops->profile_from_json, profile, ops->profile_size);
	uint8_t *both = malloc(2 * ops->profile_size);
	void *targets = malloc(ops->targets_size);
	FUZZ_ASSERT(both && targets, "out of memory");
	memcpy(both, profile, ops->profile_size);
	memcpy(both + ops->profile_size, host, ops->profile_size);
	for (int n = 1; n <= 2; n++)
		if (ops->merge(both, n, NULL, targets, err, sizeof(err)) == 0)
			use_targets(ops, targets, profile);
	free(both);
	free(targets);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (size < 1)
		return 0;
	const struct targets_arch_ops *ops = arches[data[0] % NR_ARCHES];
	const void *host = hosts[data[0] % NR_ARCHES];
	bool is_targets = data[0] & 2;
	int fd = fuzz_memfd("config", data + 1, size - 1);
	FUZZ_ASSERT(fd >= 0, "memfd");
	char path[64], err[512] = "";
	snprintf(path, sizeof(path), "/proc/self/fd/%d", fd);
	void *thing = calloc(1, is_targets ? ops->targets_size : ops->profile_size);
	FUZZ_ASSERT(thing, "out of memory");
	int ret = is_targets ? targets_load_targets(ops, path, thing, err, sizeof(err))
			     : targets_load_profile(ops, path, thing, err, sizeof(err));
	if (ret == 0 && is_targets)
		use_targets(ops, thing, host);
	else if (ret == 0)
		use_profile(ops, thing, host);
	/*
	 * A refusal names the file. (It should be one line too, but a key or a character quoted from the file is not
	 * escaped: "\n" in a key breaks the line; see docs/security.md.)
	 */
	FUZZ_ASSERT(ret == 0 || (err[0] && strstr(err, path)), "refusal \"%s\"", err);
	free(thing);
	close(fd);
	return 0;
}

static void add_reg(struct arm64_cpu_profile *p, uint32_t enc, uint64_t value, uint64_t writable)
{
	p->regs[p->nr_regs++] = (struct arm64_id_reg){enc, value, writable};
}

/* A sample arm64 host, as `roam cpu-profile` captures one. */
static void arm64_sample(struct arm64_cpu_profile *p, const char *name, uint64_t midr)
{
	memset(p, 0, sizeof(*p));
	snprintf(p->name, sizeof(p->name), "%s", name);
	snprintf(p->kernel, sizeof(p->kernel), "6.18.0-arm64");
	p->midr = midr;
	p->has_writable_masks = p->writable_imp_regs = p->sve = p->pmu = p->smccc_filter = true;
	p->ipa_bits = 44;
	p->gic_version = 3;
	p->compat = (struct arm64_compat){
	    .known = true, .icc_ctlr = 4ull << 8 | 1ull << 15, .pmu_counters = 6, .pmu_version = 4, .cntfrq = 62500000};
	p->sve_max_vl = 64;
	add_reg(p, ARM64_MIDR_EL1, midr, ~0ull);
	add_reg(p, ARM64_MPIDR_EL1, 0x80000000, 0);
	add_reg(p, ARM64_REVIDR_EL1, 0, ~0ull);
	add_reg(p, ARM64_SYSREG_ENC(3, 0, 0, 4, 0), 0x1100000011111112ull, 0x0f000000000f0000ull);
	add_reg(p, ARM64_SYSREG_ENC(3, 0, 0, 6, 0), 0x0221100110212120ull, 0xfffffffffffffff0ull);
	add_reg(p, ARM64_SYSREG_ENC(3, 0, 0, 7, 0), 0x0000000000101122ull, 0x00000000f0000000ull);
	add_reg(p, ARM64_AIDR_EL1, 0, ~0ull);
}

/* A sample LoongArch host (3A6000-like words: more cache levels than a 3A5000, LSX and LASX, PALEN 48). */
static void loongarch_sample(struct loongarch_cpu_profile *p, const char *name, uint32_t prid)
{
	static const uint32_t words[LOONGARCH_NR_CPUCFG] = {
	    [1] = 0x03f2f2fe,  [2] = 0x007ccfc7,  [3] = 0x0000fcff,  [4] = 0x05f5e100,
	    [5] = 0x00010001,  [6] = 0x00007f33,  [16] = 0x00002c3d, [17] = 0x06080003,
	    [18] = 0x06080003, [19] = 0x0608000f, [20] = 0x060f000f};
	memset(p, 0, sizeof(*p));
	snprintf(p->name, sizeof(p->name), "%s", name);
	snprintf(p->kernel, sizeof(p->kernel), "6.18.0");
	memcpy(p->cpucfg, words, sizeof(words));
	p->cpucfg[0] = prid;
	for (int i = 1; i < LOONGARCH_NR_CPUCFG; i++)
		p->writable[i] = i == 2 || i == 3 ? 0xffffffffu : 0;
	p->pv_features = 0x6;
	p->user_hcall = p->virt_extioi = true;
	p->vm_features = 0x63;
}

/* Seed DIR/NAME: the selector byte (architecture in bit 0, targets in bit 1), then the text. */
static void seed_text(const char *dir, const char *name, uint8_t selector, char *text)
{
	size_t len = text ? strlen(text) : 0;
	uint8_t *buf = malloc(len + 1);
	if (!buf || !text)
		exit(1);
	buf[0] = selector;
	memcpy(buf + 1, text, len);
	fuzz_seed(dir, name, buf, len + 1);
	free(buf);
	free(text);
}

static void write_seeds(const char *dir)
{
	static struct arm64_cpu_profile a[2];
	static struct arm64_targets at;
	static struct loongarch_cpu_profile l[2];
	static struct loongarch_targets lt;
	char err[512];
	arm64_sample(&a[0], "a72", 0x410fd083);
	arm64_sample(&a[1], "n1", 0x413fd0c1);
	a[1].regs[4].value = 0x0221100110212110ull; /* a field lowered by the merge */
	loongarch_sample(&l[0], "3a5000", 0x14c010);
	loongarch_sample(&l[1], "3a6000", 0x14d000);
	if (arm64_targets_ops.merge(a, 2, NULL, &at, err, sizeof(err)) < 0 ||
	    loongarch_targets_ops.merge(l, 2, NULL, &lt, err, sizeof(err)) < 0) {
		fprintf(stderr, "seed merge: %s\n", err);
		exit(1);
	}
	seed_text(dir, "arm64-profile.json", 0, arm64_profile_to_json(&a[0]));
	seed_text(dir, "arm64-targets.json", 2, arm64_targets_to_json(&at));
	seed_text(dir, "loongarch-profile.json", 1, loongarch_profile_to_json(&l[0]));
	seed_text(dir, "loongarch-targets.json", 3, loongarch_targets_to_json(&lt));
}

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	(void)argc;
	(void)argv;
	fuzz_maybe_write_seeds(write_seeds);
	arm64_sample(&arm64_host, "host", 0x410fd083);
	loongarch_sample(&loongarch_host, "host", 0x14c010);
	return 0;
}
