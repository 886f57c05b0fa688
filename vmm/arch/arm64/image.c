/* arm64 Image header parsing and boot placement: see image.h. */
#include "image.h"

#include <errno.h>

static uint64_t le64(const uint8_t *p)
{
	uint64_t v = 0;
	for (int i = 7; i >= 0; i--)
		v = (v << 8) | p[i];
	return v;
}

int arm64_image_parse(const uint8_t *buf, size_t len, uint64_t file_size, struct arm64_image *img, const char **why)
{
	if (len >= 2 && buf[0] == 0x1f && buf[1] == 0x8b) {
		*why = "not an arm64 Image: it is gzip-compressed (decompress it, e.g. with zcat)";
		return -EINVAL;
	}
	if (len < ARM64_IMAGE_HEADER_SIZE || file_size < ARM64_IMAGE_HEADER_SIZE) {
		*why = "not an arm64 Image: too short for the 64-byte header";
		return -EINVAL;
	}
	if ((uint32_t)le64(buf + 56) != ARM64_IMAGE_MAGIC) {
		*why = "not an arm64 Image: no \"ARM\\x64\" magic at offset 56";
		return -EINVAL;
	}
	img->text_offset = le64(buf + 8);
	img->image_size = le64(buf + 16);
	img->flags = le64(buf + 24);
	if (img->image_size == 0) {
		/* Kernels before 3.17 leave image_size zero and assume a text_offset of 0x80000. */
		img->text_offset = 0x80000;
		img->image_size = file_size;
	}
	if (img->flags & 1) {
		*why = "the Image is a big-endian kernel; roam runs little-endian guests only";
		return -EINVAL;
	}
	if (img->image_size < file_size) {
		*why = "the Image header's image_size is smaller than the file (damaged Image?)";
		return -EINVAL;
	}
	if (img->text_offset >= ARM64_KERNEL_ALIGN) {
		*why = "the Image header's text_offset is 2 MiB or more (damaged Image?)";
		return -EINVAL;
	}
	return 0;
}

static uint64_t align_down(uint64_t v, uint64_t a)
{
	return v & ~(a - 1);
}

static uint64_t align_up(uint64_t v, uint64_t a)
{
	return (v + a - 1) & ~(a - 1);
}

int arm64_plan_boot(uint64_t ram_base, uint64_t ram_size, const struct arm64_image *img, uint64_t initrd_size,
		    struct arm64_boot_plan *plan, const char **why)
{
	uint64_t ram_end = ram_base + ram_size;
	plan->kernel_gpa = align_up(ram_base, ARM64_KERNEL_ALIGN) + img->text_offset;
	plan->kernel_end = plan->kernel_gpa + img->image_size;
	if (ram_size < ARM64_DTB_MAX_SIZE || plan->kernel_end < plan->kernel_gpa || plan->kernel_end > ram_end) {
		*why = "the kernel does not fit in guest RAM; use a larger --mem";
		return -ENOSPC;
	}
	plan->dtb_gpa = align_down(ram_end - ARM64_DTB_MAX_SIZE, ARM64_KERNEL_ALIGN);
	if (plan->dtb_gpa < plan->kernel_end) {
		*why = "the kernel and the device tree do not fit in guest RAM together; use a larger --mem";
		return -ENOSPC;
	}
	plan->initrd_gpa = 0;
	if (initrd_size) {
		if (initrd_size > plan->dtb_gpa - plan->kernel_end) {
			*why = "the initrd does not fit in guest RAM above the kernel; use a larger --mem";
			return -ENOSPC;
		}
		plan->initrd_gpa = align_down(plan->dtb_gpa - initrd_size, 4096);
		if (plan->initrd_gpa < plan->kernel_end) {
			*why = "the initrd does not fit in guest RAM above the kernel; use a larger --mem";
			return -ENOSPC;
		}
	}
	return 0;
}
