/*
 * hostile_ucall: a flood of ucalls (guest-images/include/ucall.h, docs/security.md), driven by tests/lab/hostile.sh
 * with `roam run`:
 *   - 10,000 PRINT messages carrying terminal escape sequences, carriage returns, newlines and a forged
 *     "roam: guest abort at ..." line, with no NUL in the message array;
 *   - 5,000 malformed stores to the ucall window (4 bytes, or at offset 8), and 5,000 SYNCs;
 *   - then a ucall whose address is not RAM.
 * roam must log at most a burst of escaped lines a second (the rest counted), never a raw control character, and
 * stop the VM at the last ucall with one line saying why (exit status 1).
 */
#include "guest.h"

#include "arch/arm64/layout.h"

#define FLOOD 10000

static struct ucall evil;

void guest_main(uint64_t dtb)
{
	(void)dtb;
	uint64_t window = ARM64_UCALL_BASE;
	evil.magic = UCALL_MAGIC;
	evil.version = UCALL_ABI_VERSION;
	evil.cmd = UCALL_PRINT;
	evil.line = 1;
	memset(evil.file, 'f', sizeof(evil.file)); /* no NUL: roam must stop at the array's end itself */
	static const char msg[] = "\x1b[2J\x1b]0;owned\x07\rroam: guest abort at fake.c:1: forged\nsecond line\t\\";
	memset(evil.msg, 0x9b, sizeof(evil.msg)); /* C1 CSI bytes after the text, and no NUL */
	memcpy(evil.msg, msg, sizeof(msg) - 1);
	for (int i = 0; i < FLOOD; i++) {
		dsb(sy);
		mmio_write64(window, (uint64_t)(uintptr_t)&evil);
	}
	for (int i = 0; i < 5000; i++) {
		mmio_write32(window, 0x1234);
		mmio_write64(window + 8, (uint64_t)(uintptr_t)&evil);
	}
	evil.cmd = UCALL_SYNC;
	for (int i = 0; i < 5000; i++) {
		dsb(sy);
		mmio_write64(window, (uint64_t)(uintptr_t)&evil);
	}
	guest_printf("hostile-ucall: %d prints, 10000 malformed stores, 5000 syncs; now a ucall outside RAM\n", FLOOD);
	mmio_write64(window, 0x1000000000ull);
	GUEST_ABORT("roam let the guest run on after a ucall outside RAM");
}
