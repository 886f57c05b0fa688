/*
 * The VM's dirty log, for live migration and diff snapshots: KVM's log of what the guest writes
 * (KVM_MEM_LOG_DIRTY_PAGES on every writable slot, read with KVM_GET_DIRTY_LOG and re-armed with KVM_CLEAR_DIRTY_LOG
 * under KVM_CAP_MANUAL_DIRTY_LOG_PROTECT2) merged with roam's log of its own writes (memory.h). It is on only while
 * a migration or a diff snapshot needs it: with it, every first guest write to a page after a collection costs a
 * stage-2 fault.
 *
 * Why the bitmap and not the dirty ring: the ring must be sized and enabled before any vCPU exists, so it would be
 * on for the whole life of every VM, and a vCPU whose ring fills exits to roam; arm64 also needs the bitmap beside
 * the ring (KVM_CAP_DIRTY_LOG_RING_WITH_BITMAP) for what the GIC/ITS write. The bitmap can be switched on and off
 * per migration, costs nothing when off, and its collection cost (a bitmap per slot per round) is small against
 * sending the pages.
 */
#ifndef ROAM_DIRTY_LOG_H
#define ROAM_DIRTY_LOG_H

#include <stdbool.h>
#include <stdint.h>

struct vm;

/*
 * Starts logging: every writable slot logs the guest's writes, and roam records its own. With
 * KVM_DIRTY_LOG_INITIALLY_SET (where KVM offers it) every page starts dirty and nothing is write-protected until
 * collected, which spreads the cost over the first round. Returns 0 or -errno after one message.
 */
int vm_dirty_log_start(struct vm *vm);

/*
 * ORs into `bitmap` (64-bit words, one bit per 4 KiB page of slot `slot`) the pages written since the last
 * collection, by the guest or by roam, and re-arms logging for them. Returns the number of pages set, or -errno.
 */
int64_t vm_dirty_log_collect(struct vm *vm, int slot, uint64_t *bitmap);

/*
 * A collected bitmap as the byte bitmap (LSB first) the snapshot writers take: the same bits as the 64-bit words,
 * and on a little-endian host (arm64, LoongArch, x86) the same bytes in memory, so no copy.
 */
static inline const uint8_t *vm_dirty_log_bytes(const uint64_t *bitmap)
{
	_Static_assert(__BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__, "dirty-log words are used as a byte bitmap");
	return (const uint8_t *)bitmap;
}

/* Stops logging on every slot (what was logged is dropped). Safe to call when it is off. */
void vm_dirty_log_stop(struct vm *vm);

/* Whether slot `slot` is logged (a writable slot while logging is on). */
bool vm_dirty_log_slot(const struct vm *vm, int slot);

#endif
