/*
 * Diff snapshots and their chains. A diff snapshot (`roam ctl SOCK snapshot FILE --diff`) holds the VM's description
 * and CPU and device state like any snapshot, but its memory only as MEMORY_DELTA sections: the pages written since
 * its base, the previous snapshot taken with tracking, which a BASE section names by path, size and SHA-256. To
 * restore one, its chain of bases is opened back to a full snapshot, each checked against what its successor
 * recorded, and their memory is applied oldest first; then the diff itself restores as a snapshot whose memory is
 * already there. Flattening writes the same as one full snapshot.
 */
#ifndef ROAM_DIFF_CHAIN_H
#define ROAM_DIFF_CHAIN_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct vm;
struct vm_restore_base;
struct snapshot_writer;

#define DIFF_CHAIN_MAX 64 /* bases behind one diff, at most */

/* Writes the BASE section of a diff whose base is `path` (size bytes, SHA-256 sha). Returns 0 or the writer's error. */
int diff_write_base(struct snapshot_writer *w, const char *path, uint64_t size, const uint8_t sha[32]);

/*
 * Checks that the file at base->path is the one a diff recorded: its size and SHA-256. Returns 0, or -errno after
 * one line naming `who` (the diff), the base and what differs.
 */
int diff_check_base(const char *who, const struct vm_restore_base *base);

/*
 * Loads the memory of `vm`'s chain: from the base `base` (recorded by the diff called `who`) back to a full
 * snapshot, each base checked (diff_check_base) and of the same VM, memory applied oldest first. Returns 0, or
 * -errno after one line naming the file at fault.
 */
int diff_chain_load(struct vm *vm, const char *who, const struct vm_restore_base *base);

/*
 * `roam snapshot-flatten DIFF -o FILE`: writes DIFF and its chain as one full snapshot, atomically. No KVM: the
 * memory is composed in memfds. Returns 0 or -errno after one line.
 */
int diff_flatten(const char *diff, const char *out);

#endif
