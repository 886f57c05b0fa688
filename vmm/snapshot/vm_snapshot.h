/*
 * Snapshots of a whole VM: which component writes which section, in which order, and the restore sequence that
 * reads them back into a fresh VM before any vCPU runs (docs/snapshot-format.md lists the sections).
 */
#ifndef ROAM_VM_SNAPSHOT_H
#define ROAM_VM_SNAPSHOT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct vm;
struct vm_config;
struct snapshot_reader;

struct vm_snapshot_result {
	uint64_t bytes; /* snapshot size */
	uint64_t pages; /* guest pages stored (the others were zero) */
	double save_ms; /* writing, with the vCPUs paused */
	double downtime_ms; /* from pausing the vCPUs to resuming them */
};

/*
 * Pauses every vCPU, writes the snapshot to `path` atomically (or to `fd` when path is "-": the fd is closed), and
 * resumes the vCPUs that were running unless `stop`. A failure leaves any previous file intact, resumes the VM and
 * puts one line in `err`. Returns 0 or -errno.
 */
int vm_snapshot_save(struct vm *vm, const char *path, int fd, bool stop, struct vm_snapshot_result *res, char *err,
		     size_t err_len);

struct vm_snapshot_options {
	bool stop; /* end the VM afterwards (its state is in the snapshot) */
	bool track; /* start (or go on with) dirty tracking: this snapshot is the base of the next diff */
	bool diff; /* a diff on the last tracked snapshot: only the pages written since (diff_chain.h) */
};

/*
 * vm_snapshot_save with options. A diff needs a tracked base (else -EINVAL, "--diff: no base: ..."), and both
 * need a file, not "-". A snapshot without tracking ends a chain. On success with tracking, this snapshot's path,
 * size and SHA-256 are the next diff's base.
 */
int vm_snapshot_save_opts(struct vm *vm, const char *path, int fd, const struct vm_snapshot_options *opt,
			  struct vm_snapshot_result *res, char *err, size_t err_len);

/*
 * Reads the HOST, VM, TARGETS and BASE sections (which come first) and fills the parts of `cfg` that the snapshot
 * decides: memory, vCPUs, PV lock, targets, devices. `targets_json` receives the targets text (malloc'd, or NULL);
 * `base` the base of a diff snapshot (base->path empty: a whole snapshot). Prints where the snapshot comes from.
 * Returns 0 or -errno after one line naming the file and the reason.
 */
struct vm_restore_base;
int vm_restore_config(struct snapshot_reader *r, struct vm_config *cfg, char **targets_json,
		      struct vm_restore_base *base);

/*
 * Reads every remaining section into the freshly created `vm` (not started): vCPU state after a compatibility check
 * that lists every problem, the counter, the interrupt controller, devices, and memory. Nothing runs before it
 * returns 0. Returns -errno after the messages.
 */
int vm_restore_state(struct vm *vm, struct snapshot_reader *r);

#endif
