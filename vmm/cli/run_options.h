/*
 * `roam run` command-line parsing, separate from running so that unit tests can check every error message without
 * KVM. Options follow kvmtool: -k/--kernel, -i/--initrd, -p/--cmdline, -m/--mem, -c/--cpus.
 */
#ifndef ROAM_RUN_OPTIONS_H
#define ROAM_RUN_OPTIONS_H

#include "core/vm.h"

#include <stddef.h>
#include <stdio.h>

struct device_table;

#define RUN_DEFAULT_MEM_MIB 256
#define RUN_MIN_MEM_MIB 8
#define RUN_DEFAULT_CMDLINE "console=ttyS0"

enum run_parse_result {
	RUN_PARSE_OK = 0,
	RUN_PARSE_HELP = 1, /* --help was given: print run_print_usage() and exit 0 */
	RUN_PARSE_ERROR = -1, /* `err` holds one line naming the option and the reason */
};

/*
 * Parses argv (argv[0] is "run") into `cfg`. Checks syntax and ranges only (files are checked later). `host_mem`
 * is the host's RAM in bytes (0: unknown), used to refuse a --mem the host cannot back. The device options are the
 * options of `devices` (device_registry(), or a test's table).
 */
enum run_parse_result run_parse_args(int argc, char **argv, struct vm_config *cfg, uint64_t host_mem,
				     const struct device_table *devices, char *err, size_t err_len);

/* Writes the help text of `roam run`, with the device options of `devices`. */
void run_print_usage(FILE *out, const struct device_table *devices);

#endif
