/*
 * The IOCSR registers roam answers itself. KVM handles the IPI and EIOINTC ranges in the kernel; any other iocsrrd
 * or iocsrwr leaves KVM_RUN with KVM_EXIT_LOONGARCH_IOCSR. A Linux guest reads the chip's identity and feature
 * registers at boot, as on the virt machine: VERSION 0x11, FEATURES (MSI, EXTIOI, CSRIPI, VM), VENDOR "Loongson",
 * CPUNAME "3A5000", and MISC_FUNC (read back as written; the in-kernel EIOINTC ignores it). Other reads return 0 and
 * writes are dropped, each reported (rate-limited). Thread safe; pure (unit-tested on synthetic exits).
 */
#ifndef ROAM_LOONGARCH_IOCSR_H
#define ROAM_LOONGARCH_IOCSR_H

#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>

#define LOONGARCH_IOCSR_VERSION 0x0
#define LOONGARCH_IOCSR_REPORT_LIMIT 8

struct loongarch_iocsr {
	atomic_uint_fast64_t misc_func;
	atomic_uint reports; /* unknown accesses reported so far */
};

/* Resets the registers. */
void loongarch_iocsr_init(struct loongarch_iocsr *s);

/*
 * One access of `len` bytes (1, 2, 4, 8) at IOCSR address `addr`; `data` is little-endian (written for reads).
 * Returns 0, or -EINVAL for a bad length (the data then reads 0). Never stops the guest.
 */
int loongarch_iocsr_access(struct loongarch_iocsr *s, int vcpu_id, uint64_t addr, uint8_t *data, uint32_t len,
			   bool is_write);

#endif
