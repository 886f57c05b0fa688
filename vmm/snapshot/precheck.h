/*
 * The PRECHECK section: a sample of the source's CPU state (the sections of every component that has a check hook,
 * first instance only: the counter, vCPU 0, the interrupt controller) sent at the start of a migration, so that the
 * destination can check the registers, the counter frequency and the GIC against its host and answer before the
 * source stops its guest. Payload: u32 entries, then per entry u32 section id, u32 instance, u32 version and the
 * section's payload as a blob. Optional: a roam that does not know it skips it. The restore walk checks it with the
 * components' check hooks (precheck_component) and tells the caller through its hooks.
 */
#ifndef ROAM_PRECHECK_H
#define ROAM_PRECHECK_H

struct vm;
struct component;
struct snapshot_writer;

#define PRECHECK_VERSION 1u
#define PRECHECK_REPORT_LEN 4096

/*
 * Writes the PRECHECK section for `vm` from the components of `table` that have a check hook. The vCPUs must be
 * paused (their registers are read). Returns 0 or -errno (w->err or a logged message says why).
 */
int precheck_write(struct vm *vm, struct snapshot_writer *w, const struct component *const *table, int n);

#endif
