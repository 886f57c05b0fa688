/*
 * A vCPU's complete architectural state for snapshots: every register KVM_GET_REG_LIST reports (core, system,
 * timer, firmware pseudo-registers and hypercall bitmaps, SVE and pointer auth when enabled), the MP state and the
 * vCPU events (pending SError). Saved as a list of (id, raw bytes) so a register roam does not know still travels.
 */
#ifndef ROAM_ARM64_VCPU_STATE_H
#define ROAM_ARM64_VCPU_STATE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct vcpu;
struct snap_writer;
struct snap_reader;

#define ARM64_VCPU_STATE_VERSION 1

struct arm64_reg_value {
	uint64_t id;
	uint32_t size; /* bytes: 4, 8, 16, 256 */
	uint32_t offset; /* into arm64_vcpu_state.values */
};

struct arm64_vcpu_state {
	uint32_t nr_regs;
	struct arm64_reg_value *regs;
	uint8_t *values;
	uint32_t mp_state;
	uint8_t serror_pending, serror_has_esr, ext_dabt_pending;
	uint64_t serror_esr;
};

/* Writes the paused vCPU's state. Returns 0 or -errno after a message naming the vCPU and register. */
int arm64_vcpu_state_save(struct vcpu *vcpu, struct snap_writer *w);

/* Decodes a saved state (allocates; free with arm64_vcpu_state_free). Returns 0 or -EBADMSG (r->what says why). */
int arm64_vcpu_state_parse(struct snap_reader *r, struct arm64_vcpu_state *st);
void arm64_vcpu_state_free(struct arm64_vcpu_state *st);

/*
 * Compatibility: every saved register must exist on this vCPU, except a firmware pseudo-register whose saved value
 * is 0 (its "not available" default), and KVM must take every saved ID register value (tried on the never-run vCPU:
 * the saved value written, this vCPU's put back). Appends one line per problem to `report` (a NUL-terminated buffer
 * of `size` bytes) and returns the number of problems.
 */
int arm64_vcpu_state_check(struct vcpu *vcpu, const struct arm64_vcpu_state *st, char *report, size_t size);

/*
 * Writes the state into a fresh, never-run vCPU. With `skip_counter` the virtual and physical counter registers are
 * left alone (the VM-wide counter offset restores time). Returns 0 or -errno naming the register.
 */
int arm64_vcpu_state_apply(struct vcpu *vcpu, const struct arm64_vcpu_state *st, bool skip_counter);

/* The guest's virtual counter as vCPU 0 sees it (KVM_REG_ARM_TIMER_CNT). */
int arm64_read_guest_counter(struct vcpu *vcpu, uint64_t *value);

#endif
