/*
 * `roam cpu-profile` and `roam targets`: the shared commands (vmm/targets/targets_cli.c) with this architecture's
 * targets ops and its profile capture through KVM.
 */
#include "arch.h"
#include "cli/commands.h"
#include "targets/targets.h"

int cmd_cpu_profile(int argc, char **argv)
{
	return targets_cmd_cpu_profile(arch_targets_ops(), arch_profile_capture, argc, argv);
}

int cmd_targets(int argc, char **argv)
{
	return targets_cmd_targets(arch_targets_ops(), arch_profile_capture, argc, argv);
}
