/*
 * The arm64 Linux Image header (Documentation/arch/arm64/booting.rst) and where roam places kernel, initrd and
 * device tree in guest RAM. Pure functions: no KVM, unit-tested directly.
 */
#ifndef ROAM_ARM64_IMAGE_H
#define ROAM_ARM64_IMAGE_H

#include <stddef.h>
#include <stdint.h>

#define ARM64_IMAGE_HEADER_SIZE 64
#define ARM64_IMAGE_MAGIC 0x644d5241u /* "ARM\x64" */
#define ARM64_KERNEL_ALIGN (2ull << 20)
#define ARM64_DTB_MAX_SIZE (2ull << 20)

struct arm64_image {
	uint64_t text_offset;
	uint64_t image_size; /* bytes the kernel occupies from its load address, bss included */
	uint64_t flags;
};

/*
 * Parses the header of a file of `file_size` bytes whose first bytes are in `buf` (`len` of them). Returns 0, or
 * -EINVAL with `why` pointing to a static explanation ("not an arm64 Image: ...").
 */
int arm64_image_parse(const uint8_t *buf, size_t len, uint64_t file_size, struct arm64_image *img, const char **why);

struct arm64_boot_plan {
	uint64_t kernel_gpa;
	uint64_t kernel_end;
	uint64_t initrd_gpa; /* 0 when there is no initrd */
	uint64_t dtb_gpa;
};

/*
 * Places the kernel at the first 2 MiB boundary of RAM plus text_offset, the device tree in the last 2 MiB block of
 * RAM, and the initrd page-aligned right below the device tree. Returns 0, or -ENOSPC with `why` set when they do not
 * fit in RAM without overlapping.
 */
int arm64_plan_boot(uint64_t ram_base, uint64_t ram_size, const struct arm64_image *img, uint64_t initrd_size,
		    struct arm64_boot_plan *plan, const char **why);

#endif
