/*
 * Unit test of LoongArch migration targets: the guest's words from a profile (KVM's masks, roam's policy, the
 * consistency fix-ups), the merge rules (LOWER fields take the smallest value with a note, EXACT fields must agree,
 * PRID is an identity), the host check and its report, the JSON files (round trips and refusals with their
 * messages), and the commands: `roam cpu-profile` through the fake KVM, `roam targets merge` and `check`.
 */
#include "arch/loongarch/cpucfg.h"
#include "arch/loongarch/targets_json.h"
#include "check.h"
#include "cli/commands.h"
#include "targets/report.h"
#include "test_loongarch_fakekvm.h"

#include <asm/kvm_para.h>
#include <errno.h>
#include <stdlib.h>
#include <unistd.h>

/* A 3A5000-like host: FP, LSX, LASX, LLFTP, LAM, LBT; PALEN 48, VALEN 48; 100 MHz stable counter. */
static void profile(struct loongarch_cpu_profile *p, const char *name, uint32_t prid)
{
	static const uint32_t words[21] = {
	    0x14c010, 0x03f2f2fe, 0x007ccfc7, 0x0000fcff, 0x05f5e100, 0x00010001, 0x00007f33, 0,	 0, 0, 0, 0, 0,
	    0,	      0,	  0,	      0x00002c3d, 0x06080003, 0x06080003, 0x0608000f, 0x060e000f};
	memset(p, 0, sizeof(*p));
	snprintf(p->name, sizeof(p->name), "%s", name);
	snprintf(p->kernel, sizeof(p->kernel), "6.18.0");
	memcpy(p->cpucfg, words, sizeof(words));
	p->cpucfg[0] = prid;
	fakekvm_reset();
	memcpy(p->writable, fakekvm.mask, sizeof(p->writable));
	p->pv_features = 0x6;
	p->user_hcall = true;
	p->virt_extioi = true;
	p->vm_features = 0x63;
}

static void test_guest_words(void)
{
	struct loongarch_cpu_profile p;
	uint32_t g[21];
	const char *why = "";
	profile(&p, "a", 0x14c010);
	CHECK_EQ(loongarch_guest_cpucfg(&p, g, &why), 0);
	CHECK_EQ(g[0], 0x14c010);
	CHECK_EQ(g[1], p.cpucfg[1] & ~(1u << 26));
	CHECK_EQ(g[2] & (7u << 18), 0); /* no LBT */
	CHECK_EQ(g[2] & 0xc7, 0xc7); /* FP, SP, DP, LSX, LASX */
	CHECK_EQ(g[6], 0); /* no PMU */
	CHECK_EQ(g[7], 0);
	CHECK_EQ(g[4], 0x05f5e100);
	/* KVM without double precision: FP goes, and LSX and LASX with it. */
	p.writable[2] &= ~LOONGARCH_CPUCFG2_FPDP;
	CHECK_EQ(loongarch_guest_cpucfg(&p, g, &why), 0);
	CHECK_EQ(g[2] & 0xc7, 0x02);
	p.writable[2] = 0xffffffff & ~LOONGARCH_CPUCFG2_LSX;
	CHECK_EQ(loongarch_guest_cpucfg(&p, g, &why), 0);
	CHECK_EQ(g[2] & 0xc7, 0x07);
	p.writable[2] &= ~LOONGARCH_CPUCFG2_LLFTP;
	CHECK_EQ(loongarch_guest_cpucfg(&p, g, &why), -EINVAL);
	CHECK_CONTAINS(why, "constant timer");
	/* Every word has fields covering all 32 bits, in order. */
	for (uint32_t w = 0; w < 21; w++) {
		struct loongarch_cpucfg_field f[32];
		int n = loongarch_cpucfg_fields(w, f);
		unsigned next = 0;
		for (int i = 0; i < n; i++) {
			CHECK_EQ(f[i].lo, next);
			next = f[i].hi + 1u;
		}
		CHECK_EQ(next, 32);
	}
}

static void test_merge(void)
{
	static struct loongarch_cpu_profile p[3];
	static struct loongarch_targets t;
	char err[512];
	profile(&p[0], "a5000", 0x14c010);
	profile(&p[1], "a6000", 0x14d000);
	profile(&p[2], "a5000-b", 0x14c010);
	p[1].cpucfg[2] &= ~LOONGARCH_CPUCFG2_LASX; /* one host without LASX */
	p[1].cpucfg[1] = (p[1].cpucfg[1] & ~0xff0u) | (0x2b << 4); /* and a smaller PALEN */
	CHECK_EQ(loongarch_targets_merge_opts(p, 3, NULL, &t, err, sizeof(err)), 0);
	CHECK_EQ(t.nr_impls, 2); /* the same PRID twice is one target */
	CHECK(!strcmp(t.impls[1].name, "a6000") && t.impls[1].prid == 0x14d000);
	CHECK_EQ(t.guest_prid, 0x14c010);
	CHECK_EQ(t.cpucfg[0], 0x14c010);
	CHECK_EQ(t.cpucfg[2] & LOONGARCH_CPUCFG2_LASX, 0);
	CHECK_EQ(t.cpucfg[2] & LOONGARCH_CPUCFG2_LSX, LOONGARCH_CPUCFG2_LSX);
	CHECK_EQ((t.cpucfg[1] >> 4) & 0xff, 0x2b);
	CHECK_EQ(t.nr_notes, 2);
	CHECK(!strcmp(t.notes[0], "CPUCFG1.PALEN: 0x2f -> 0x2b (a5000, a5000-b)"));
	CHECK(!strcmp(t.notes[1], "CPUCFG2.LASX: 0x1 -> 0x0 (a5000, a5000-b)"));
	/* Options: another guest PRID and other names. */
	const char *names[3] = {"x", NULL, "z"};
	struct targets_merge_options mo = {.names = names, .set_id = {true}, .id = {0x14c011}};
	CHECK_EQ(loongarch_targets_merge_opts(p, 3, &mo, &t, err, sizeof(err)), 0);
	CHECK_EQ(t.cpucfg[0], 0x14c011);
	CHECK(!strcmp(t.impls[0].name, "x"));
	/* EXACT fields must agree. */
	p[1].cpucfg[4] = 0x02faf080; /* a 50 MHz stable counter */
	p[1].cpucfg[17] ^= 1;
	CHECK_EQ(loongarch_targets_merge_opts(p, 3, NULL, &t, err, sizeof(err)), -EINVAL);
	CHECK_CONTAINS(err, "CPUCFG4.CC_FREQ must be the same on all hosts, but a5000 has 0x5f5e100 and a6000 has "
			    "0x2faf080\nCPUCFG17 must be the same on all hosts, but a5000 has 0x6080003 and a6000 has "
			    "0x6080002"); /* every problem, one line each */
	profile(&p[1], "a6000", 0x14d000);
	p[1].writable[2] &= ~LOONGARCH_CPUCFG2_LLFTP;
	CHECK_EQ(loongarch_targets_merge_opts(p, 3, NULL, &t, err, sizeof(err)), -EINVAL);
	CHECK_CONTAINS(err, "a6000: KVM here does not let a guest see the constant timer");
	CHECK_EQ(loongarch_targets_merge_opts(p, 0, NULL, &t, err, sizeof(err)), -EINVAL);
	static struct loongarch_cpu_profile many[17];
	for (int i = 0; i < 17; i++)
		profile(&many[i], "h", 0x14c000 + (uint32_t)i);
	CHECK_EQ(loongarch_targets_merge_opts(many, 17, NULL, &t, err, sizeof(err)), -E2BIG);
	CHECK_CONTAINS(err, "more than 16 different CPUs");
}

static void test_check(void)
{
	static struct loongarch_cpu_profile p[2], host;
	static struct loongarch_targets t;
	static struct targets_report r;
	char err[256];
	profile(&p[0], "a5000", 0x14c010);
	profile(&p[1], "a6000", 0x14d000);
	CHECK_EQ(loongarch_targets_merge_opts(p, 2, NULL, &t, err, sizeof(err)), 0);
	loongarch_targets_check(&t, &p[1], &r);
	CHECK_EQ(r.nr_errors, 0);
	char *text = targets_report_text(&r, "t.json");
	CHECK_CONTAINS(text, "ok    host-in-targets       this host (PRID 0x14d000) is target \"a6000\"");
	CHECK_CONTAINS(text, "ok    cpucfg-ok");
	CHECK_CONTAINS(text, "a6000 can run guests made for t.json");
	free(text);
	/* A host not listed, with less PALEN, another counter, KVM that cannot set LAM, and no USER_HCALL. */
	profile(&host, "a4000", 0x14a000);
	host.cpucfg[1] = (host.cpucfg[1] & ~0xff0u) | (0x27 << 4);
	host.cpucfg[4] = 0x1000;
	host.writable[2] &= ~(1u << 22);
	host.user_hcall = false;
	loongarch_targets_check(&t, &host, &r);
	CHECK_EQ(r.nr_errors, 5);
	CHECK(targets_report_has(&r, "host-not-in-targets", false));
	CHECK(targets_report_has(&r, "host-not-in-targets", true));
	text = targets_report_text(&r, "t.json");
	CHECK_CONTAINS(text, "error host-not-in-targets   this host (PRID 0x14a000) is not one of the targets (a5000, "
			     "a6000); add its profile with roam targets merge");
	CHECK_CONTAINS(text, "error cpucfg-not-writable   CPUCFG2: the targets need bits 0x400000 that KVM here does "
			     "not let a VMM set");
	CHECK_CONTAINS(text,
		       "error cpucfg-above-host     CPUCFG1.PALEN: the targets need 0x2f, this host has only 0x27");
	CHECK_CONTAINS(text, "error cpucfg-differs        CPUCFG4.CC_FREQ: the targets have 0x5f5e100, this host "
			     "0x1000; they must be equal");
	CHECK_CONTAINS(text, "error user-hcall-missing");
	CHECK_CONTAINS(text, "a4000 cannot run guests made for t.json: 5 problems");
	free(text);
	text = targets_report_json(&r, "t.json");
	CHECK_CONTAINS(text, "\"ok\": false");
	CHECK_CONTAINS(text, "\"code\": \"cpucfg-differs\"");
	free(text);
	/* A host that has nothing the targets need: an error for nearly every field, until the report is full. */
	memset(host.cpucfg + 1, 0, sizeof(host.cpucfg) - sizeof(host.cpucfg[0]));
	memset(host.writable, 0, sizeof(host.writable));
	loongarch_targets_check(&t, &host, &r);
	CHECK(r.nr_errors > 50);
	CHECK_EQ(r.nr_errors, r.nr_findings + r.nr_dropped);
	while (!r.nr_dropped)
		targets_report_add(&r, TARGETS_ERROR, "cpucfg-differs", "one more");
	CHECK_EQ(r.nr_findings, TARGETS_REPORT_MAX_FINDINGS);
	text = targets_report_text(&r, "t.json");
	CHECK_CONTAINS(text, "error cpucfg-unusable       KVM here does not let a guest see the constant timer");
	CHECK_CONTAINS(text, "      (1 more findings not shown)");
	free(text);
}

static void test_json(void)
{
	static struct loongarch_cpu_profile p, q;
	static struct loongarch_targets t, u;
	char err[512];
	profile(&p, "a5000", 0x14c010);
	char *text = loongarch_profile_to_json(&p);
	CHECK_CONTAINS(text, "\"arch\": \"loongarch64\"");
	CHECK_CONTAINS(text, "\"CPUCFG20\"");
	CHECK_EQ(loongarch_profile_from_json(text, strlen(text), "p.json", &q, err, sizeof(err)), 0);
	char *again = loongarch_profile_to_json(&q);
	CHECK(!strcmp(text, again));
	free(again);
	/* A targets file is refused where a profile is wanted, and an arm64 profile anywhere. */
	CHECK_EQ(loongarch_targets_from_json(text, strlen(text), "p.json", &t, err, sizeof(err)), -EINVAL);
	CHECK_CONTAINS(err,
		       "p.json: format: \"roam-cpu-profile\" is not \"roam-targets\" (this is one host's CPU profile");
	free(text);
	const char *arm = "{\"format\": \"roam-cpu-profile\", \"version\": 1, \"arch\": \"arm64\"}";
	CHECK_EQ(loongarch_profile_from_json(arm, strlen(arm), "arm.json", &q, err, sizeof(err)), -EINVAL);
	CHECK(!strcmp(err, "arm.json: arch: \"arm64\" is not \"loongarch64\""));
	text = loongarch_profile_to_json(&p);
	static const struct {
		const char *from, *to, *message;
	} profile_edits[] = {
	    {"\"user_hcall\": true", "\"user_hcall\": 1", "p.json: kvm.user_hcall: not true or false"},
	    {"\"kvm\": {", "\"kvm\": {\"x\": 1, ", "p.json: kvm.x: unknown key"},
	    {"\"value\": \"0x000000000014c010\"", "\"value\": \"0x14c011\"",
	     "p.json: cpucfg.CPUCFG0: value 0x14c011 differs from the profile's prid 0x14c010"},
	    {"\"writable\": \"0x00000000ffffffff\"", "\"writable\": 5", ""},
	    {"\"CPUCFG1\": {", "\"CPUCFG1\": 3, \"x\": {", "p.json: cpucfg.CPUCFG1: not an object"},
	    {"\"name\": \"a5000\"", "\"name\": 5", "p.json: name: not a string"},
	};
	for (size_t i = 0; i < sizeof(profile_edits) / sizeof(profile_edits[0]); i++) {
		char buf[8192];
		const char *at = strstr(text, profile_edits[i].from);
		CHECK(at != NULL);
		if (!at)
			continue;
		snprintf(buf, sizeof(buf), "%.*s%s%s", (int)(at - text), text, profile_edits[i].to,
			 at + strlen(profile_edits[i].from));
		int ret = loongarch_profile_from_json(buf, strlen(buf), "p.json", &q, err, sizeof(err));
		CHECK_EQ(ret, profile_edits[i].message[0] ? -EINVAL : 0);
		if (profile_edits[i].message[0])
			CHECK_CONTAINS(err, profile_edits[i].message);
	}
	free(text);

	CHECK_EQ(loongarch_targets_merge_opts(&p, 1, NULL, &t, err, sizeof(err)), 0);
	snprintf(t.notes[0], sizeof(t.notes[0]), "a note");
	t.nr_notes = 1;
	text = loongarch_targets_to_json(&t);
	CHECK_EQ(loongarch_targets_from_json(text, strlen(text), "t.json", &u, err, sizeof(err)), 0);
	again = loongarch_targets_to_json(&u);
	CHECK(!strcmp(text, again));
	free(again);
	CHECK(!memcmp(t.cpucfg, u.cpucfg, sizeof(t.cpucfg)));

	struct {
		const char *from, *to, *message;
	} edits[] = {
	    {"\"CPUCFG2\":", "\"CPUCFG02\":", "t.json: cpucfg.CPUCFG02: unknown word (use CPUCFG0 to CPUCFG20)"},
	    {"\"CPUCFG2\":", "\"CPUCFG0\":", "t.json: cpucfg.CPUCFG0: the guest's PRID belongs in \"guest\""},
	    {"\"CPUCFG2\":", "\"CPUCFG21\":", "t.json: cpucfg.CPUCFG21: unknown word"},
	    {"\"CPUCFG20\":", "\"colour\":", "t.json: cpucfg.colour: unknown word"},
	    {"\"CPUCFG3\": \"", "\"CPUCFG3\": \"x", "t.json: cpucfg.CPUCFG3: not a hex string"},
	    {"\"prid\": \"0x00000000", "\"prid\": \"0x10000000",
	     "t.json: targets[0].prid: 0x100000000014c010 is out of range (at most 0xffffffff)"},
	    {"\"guest\": {", "\"guest\": {\"x\": 1, ", "t.json: guest.x: unknown key"},
	    {"\"targets\": [", "\"extra\": 1, \"targets\": [", "t.json: extra: unknown key"},
	    {"\"version\": 2", "\"version\": 3", "t.json: version: 3 is not supported"},
	    {"\"lowered\": [", "\"lowered\": [1, ", "t.json: lowered[0]: not a string"},
	};
	for (size_t i = 0; i < sizeof(edits) / sizeof(edits[0]); i++) {
		char buf[8192];
		const char *at = strstr(text, edits[i].from);
		CHECK(at != NULL);
		if (!at)
			continue;
		snprintf(buf, sizeof(buf), "%.*s%s%s", (int)(at - text), text, edits[i].to, at + strlen(edits[i].from));
		CHECK_EQ(loongarch_targets_from_json(buf, strlen(buf), "t.json", &u, err, sizeof(err)), -EINVAL);
		CHECK_CONTAINS(err, edits[i].message);
	}
	/* A missing word. */
	char buf[8192];
	const char *at = strstr(text, "    \"CPUCFG5\"");
	const char *end = at ? strchr(at, '\n') : NULL;
	if (at && end) {
		snprintf(buf, sizeof(buf), "%.*s%s", (int)(at - text), text, end + 1);
		CHECK_EQ(loongarch_targets_from_json(buf, strlen(buf), "t.json", &u, err, sizeof(err)), -EINVAL);
		CHECK_CONTAINS(err, "t.json: cpucfg: CPUCFG5 is missing");
	}
	free(text);
	CHECK_EQ(targets_load_targets(&loongarch_targets_ops, "/nonexistent.json", &u, err, sizeof(err)), -ENOENT);
	CHECK(!strcmp(err, "/nonexistent.json: cannot read: No such file or directory"));
	CHECK_EQ(targets_save_profile(&loongarch_targets_ops, "/nonexistent/p.json", &p, err, sizeof(err)), -ENOENT);
}

struct command {
	int status;
	int (*fn)(int, char **);
	int argc;
	char *argv[10];
};

static void run_command(void *arg)
{
	struct command *c = arg;
	c->status = c->fn(c->argc, c->argv);
}

static const char *command(struct command *c)
{
	return fakekvm_capture(run_command, c);
}

static void test_commands(void)
{
	char dir[] = "/tmp/roam-la-targets-XXXXXX";
	char a[128], b[128], t[128];
	CHECK(mkdtemp(dir) != NULL);
	snprintf(a, sizeof(a), "%s/a.json", dir);
	snprintf(b, sizeof(b), "%s/b.json", dir);
	snprintf(t, sizeof(t), "%s/t.json", dir);
	/* cpu-profile through the fake KVM: this CPU's words (the instruction), KVM's masks and probes. */
	fakekvm_reset();
	struct command c = {
	    0, cmd_cpu_profile, 7, {"cpu-profile", "--name", "here", "-o", a, "--kvm-device", "/dev/null"}};
	const char *err = command(&c);
	CHECK_EQ(c.status, 0);
	CHECK(!err[0]);
	static struct loongarch_cpu_profile p;
	char msg[512];
	CHECK_EQ(targets_load_profile(&loongarch_targets_ops, a, &p, msg, sizeof(msg)), 0);
	CHECK(!strcmp(p.name, "here"));
	CHECK(p.user_hcall && p.virt_extioi);
	CHECK_EQ(p.pv_features, fakekvm.pv_default);
	CHECK_EQ(p.vm_features, fakekvm.vm_features);
	CHECK_EQ(p.writable[2], fakekvm.mask[2]);
	fakekvm.pv_valid &= ~(1u << KVM_FEATURE_USER_HCALL);
	c = (struct command){0, cmd_cpu_profile, 5, {"cpu-profile", "-o", b, "--kvm-device", "/dev/null"}};
	command(&c);
	CHECK_EQ(targets_load_profile(&loongarch_targets_ops, b, &p, msg, sizeof(msg)), 0);
	CHECK(!p.user_hcall);
	c = (struct command){0, cmd_cpu_profile, 3, {"cpu-profile", "--kvm-device", "/nonexistent"}};
	CHECK_CONTAINS(command(&c), "roam: cannot open /nonexistent: No such file or directory");
	CHECK_EQ(c.status, 1);
	c = (struct command){0, cmd_cpu_profile, 2, {"cpu-profile", "-h"}};
	CHECK_CONTAINS(command(&c), "usage: roam cpu-profile");
	CHECK_EQ(c.status, 0);
	c = (struct command){0, cmd_cpu_profile, 2, {"cpu-profile", "extra"}};
	CHECK_CONTAINS(command(&c), "cpu-profile: unexpected argument 'extra'");
	CHECK_EQ(c.status, 2);
	c = (struct command){0, cmd_targets, 2, {"targets", "--help"}};
	CHECK_CONTAINS(command(&c), "check: reports whether this host");
	CHECK_EQ(c.status, 0);
	c = (struct command){0, cmd_targets, 3, {"targets", "check", "--frob"}};
	CHECK_CONTAINS(command(&c), "targets check: bad option '--frob'");
	c = (struct command){0, cmd_targets, 3, {"targets", "merge", "--frob"}};
	CHECK_CONTAINS(command(&c), "targets merge: bad option '--frob'");
	c = (struct command){0, cmd_cpu_profile, 2, {"cpu-profile", "--bogus"}};
	CHECK_CONTAINS(command(&c), "cpu-profile: bad option '--bogus'");
	CHECK_EQ(c.status, 2);

	/* merge, then check the second profile (KVM there lacks USER_HCALL) and this "host" through the fake. */
	c = (struct command){0, cmd_targets, 7, {"targets", "merge", a, b, "-o", t, "--prid=0x14c011"}};
	err = command(&c);
	CHECK_EQ(c.status, 0);
	CHECK(!err[0]);
	static struct loongarch_targets tt;
	CHECK_EQ(targets_load_targets(&loongarch_targets_ops, t, &tt, msg, sizeof(msg)), 0);
	CHECK_EQ(tt.guest_prid, 0x14c011);
	c = (struct command){0, cmd_targets, 5, {"targets", "check", t, "--profile", b}};
	CHECK_CONTAINS(command(&c), "error user-hcall-missing");
	CHECK_EQ(c.status, 1);
	fakekvm_reset();
	c = (struct command){0, cmd_targets, 6, {"targets", "check", "--json", t, "--kvm-device", "/dev/null"}};
	CHECK_CONTAINS(command(&c), "\"ok\": true");
	CHECK_EQ(c.status, 0);
	c = (struct command){0, cmd_targets, 5, {"targets", "merge", a, "-o", "/nonexistent/t.json"}};
	CHECK_CONTAINS(command(&c), "roam: targets merge: /nonexistent/t.json: cannot write");
	CHECK_EQ(c.status, 1);
	c = (struct command){0, cmd_targets, 5, {"targets", "merge", t, "-o", b}};
	CHECK_CONTAINS(command(&c), "format: \"roam-targets\" is not \"roam-cpu-profile\"");
	c = (struct command){0, cmd_targets, 4, {"targets", "merge", a, "--prid=x"}};
	CHECK_CONTAINS(command(&c), "--prid: 'x' is not a 32-bit number");
	CHECK_EQ(c.status, 2);
	c = (struct command){0, cmd_targets, 3, {"targets", "merge", a}};
	CHECK_CONTAINS(command(&c), "targets merge: no -o FILE given (- for standard output)");
	c = (struct command){0, cmd_targets, 4, {"targets", "merge", "-o", "t.json"}};
	CHECK_CONTAINS(command(&c), "targets merge: no PROFILE given");
	CHECK_EQ(c.status, 2);
	c = (struct command){0, cmd_targets, 3, {"targets", "merge", "--help"}};
	CHECK_CONTAINS(command(&c), "usage: roam targets merge PROFILE... -o FILE");
	CHECK_EQ(c.status, 0);
	c = (struct command){0, cmd_targets, 3, {"targets", "check", "--help"}};
	CHECK_CONTAINS(command(&c), "usage: roam targets merge PROFILE... -o FILE");
	CHECK_EQ(c.status, 0);
	c = (struct command){0, cmd_targets, 2, {"targets", "check"}};
	CHECK_CONTAINS(command(&c), "needs exactly one TARGETS file");
	c = (struct command){0, cmd_targets, 3, {"targets", "check", "/nonexistent"}};
	CHECK_CONTAINS(command(&c), "/nonexistent: cannot read");
	c = (struct command){0, cmd_targets, 2, {"targets", "frob"}};
	CHECK_CONTAINS(command(&c), "unknown subcommand 'frob'");
	c = (struct command){0, cmd_targets, 1, {"targets"}};
	CHECK_CONTAINS(command(&c), "usage: roam targets merge");
	CHECK_EQ(c.status, 2);
	unlink(a);
	unlink(b);
	unlink(t);
	rmdir(dir);
}

int main(void)
{
	test_guest_words();
	test_merge();
	test_check();
	test_json();
	test_commands();
	return check_exit();
}
