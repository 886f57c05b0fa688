/*
 * Linker script of roam's bare-metal arm64 test guests; CMake runs it through the C preprocessor with __ASSEMBLER__
 * so that the link address comes from layout.h.
 *
 * The guest is linked at ARM64_RAM_BASE, where roam loads an Image with text_offset 0: the Image header (start.S,
 * .text.head) comes first, then code, read-only data and data, which is what objcopy -O binary keeps. bss, the
 * per-vCPU stacks and the page table follow without file contents; __image_size, which the header carries as
 * image_size, covers them so that roam places nothing there.
 */
#include "arch/arm64/layout.h"
#include "guest.h"

OUTPUT_FORMAT("elf64-littleaarch64")
OUTPUT_ARCH(aarch64)
ENTRY(_start)

SECTIONS
{
	. = ARM64_RAM_BASE;
	_text = .;
	.text : {
		KEEP(*(.text.head))
		*(.text .text.*)
	}
	.rodata : ALIGN(16) {
		*(.rodata .rodata.*)
	}
	.data : ALIGN(16) {
		*(.data .data.*)
	}
	_edata = .;

	.bss (NOLOAD) : ALIGN(16) {
		__bss_start = .;
		*(.bss .bss.* COMMON)
		. = ALIGN(16);
		__bss_end = .;
	}
	.stacks (NOLOAD) : ALIGN(16) {
		__stacks_start = .;
		KEEP(*(.stacks))
		__stacks_end = .;
	}
	.pgtable (NOLOAD) : ALIGN(4096) {
		__pgtable_start = .;
		KEEP(*(.pgtable))
		__pgtable_end = .;
	}
	. = ALIGN(4096);
	_end = .;
	__image_size = _end - _text;

	/DISCARD/ : {
		*(.comment) *(.note .note.*) *(.eh_frame .eh_frame_hdr) *(.interp)
	}
}

ASSERT(_start == ARM64_RAM_BASE, "the Image header must be at the load address ARM64_RAM_BASE")
ASSERT(__pgtable_end - __pgtable_start == 4096, "the level-1 table must be one 4 KiB page")
ASSERT(__stacks_end - __stacks_start >= GUEST_MAX_CPUS * GUEST_STACK_SIZE, "the per-vCPU stacks are missing")
