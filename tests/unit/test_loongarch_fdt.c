/*
 * Unit test of the LoongArch device tree: builds the tree of a 2-vCPU VM with 512 MiB (both RAM banks), an initrd,
 * the PV-lock reservation and the UART's own node, and writes it to argv[1]; compare_dts.cmake decompiles it with
 * dtc and compares it with golden/loongarch-2cpu.dts. Also checks with libfdt what Linux relies on (the interrupt
 * tree, the UART's interrupt specifier) and that a tree too large for its buffer reports its first error.
 */
#include "arch.h"
#include "arch/loongarch/fdt.h"
#include "check.h"
#include "core/vm.h"
#include "devices/device.h"
#include "fdt/fdt_builder.h"

#include <errno.h>
#include <libfdt.h>
#include <stdlib.h>

extern const struct device_desc uart_device;

/* The UART raises its line through the VM; the tree does not need it. */
int vm_irq_line(struct vm *vm, uint32_t irq, bool level)
{
	(void)vm;
	(void)irq;
	(void)level;
	return 0;
}

/* The UART's console output goes through the VM; the tree does not need it. */
void vm_console_output(struct vm *vm, uint8_t byte)
{
	(void)vm;
	(void)byte;
}

static void add_uart(void *opaque, struct fdt_builder *b)
{
	uart_device.fdt(opaque, b);
}

static uint32_t prop_u32(const void *fdt, int node, const char *name, int index)
{
	int len;
	const fdt32_t *p = fdt_getprop(fdt, node, name, &len);
	return p && len >= 4 * (index + 1) ? fdt32_to_cpu(p[index]) : 0xdeadbeef;
}

/* The interrupt tree Linux builds: uart -> PCH-PIC -> EIOINTC -> cpuic, and cpuic is the root (its own parent). */
static void check_interrupt_tree(const void *fdt)
{
	int root = 0, uart = fdt_path_offset(fdt, "/uart@1fe001e0"), pic = fdt_path_offset(fdt, "/platic@10000000");
	int eio = fdt_path_offset(fdt, "/eiointc@1400"), cpuic = fdt_path_offset(fdt, "/cpuic");
	CHECK(uart > 0 && pic > 0 && eio > 0 && cpuic > 0);
	CHECK_EQ(prop_u32(fdt, root, "interrupt-parent", 0), fdt_get_phandle(fdt, pic));
	CHECK_EQ(prop_u32(fdt, pic, "interrupt-parent", 0), fdt_get_phandle(fdt, eio));
	CHECK_EQ(prop_u32(fdt, eio, "interrupt-parent", 0), fdt_get_phandle(fdt, cpuic));
	CHECK_EQ(prop_u32(fdt, cpuic, "interrupt-parent", 0), fdt_get_phandle(fdt, cpuic));
	CHECK_EQ(prop_u32(fdt, eio, "interrupts", 0), 3);
	CHECK_EQ(prop_u32(fdt, pic, "#interrupt-cells", 0), 2);
	CHECK_EQ(prop_u32(fdt, uart, "interrupts", 0), arch_region(VM_REGION_UART)->irq);
	CHECK_EQ(prop_u32(fdt, uart, "interrupts", 1), 4); /* level, high */
	CHECK_EQ(prop_u32(fdt, pic, "reg", 1), 0x10000000);
}

int main(int argc, char **argv)
{
	if (argc != 2) {
		fprintf(stderr, "usage: test_loongarch_fdt OUT.dtb\n");
		return 2;
	}
	static struct vm vm; /* large; only the bus and console fields are used */
	bus_init(&vm.mmio);
	void *uart = NULL;
	CHECK_EQ(uart_device.create(&vm, &uart), 0);

	struct loongarch_fdt_params params = {
	    .cmdline = "console=ttyS0 quiet",
	    .nr_cpus = 2,
	    .initrd_start = 0x0e000000,
	    .initrd_end = 0x0e123456,
	    .stdout_path = "/uart@1fe001e0",
	    .pvlock_base = arch_region(VM_REGION_PVLOCK)->base,
	    .pvlock_size = 0x10000,
	    .add_devices = add_uart,
	    .opaque = uart,
	};
	params.nr_banks = loongarch_ram_banks(512ull << 20, params.banks);
	CHECK_EQ(params.nr_banks, 2);
	struct fdt_builder b;
	CHECK_EQ(fdt_builder_init(&b, 64 * 1024), 0);
	CHECK_EQ(loongarch_fdt_build(&b, &params), 0);
	CHECK_EQ(fdt_check_header(b.blob), 0);
	check_interrupt_tree(b.blob);
	FILE *out = fopen(argv[1], "wb");
	CHECK(out != NULL);
	if (out) {
		CHECK_EQ(fwrite(b.blob, 1, fdt_builder_blob_size(&b), out), fdt_builder_blob_size(&b));
		fclose(out);
	}
	fdt_builder_fini(&b);

	/* One bank, no initrd, no PV lock: no high memory node, no initrd properties, no reserved-memory. */
	params.nr_banks = loongarch_ram_banks(128ull << 20, params.banks);
	params.initrd_start = 0;
	params.pvlock_size = 0;
	CHECK_EQ(fdt_builder_init(&b, 64 * 1024), 0);
	CHECK_EQ(loongarch_fdt_build(&b, &params), 0);
	CHECK(fdt_path_offset(b.blob, "/memory@0") > 0);
	CHECK(fdt_path_offset(b.blob, "/memory@80000000") < 0);
	CHECK(fdt_path_offset(b.blob, "/reserved-memory") < 0);
	CHECK(fdt_getprop(b.blob, fdt_path_offset(b.blob, "/chosen"), "linux,initrd-start", NULL) == NULL);
	fdt_builder_fini(&b);

	/* A tree that does not fit keeps the first error and names where it happened. */
	CHECK_EQ(fdt_builder_init(&b, 256), 0);
	CHECK_EQ(loongarch_fdt_build(&b, &params), -EINVAL);
	CHECK(b.err != 0);
	CHECK(b.err_where[0] != '\0');
	fdt_builder_fini(&b);
	uart_device.destroy(uart);
	return check_exit();
}
