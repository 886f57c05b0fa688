/*
 * The device options of `roam run` and `roam restore` (--disk, --net, --rng, --console, and whatever a device type
 * adds), taken from the device types themselves (devices/device.h: struct device_option), so that a new device
 * needs no change here: getopt's table, handling a given option, and the lines of --help.
 */
#ifndef ROAM_RUN_OPTIONS_DEVICES_H
#define ROAM_RUN_OPTIONS_DEVICES_H

#include <getopt.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>

struct vm_config;
struct device_table;

/* getopt's `val` of device option i: RUN_DEVICE_OPT + i, i its index among devices->types. */
#define RUN_DEVICE_OPT 0x1000
#define RUN_MAX_OPTIONS 64

/*
 * Builds getopt_long's table: the `base` options (up to their NULL entry), one per device option of `devices`, then
 * the NULL entry. `out` has room for RUN_MAX_OPTIONS entries (too many options is a programming error: they are
 * cut, the NULL entry kept).
 */
void run_device_long_options(const struct option *base, const struct device_table *devices,
			     struct option out[RUN_MAX_OPTIONS]);

/*
 * If getopt's `opt` is a device option, adds `arg` to cfg: returns 1, or -1 with one line in err. Returns 0 for any
 * other option.
 */
int run_device_option(int opt, const char *arg, const struct device_table *devices, struct vm_config *cfg, char *err,
		      size_t err_len);

/* Writes one --help line per device option ("      --disk FILE[,ro]  a virtio-blk disk ..."). */
void run_device_usage(FILE *out, const struct device_table *devices);

#endif
