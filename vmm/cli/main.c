/*
 * roam's entry point: dispatches to a subcommand. Only main decides to exit (DESIGN.md rule 4).
 */
#include "arch.h"
#include "commands.h"
#include "core/log.h"
#include "core/vm.h"

#include <stdio.h>
#include <string.h>

struct command {
	const char *name;
	int (*fn)(int argc, char **argv);
	const char *summary;
};

static const struct command commands[] = {
    {"run", cmd_run, "boot a guest on KVM"},
    {"restore", cmd_restore, "start a VM from a snapshot (roam ctl SOCK snapshot FILE)"},
    {"cpu-profile", cmd_cpu_profile, "write this host's CPU profile (JSON)"},
    {"targets", cmd_targets, "merge CPU profiles into a targets config, or check this host against one"},
    {"ctl", cmd_ctl, "talk to a running VM through its control socket (roam run --api)"},
    {"snapshot-info", cmd_snapshot_info, "show a snapshot file: header, sections, checksums, source host"},
    {"snapshot-flatten", cmd_snapshot_flatten, "write a diff snapshot and its bases as one full snapshot"},
};

static void usage(FILE *out)
{
	fprintf(out, "usage: roam COMMAND [options]   (roam COMMAND --help for details)\n\n");
	fprintf(out, "roam %s (%s): a virtual machine monitor that makes guests movable between hosts.\n\n",
		ROAM_VERSION, arch_name());
	for (size_t i = 0; i < sizeof(commands) / sizeof(commands[0]); i++)
		fprintf(out, "  %-14s %s\n", commands[i].name, commands[i].summary);
	fprintf(out, "  %-14s %s\n", "version", "print the version");
}

int main(int argc, char **argv)
{
	if (argc < 2) {
		usage(stderr);
		return ROAM_EXIT_USAGE;
	}
	const char *name = argv[1];
	if (!strcmp(name, "help") && argc > 2) { /* roam help COMMAND: that command's help */
		for (size_t i = 0; i < sizeof(commands) / sizeof(commands[0]); i++)
			if (!strcmp(argv[2], commands[i].name)) {
				char *help_argv[] = {argv[2], "--help", NULL};
				return commands[i].fn(2, help_argv);
			}
		log_error("help: unknown command '%s'; see roam --help", argv[2]);
		return ROAM_EXIT_USAGE;
	}
	if (!strcmp(name, "--help") || !strcmp(name, "-h") || !strcmp(name, "help")) {
		usage(stdout);
		return 0;
	}
	if (!strcmp(name, "version") || !strcmp(name, "--version")) {
		printf("roam %s %s\n", ROAM_VERSION, arch_name());
		return 0;
	}
	for (size_t i = 0; i < sizeof(commands) / sizeof(commands[0]); i++)
		if (!strcmp(name, commands[i].name))
			return commands[i].fn(argc - 1, argv + 1);
	log_error("unknown command '%s'; see roam --help", name);
	return ROAM_EXIT_USAGE;
}
