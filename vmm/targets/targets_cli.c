/*
 * The migration-target commands, the same on every architecture (the ops say what differs):
 *   roam cpu-profile [-o FILE] [--name NAME] [--kvm-device PATH]     capture this host's profile (needs /dev/kvm)
 *   roam targets merge PROFILE... -o FILE [--ID X]...                compute a targets config (--midr, --prid, ...)
 *   roam targets check TARGETS [--json] [--profile HOST.json]        can this host (or that profile) run those guests?
 * Exit status: 0, 1 when something failed or the check found problems, 2 for a bad command line.
 */
#include "core/log.h"
#include "core/vm.h"
#include "report.h"
#include "targets.h"

#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define OPT_ID 256 /* getopt values of the identity options: OPT_ID + index in ops->id.regs */

static void cpu_profile_usage(const struct targets_arch_ops *ops)
{
	printf("usage: roam cpu-profile [-o FILE] [--name NAME] [--kvm-device PATH]\n"
	       "Writes this host's CPU profile as JSON (standard output by default): %s"
	       "  -o, --output FILE  write FILE atomically instead of standard output\n"
	       "      --name NAME    label for this host in targets configs (default: the host name)\n",
	       ops->help.profile);
}

static void targets_usage(const struct targets_arch_ops *ops, FILE *f)
{
	char opts[128] = "", names[96] = "";
	size_t o = 0, n = 0;
	for (int i = 0; i < ops->id.nr; i++) {
		o += (size_t)snprintf(opts + o, sizeof(opts) - o, " [--%s X]", ops->id.regs[i].key);
		n += (size_t)snprintf(names + n, sizeof(names) - n, "%s--%s", i ? "/" : "", ops->id.regs[i].key);
	}
	fprintf(f,
		"usage: roam targets merge PROFILE... -o FILE%s\n"
		"       roam targets check TARGETS [--json] [--profile HOST.json] [--kvm-device PATH]\n"
		"merge: computes %s (see %s);\n"
		"       %s set%s the guest-visible identity (default: the first profile's).\n"
		"check: reports whether this host (or the profile given) is one of the targets and %s;\n"
		"       exit status 0 if it can, 1 if not.\n",
		opts, ops->help.merge, ops->help.doc, names, ops->id.nr > 1 ? "" : "s", ops->help.check);
}

int targets_cmd_cpu_profile(const struct targets_arch_ops *ops, targets_capture_fn capture, int argc, char **argv)
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
			cpu_profile_usage(ops);
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
	void *p = calloc(1, ops->profile_size);
	char err[512];
	int ret = p ? capture(kvm, name, p) : -ENOMEM;
	if (!ret && targets_save_profile(ops, out, p, err, sizeof(err)) < 0)
		ret = log_error("%s", err);
	free(p);
	return ret ? ROAM_EXIT_ERROR : 0;
}

/* The value of identity option `i` (0 .. the identity register's largest value); false if it is not one. */
static bool parse_id(const struct targets_ident *id, const char *s, uint64_t *v)
{
	char *end;
	errno = 0;
	*v = strtoull(s, &end, 0);
	if (!s[0] || *end || errno || *v > id->max || s[0] == '-') {
		log_error("targets merge: --%s: '%s' is not a %d-bit number", id->key, s, id->max >> 32 ? 64 : 32);
		return false;
	}
	return true;
}

static int targets_merge(const struct targets_arch_ops *ops, int argc, char **argv)
{
	struct option options[3 + TARGETS_MAX_IDS] = {{"output", required_argument, NULL, 'o'},
						      {"help", no_argument, NULL, 'h'}};
	for (int i = 0; i < ops->id.nr; i++)
		options[2 + i] = (struct option){ops->id.regs[i].key, required_argument, NULL, OPT_ID + i};
	struct targets_merge_options mo = {0};
	const char *out = NULL;
	int opt;
	optind = 0;
	opterr = 0;
	while ((opt = getopt_long(argc, argv, ":o:h", options, NULL)) != -1) {
		if (opt == 'o') {
			out = optarg;
		} else if (opt == 'h') {
			targets_usage(ops, stdout);
			return 0;
		} else if (opt >= OPT_ID && opt < OPT_ID + ops->id.nr) {
			if (!parse_id(&ops->id.regs[opt - OPT_ID], optarg, &mo.id[opt - OPT_ID]))
				return ROAM_EXIT_USAGE;
			mo.set_id[opt - OPT_ID] = true;
		} else {
			log_error("targets merge: bad option '%s'; see roam targets --help", argv[optind - 1]);
			return ROAM_EXIT_USAGE;
		}
	}
	int n = argc - optind;
	if (n < 1 || !out) {
		log_error("targets merge: %s", n < 1 ? "no PROFILE given" : "no -o FILE given (- for standard output)");
		return ROAM_EXIT_USAGE;
	}
	char *p = calloc((size_t)n, ops->profile_size);
	void *t = calloc(1, ops->targets_size);
	char err[16384]; /* every problem of a merge, one line each */
	int ret = p && t ? 0 : -ENOMEM;
	for (int i = 0; !ret && i < n; i++)
		ret = targets_load_profile(ops, argv[optind + i], p + (size_t)i * ops->profile_size, err, sizeof(err));
	if (!ret)
		ret = ops->merge(p, n, &mo, t, err, sizeof(err));
	if (!ret)
		ret = targets_save_targets(ops, out, t, err, sizeof(err));
	for (char *line = ret == -ENOMEM ? "out of memory" : err, *next; ret && line; line = next) {
		next = strchr(line, '\n');
		if (next)
			*next++ = '\0';
		log_error("targets merge: %s", line);
	}
	free(p);
	free(t);
	return ret ? ROAM_EXIT_ERROR : 0;
}

static int targets_check(const struct targets_arch_ops *ops, targets_capture_fn capture, int argc, char **argv)
{
	static const struct option options[] = {{"json", no_argument, NULL, 'j'},
						{"profile", required_argument, NULL, 'p'},
						{"kvm-device", required_argument, NULL, 'K'},
						{"help", no_argument, NULL, 'h'},
						{NULL, 0, NULL, 0}};
	const char *profile = NULL, *kvm = "/dev/kvm";
	bool json = false;
	int opt;
	optind = 0;
	opterr = 0;
	while ((opt = getopt_long(argc, argv, ":h", options, NULL)) != -1) {
		if (opt == 'h') {
			targets_usage(ops, stdout);
			return 0;
		} else if (opt == 'j') {
			json = true;
		} else if (opt == 'p') {
			profile = optarg;
		} else if (opt == 'K') {
			kvm = optarg;
		} else {
			log_error("targets check: bad option '%s'; see roam targets --help", argv[optind - 1]);
			return ROAM_EXIT_USAGE;
		}
	}
	if (argc - optind != 1) {
		log_error("targets check: needs exactly one TARGETS file");
		return ROAM_EXIT_USAGE;
	}
	const char *path = argv[optind];
	void *t = calloc(1, ops->targets_size), *host = calloc(1, ops->profile_size);
	struct targets_report *r = calloc(1, sizeof(*r));
	char err[512];
	int ret = t && host && r ? targets_load_targets(ops, path, t, err, sizeof(err)) : -ENOMEM;
	if (ret)
		log_error("%s", ret == -ENOMEM ? "out of memory" : err);
	else if (profile && (ret = targets_load_profile(ops, profile, host, err, sizeof(err))) != 0)
		log_error("%s", err);
	else if (!profile)
		ret = capture(kvm, NULL, host);
	if (!ret) {
		ops->check(t, host, r);
		char *text = json ? targets_report_json(r, path) : targets_report_text(r, path);
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

int targets_cmd_targets(const struct targets_arch_ops *ops, targets_capture_fn capture, int argc, char **argv)
{
	if (argc < 2 || !strcmp(argv[1], "--help") || !strcmp(argv[1], "-h")) {
		targets_usage(ops, argc < 2 ? stderr : stdout);
		return argc < 2 ? ROAM_EXIT_USAGE : 0;
	}
	if (!strcmp(argv[1], "merge"))
		return targets_merge(ops, argc - 1, argv + 1);
	if (!strcmp(argv[1], "check"))
		return targets_check(ops, capture, argc - 1, argv + 1);
	log_error("targets: unknown subcommand '%s'; use merge or check", argv[1]);
	return ROAM_EXIT_USAGE;
}
