/*
 * Unit test of what a targets config holds beyond the ID registers (docs/targets.md, "compat"): the GIC CPU
 * interface's ICC_CTLR_EL1 (priority and ID bits lowered, SEIS and A3V refused when they differ), the PMU's counter
 * count (lowered), the counter frequency (refused when it differs), profiles of an older roam (the host to profile
 * again is named), a merge that lists every problem on a line of its own, and the check's findings for each.
 */
#include "arch/arm64/gic_cpuif.h"
#include "arch/arm64/targets.h"
#include "arm64_test_profile.h"
#include "check.h"
#include "targets/problems.h"
#include "targets/report.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#define PRI(bits) ((uint64_t)((bits)-1) << 8)
#define ID24 (1ull << 11)
#define SEIS (1ull << 14)
#define A3V (1ull << 15)
#define MHZ_62_5 62500000ull
#define GHZ_1 1000000000ull

/* A host with the GIC, PMU and counter given, and nothing else that could stop a merge. */
static void host(struct arm64_cpu_profile *p, const char *name, uint64_t midr, uint64_t icc, uint32_t counters,
		 uint64_t cntfrq)
{
	arm64_test_profile(p, name, midr);
	p->compat.icc_ctlr = icc;
	p->compat.pmu_counters = counters;
	p->compat.pmu_version = counters ? 4 : 0;
	p->compat.cntfrq = cntfrq;
}

static int count_lines(const char *s)
{
	int n = *s != '\0';
	for (; *s; s++)
		n += *s == '\n';
	return n;
}

static void test_cpuif_fields(void)
{
	struct arm64_gic_cpuif f = arm64_gic_cpuif_decode(PRI(5) | A3V | 0x3);
	CHECK_EQ(f.pri_bits, 5);
	CHECK_EQ(f.id_bits, 16);
	CHECK(f.a3v && !f.seis && !f.rss && !f.ext_range);
	char text[96];
	CHECK_CONTAINS(arm64_gic_cpuif_text(PRI(7) | ID24 | SEIS, text, sizeof(text)),
		       "7 priority bits, 24-bit IDs, SEIS 1, A3V 0");
	uint64_t mismatch;
	CHECK_EQ(arm64_gic_cpuif_merge(PRI(7) | ID24 | A3V | 3, PRI(5) | A3V, &mismatch), PRI(5) | A3V);
	CHECK_EQ(mismatch, 0);
	arm64_gic_cpuif_merge(PRI(5) | SEIS, PRI(5) | A3V, &mismatch);
	CHECK_EQ(mismatch, SEIS | A3V);
	char problem[320];
	arm64_gic_cpuif_problem("X", "the targets'", PRI(5), PRI(7) | ID24, problem, sizeof(problem));
	CHECK_EQ(problem[0], '\0'); /* fewer bits: KVM lowers the vCPU's */
	arm64_gic_cpuif_problem("X", "the targets'", PRI(7), PRI(5), problem, sizeof(problem));
	CHECK_CONTAINS(problem, "X: the targets' GIC has 7 priority bits, 16-bit IDs, SEIS 0, A3V 0, this host's 5 "
				"priority bits");
	arm64_gic_cpuif_problem("X", "the targets'", PRI(5) | ID24, PRI(5), problem, sizeof(problem));
	CHECK_CONTAINS(problem, "24-bit IDs");
	arm64_gic_cpuif_problem("X", "the targets'", PRI(5), PRI(5) | SEIS, problem, sizeof(problem));
	CHECK(problem[0] != '\0'); /* SEIS must be equal, both ways */
}

/* Priority bits, ID bits and PMU counters are lowered to the fewest, with a note each. */
static void test_merge_lowers(void)
{
	struct arm64_cpu_profile p[3];
	static struct arm64_targets t;
	char err[2048];
	host(&p[0], "a57", 0x411fd070, PRI(5) | A3V, 6, MHZ_62_5);
	host(&p[1], "a72", 0x410fd083, PRI(7) | ID24 | A3V, 4, MHZ_62_5);
	host(&p[2], "a72b", 0x410fd083, PRI(5) | ID24 | A3V, 20, MHZ_62_5);
	CHECK_EQ(arm64_targets_merge(p, 3, NULL, &t, err, sizeof(err)), 0);
	CHECK(t.compat.known);
	CHECK_EQ(t.compat.icc_ctlr, PRI(5) | A3V);
	CHECK_EQ(t.compat.pmu_counters, 4);
	CHECK_EQ(t.compat.cntfrq, MHZ_62_5);
	char notes[4096] = "";
	for (int i = 0; i < t.nr_lowered; i++) {
		strcat(notes, t.lowered[i]);
		strcat(notes, "\n");
	}
	CHECK_CONTAINS(notes, "ICC_CTLR_EL1 priority bits: 0x7 -> 0x5 (a72)\n");
	CHECK_CONTAINS(notes, "ICC_CTLR_EL1 interrupt ID bits: 0x18 -> 0x10 (a72, a72b)\n");
	CHECK_CONTAINS(notes, "PMCR_EL0.N (PMU event counters): 0x6 -> 0x4 (a57)\n");
	CHECK_CONTAINS(notes, "PMCR_EL0.N (PMU event counters): 0x14 -> 0x4 (a72b)\n");

	/* A host without a PMU gives the guest none. */
	host(&p[1], "nopmu", 0x410fd083, PRI(5) | A3V, 0, MHZ_62_5);
	CHECK_EQ(arm64_targets_merge(p, 2, NULL, &t, err, sizeof(err)), 0);
	CHECK_EQ(t.compat.pmu_counters, 0);
}

/* SEIS, A3V and the counter frequency cannot be merged; old profiles name their host; every problem is listed. */
static void test_merge_refusals(void)
{
	struct arm64_cpu_profile p[3];
	static struct arm64_targets t;
	char err[4096];
	host(&p[0], "a57", 0x411fd070, PRI(5) | A3V, 6, MHZ_62_5);
	host(&p[1], "max", 0x000f0510, PRI(5) | A3V | SEIS, 6, GHZ_1);
	CHECK_EQ(arm64_targets_merge(p, 2, NULL, &t, err, sizeof(err)), -EINVAL);
	CHECK_CONTAINS(err, "ICC_CTLR_EL1.SEIS (GIC CPU interface) differs: a57 0, max 1; KVM gives a guest its host's "
			    "SEIS and cannot change it");
	CHECK_CONTAINS(err, "\nthe counter frequency (CNTFRQ_EL0) differs: a57 62500000 Hz, max 1000000000 Hz; ");
	CHECK_EQ(count_lines(err), 2);

	host(&p[1], "a72", 0x410fd083, PRI(5), 6, MHZ_62_5);
	CHECK_EQ(arm64_targets_merge(p, 2, NULL, &t, err, sizeof(err)), -EINVAL);
	CHECK_CONTAINS(err, "ICC_CTLR_EL1.A3V (GIC CPU interface) differs: a57 1, a72 0;");
	CHECK_EQ(count_lines(err), 1);

	/* Profiles of an older roam: each host named, along with the other problems, one line each. */
	host(&p[1], "old1", 0x410fd083, 0, 0, 0);
	p[1].compat.known = false;
	host(&p[2], "old2", 0x410fd084, 0, 0, 0);
	p[2].compat.known = false;
	p[2].gic_version = 0;
	CHECK_EQ(arm64_targets_merge(p, 3, NULL, &t, err, sizeof(err)), -EINVAL);
	CHECK_CONTAINS(err,
		       "old1: its profile has no GIC CPU interface, PMU and counter frequency values (an older roam "
		       "made it); run roam cpu-profile on that host again");
	CHECK_CONTAINS(err, "\nold2: its profile has no GIC CPU interface");
	CHECK_CONTAINS(err, "old2: KVM there offers no in-kernel GICv3");
	CHECK_EQ(count_lines(err), 3);
	CHECK(strstr(err, "more problem") == NULL);

	/* More problems than the buffer holds: the whole lines that fit, and the count of the rest. */
	char small[300];
	CHECK_EQ(arm64_targets_merge(p, 3, NULL, &t, small, sizeof(small)), -EINVAL);
	CHECK_CONTAINS(small, "old2: KVM there offers no in-kernel GICv3");
	CHECK_CONTAINS(small, "\nold1: its profile");
	CHECK_CONTAINS(small, "\n... and 1 more problem");
}

static void test_problems_buffer(void)
{
	char buf[64];
	struct targets_problems pr = {buf, sizeof(buf), 0, 0};
	targets_problem(&pr, "first problem, longer than the whole buffer of sixty-four bytes, cut");
	targets_problem(&pr, "second");
	CHECK_EQ(targets_problems_finish(&pr, -EINVAL), -EINVAL);
	CHECK_EQ(pr.count, 2);
	CHECK_EQ(pr.dropped, 1);
	CHECK_EQ(strlen(buf) < sizeof(buf), 1);
	CHECK(strncmp(buf, "first problem", 13) == 0);
	char big[256];
	struct targets_problems two = {big, sizeof(big), 0, 0};
	targets_problem(&two, "a %d", 1);
	targets_problem(&two, "b %d", 2);
	targets_problems_finish(&two, 0);
	CHECK(strcmp(big, "a 1\nb 2") == 0);
}

static const struct targets_finding *finding(const struct targets_report *r, const char *code)
{
	return targets_report_find(r, code);
}

/* The check: one finding per aspect, every problem at once, and what it says about older files. */
static void test_check(void)
{
	struct arm64_cpu_profile p[2], h;
	static struct arm64_targets t;
	static struct targets_report r;
	char err[1024];
	host(&p[0], "a57", 0x411fd070, PRI(5) | A3V, 6, MHZ_62_5);
	host(&p[1], "a72", 0x410fd083, PRI(5) | A3V, 6, MHZ_62_5);
	CHECK_EQ(arm64_targets_merge(p, 2, NULL, &t, err, sizeof(err)), 0);
	arm64_targets_check(&t, &p[0], &r);
	CHECK_EQ(r.nr_errors, 0);
	CHECK_CONTAINS(finding(&r, "cntfrq-ok")->message, "the counter runs at 62500000 Hz, as the targets' does");
	CHECK_CONTAINS(finding(&r, "gic-cpuif-ok")->message,
		       "the GIC CPU interface can be given 5 priority bits, 16-bit IDs, SEIS 0, A3V 1");
	CHECK_CONTAINS(finding(&r, "pmu-ok")->message, "the PMU has 6 event counters (the targets need 6)");

	/* A host wrong in every way: not a target, another frequency, fewer priority bits, other A3V, fewer counters,
	 * a smaller IPA size - all reported together. */
	host(&h, "max", 0x000f0510, PRI(4), 2, GHZ_1);
	h.ipa_bits = 40;
	arm64_targets_check(&t, &h, &r);
	CHECK_EQ(r.nr_errors, 5);
	CHECK(finding(&r, "host-not-in-targets") != NULL);
	CHECK(finding(&r, "ipa-too-small") != NULL);
	CHECK_CONTAINS(finding(&r, "cntfrq-differs")->message,
		       "the counter here runs at 1000000000 Hz, the targets' at 62500000 Hz");
	CHECK_CONTAINS(finding(&r, "gic-cpuif")->message,
		       "ICC_CTLR_EL1: the targets' GIC has 5 priority bits, 16-bit IDs, SEIS 0, A3V 1, this host's 4 "
		       "priority bits, 16-bit IDs, SEIS 0, A3V 0");
	CHECK_CONTAINS(finding(&r, "pmu-counters")->message, "the PMU here has 2 event counters, the targets need 6");
	char *text = targets_report_text(&r, "t.json");
	CHECK_CONTAINS(text, ": 5 problems\n");
	free(text);

	/* More bits than the targets' are fine: KVM lowers the vCPU's. */
	host(&h, "a72", 0x410fd083, PRI(7) | ID24 | A3V, 20, MHZ_62_5);
	arm64_targets_check(&t, &h, &r);
	CHECK_EQ(r.nr_errors, 0);

	/* Targets from older profiles: nothing to check, and the check says so. A host profile of an older roam is
	 * an error: it cannot show what this host has. */
	t.compat.known = false;
	arm64_targets_check(&t, &h, &r);
	CHECK_EQ(r.nr_errors, 0);
	CHECK_CONTAINS(finding(&r, "compat-unknown")->message, "merge them again to have those checked");
	t.compat.known = true;
	h.compat.known = false;
	arm64_targets_check(&t, &h, &r);
	CHECK_EQ(r.nr_errors, 1);
	CHECK_CONTAINS(finding(&r, "profile-old")->message, "profile the host again");
}

int main(void)
{
	test_cpuif_fields();
	test_merge_lowers();
	test_merge_refusals();
	test_problems_buffer();
	test_check();
	return check_exit();
}
