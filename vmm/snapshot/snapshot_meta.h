/*
 * The payload layouts of the snapshot's descriptive sections, HOST, VM and TARGETS (docs/snapshot-format.md), so
 * that the code that writes them and `roam snapshot-info` agree byte for byte. HOST is complete; for VM and TARGETS
 * these are the leading fields, which every version of the section keeps: the owner appends its own fields after
 * them (and bumps the section version), and readers of the prefix ignore the rest. Arch-neutral, no KVM.
 */
#ifndef ROAM_SNAPSHOT_META_H
#define ROAM_SNAPSHOT_META_H

#include "snap_codec.h"

#include <stdbool.h>
#include <stdint.h>

#define SNAPSHOT_HOST_VERSION 1u
/* The VM section: 1 the leading fields; 2 appends the devices and their backing (typed); 3 the same as the
 * device options given (name, value). */
#define SNAPSHOT_VM_VERSION 3u
#define SNAPSHOT_META_STR_LEN 256 /* host name, kernel release, roam version, target name (NUL included) */
#define SNAPSHOT_META_TEXT_LEN 4096 /* kernel path, command line (NUL included) */
#define SNAPSHOT_TARGETS_MAX 64 /* targets a TARGETS section may list */

/* VM flags. */
#define SNAPSHOT_VM_PVLOCK 0x1u /* the guest has the PV-lock region */
#define SNAPSHOT_VM_TARGETS 0x2u /* the guest sees the CPU of a targets config (a TARGETS section follows) */
#define SNAPSHOT_VM_DIFF 0x4u /* a diff snapshot: a BASE section follows, and memory is deltas on that base */

/* HOST: the host the snapshot was taken on. midr: MIDR_EL1 on arm64, the PRID (CPUCFG word 0) on LoongArch. */
struct snapshot_host_info {
	char hostname[SNAPSHOT_META_STR_LEN];
	char kernel[SNAPSHOT_META_STR_LEN]; /* uname -r */
	char roam_version[SNAPSHOT_META_STR_LEN];
	uint64_t midr, revidr; /* revidr: REVIDR_EL1 on arm64, 0 on LoongArch */
};

/* VM (leading fields): the configuration the VM was started with. */
struct snapshot_vm_info {
	uint64_t ram_size; /* bytes */
	uint32_t nr_vcpus;
	uint32_t flags; /* SNAPSHOT_VM_* */
	char kernel[SNAPSHOT_META_TEXT_LEN]; /* the kernel image's path, for people */
	char cmdline[SNAPSHOT_META_TEXT_LEN];
};

struct vm_config;

/*
 * After the VM section's leading fields: the devices the VM was started with and their backing, so that `roam
 * restore` without device options recreates them. Version 3 (written): u32 count, then per device option its name
 * and its value as strings ("disk", "a.img,ro"). Version 2 (read): u32 disks, each a string path and a u8 read-only
 * flag; u32 NICs, each a string TAP name, a u8 "MAC given" flag and 6 MAC bytes; u8 rng; u8 console (0 serial, 1
 * virtio) - decoded into the same options. Strings come out NUL-terminated; values are not checked here.
 */
void snapshot_vm_devices_encode(struct snap_writer *p, const struct vm_config *cfg);

/* Decodes them (the section's `version`, 2 or 3) into cfg's device options (nothing else); errors in p->err. */
void snapshot_vm_devices_decode(struct snap_reader *p, struct vm_config *cfg, uint32_t version);

/* One CPU implementation of a targets config. */
struct snapshot_target {
	char name[SNAPSHOT_META_STR_LEN];
	uint64_t midr, revidr, aidr;
};

/* TARGETS (leading fields): the implementations the guest may run on and the identity it sees. */
struct snapshot_targets_info {
	uint32_t count;
	struct snapshot_target target[SNAPSHOT_TARGETS_MAX];
	uint64_t guest_midr, guest_revidr, guest_aidr;
};

/* Fills h's host name, kernel release (uname) and roam version; midr and revidr are the caller's (0 here). */
void snapshot_host_collect(struct snapshot_host_info *h);

/* Appends the HOST payload (version SNAPSHOT_HOST_VERSION) to p. Errors stay in p->err. */
void snapshot_host_encode(struct snap_writer *p, const struct snapshot_host_info *h);

/* Decodes a HOST payload from p (which must then be done); errors stay in p->err. Strings are NUL-terminated. */
void snapshot_host_decode(struct snap_reader *p, struct snapshot_host_info *h);

/* Appends the VM leading fields to p; the owner appends its own after them. */
void snapshot_vm_encode(struct snap_writer *p, const struct snapshot_vm_info *v);

/* Decodes the VM leading fields; p is left after them. */
void snapshot_vm_decode(struct snap_reader *p, struct snapshot_vm_info *v);

/* Appends the TARGETS leading fields to p (count at most SNAPSHOT_TARGETS_MAX, else p->err = -E2BIG). */
void snapshot_targets_encode(struct snap_writer *p, const struct snapshot_targets_info *t);

/* Decodes the TARGETS leading fields (a count over SNAPSHOT_TARGETS_MAX is an error); p is left after them. */
void snapshot_targets_decode(struct snap_reader *p, struct snapshot_targets_info *t);

#endif
