/*
 * Unit test of the boot files every architecture loads (core/boot_file.h): opening with checks, the kernel header
 * handed to the architecture's parser, and copying into guest memory with the zero fill of an ELF segment, each
 * refusal with its errno. Also the shared memory-map form (core/layout.h) on arm64's map.
 */
#include "arch/arm64/layout.h"
#include "check.h"
#include "core/boot_file.h"
#include "core/memory.h"

#include <errno.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

#define RAM 0x40000000ull

/* A parser that wants "ROAM" at the start and remembers what it was given. */
struct parsed {
	size_t len;
	uint64_t size;
};

static int parse_roam(const uint8_t *head, size_t len, uint64_t size, void *out, const char **why)
{
	struct parsed *p = out;
	p->len = len;
	p->size = size;
	if (len < 4 || memcmp(head, "ROAM", 4) != 0) {
		*why = "not a ROAM kernel";
		return -EINVAL;
	}
	return 0;
}

static void write_file(const char *path, const char *data, size_t len)
{
	FILE *f = fopen(path, "wb");
	CHECK(f != NULL);
	if (f) {
		CHECK_EQ(fwrite(data, 1, len, f), len);
		fclose(f);
	}
}

static void test_boot_file(const char *dir)
{
	char kernel[128], other[128];
	struct boot_file f;
	struct parsed p;
	snprintf(kernel, sizeof(kernel), "%s/kernel", dir);
	snprintf(other, sizeof(other), "%s/other", dir);
	write_file(kernel, "ROAM kernel body", 16);
	write_file(other, "text", 4);

	CHECK_EQ(boot_file_open(&f, "initrd", "/nonexistent/initrd"), -ENOENT);
	CHECK_EQ(boot_file_open(&f, "kernel", dir), -EINVAL); /* not a regular file */
	CHECK_EQ(f.fd, -1);
	CHECK_EQ(boot_kernel_check(kernel, 4096, parse_roam, &p), 0);
	CHECK_EQ(p.len, 16); /* a short file gives what it has */
	CHECK_EQ(p.size, 16);
	CHECK_EQ(boot_kernel_check(other, 4096, parse_roam, &p), -EINVAL);

	struct guest_memory mem;
	memory_init(&mem);
	CHECK_EQ(memory_add_slot(&mem, "ram", RAM, 0x10000, false), 0);
	uint8_t *ram = memory_gpa_to_host(&mem, RAM, 0x10000);
	memset(ram, 0xff, 0x10000);
	CHECK_EQ(boot_file_open(&f, "kernel", kernel), 0);
	CHECK_EQ(f.size, 16);
	/* An ELF segment: 11 bytes from offset 5, zero-filled to 32 bytes. */
	CHECK_EQ(boot_file_load(&f, &mem, 5, 11, RAM + 0x100, 32), 0);
	CHECK(memcmp(ram + 0x100, "kernel body", 11) == 0);
	CHECK_EQ(ram[0x100 + 11], 0);
	CHECK_EQ(ram[0x100 + 31], 0);
	CHECK_EQ(ram[0x100 + 32], 0xff);
	CHECK_EQ(boot_file_load(&f, &mem, 0, 16, RAM + 0xfff8, 16), -ENOSPC); /* runs off the end of RAM */
	CHECK_EQ(boot_file_load(&f, &mem, 8, 16, RAM, 16), -EIO); /* the file is shorter than that */
	boot_file_close(&f);
	boot_file_close(&f); /* twice is fine */
	memory_fini(&mem);
	unlink(kernel);
	unlink(other);
}

/* arm64's map: no two regions overlap, and the enum and the table agree. */
static void test_layout(void)
{
	int a, b;
	CHECK(!layout_find_overlap(arm64_layout, ARM64_REGION_COUNT, NULL, &a, &b));
	CHECK_EQ(arm64_layout[ARM64_REGION_UART].base, ARM64_UART_BASE);
	CHECK(!strcmp(arm64_layout[ARM64_REGION_RAM].name, "ram"));
	const struct layout_region clash[2] = {{"a", 0x1000, 0x1000}, {"b", 0x1fff, 1}};
	CHECK(layout_find_overlap(clash, 2, NULL, &a, &b));
	CHECK(a == 0 && b == 1);
}

int main(void)
{
	char dir[] = "/tmp/roam-boot-file-XXXXXX";
	CHECK(mkdtemp(dir) != NULL);
	test_boot_file(dir);
	test_layout();
	CHECK_EQ(rmdir(dir), 0);
	return check_exit();
}
