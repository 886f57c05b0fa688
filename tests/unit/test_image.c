/* Unit test of arm64 Image header parsing and of kernel/initrd/device-tree placement in guest RAM. */
#include "arch/arm64/image.h"
#include "check.h"

#include <errno.h>

static void put64(uint8_t *p, uint64_t v)
{
	for (int i = 0; i < 8; i++)
		p[i] = (uint8_t)(v >> (8 * i));
}

static void make_header(uint8_t *h, uint64_t text_offset, uint64_t image_size, uint64_t flags)
{
	memset(h, 0, 64);
	put64(h + 8, text_offset);
	put64(h + 16, image_size);
	put64(h + 24, flags);
	put64(h + 56, 0x644d5241);
}

int main(void)
{
	uint8_t h[64];
	struct arm64_image img;
	const char *why = NULL;

	make_header(h, 0, 0x3000000, 0xa);
	CHECK_EQ(arm64_image_parse(h, 64, 0x2000000, &img, &why), 0);
	CHECK_EQ(img.text_offset, 0);
	CHECK_EQ(img.image_size, 0x3000000);

	make_header(h, 0, 0, 0); /* pre-3.17 kernel: image_size 0 means text_offset 0x80000 */
	CHECK_EQ(arm64_image_parse(h, 64, 0x1000, &img, &why), 0);
	CHECK_EQ(img.text_offset, 0x80000);
	CHECK_EQ(img.image_size, 0x1000);

	CHECK_EQ(arm64_image_parse(h, 10, 10, &img, &why), -EINVAL);
	CHECK_CONTAINS(why, "too short");
	make_header(h, 0, 0x1000, 0);
	h[56] = 'X';
	CHECK_EQ(arm64_image_parse(h, 64, 0x1000, &img, &why), -EINVAL);
	CHECK_CONTAINS(why, "magic");
	h[0] = 0x1f;
	h[1] = 0x8b;
	CHECK_EQ(arm64_image_parse(h, 64, 0x1000, &img, &why), -EINVAL);
	CHECK_CONTAINS(why, "gzip");
	make_header(h, 0, 0x1000, 1);
	CHECK_EQ(arm64_image_parse(h, 64, 0x1000, &img, &why), -EINVAL);
	CHECK_CONTAINS(why, "big-endian");
	make_header(h, 0, 0x1000, 0);
	CHECK_EQ(arm64_image_parse(h, 64, 0x2000, &img, &why), -EINVAL);
	CHECK_CONTAINS(why, "smaller than the file");
	make_header(h, 0x200000, 0x1000, 0);
	CHECK_EQ(arm64_image_parse(h, 64, 0x1000, &img, &why), -EINVAL);
	CHECK_CONTAINS(why, "text_offset");

	/* Placement: kernel at the first 2 MiB boundary, DTB in the last 2 MiB, initrd right below it. */
	struct arm64_boot_plan plan;
	struct arm64_image k = {.text_offset = 0, .image_size = 0x3200000};
	CHECK_EQ(arm64_plan_boot(0x40000000, 256 << 20, &k, 0x123456, &plan, &why), 0);
	CHECK_EQ(plan.kernel_gpa, 0x40000000);
	CHECK_EQ(plan.kernel_end, 0x43200000);
	CHECK_EQ(plan.dtb_gpa, 0x4fe00000);
	CHECK_EQ(plan.initrd_gpa, (0x4fe00000 - 0x123456) & ~0xfffull);
	CHECK(plan.initrd_gpa + 0x123456 <= plan.dtb_gpa);
	CHECK_EQ(arm64_plan_boot(0x40000000, 256 << 20, &k, 0, &plan, &why), 0);
	CHECK_EQ(plan.initrd_gpa, 0);

	CHECK_EQ(arm64_plan_boot(0x40000000, 32 << 20, &k, 0, &plan, &why), -ENOSPC);
	CHECK_CONTAINS(why, "kernel does not fit");
	CHECK_EQ(arm64_plan_boot(0x40000000, 64 << 20, &k, 16 << 20, &plan, &why), -ENOSPC);
	CHECK_CONTAINS(why, "initrd does not fit");
	struct arm64_image tiny = {.text_offset = 0, .image_size = 0x10000};
	CHECK_EQ(arm64_plan_boot(0x40000000, 8 << 20, &tiny, 0, &plan, &why), 0);
	CHECK_EQ(plan.dtb_gpa, 0x40600000);
	return check_exit();
}
