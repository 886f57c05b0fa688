/*
 * The device options of a VM's configuration (struct vm_device_option: --disk, --net, --rng, --console, ...), kept
 * as given: adding, counting and reading them, and printing them as `roam run` options. Each device type declares
 * its option (devices/device.h) and parses the value itself when it creates the device. No KVM.
 */
#ifndef ROAM_DEVICE_OPTIONS_H
#define ROAM_DEVICE_OPTIONS_H

#include <stdbool.h>
#include <stddef.h>

struct vm_config;
struct device_table;
struct device_option;

/*
 * Appends --NAME VALUE for the device type whose option it is: checks the count against the option's maximum and
 * the value with its check hook. Returns false with one line in err (starting with the option).
 */
bool device_option_add(struct vm_config *cfg, const struct device_option *opt, const char *value, char *err,
		       size_t err_len);

/* The option called `name` among the types of `table`, or NULL. */
const struct device_option *device_option_find(const struct device_table *table, const char *name);

/* How many times option `name` is in cfg, and its n-th value (NULL past the end). */
int device_option_count(const struct vm_config *cfg, const char *name);
const char *device_option_value(const struct vm_config *cfg, const char *name, int n);

/*
 * cfg's device options as `roam run` options, each with a leading space (" --disk /img,ro --rng"; "" for none),
 * cut short to fit `size`. Values are as stored: they may come from a file, so non-printable bytes are escaped.
 */
void device_options_format(const struct vm_config *cfg, char *buf, size_t size);

/*
 * Checks every option of cfg against `table` (a known option, a valid value, not too many): for options read from
 * a snapshot. Returns false with one line in err.
 */
bool device_options_check(const struct vm_config *cfg, const struct device_table *table, char *err, size_t err_len);

#endif
