/*
 * The library of roam's bare-metal arm64 test guests (guest-images/lib/arm64/).
 *
 * A test guest is one C file that defines guest_main(). The start code (start.S) has already run: this vCPU has a
 * stack, an exception vector table that turns any unexpected exception into a UCALL_ABORT naming ESR_EL1, ELR_EL1
 * and FAR_EL1, and the MMU on with an identity map (the first GiB Device-nGnRnE, everything from ARM64_RAM_BASE up
 * to 512 GiB Normal write-back inner-shareable, so atomics work across vCPUs). bss is zero. Interrupts stay masked.
 *
 * The guest reports to roam through ucalls (include/ucall.h): GUEST_SYNC, GUEST_PRINT, GUEST_DONE (roam exits 0),
 * GUEST_ASSERT*, GUEST_ABORT (roam prints "guest abort at FILE:LINE: MSG" and exits 1). FILE is the basename of the
 * source file. Text can also go to the 16550 UART (guest_printf), which roam passes to its console unchanged.
 *
 * The constants in the first block are also read by start.S and the linker script (__ASSEMBLER__ defined).
 */
#ifndef ROAM_GUEST_H
#define ROAM_GUEST_H

#define GUEST_MAX_CPUS 8 /* vCPUs with a stack: MPIDR Aff0 0..7, Aff1..Aff3 zero */
#define GUEST_STACK_SIZE 0x4000 /* bytes of stack per vCPU */

/* PSCI 0.2+ function IDs (SMC64 where the function has 64-bit arguments) and return codes. */
#define PSCI_FN_PSCI_VERSION 0x84000000
#define PSCI_FN_CPU_OFF 0x84000002
#define PSCI_FN64_CPU_ON 0xc4000003
#define PSCI_FN64_AFFINITY_INFO 0xc4000004
#define PSCI_FN_SYSTEM_OFF 0x84000008
#define PSCI_FN_SYSTEM_RESET 0x84000009

#define PSCI_RET_SUCCESS 0
#define PSCI_RET_NOT_SUPPORTED (-1)
#define PSCI_RET_INVALID_PARAMS (-2)
#define PSCI_RET_DENIED (-3)
#define PSCI_RET_ALREADY_ON (-4)
#define PSCI_RET_ON_PENDING (-5)
#define PSCI_RET_INTERNAL_FAILURE (-6)
#define PSCI_RET_NOT_PRESENT (-7)
#define PSCI_RET_DISABLED (-8)
#define PSCI_RET_INVALID_ADDRESS (-9)

#ifndef __ASSEMBLER__

#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include "ucall.h"

/*
 * The test itself, called once on the boot vCPU with the device tree's guest-physical address (x0 at entry). It
 * must end with GUEST_DONE() or an abort; returning is reported as an abort.
 */
void guest_main(uint64_t dtb);

/* ---- system registers and barriers ---- */

/* read_sysreg(mpidr_el1): the 64-bit value of a system register named as in the Arm ARM (lower case is fine). */
#define read_sysreg(reg)                                                                                               \
	__extension__({                                                                                                \
		uint64_t __val;                                                                                        \
		__asm__ volatile("mrs %0, " #reg : "=r"(__val));                                                       \
		__val;                                                                                                 \
	})

/* write_sysreg(reg, value): writes a system register; add isb() where the change must take effect at once. */
#define write_sysreg(reg, val)                                                                                         \
	do {                                                                                                           \
		uint64_t __val = (uint64_t)(val);                                                                      \
		__asm__ volatile("msr " #reg ", %x0" : : "rZ"(__val));                                                 \
	} while (0)

#define isb() __asm__ volatile("isb" : : : "memory")
#define dsb(opt) __asm__ volatile("dsb " #opt : : : "memory")
#define dmb(opt) __asm__ volatile("dmb " #opt : : : "memory")
#define cpu_relax() __asm__ volatile("yield" : : : "memory")

/* MPIDR_EL1 with only the affinity fields (Aff3 in bits 39:32, Aff2..Aff0 in bits 23:0). */
uint64_t read_mpidr(void);

/* This vCPU's index: MPIDR Aff0 (the start code guarantees it is below GUEST_MAX_CPUS). */
unsigned int guest_cpu_index(void);

/* ---- MMIO: single loads and stores the hypervisor can decode (no writeback, no pairs) ---- */

static inline void mmio_write8(uint64_t addr, uint8_t val)
{
	__asm__ volatile("strb %w0, [%1]" : : "rZ"(val), "r"(addr) : "memory");
}

static inline uint8_t mmio_read8(uint64_t addr)
{
	uint8_t val;
	__asm__ volatile("ldrb %w0, [%1]" : "=r"(val) : "r"(addr) : "memory");
	return val;
}

static inline void mmio_write16(uint64_t addr, uint16_t val)
{
	__asm__ volatile("strh %w0, [%1]" : : "rZ"(val), "r"(addr) : "memory");
}

static inline void mmio_write32(uint64_t addr, uint32_t val)
{
	__asm__ volatile("str %w0, [%1]" : : "rZ"(val), "r"(addr) : "memory");
}

static inline uint32_t mmio_read32(uint64_t addr)
{
	uint32_t val;
	__asm__ volatile("ldr %w0, [%1]" : "=r"(val) : "r"(addr) : "memory");
	return val;
}

static inline void mmio_write64(uint64_t addr, uint64_t val)
{
	__asm__ volatile("str %x0, [%1]" : : "rZ"(val), "r"(addr) : "memory");
}

static inline uint64_t mmio_read64(uint64_t addr)
{
	uint64_t val;
	__asm__ volatile("ldr %x0, [%1]" : "=r"(val) : "r"(addr) : "memory");
	return val;
}

/* ---- console (16550 UART at ARM64_UART_BASE) ---- */

/* Writes one byte to the UART once it reports THR empty. Bytes go out unchanged ('\n' is not expanded). */
void uart_putc(char c);

/* Writes a NUL-terminated string with uart_putc. */
void uart_puts(const char *s);

/*
 * printf to the UART. Conversions: %d %i %u %x %X %o %c %s %p %% with the length modifiers hh h l ll z j t, the
 * flags '-' '0' '#' and a field width (digits or *). Output of one call is not interleaved with other vCPUs'
 * guest_printf output. Returns the number of bytes written.
 */
int guest_printf(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/* snprintf with guest_printf's conversions: always NUL-terminates when size > 0, returns the untruncated length. */
int guest_snprintf(char *buf, size_t size, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
int guest_vsnprintf(char *buf, size_t size, const char *fmt, va_list ap) __attribute__((format(printf, 3, 0)));

/* ---- ucall: reports to roam ---- */

/*
 * Fills a struct ucall on this vCPU's stack and stores its address to the ucall window: cmd, the basename of file
 * (truncated to fit), line, args (4 values, or NULL for zeros) and the message formatted from fmt (NULL for none,
 * truncated to UCALL_MSG_LEN - 1 bytes). Returns when roam has consumed it (SYNC, PRINT); for DONE and ABORT roam
 * stops the VM, so use ucall_exit() for those.
 */
void ucall(enum ucall_cmd cmd, const char *file, uint32_t line, const uint64_t *args, const char *fmt, ...)
    __attribute__((format(printf, 5, 6)));

/* ucall(), then guest_halt() should roam let the guest run on. */
_Noreturn void ucall_exit(enum ucall_cmd cmd, const char *file, uint32_t line, const uint64_t *args, const char *fmt,
			  ...) __attribute__((format(printf, 5, 6)));

/* Stops this vCPU for good: waits for interrupts (which stay masked) forever. */
_Noreturn void guest_halt(void);

#ifdef __FILE_NAME__
#define GUEST_FILE __FILE_NAME__
#else
#define GUEST_FILE __FILE__ /* ucall() keeps the basename */
#endif

/* Progress report: args[0] = stage; roam continues the guest. */
#define GUEST_SYNC(stage) GUEST_SYNC_ARGS(stage, 0, 0, 0)

/* Progress report with three free values in args[1..3]. */
#define GUEST_SYNC_ARGS(stage, a1, a2, a3)                                                                             \
	do {                                                                                                           \
		const uint64_t __args[4] = {(uint64_t)(stage), (uint64_t)(a1), (uint64_t)(a2), (uint64_t)(a3)};        \
		ucall(UCALL_SYNC, GUEST_FILE, __LINE__, __args, "stage %llu", (unsigned long long)__args[0]);          \
	} while (0)

/* GUEST_PRINT(fmt, ...): roam prints the formatted message (up to UCALL_MSG_LEN - 1 bytes) on its stderr. */
#define GUEST_PRINT(...) ucall(UCALL_PRINT, GUEST_FILE, __LINE__, NULL, __VA_ARGS__)

/* The test passed: roam stops the VM and exits 0. Does not return. */
#define GUEST_DONE() ucall_exit(UCALL_DONE, GUEST_FILE, __LINE__, NULL, "done")

/* GUEST_ABORT(fmt, ...): the test failed with this message: roam exits 1. Does not return. */
#define GUEST_ABORT(...) ucall_exit(UCALL_ABORT, GUEST_FILE, __LINE__, NULL, __VA_ARGS__)

/* Aborts with "assertion failed: COND" unless cond holds. */
#define GUEST_ASSERT(cond)                                                                                             \
	do {                                                                                                           \
		if (!(cond))                                                                                           \
			ucall_exit(UCALL_ABORT, GUEST_FILE, __LINE__, NULL, "assertion failed: %s", #cond);            \
	} while (0)

/* The message of a failed GUEST_ASSERT_EQ(a, b): the two expressions, then both values (as uint64_t) in hex. */
#define GUEST_ASSERT_EQ_FMT "assertion failed: %s == %s (0x%llx != 0x%llx)"

/* Evaluates a and b once each, as uint64_t; aborts unless equal, with both values in the message and args[0..1]. */
#define GUEST_ASSERT_EQ(a, b)                                                                                          \
	do {                                                                                                           \
		const uint64_t __args[4] = {(uint64_t)(a), (uint64_t)(b), 0, 0};                                       \
		if (__args[0] != __args[1])                                                                            \
			ucall_exit(UCALL_ABORT, GUEST_FILE, __LINE__, __args, GUEST_ASSERT_EQ_FMT, #a, #b,             \
				   (unsigned long long)__args[0], (unsigned long long)__args[1]);                      \
	} while (0)

/* ---- SMCCC and PSCI (answered by KVM) ---- */

struct smccc_res {
	uint64_t a0, a1, a2, a3;
};

/*
 * An SMCCC call through "hvc #0": function ID fid in x0 (SMCCC reads w0; a hostile guest may set the upper 32 bits),
 * arguments a1..a4; returns x0..x3. x4..x17 are treated as clobbered, so any SMCCC version's results beyond x3 are
 * lost but nothing else is.
 */
struct smccc_res smccc_hvc(uint64_t fid, uint64_t a1, uint64_t a2, uint64_t a3, uint64_t a4);

/* PSCI_VERSION: major << 16 | minor. */
uint32_t psci_version(void);

/*
 * CPU_ON: starts the vCPU whose MPIDR affinity is target_mpidr at physical address entry, MMU off, with context_id
 * in x0. Returns a PSCI_RET_* code (PSCI_RET_INVALID_PARAMS if no such vCPU exists). Most callers want
 * guest_smp_start(), which also gives the vCPU a stack and the MMU.
 */
int64_t psci_cpu_on(uint64_t target_mpidr, uint64_t entry, uint64_t context_id);

/* CPU_OFF: stops this vCPU; returns only on failure (PSCI_RET_DENIED). */
int64_t psci_cpu_off(void);

/* AFFINITY_INFO at level 0: 0 on, 1 off, 2 on pending, or a PSCI_RET_* error. */
int64_t psci_affinity_info(uint64_t target_mpidr);

/* SYSTEM_OFF: powers the VM off; roam exits 0. Does not return. */
_Noreturn void psci_system_off(void);

/* ---- SMP ---- */

/*
 * Called on the boot vCPU (index 0): starts vCPU 1, 2, ... with PSCI CPU_ON until CPU_ON answers
 * PSCI_RET_INVALID_PARAMS, and returns how many vCPUs there are, the boot vCPU included. Each started vCPU gets its
 * stack, vectors and MMU and then runs entry(its index); when entry returns it calls CPU_OFF. Aborts the test if
 * CPU_ON fails otherwise, or if the VM has more than GUEST_MAX_CPUS vCPUs. It does not wait for the vCPUs to reach
 * entry: the caller synchronizes with them (e.g. through atomics).
 */
unsigned int guest_smp_start(void (*entry)(unsigned int cpu));

/* ---- freestanding C library (the compiler may emit calls to the first four) ---- */

void *memset(void *dst, int c, size_t n);
void *memcpy(void *dst, const void *src, size_t n);
void *memmove(void *dst, const void *src, size_t n);
int memcmp(const void *a, const void *b, size_t n);
size_t strlen(const char *s);

#endif /* !__ASSEMBLER__ */

#endif
