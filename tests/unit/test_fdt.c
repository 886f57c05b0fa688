/*
 * Unit test of the device tree: builds the arm64 tree of a 2-vCPU VM with an initrd and the UART's own node, and
 * writes it to argv[1]; compare_dts.cmake decompiles it with dtc and compares it with golden/arm64-2cpu.dts. Also
 * checks that the builder keeps and reports its first error.
 */
#include "arch/arm64/fdt.h"
#include "check.h"
#include "core/vm.h"
#include "devices/device.h"
#include "fdt/fdt_builder.h"

#include <errno.h>
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

int main(int argc, char **argv)
{
	if (argc != 2) {
		fprintf(stderr, "usage: test_fdt OUT.dtb\n");
		return 2;
	}
	static struct vm vm; /* large; only the bus and console fields are used */
	bus_init(&vm.mmio);
	void *uart = NULL;
	CHECK_EQ(uart_device.create(&vm, &uart), 0);

	const uint64_t mpidr[2] = {arm64_vcpu_mpidr(0), arm64_vcpu_mpidr(1)};
	CHECK_EQ(mpidr[1], 0x80000001);
	CHECK_EQ(arm64_vcpu_mpidr(17), 0x80000101);
	struct arm64_fdt_params params = {
	    .ram_base = 0x40000000,
	    .ram_size = 256ull << 20,
	    .nr_cpus = 2,
	    .mpidr = mpidr,
	    .cmdline = "console=ttyS0 quiet",
	    .initrd_start = 0x4f000000,
	    .initrd_end = 0x4f123456,
	    .stdout_path = "/uart@9000000",
	    .pvlock_base = 0x9100000,
	    .pvlock_size = 0x10000,
	    .add_devices = add_uart,
	    .opaque = uart,
	};
	struct fdt_builder b;
	CHECK_EQ(fdt_builder_init(&b, 64 * 1024), 0);
	CHECK_EQ(arm64_fdt_build(&b, &params), 0);
	FILE *out = fopen(argv[1], "wb");
	CHECK(out != NULL);
	if (out) {
		CHECK_EQ(fwrite(b.blob, 1, fdt_builder_blob_size(&b), out), fdt_builder_blob_size(&b));
		fclose(out);
	}
	fdt_builder_fini(&b);

	/* A tree that does not fit keeps the first error and names where it happened. */
	CHECK_EQ(fdt_builder_init(&b, 256), 0);
	CHECK_EQ(arm64_fdt_build(&b, &params), -EINVAL);
	CHECK(b.err != 0);
	CHECK(b.err_where[0] != '\0');
	fdt_builder_fini(&b);
	uart_device.destroy(uart);
	return check_exit();
}
