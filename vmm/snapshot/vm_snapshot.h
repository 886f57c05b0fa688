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

/*
 * Reads the HOST, VM and TARGETS sections (which come first) and fills the parts of `cfg` that the snapshot
 * decides: memory, vCPUs, PV lock, targets. `targets_json` receives the targets text (malloc'd, or NULL). Prints
 * where the snapshot comes from. Returns 0 or -errno after one line naming the file and the reason.
 */
int vm_restore_config(struct snapshot_reader *r, struct vm_config *cfg, char **targets_json);

/*
 * Reads every remaining section into the freshly created `vm` (not started): vCPU state after a compatibility check
 * that lists every problem, the counter, the interrupt controller, devices, and memory. Nothing runs before it
 * returns 0. Returns -errno after the messages.
 */
int vm_restore_state(struct vm *vm, struct snapshot_reader *r);

#endif
