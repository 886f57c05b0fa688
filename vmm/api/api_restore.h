/*
 * The control API while a VM is being restored (from a file, a pipe or a live migration): the socket answers from the
 * start, `status` with what is read so far, and the commands that need a running VM with "vm-restoring". Once the
 * VM runs, the VM's own table (api_vm.h) takes over on the same connections.
 */
#ifndef ROAM_API_RESTORE_H
#define ROAM_API_RESTORE_H

#include <stdint.h>

struct api_server;
struct snapshot_reader;

struct api_restore {
	const struct snapshot_reader *r; /* read by the main thread; only its progress is looked at */
	const char *source; /* the file, "standard input" or the migration's SPEC */
	uint64_t size; /* bytes in all, when known (a file), else 0 */
	uint64_t start_ns;
};

/* Starts answering on `srv` during the restore described by `ar` (which must outlive it). 0 or -errno. */
int api_restore_serve(struct api_server *srv, struct api_restore *ar);

#endif
