/*
 * The arm64 migration-target commands:
 *   roam cpu-profile [-o FILE] [--name NAME]                     capture this host's profile (needs /dev/kvm)
 *   roam targets merge PROFILE... -o FILE [--midr/--revidr/--aidr X]   compute a targets config
 *   roam targets check TARGETS [--json] [--profile HOST.json]    can this host (or that profile) run those guests?
 */
#include "cli/commands.h"
#include "core/log.h"
#include "core/vm.h"
#include "profile_kvm.h"
#include "targets.h"
#include "targets_json.h"

#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const char cpu_profile_usage[] =
    "usage: roam cpu-profile [-o FILE] [--name NAME] [--kvm-device PATH]\n"
    "Writes this host's CPU profile as JSON (standard output by default): MIDR/REVIDR/AIDR, every feature ID\n"
    "register with KVM's writable mask, and the VM features that decide whether a guest can move here.\n"
    "  -o, --output FILE  write FILE atomically instead of standard output\n"
    "      --name NAME    label for this host in targets configs (default: the host name)\n";

static const char targets_usage[] =
    "usage: roam targets merge PROFILE... -o FILE [--midr X] [--revidr X] [--aidr X]\n"
    "       roam targets check TARGETS [--json] [--profile HOST.json] [--kvm-device PATH]\n"
    "merge: computes the CPU every profiled host can present (see docs/targets.md); --midr/--revidr/--aidr set\n"
    "       the guest-visible identity (default: the first profile's).\n"
    "check: reports whether this host (or the profile given) is one of the targets and can set every value;\n"
    "       exit status 0 if it can, 1 if not.\n";

int cmd_cpu_profile(int argc, char **argv)
{
	static const struct option options[] = {{"output", required_argument, NULL, 'o'},
						{"name", required_argument, NULL, 'n'},
						{"kvm-device", required_argument, NULL, 'K'},
						{"help", no_argument, NULL, 'h'},
						{NULL, 0, NULL, 0}};
	const char *out = "-", *name = NULL, *kvm = "/dev/kvm";
	int opt;
	optind = 0;
	opterr = 0;
	while ((opt = getopt_long(argc, argv, ":o:h", options, NULL)) != -1) {
		switch (opt) {
		case 'o':
			out = optarg;
			break;
		case 'n':
			name = optarg;
			break;
		case 'K':
			kvm = optarg;
			break;
		case 'h':
			fputs(cpu_profile_usage, stdout);
			return 0;
		default:
			log_error("cpu-profile: bad option '%s'; see roam cpu-profile --help", argv[optind - 1]);
			return ROAM_EXIT_USAGE;
		}
	}
	if (optind < argc) {
		log_error("cpu-profile: unexpected argument '%s'", argv[optind]);
		return ROAM_EXIT_USAGE;
	}
	struct arm64_cpu_profile *p = calloc(1, sizeof(*p));
	char err[512];
	int ret = p ? arm64_profile_capture(kvm, name, p) : -ENOMEM;
	if (!ret && arm64_profile_save(out, p, err, sizeof(err)) < 0)
		ret = log_error("%s", err);
	free(p);
	return ret ? ROAM_EXIT_ERROR : 0;
}

static bool parse_hex(const char *s, uint64_t *v)
{
	char *end;
	errno = 0;
	*v = strtoull(s, &end, 0);
	return s[0] && !*end && !errno;
}

static int targets_merge(int argc, char **argv)
{
	static const struct option options[] = {{"output", required_argument, NULL, 'o'},
						{"midr", required_argument, NULL, 'M'},
						{"revidr", required_argument, NULL, 'R'},
						{"aidr", required_argument, NULL, 'A'},
						{NULL, 0, NULL, 0}};
	struct arm64_merge_options mo = {0};
	const char *out = NULL;
	int opt;
	optind = 0;
	opterr = 0;
	while ((opt = getopt_long(argc, argv, ":o:", options, NULL)) != -1) {
		bool ok = true;
		switch (opt) {
		case 'o':
			out = optarg;
			break;
		case 'M':
			ok = mo.set_midr = parse_hex(optarg, &mo.midr);
			break;
		case 'R':
			ok = mo.set_revidr = parse_hex(optarg, &mo.revidr);
			break;
		case 'A':
			ok = mo.set_aidr = parse_hex(optarg, &mo.aidr);
			break;
		default:
			log_error("targets merge: bad option '%s'; see roam targets --help", argv[optind - 1]);
			return ROAM_EXIT_USAGE;
		}
		if (!ok) {
			log_error("targets merge: %s: '%s' is not a number", argv[optind - 2], optarg);
			return ROAM_EXIT_USAGE;
		}
	}
	int n = argc - optind;
	if (n < 1 || !out) {
		log_error("targets merge: needs at least one PROFILE and -o FILE");
		return ROAM_EXIT_USAGE;
	}
	struct arm64_cpu_profile *p = calloc((size_t)n, sizeof(*p));
	struct arm64_targets *t = calloc(1, sizeof(*t));
	char err[512];
	int ret = p && t ? 0 : -ENOMEM;
	for (int i = 0; !ret && i < n; i++)
		ret = arm64_profile_load(argv[optind + i], &p[i], err, sizeof(err));
	if (!ret)
		ret = arm64_targets_merge_opts(p, n, &mo, t, err, sizeof(err));
	if (!ret)
		ret = arm64_targets_save(out, t, err, sizeof(err));
	if (ret)
		log_error("targets merge: %s", ret == -ENOMEM ? "out of memory" : err);
	free(p);
	free(t);
	return ret ? ROAM_EXIT_ERROR : 0;
}

static int targets_check(int argc, char **argv)
{
	static const struct option options[] = {{"json", no_argument, NULL, 'j'},
						{"profile", required_argument, NULL, 'p'},
						{"kvm-device", required_argument, NULL, 'K'},
						{NULL, 0, NULL, 0}};
	const char *profile = NULL, *kvm = "/dev/kvm";
	bool json = false;
	int opt;
	optind = 0;
	opterr = 0;
	while ((opt = getopt_long(argc, argv, ":", options, NULL)) != -1) {
		switch (opt) {
		case 'j':
			json = true;
			break;
		case 'p':
			profile = optarg;
			break;
		case 'K':
			kvm = optarg;
			break;
		default:
			log_error("targets check: bad option '%s'; see roam targets --help", argv[optind - 1]);
			return ROAM_EXIT_USAGE;
		}
	}
	if (argc - optind != 1) {
		log_error("targets check: needs exactly one TARGETS file");
		return ROAM_EXIT_USAGE;
	}
	const char *path = argv[optind];
	struct arm64_targets *t = calloc(1, sizeof(*t));
	struct arm64_cpu_profile *host = calloc(1, sizeof(*host));
	struct arm64_check_report *r = calloc(1, sizeof(*r));
	char err[512];
	int ret = t && host && r ? arm64_targets_load(path, t, err, sizeof(err)) : -ENOMEM;
	if (ret)
		log_error("%s", ret == -ENOMEM ? "out of memory" : err);
	else if (profile && (ret = arm64_profile_load(profile, host, err, sizeof(err))) != 0)
		log_error("%s", err);
	else if (!profile)
		ret = arm64_profile_capture(kvm, NULL, host);
	if (!ret) {
		arm64_targets_check(t, host, r);
		char *text = json ? arm64_check_report_json(r, path) : arm64_check_report_text(r, path);
		if (text)
			fputs(text, stdout);
		free(text);
	}
	int status = ret ? ROAM_EXIT_ERROR : r->nr_errors ? 1 : 0;
	free(t);
	free(host);
	free(r);
	return status;
}

int cmd_targets(int argc, char **argv)
{
	if (argc < 2 || !strcmp(argv[1], "--help") || !strcmp(argv[1], "-h")) {
		fputs(targets_usage, argc < 2 ? stderr : stdout);
		return argc < 2 ? ROAM_EXIT_USAGE : 0;
	}
	if (!strcmp(argv[1], "merge"))
		return targets_merge(argc - 1, argv + 1);
	if (!strcmp(argv[1], "check"))
		return targets_check(argc - 1, argv + 1);
	log_error("targets: unknown subcommand '%s'; use merge or check", argv[1]);
	return ROAM_EXIT_USAGE;
}
