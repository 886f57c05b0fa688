/*
 * The save and restore loops over a component table (core/component.h), apart from where the table comes from, so
 * that tests and fuzzers can walk a table of their own without KVM. vm_snapshot.c walks the VM's table.
 */
#ifndef ROAM_COMPONENT_WALK_H
#define ROAM_COMPONENT_WALK_H

#include <stdint.h>

struct vm;
struct vm_config;
struct component;
struct snapshot_writer;
struct snapshot_reader;
struct component_walk_hooks;

/*
 * Writes one section per present instance of each component of `table` (n entries), in order, between the
 * components' pause and resume hooks. *pages receives the guest pages stored. Returns 0 or -errno (w->err or a
 * logged message says why).
 */
int component_walk_save(struct vm *vm, struct snapshot_writer *w, const struct component *const *table, int n,
			uint64_t *pages);

/* The same without the pause and resume hooks, for a caller that holds the components still itself. */
int component_walk_write(struct vm *vm, struct snapshot_writer *w, const struct component *const *table, int n,
			 uint64_t *pages);

/* The components' pause hooks in table order, and their resume hooks in reverse. */
void component_walk_pause(struct vm *vm, const struct component *const *table, int n);
void component_walk_resume(struct vm *vm, const struct component *const *table, int n);

/*
 * A live migration's hand-over: release() on the source once its last state is written, claim() on the
 * destination before the guest runs there (and on the source when the move failed), waiting up to timeout_ms for
 * the other side to let go. claim returns 0 or the first -errno (after a message).
 */
void component_walk_release(struct vm *vm, const struct component *const *table, int n);
int component_walk_claim(struct vm *vm, const struct component *const *table, int n, int timeout_ms);

/*
 * The CONFIG stage of a restore: reads the leading sections of the table's COMPONENT_CONFIG components (HOST, VM,
 * TARGETS, BASE) in order into `config` (its cfg and host set by the caller; targets_json is malloc'd). Returns 0
 * or -errno after one line naming the file and the reason.
 */
struct component_config;
int component_walk_config(struct snapshot_reader *r, const struct component *const *table, int n,
			  struct component_config *config);

/*
 * The state stage: reads every remaining section up to END into `vm`, each through its owner; refuses an unknown,
 * duplicate, out-of-order or missing section and one for an instance this VM does not have, naming it; then runs
 * the components' restore_finish hooks. Returns 0 or -errno after the messages.
 */
int component_walk_restore(struct vm *vm, struct snapshot_reader *r, const struct component *const *table, int n);

/*
 * The same, for the last file of a chain (a diff snapshot on its base): the sections with the ids in `already`
 * were restored from earlier files, so they count as read for every instance. `hooks` (or NULL) hear about the
 * walk as it goes (a migration's destination answers its source from them).
 */
int component_walk_restore_after(struct vm *vm, struct snapshot_reader *r, const struct component *const *table, int n,
				 const uint32_t *already, int nr_already, const struct component_walk_hooks *hooks);

#endif
