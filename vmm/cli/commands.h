/* roam's subcommands. Each takes the arguments after "roam" (argv[0] is the subcommand) and returns the exit status. */
#ifndef ROAM_COMMANDS_H
#define ROAM_COMMANDS_H

#include <stdio.h>

int cmd_run(int argc, char **argv);

struct vm_config;
struct snapshot_reader;
#include <stdint.h>

/*
 * A migration's destination (roam restore --incoming): the connection the source waits for answers on (or -1 for
 * a one-way stream), for run_session to say "ready"/"refused", then "running"/"failed".
 */
struct run_incoming {
	int fd;
	const char *spec; /* for messages */
	uint64_t accepted_ns; /* when the stream's header arrived (vm_now_ns), for the report */
};

/*
 * Creates the VM of `cfg`, fills it from `restore` when not NULL (a snapshot whose configuration sections were
 * read; with `incoming`, a migration stream), runs it with the console, signals and the --api socket, and returns
 * roam's exit status.
 */
int run_session(struct vm_config *cfg, uint64_t start_ns, struct snapshot_reader *restore,
		const struct run_incoming *incoming);

/* roam snapshot-flatten DIFF -o FILE (cmd_snapshot_flatten.c) */
int cmd_snapshot_flatten(int argc, char **argv);

/* roam restore FILE|- [options] */
int cmd_restore(int argc, char **argv);

/* cmd_targets.c: CPU profiles and migration targets (the shared vmm/targets/ with the architecture's ops). */
int cmd_cpu_profile(int argc, char **argv);
int cmd_targets(int argc, char **argv);

/* `roam ctl` (cmd_ctl.c): the control API's client; cmd_ctl is ctl_main with stdout and stderr. */
int cmd_ctl(int argc, char **argv);

/* `roam ctl` writing its output and messages to `out` and `err` (for tests). Returns the exit status (0, 1, 2). */
int ctl_main(int argc, char **argv, FILE *out, FILE *err);

/* `roam snapshot-info` (cmd_snapshot_info.c): shows a snapshot file; cmd_snapshot_info is snapshot_info_main with
 * stdout and stderr. */
int cmd_snapshot_info(int argc, char **argv);

/* `roam snapshot-info` writing its output and messages to `out` and `err` (for tests). Returns the exit status (0 the
 * snapshot verifies, 1 it does not or cannot be read, 2 bad usage). */
int snapshot_info_main(int argc, char **argv, FILE *out, FILE *err);

#endif
