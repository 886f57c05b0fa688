/* The IOCSR registers roam emulates: see iocsr.h. */
#include "iocsr.h"

#include "core/log.h"
#include "layout.h"

#include <errno.h>
#include <string.h>

#define IOCSRF_MSI (1ull << 2)
#define IOCSRF_EXTIOI (1ull << 3)
#define IOCSRF_CSRIPI (1ull << 4)
#define IOCSRF_VM (1ull << 11)

void loongarch_iocsr_init(struct loongarch_iocsr *s)
{
	atomic_store(&s->misc_func, 0);
	atomic_store(&s->reports, 0);
}

static void iocsr_report(struct loongarch_iocsr *s, int vcpu_id, uint64_t addr, uint32_t len, bool is_write)
{
	unsigned n = atomic_fetch_add(&s->reports, 1);
	if (n < LOONGARCH_IOCSR_REPORT_LIMIT)
		log_info("vCPU%d: guest IOCSR %s of %u bytes at %#llx: roam emulates nothing there (%s)%s", vcpu_id,
			 is_write ? "write" : "read", len, (unsigned long long)addr, is_write ? "ignored" : "reads 0",
			 n + 1 == LOONGARCH_IOCSR_REPORT_LIMIT ? "; further reports suppressed" : "");
}

static bool iocsr_read(struct loongarch_iocsr *s, uint64_t addr, uint64_t *value)
{
	switch (addr) {
	case LOONGARCH_IOCSR_VERSION:
		*value = 0x11;
		return true;
	case LOONGARCH_IOCSR_FEATURES:
		*value = IOCSRF_MSI | IOCSRF_EXTIOI | IOCSRF_CSRIPI | IOCSRF_VM;
		return true;
	case LOONGARCH_IOCSR_VENDOR:
		*value = 0x6e6f73676e6f6f4cull; /* "Loongson" */
		return true;
	case LOONGARCH_IOCSR_CPUNAME:
		*value = 0x303030354133ull; /* "3A5000" */
		return true;
	case LOONGARCH_IOCSR_MISC_FUNC:
		*value = atomic_load(&s->misc_func);
		return true;
	default:
		*value = 0;
		return false;
	}
}

int loongarch_iocsr_access(struct loongarch_iocsr *s, int vcpu_id, uint64_t addr, uint8_t *data, uint32_t len,
			   bool is_write)
{
	if (len != 1 && len != 2 && len != 4 && len != 8) {
		if (!is_write)
			memset(data, 0, 8);
		iocsr_report(s, vcpu_id, addr, len, is_write);
		return -EINVAL;
	}
	/* Registers are 8 bytes wide; a narrower access reaches the bytes at its offset in the register. */
	uint64_t reg = addr & ~7ull, shift = (addr & 7) * 8;
	if (shift + len * 8 > 64) {
		if (!is_write)
			memset(data, 0, len);
		iocsr_report(s, vcpu_id, addr, len, is_write);
		return -EINVAL;
	}
	if (!is_write) {
		uint64_t value;
		if (!iocsr_read(s, reg, &value))
			iocsr_report(s, vcpu_id, addr, len, false);
		for (uint32_t i = 0; i < len; i++)
			data[i] = (uint8_t)(value >> (shift + 8 * i));
		return 0;
	}
	uint64_t value = 0, mask = 0;
	for (uint32_t i = 0; i < len; i++) {
		value |= (uint64_t)data[i] << (shift + 8 * i);
		mask |= 0xffull << (shift + 8 * i);
	}
	if (reg == LOONGARCH_IOCSR_MISC_FUNC) {
		uint64_t old = atomic_load(&s->misc_func);
		while (!atomic_compare_exchange_weak(&s->misc_func, &old, (old & ~mask) | value))
			;
		return 0;
	}
	iocsr_report(s, vcpu_id, addr, len, true);
	return 0;
}
