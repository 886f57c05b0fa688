/* roam's subcommands. Each takes the arguments after "roam" (argv[0] is the subcommand) and returns the exit status. */
#ifndef ROAM_COMMANDS_H
#define ROAM_COMMANDS_H

int cmd_run(int argc, char **argv);

/* Implemented per architecture (vmm/arch/<arch>/cmd_targets.c): CPU profiles and migration targets. */
int cmd_cpu_profile(int argc, char **argv);
int cmd_targets(int argc, char **argv);

#endif
