/*
 * The control API while a VM is being restored (from a file, a pipe or a live migration): the socket answers from the
 * start, `status` with what is read so far, and the commands that need a running VM with "vm-restoring". Once the
 * VM runs, the VM's own table (api_vm.h) takes over on the same connections.
 */
#ifndef ROAM_API_RESTORE_H
#define ROAM_API_RESTORE_H

#include <stddef.h>
#include <stdint.h>

struct api_command;
struct api_server;
struct snapshot_reader;

struct api_restore {
	const struct snapshot_reader *r; /* read by the main thread; only its progress is looked at */
	const char *source; /* the file, "standard input" or the migration's SPEC */
	uint64_t size; /* bytes in all, when known (a file), else 0 */
	uint64_t start_ns;
	/* The VM's commands by name and arguments, answered here: status with progress, the others "vm-restoring". */
	struct api_command *cmds;
	size_t nr_cmds;
};

/*
 * Starts answering on `srv` during the restore described by `ar` (which must outlive it, and be released with
 * api_restore_release once the VM's table took over). 0 or -errno.
 */
int api_restore_serve(struct api_server *srv, struct api_restore *ar);

/* Frees what api_restore_serve allocated in `ar`. */
void api_restore_release(struct api_restore *ar);

#endif
