/*
 * What arm64 roam reads from the host CPU itself rather than through KVM: the counter and its frequency, the cache
 * maintenance code needs before a guest runs it with its MMU off, and the identification registers sysfs shows.
 *
 * host_cpu.c is the one file of vmm/arch/arm64 with arm64 instructions, so the rest of the architecture builds for
 * any host. The roam binary links it; the unit tests link a fake host in its place (tests/unit/test_arm64_fakekvm.c),
 * as they do for core/sys_ioctl.c, so that the counter a test's "KVM" sees and the one roam reads are the same.
 */
#ifndef ROAM_ARM64_HOST_CPU_H
#define ROAM_ARM64_HOST_CPU_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* The host's counter as KVM's counter offset is defined against (EL0 virtual counter of the host, CNTVOFF = 0). */
uint64_t arm64_host_counter(void);

/* The counter frequency of this host in Hz, which is also what a guest reads (CNTFRQ_EL0 is not trapped). */
uint64_t arm64_host_counter_frequency(void);

/* Cleans and invalidates [p, p + len) to the point of coherency, and the instruction cache for it. */
void arm64_host_clean_to_poc(void *p, size_t len);

/* A host CPU's identification register from sysfs ("midr_el1", "revidr_el1"); false (and 0) if there is none. */
bool arm64_host_id_reg(int cpu, const char *name, uint64_t *value);

#endif
