/*
 * The guest side of the ucall ABI (include/ucall.h): build a struct ucall on the caller's stack, then one 64-bit
 * store of its address to the ucall window. roam reads the struct before the store completes, so the stack slot can
 * be reused at once, and several vCPUs can report at the same time.
 */
#include "arch/arm64/layout.h"
#include "guest.h"

static void ucall_copy_basename(char *dst, size_t size, const char *path)
{
	const char *base = path;
	for (const char *p = path; *p; p++)
		if (*p == '/')
			base = p + 1;
	size_t i;
	for (i = 0; i + 1 < size && base[i]; i++)
		dst[i] = base[i];
	dst[i] = '\0';
}

static void ucall_vsend(enum ucall_cmd cmd, const char *file, uint32_t line, const uint64_t *args, const char *fmt,
			va_list ap)
{
	struct ucall uc;
	memset(&uc, 0, sizeof(uc));
	uc.magic = UCALL_MAGIC;
	uc.version = UCALL_ABI_VERSION;
	uc.cmd = (uint16_t)cmd;
	uc.line = line;
	if (args)
		for (int i = 0; i < 4; i++)
			uc.args[i] = args[i];
	ucall_copy_basename(uc.file, sizeof(uc.file), file ? file : "?");
	if (fmt)
		guest_vsnprintf(uc.msg, sizeof(uc.msg), fmt, ap);
	/* The struct is in Normal memory, the window is Device memory: complete the stores before the trap. */
	dsb(sy);
	mmio_write64(arm64_layout[ARM64_REGION_UCALL].base, (uint64_t)(uintptr_t)&uc);
	/* roam has read the struct when the store returns; keep the compiler from reusing uc before that. */
	__asm__ volatile("" : : "r"(&uc) : "memory");
}

void ucall(enum ucall_cmd cmd, const char *file, uint32_t line, const uint64_t *args, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	ucall_vsend(cmd, file, line, args, fmt, ap);
	va_end(ap);
}

_Noreturn void ucall_exit(enum ucall_cmd cmd, const char *file, uint32_t line, const uint64_t *args, const char *fmt,
			  ...)
{
	va_list ap;
	va_start(ap, fmt);
	ucall_vsend(cmd, file, line, args, fmt, ap);
	va_end(ap);
	guest_halt();
}
