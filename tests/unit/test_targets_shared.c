/*
 * Unit test of the migration-targets code every architecture shares (vmm/targets/), driven through arm64's ops
 * without KVM: the check report (findings, codes, dropped findings, text and JSON), the host's place among the
 * targets, the cpu-profile and targets commands (options from the ops' identity registers, exit statuses, messages;
 * the profile capture is a stand-in), and a VM's targets (load, discovery identities, the host check and
 * --force-host).
 */
#include "arch/arm64/targets.h"
#include "arm64_test_profile.h"
#include "check.h"
#include "core/vm.h"
#include "targets/report.h"
#include "targets/targets.h"
#include "targets/targets_vm.h"

#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdlib.h>
#include <unistd.h>

#define MIDR_A72 0x410fd083ull
#define MIDR_N1 0x414fd0c1ull

static void test_report(void)
{
	static struct targets_report r;
	targets_report_init(&r, "");
	targets_report_add(&r, TARGETS_OK, "gic-ok", "fine %d", 1);
	targets_report_add(&r, TARGETS_ERROR, "host-not-in-targets", "not here");
	CHECK_EQ(r.nr_errors, 1);
	CHECK(targets_report_has(&r, "host-not-in-targets", false));
	CHECK(!targets_report_has(&r, "host-not-in-targets", true));
	CHECK(targets_report_find(&r, "gic-ok") != NULL);
	CHECK(targets_report_find(&r, "sve-ok") == NULL);
	char *text = targets_report_text(&r, "t.json");
	CHECK_CONTAINS(text, "ok    gic-ok                fine 1\nerror host-not-in-targets   not here\n");
	CHECK_CONTAINS(text, "this host cannot run guests made for t.json: 1 problem\n");
	free(text);
	while (!r.nr_dropped)
		targets_report_add(&r, TARGETS_ERROR, "reg-missing", "more");
	CHECK_EQ(r.nr_findings, TARGETS_REPORT_MAX_FINDINGS);
	CHECK(targets_report_has(&r, "host-not-in-targets", true));
	text = targets_report_text(&r, "t.json");
	CHECK_CONTAINS(text, "      (1 more findings not shown)\n");
	CHECK_CONTAINS(text, ": 64 problems\n");
	free(text);
	text = targets_report_json(&r, "t.json");
	CHECK_CONTAINS(text, "\"severity\": \"error\",\n      \"code\": \"host-not-in-targets\"");
	CHECK_CONTAINS(text, "\"dropped\": 1");
	free(text);
}

static void test_identity(void)
{
	static struct targets_report r;
	const struct targets_impl impls[2] = {{"a72", {MIDR_A72, 0, 0}}, {"a72-r1", {MIDR_A72, 1, 0}}};
	uint64_t host[TARGETS_MAX_IDS] = {MIDR_A72, 1, 7}; /* AIDR does not tell CPUs apart */
	targets_check_identity(&arm64_targets_ops, impls, 2, "me", host, &r);
	CHECK_CONTAINS(r.findings[0].message, "this host (MIDR 0x410fd083, REVIDR 0x1) is target \"a72-r1\"");
	host[1] = 2;
	targets_check_identity(&arm64_targets_ops, impls, 2, "me", host, &r);
	CHECK_EQ(r.findings[0].severity, TARGETS_ERROR);
	CHECK_CONTAINS(r.findings[0].message, "is not one of the targets (a72, a72-r1); add its profile");
	char list[128];
	targets_impl_list(&arm64_targets_ops, impls, 2, list, sizeof(list));
	CHECK_CONTAINS(list, "a72 (MIDR 0x410fd083), a72-r1 (MIDR 0x410fd083)");
}

/* A host profile as `roam cpu-profile` would capture it. */
static void make_profile(struct arm64_cpu_profile *p, const char *name, uint64_t midr)
{
	arm64_test_profile(p, name, midr);
	p->regs[p->nr_regs++] = (struct arm64_id_reg){ARM64_MIDR_EL1, midr, ~0ull};
}

/* The stand-in capture: this "host" is a cortex-a72 (or fails, for a name "fail"). */
static int fake_capture(const char *kvm_path, const char *name, void *profile)
{
	if (name && !strcmp(name, "fail"))
		return -ENODEV;
	make_profile(profile, name ? name : "this-host", MIDR_A72);
	return strcmp(kvm_path, "/dev/kvm") == 0 ? 0 : -ENOENT;
}

/* Runs a command (arguments up to a NULL) with stdout and stderr in `out`, in order; returns its exit status. */
static int run(char *out, size_t size, int (*cmd)(const struct targets_arch_ops *, targets_capture_fn, int, char **),
	       ...)
{
	char *argv[16];
	int argc = 0;
	va_list ap;
	va_start(ap, cmd);
	while (argc < 15 && (argv[argc] = va_arg(ap, char *)) != NULL)
		argc++;
	va_end(ap);
	argv[argc] = NULL;
	char path[] = "/tmp/roam-targets-out-XXXXXX";
	int fd = mkstemp(path);
	fflush(stdout);
	fflush(stderr);
	int saved_out = dup(1), saved_err = dup(2);
	dup2(fd, 1);
	dup2(fd, 2);
	int status = cmd(&arm64_targets_ops, fake_capture, argc, argv);
	fflush(stdout);
	fflush(stderr);
	dup2(saved_out, 1);
	dup2(saved_err, 2);
	close(saved_out);
	close(saved_err);
	ssize_t n = pread(fd, out, size - 1, 0);
	out[n < 0 ? 0 : n] = '\0';
	close(fd);
	unlink(path);
	return status;
}

static void test_commands(const char *dir)
{
	char out[8192], a[128], b[128], t[128];
	snprintf(a, sizeof(a), "%s/a.json", dir);
	snprintf(b, sizeof(b), "%s/b.json", dir);
	snprintf(t, sizeof(t), "%s/t.json", dir);
	CHECK_EQ(run(out, sizeof(out), targets_cmd_cpu_profile, "cpu-profile", "--name", "a72", "-o", a, NULL), 0);
	CHECK_EQ(out[0], '\0');
	CHECK_EQ(run(out, sizeof(out), targets_cmd_cpu_profile, "cpu-profile", "--help", NULL), 0);
	CHECK_CONTAINS(out, "usage: roam cpu-profile [-o FILE] [--name NAME] [--kvm-device PATH]\nWrites this host's "
			    "CPU profile as JSON (standard output by default): MIDR/REVIDR/AIDR");
	CHECK_EQ(run(out, sizeof(out), targets_cmd_cpu_profile, "cpu-profile", "--name", "fail", NULL), 1);
	CHECK_EQ(run(out, sizeof(out), targets_cmd_cpu_profile, "cpu-profile", "x", NULL), 2);
	CHECK_CONTAINS(out, "roam: cpu-profile: unexpected argument 'x'");

	static struct arm64_cpu_profile n1;
	char err[256];
	make_profile(&n1, "n1", MIDR_N1);
	CHECK_EQ(targets_save_profile(&arm64_targets_ops, b, &n1, err, sizeof(err)), 0);
	CHECK_EQ(run(out, sizeof(out), targets_cmd_targets, "targets", "merge", a, b, "-o", t, "--aidr=0x7", NULL), 0);
	static struct arm64_targets tt;
	CHECK_EQ(targets_load_targets(&arm64_targets_ops, t, &tt, err, sizeof(err)), 0);
	CHECK_EQ(tt.nr_impls, 2);
	CHECK_EQ(tt.guest_midr, MIDR_A72);
	CHECK_EQ(tt.guest_aidr, 7);
	CHECK_EQ(run(out, sizeof(out), targets_cmd_targets, "targets", "merge", a, "-o", t, "--midr=0x1410fd083", NULL),
		 2);
	CHECK_CONTAINS(out, "roam: targets merge: --midr: '0x1410fd083' is not a 32-bit number");
	CHECK_EQ(run(out, sizeof(out), targets_cmd_targets, "targets", "merge", a, "-o", t, "--revidr", "-1", NULL), 2);
	CHECK_CONTAINS(out, "--revidr: '-1' is not a 64-bit number");
	CHECK_EQ(run(out, sizeof(out), targets_cmd_targets, "targets", "--help", NULL), 0);
	CHECK_CONTAINS(out, "usage: roam targets merge PROFILE... -o FILE [--midr X] [--revidr X] [--aidr X]\n");
	CHECK_CONTAINS(out, "(see docs/targets.md);\n       --midr/--revidr/--aidr set the guest-visible identity");

	/* This "host" (the capture) is a target; the n1 profile is one too; a profile of neither is not. */
	CHECK_EQ(run(out, sizeof(out), targets_cmd_targets, "targets", "check", t, NULL), 0);
	CHECK_CONTAINS(out, "ok    host-in-targets       this host (MIDR 0x410fd083, REVIDR 0x0) is target \"a72\"");
	CHECK_CONTAINS(out, "this-host can run guests made for ");
	CHECK_EQ(run(out, sizeof(out), targets_cmd_targets, "targets", "check", "--json", t, "--profile", b, NULL), 0);
	CHECK_CONTAINS(out, "\"ok\": true");
	make_profile(&n1, "other", 0x410fd070);
	CHECK_EQ(targets_save_profile(&arm64_targets_ops, b, &n1, err, sizeof(err)), 0);
	CHECK_EQ(run(out, sizeof(out), targets_cmd_targets, "targets", "check", t, "--profile", b, NULL), 1);
	CHECK_CONTAINS(out, "error host-not-in-targets   this host (MIDR 0x410fd070, REVIDR 0x0) is not one of the "
			    "targets (a72, n1)");
	CHECK_EQ(run(out, sizeof(out), targets_cmd_targets, "targets", "check", t, "--kvm-device", "/dev/x", NULL), 1);
	CHECK_EQ(run(out, sizeof(out), targets_cmd_targets, "targets", "check", b, NULL), 1);
	CHECK_CONTAINS(out, "format: \"roam-cpu-profile\" is not \"roam-targets\" (this is one host's CPU profile");
	CHECK_EQ(run(out, sizeof(out), targets_cmd_targets, "targets", "frob", NULL), 2);
	CHECK_CONTAINS(out, "roam: targets: unknown subcommand 'frob'; use merge or check");
	CHECK_EQ(run(out, sizeof(out), targets_cmd_targets, "targets", NULL), 2);
	CHECK_CONTAINS(out, "usage: roam targets merge");
	unlink(a);
	unlink(b);
}

static void test_vm(const char *dir)
{
	static struct vm vm;
	char t[128];
	snprintf(t, sizeof(t), "%s/t.json", dir);
	CHECK_EQ(targets_vm_load(&vm, &arm64_targets_ops), 0); /* no --targets: nothing */
	CHECK(vm.targets.config == NULL);
	vm.cfg.targets_path = t;
	CHECK_EQ(targets_vm_load(&vm, &arm64_targets_ops), 0);
	CHECK_CONTAINS(vm.targets.text, "\"format\": \"roam-targets\"");
	CHECK_EQ(vm.services.discover.nr, 2);
	CHECK_EQ(vm.services.discover.impl[1].id[0], MIDR_N1);
	CHECK(!strcmp(targets_vm_label(&vm), t));

	static struct arm64_cpu_profile host;
	make_profile(&host, "here", MIDR_A72);
	CHECK_EQ(targets_vm_check_host(&vm, &arm64_targets_ops, &host), 0);
	make_profile(&host, "here", 0x410fd070);
	CHECK_EQ(targets_vm_check_host(&vm, &arm64_targets_ops, &host), -EINVAL);
	vm.cfg.force_host = true;
	CHECK_EQ(targets_vm_check_host(&vm, &arm64_targets_ops, &host), 0);
	host.gic_version = 0; /* another problem: refused even with --force-host */
	CHECK_EQ(targets_vm_check_host(&vm, &arm64_targets_ops, &host), -EINVAL);

	/* A restore: the snapshot's text, named as such. */
	static struct vm restored;
	restored.cfg.targets_json = vm.targets.text;
	CHECK_EQ(targets_vm_load(&restored, &arm64_targets_ops), 0);
	CHECK(!strcmp(targets_vm_label(&restored), "the snapshot's targets"));
	targets_vm_release(&vm);
	restored.cfg.targets_json = "{}";
	targets_vm_release(&restored);
	CHECK(restored.targets.config == NULL);
	CHECK_EQ(targets_vm_load(&restored, &arm64_targets_ops), -EINVAL);
	targets_vm_release(&restored);
	vm.cfg.targets_path = "/nonexistent/t.json";
	CHECK_EQ(targets_vm_load(&vm, &arm64_targets_ops), -ENOENT);
	targets_vm_release(&vm);
	unlink(t);
}

int main(void)
{
	char dir[] = "/tmp/roam-targets-shared-XXXXXX";
	CHECK(mkdtemp(dir) != NULL);
	test_report();
	test_identity();
	test_commands(dir);
	test_vm(dir);
	CHECK_EQ(rmdir(dir), 0);
	return check_exit();
}
