/*
 * Unit test of the LoongArch memory map and direct boot without KVM: the const layout (no overlaps, everything the
 * arch.h regions promise), the RAM banks, kernel image parsing (ELF vmlinux, EFI image, and every refusal), boot
 * placement, and the whole load into guest memory from temporary files: kernel segments and bss, initrd, command
 * line, secondary-vCPU stub, device tree and EFI tables where the plan says, and the boot registers.
 */
#include "arch.h"
#include "arch/loongarch/boot_load.h"
#include "arch/loongarch/efi.h"
#include "check.h"
#include "core/memory.h"
#include "devices/device.h"
#include "fdt/fdt_builder.h"

#include <errno.h>
#include <fcntl.h>
#include <libfdt.h>
#include <stdlib.h>
#include <unistd.h>

#define MiB (1ull << 20)

/* Runs `fn` with stderr going to a buffer; returns the text (static, NUL-terminated). */
static const char *captured(void (*fn)(void *), void *arg)
{
	static char text[4096];
	char path[] = "/tmp/roam-test-XXXXXX";
	int fd = mkstemp(path), saved = dup(2);
	fflush(stderr);
	dup2(fd, 2);
	fn(arg);
	fflush(stderr);
	dup2(saved, 2);
	close(saved);
	ssize_t n = pread(fd, text, sizeof(text) - 1, 0);
	text[n > 0 ? n : 0] = '\0';
	close(fd);
	unlink(path);
	return text;
}

static char *write_temp(const void *data, size_t len)
{
	char *path = strdup("/tmp/roam-kernel-XXXXXX");
	int fd = mkstemp(path);
	CHECK(fd >= 0 && write(fd, data, len) == (ssize_t)len);
	close(fd);
	return path;
}

static void put(uint8_t *p, uint64_t v, int n)
{
	for (int i = 0; i < n; i++)
		p[i] = (uint8_t)(v >> (8 * i));
}

/* An ELF vmlinux with one PT_LOAD segment at 0x1000 in the file; addresses are given direct-mapped (0x9000...). */
static size_t make_elf(uint8_t *buf, uint64_t entry, uint64_t paddr, uint64_t filesz, uint64_t memsz)
{
	memset(buf, 0, 0x1000 + filesz);
	memcpy(buf, "\177ELF", 4);
	buf[4] = 2, buf[5] = 1, buf[6] = 1;
	put(buf + 16, 2, 2);
	put(buf + 18, 258, 2);
	put(buf + 20, 1, 4);
	put(buf + 24, 0x9000000000000000ull | entry, 8);
	put(buf + 32, 64, 8);
	put(buf + 52, 64, 2);
	put(buf + 54, 56, 2);
	put(buf + 56, 2, 2);
	uint8_t *ph = buf + 64;
	put(ph, 1, 4); /* PT_LOAD */
	put(ph + 8, 0x1000, 8);
	put(ph + 16, 0x9000000000000000ull | paddr, 8);
	put(ph + 24, 0x9000000000000000ull | paddr, 8);
	put(ph + 32, filesz, 8);
	put(ph + 40, memsz, 8);
	put(ph + 56, 4, 4); /* a PT_NOTE, skipped */
	for (uint64_t i = 0; i < filesz; i++)
		buf[0x1000 + i] = (uint8_t)(i * 7 + 1);
	return 0x1000 + filesz;
}

static size_t make_efi(uint8_t *buf, uint64_t entry, uint64_t size, uint64_t load, uint64_t filesz)
{
	memset(buf, 0, filesz);
	buf[0] = 'M', buf[1] = 'Z';
	put(buf + 8, 0x9000000000000000ull | entry, 8);
	put(buf + 16, size, 8);
	put(buf + 24, load, 8);
	put(buf + 0x38, LOONGARCH_LINUX_PE_MAGIC, 4);
	for (uint64_t i = 64; i < filesz; i++)
		buf[i] = (uint8_t)i;
	return filesz;
}

/* The one overlap the map has on purpose. */
static int bootinfo_in_ram(int i, int k)
{
	return i == LOONGARCH_REGION_LOWRAM && k == LOONGARCH_REGION_BOOTINFO;
}

static void test_layout(void)
{
	const struct layout_region *l = loongarch_layout;
	int first, second;
	if (layout_find_overlap(l, LOONGARCH_REGION_COUNT, bootinfo_in_ram, &first, &second))
		fprintf(stderr, "regions %s and %s overlap\n", l[first].name, l[second].name);
	CHECK(!layout_find_overlap(l, LOONGARCH_REGION_COUNT, bootinfo_in_ram, &first, &second));
	CHECK(
	    layout_find_overlap(l, LOONGARCH_REGION_COUNT, NULL, &first, &second)); /* the boot info lies in low RAM */
	CHECK(first == LOONGARCH_REGION_LOWRAM && second == LOONGARCH_REGION_BOOTINFO);
	/* The boot info lives in the first 2 MiB, which Linux reserves; the kernel loads above. */
	CHECK(LOONGARCH_BOOTINFO_BASE + LOONGARCH_BOOTINFO_SIZE <= LOONGARCH_KERNEL_MIN_BASE);
	CHECK(LOONGARCH_BOOT_STUB_OFFSET + LOONGARCH_BOOT_STUB_MAX <= LOONGARCH_BOOTINFO_SIZE);
	CHECK(LOONGARCH_BOOT_EFI_OFFSET >= LOONGARCH_BOOT_FDT_OFFSET + LOONGARCH_BOOT_FDT_MAX);
	/* arch.h's regions are the table's. */
	CHECK_EQ(arch_region(VM_REGION_RAM)->base, l[LOONGARCH_REGION_LOWRAM].base);
	CHECK_EQ(arch_region(VM_REGION_RAM_HIGH)->base, l[LOONGARCH_REGION_HIGHRAM].base);
	CHECK_EQ(arch_region(VM_REGION_UART)->base, l[LOONGARCH_REGION_UART].base);
	CHECK_EQ(arch_region(VM_REGION_VIRTIO)->size, l[LOONGARCH_REGION_VIRTIO].size);
	CHECK_EQ(arch_region(VM_REGION_PVLOCK)->base, l[LOONGARCH_REGION_PVLOCK].base);
	CHECK_EQ(arch_region(VM_REGION_UCALL)->base, l[LOONGARCH_REGION_UCALL].base);
	/* Interrupt pins fit the PCH-PIC's 32 inputs; one virtio pin per 0x200 transport. */
	CHECK(arch_region(VM_REGION_UART)->irq < LOONGARCH_PCH_PIC_PINS);
	CHECK_EQ(LOONGARCH_VIRTIO_SIZE / 0x200, LOONGARCH_VIRTIO_PIN_COUNT);
	CHECK(LOONGARCH_VIRTIO_PIN_FIRST + LOONGARCH_VIRTIO_PIN_COUNT <= LOONGARCH_PCH_PIC_PINS);
	uint32_t cells[3];
	CHECK_EQ(arch_fdt_irq_cells(5, cells), 2);
	CHECK(cells[0] == 5 && cells[1] == 4);
	CHECK_EQ(arch_fdt_edge_irq_cells(17, cells), 2);
	CHECK(cells[0] == 17 && cells[1] == 1);
	CHECK_EQ(arch_irqfd_gsi(17), 17);
	CHECK_EQ(arch_max_vcpus(), 256);
	CHECK(!strcmp(arch_name(), "loongarch64"));

	struct loongarch_ram_bank b[2];
	CHECK_EQ(loongarch_ram_banks(0, b), 0);
	CHECK_EQ(loongarch_ram_banks(64 * MiB, b), 1);
	CHECK(b[0].base == 0 && b[0].size == 64 * MiB);
	CHECK_EQ(loongarch_ram_banks(256 * MiB, b), 1);
	CHECK_EQ(loongarch_ram_banks(1024 * MiB, b), 2);
	CHECK(b[0].size == 256 * MiB && b[1].base == 0x80000000 && b[1].size == 768 * MiB);
	CHECK_EQ(loongarch_ram_banks(LOONGARCH_LOWRAM_SIZE + LOONGARCH_HIGHRAM_MAX_SIZE + 1, b), 0);
}

static void test_parse(void)
{
	static uint8_t buf[0x3000];
	struct loongarch_kernel k;
	const char *why = "";
	size_t n = make_elf(buf, 0x200040, 0x200000, 0x800, 0x1800);
	CHECK_EQ(loongarch_kernel_parse(buf, n, n, &k, &why), 0);
	CHECK(k.format == LOONGARCH_KERNEL_ELF && k.nr_segments == 1);
	CHECK(k.entry == 0x200040 && k.start == 0x200000 && k.end == 0x201800);
	CHECK(k.segments[0].file_offset == 0x1000 && k.segments[0].file_size == 0x800);
	/* refusals */
	CHECK_EQ(loongarch_kernel_parse(buf, n, n - 1, &k, &why), -EINVAL);
	CHECK_CONTAINS(why, "past the end of the file");
	make_elf(buf, 0x300000, 0x200000, 0x800, 0x1800);
	CHECK_EQ(loongarch_kernel_parse(buf, n, n, &k, &why), -EINVAL);
	CHECK_CONTAINS(why, "entry point lies outside");
	make_elf(buf, 0x200040, 0x200000, 0x800, 0x1800);
	put(buf + 18, 183, 2); /* aarch64 */
	CHECK_EQ(loongarch_kernel_parse(buf, n, n, &k, &why), -EINVAL);
	CHECK_CONTAINS(why, "for another machine");
	put(buf + 18, 258, 2);
	buf[4] = 1;
	CHECK_EQ(loongarch_kernel_parse(buf, n, n, &k, &why), -EINVAL);
	CHECK_CONTAINS(why, "32-bit or big-endian");
	buf[4] = 2;
	CHECK_EQ(loongarch_kernel_parse(buf, 100, n, &k, &why), -EINVAL);
	CHECK_CONTAINS(why, "program headers");
	put(buf + 64, 4, 4); /* no PT_LOAD left */
	CHECK_EQ(loongarch_kernel_parse(buf, n, n, &k, &why), -EINVAL);
	CHECK_CONTAINS(why, "no loadable segment");

	n = make_efi(buf, 0x200100, 0x2800, 0x200000, 0x2000);
	CHECK_EQ(loongarch_kernel_parse(buf, n, n, &k, &why), 0);
	CHECK(k.format == LOONGARCH_KERNEL_EFI && k.entry == 0x200100 && k.start == 0x200000 && k.end == 0x202800);
	CHECK(k.segments[0].file_size == 0x2000 && k.segments[0].mem_size == 0x2800);
	memcpy(buf + 4, "zimg", 4);
	CHECK_EQ(loongarch_kernel_parse(buf, n, n, &k, &why), -EINVAL);
	CHECK_CONTAINS(why, "EFI zboot image");
	memset(buf + 4, 0, 4);
	put(buf + 0x38, 0x12345678, 4);
	CHECK_EQ(loongarch_kernel_parse(buf, n, n, &k, &why), -EINVAL);
	CHECK_CONTAINS(why, "without the LoongArch Linux image header");
	buf[0] = 0x1f, buf[1] = 0x8b;
	CHECK_EQ(loongarch_kernel_parse(buf, n, n, &k, &why), -EINVAL);
	CHECK_CONTAINS(why, "gzip-compressed");
	CHECK_EQ(loongarch_kernel_parse((const uint8_t *)"hello", 5, 5, &k, &why), -EINVAL);
	CHECK_CONTAINS(why, "neither an ELF vmlinux nor an EFI");
	CHECK_EQ(loongarch_kernel_parse(buf, 0, 0, &k, &why), -EINVAL);
}

static void test_plan(void)
{
	struct loongarch_ram_bank b[2];
	struct loongarch_kernel k = {.entry = 0x200000, .start = 0x200000, .end = 0x2200000, .nr_segments = 1};
	struct loongarch_boot_plan plan;
	const char *why = "";
	int nb = loongarch_ram_banks(256 * MiB, b);
	CHECK_EQ(loongarch_plan_boot(b, nb, &k, 0, &plan, &why), 0);
	CHECK_EQ(plan.initrd_gpa, 0);
	CHECK_EQ(plan.fdt_gpa, 0x100000);
	CHECK_EQ(plan.efi_gpa, 0x110000);
	CHECK_EQ(plan.cmdline_gpa, 0x120000);
	CHECK_EQ(plan.stub_gpa, 0x121000);
	/* An initrd goes at the top of low RAM, 64 KiB aligned. */
	CHECK_EQ(loongarch_plan_boot(b, nb, &k, 20 * MiB + 5, &plan, &why), 0);
	CHECK_EQ(plan.initrd_gpa, (256 * MiB - 20 * MiB - 5) & ~0xffffull);
	/* Too large for low RAM beside the kernel and its slack: high RAM when there is some, else an error. */
	CHECK_EQ(loongarch_plan_boot(b, nb, &k, 230 * MiB, &plan, &why), -ENOSPC);
	CHECK_CONTAINS(why, "no room for the initrd");
	nb = loongarch_ram_banks(1024 * MiB, b);
	CHECK_EQ(loongarch_plan_boot(b, nb, &k, 230 * MiB, &plan, &why), 0);
	CHECK_EQ(plan.initrd_gpa, 0x80000000);
	/* The kernel must load above 2 MiB and inside RAM. */
	k.start = 0x100000;
	CHECK_EQ(loongarch_plan_boot(b, nb, &k, 0, &plan, &why), -EINVAL);
	CHECK_CONTAINS(why, "below 2 MiB");
	k.start = 0x0fff0000, k.end = 0x10010000;
	CHECK_EQ(loongarch_plan_boot(b, nb, &k, 0, &plan, &why), -ENOSPC);
	CHECK_CONTAINS(why, "outside guest RAM");
	/* RAM that does not reach the boot-info window. */
	b[0].size = 0x180000;
	CHECK_EQ(loongarch_plan_boot(b, 1, &k, 0, &plan, &why), -ENOSPC);
	CHECK_CONTAINS(why, "boot-info window");
}

struct prepare_case {
	struct loongarch_boot_inputs in;
	struct guest_memory *mem;
	struct loongarch_boot_result out;
	int ret;
};

static void run_prepare(void *arg)
{
	struct prepare_case *c = arg;
	c->ret = loongarch_boot_prepare(&c->in, c->mem, &c->out);
}

static void run_check(void *path)
{
	loongarch_kernel_check_file(path);
}

static void add_devices(void *opaque, struct fdt_builder *b)
{
	(void)opaque;
	fdtb_begin_node(b, "test-device");
	fdtb_end_node(b);
}

static void test_prepare(void)
{
	static uint8_t kbuf[0x11000], ibuf[0x5003];
	size_t kn = make_elf(kbuf, 0x200040, 0x200000, 0x10000, 0x18000);
	for (size_t i = 0; i < sizeof(ibuf); i++)
		ibuf[i] = (uint8_t)(i ^ 0x5a);
	char *kernel = write_temp(kbuf, kn), *initrd = write_temp(ibuf, sizeof(ibuf));
	struct guest_memory mem;
	memory_init(&mem);
	CHECK(memory_add_slot(&mem, "ram", 0, 256 * MiB, false) >= 0);
	CHECK(memory_add_slot(&mem, "ram-high", 0x80000000, 256 * MiB, false) >= 0);
	/* Garbage where the bss goes: the load must zero it. */
	memset(memory_gpa_to_host(&mem, 0x210000, 0x8000), 0xee, 0x8000);
	struct prepare_case c = {.in = {kernel,
					initrd,
					"console=ttyS0 root=/dev/vda",
					0,
					{{0}},
					2,
					0x1e100000,
					0x10000,
					add_devices,
					NULL,
					NULL},
				 .mem = &mem};
	c.in.nr_banks = loongarch_ram_banks(512 * MiB, c.in.banks);
	const char *err = captured(run_prepare, &c);
	CHECK_EQ(c.ret, 0);
	CHECK(!err[0]);
	CHECK_EQ(c.out.pc, 0x200040);
	CHECK_EQ(c.out.a0, 1);
	CHECK_EQ(c.out.a1, c.out.plan.cmdline_gpa);
	CHECK_EQ(c.out.a2, c.out.plan.efi_gpa);
	CHECK_EQ(c.out.secondary_pc, c.out.plan.stub_gpa);
	CHECK(!memcmp(memory_gpa_to_host(&mem, 0x200000, 0x10000), kbuf + 0x1000, 0x10000));
	uint8_t zero[0x8000] = {0};
	CHECK(!memcmp(memory_gpa_to_host(&mem, 0x210000, 0x8000), zero, 0x8000));
	CHECK(!memcmp(memory_gpa_to_host(&mem, c.out.plan.initrd_gpa, sizeof(ibuf)), ibuf, sizeof(ibuf)));
	CHECK(!strcmp(memory_gpa_to_host(&mem, c.out.plan.cmdline_gpa, 1), "console=ttyS0 root=/dev/vda"));
	size_t stub_len = (size_t)(loongarch_secondary_stub_end - loongarch_secondary_stub);
	CHECK(stub_len >= 16 && stub_len % 4 == 0);
	CHECK(!memcmp(memory_gpa_to_host(&mem, c.out.plan.stub_gpa, stub_len), loongarch_secondary_stub, stub_len));
	const void *fdt = memory_gpa_to_host(&mem, c.out.plan.fdt_gpa, LOONGARCH_BOOT_FDT_MAX);
	CHECK_EQ(fdt_check_header(fdt), 0);
	int chosen = fdt_path_offset(fdt, "/chosen");
	CHECK(!strcmp(fdt_getprop(fdt, chosen, "bootargs", NULL), "console=ttyS0 root=/dev/vda"));
	CHECK(fdt_path_offset(fdt, "/test-device") > 0);
	CHECK(fdt_path_offset(fdt, "/cpus/cpu@1") > 0);
	const uint8_t *efi = memory_gpa_to_host(&mem, c.out.plan.efi_gpa, EFI_SYSTEM_TABLE_SIZE);
	CHECK(!memcmp(efi, "IBI SYST", 8));
	CHECK_EQ(efi[104], 3); /* memory map, device tree, initrd */

	/* --dump-dtb: the same blob in a file; an unwritable path is one line naming it. */
	char dump[] = "/tmp/roam-la-dtb-XXXXXX";
	int dfd = mkstemp(dump);
	CHECK(dfd >= 0);
	c.in.dump_dtb_path = dump;
	err = captured(run_prepare, &c);
	CHECK_EQ(c.ret, 0);
	static uint8_t dumped[LOONGARCH_BOOT_FDT_MAX];
	close(dfd); /* the file was replaced (written atomically): read the new one */
	dfd = open(dump, O_RDONLY);
	ssize_t dn = pread(dfd, dumped, sizeof(dumped), 0);
	CHECK(dn > 0 && (size_t)dn == fdt_totalsize(fdt));
	CHECK(dn > 0 && !memcmp(dumped, fdt, (size_t)dn));
	close(dfd);
	unlink(dump);
	c.in.dump_dtb_path = "/nonexistent/dir/x.dtb";
	CHECK_CONTAINS(captured(run_prepare, &c),
		       "--dump-dtb /nonexistent/dir/x.dtb: cannot write the device tree: No such file or directory");
	CHECK_EQ(c.ret, -ENOENT);
	c.in.dump_dtb_path = NULL;

	/* Failures name the file and the reason. */
	c.in.kernel_path = "/nonexistent/vmlinux";
	CHECK_CONTAINS(captured(run_prepare, &c), "kernel /nonexistent/vmlinux: No such file or directory");
	CHECK_EQ(c.ret, -ENOENT);
	c.in.kernel_path = "/tmp";
	CHECK_CONTAINS(captured(run_prepare, &c), "kernel /tmp: not a regular file");
	c.in.kernel_path = initrd;
	CHECK_CONTAINS(captured(run_prepare, &c), ": not a LoongArch kernel");
	c.in.kernel_path = kernel;
	c.in.initrd_path = "/nonexistent/initrd";
	CHECK_CONTAINS(captured(run_prepare, &c), "initrd /nonexistent/initrd: No such file or directory");
	c.in.initrd_path = NULL;
	static char long_cmdline[5000];
	memset(long_cmdline, 'x', sizeof(long_cmdline) - 1);
	c.in.cmdline = long_cmdline;
	CHECK_CONTAINS(captured(run_prepare, &c), "--cmdline: 4999 bytes, a LoongArch kernel takes at most 4095");
	CHECK_EQ(c.ret, -E2BIG);
	c.in.cmdline = "";
	c.in.nr_banks = loongarch_ram_banks(2 * MiB, c.in.banks);
	CHECK_CONTAINS(captured(run_prepare, &c),
		       "--mem 2 MiB: the kernel's load address and size lie outside guest RAM");
	CHECK_EQ(loongarch_kernel_check_file(kernel), 0);
	CHECK_CONTAINS(captured(run_check, "/nonexistent"), "kernel /nonexistent: No such file or directory");
	memory_fini(&mem);
	unlink(kernel);
	unlink(initrd);
	free(kernel);
	free(initrd);
}

int main(void)
{
	test_layout();
	test_parse();
	test_plan();
	test_prepare();
	return check_exit();
}
