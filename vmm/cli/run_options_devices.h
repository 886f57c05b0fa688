/*
 * Parsing of `roam run`'s device options (--disk, --net, --console) into struct vm_config, apart from
 * run_options.c so that each option's syntax and messages sit together. Syntax only: files and TAP devices are
 * opened when the devices are created.
 */
#ifndef ROAM_RUN_OPTIONS_DEVICES_H
#define ROAM_RUN_OPTIONS_DEVICES_H

#include "core/vm.h"

#include <stdbool.h>
#include <stddef.h>

/* --disk FILE[,ro]: appends a disk. Returns false with one line in `err` for bad syntax or too many disks. */
bool run_parse_disk(const char *arg, struct vm_config *cfg, char *err, size_t err_len);

/* --net tap=NAME[,mac=MAC]: appends a NIC. Returns false with one line in `err`. */
bool run_parse_net(const char *arg, struct vm_config *cfg, char *err, size_t err_len);

/* --console serial|virtio. Returns false with one line in `err`. */
bool run_parse_console(const char *arg, struct vm_config *cfg, char *err, size_t err_len);

#endif
