/*
 * arm64 direct kernel boot: load the Image (by its header), the initrd and the device tree into guest RAM per
 * Documentation/arch/arm64/booting.rst, and point the boot vCPU at the kernel with x0 = device tree address.
 */
#include "arch.h"
#include "arm64.h"
#include "core/boot_file.h"
#include "core/log.h"
#include "core/vcpu.h"
#include "core/vm.h"
#include "devices/device.h"
#include "fdt.h"
#include "fdt/fdt_builder.h"
#include "image.h"
#include "layout.h"
#include "pvlock/pvlock.h"
#include "smccc.h"

#include <errno.h>
#include <stdio.h>

static void boot_add_devices(void *opaque, struct fdt_builder *b)
{
	devices_fdt_all(opaque, b);
}

static int boot_write_fdt(struct vm *vm, const struct arm64_boot_plan *plan, uint64_t initrd_size)
{
	const struct vm_region_info *ram = arch_region(VM_REGION_RAM);
	uint64_t mpidr[ARM64_MAX_VCPUS];
	char stdout_path[32];
	for (int i = 0; i < vm->nr_vcpus; i++)
		mpidr[i] = vm->vcpus[i].arch->mpidr;
	snprintf(stdout_path, sizeof(stdout_path), "/uart@%llx", (unsigned long long)arch_region(VM_REGION_UART)->base);
	struct arm64_fdt_params params = {
	    .ram_base = ram->base,
	    .ram_size = vm->cfg.ram_size,
	    .nr_cpus = vm->nr_vcpus,
	    .mpidr = mpidr,
	    .cmdline = vm->cfg.cmdline,
	    .initrd_start = plan->initrd_gpa,
	    .initrd_end = plan->initrd_gpa + initrd_size,
	    .stdout_path = stdout_path,
	    .pvlock_base = vm->pvlock ? vm->pvlock->gpa : 0,
	    .pvlock_size = vm->pvlock ? vm->pvlock->size : 0,
	    .add_devices = boot_add_devices,
	    .opaque = vm,
	};
	struct fdt_builder b;
	if (fdt_builder_init(&b, 64 * 1024) < 0)
		return -ENOMEM;
	int ret = arm64_fdt_build(&b, &params);
	if (!ret)
		ret = boot_place_dtb(&vm->mem, plan->dtb_gpa, b.blob, fdt_builder_blob_size(&b), vm->cfg.dump_dtb_path);
	fdt_builder_fini(&b);
	return ret;
}

static int boot_parse_image(const uint8_t *head, size_t len, uint64_t size, void *img, const char **why)
{
	return arm64_image_parse(head, len, size, img, why);
}

int arch_check_kernel(const char *path)
{
	struct arm64_image img;
	return boot_kernel_check(path, ARM64_IMAGE_HEADER_SIZE, boot_parse_image, &img);
}

/* Loads kernel, initrd and device tree and points vCPU 0 at the kernel. */
static int boot_load_guest(struct vm *vm)
{
	struct boot_file kernel = {.fd = -1}, initrd = {.fd = -1};
	struct arm64_image img;
	struct arm64_boot_plan plan;
	const char *why;

	int ret = boot_file_open(&kernel, "kernel", vm->cfg.kernel_path);
	if (!ret && vm->cfg.initrd_path)
		ret = boot_file_open(&initrd, "initrd", vm->cfg.initrd_path);
	if (ret)
		goto out;
	ret = boot_kernel_parse(&kernel, ARM64_IMAGE_HEADER_SIZE, boot_parse_image, &img);
	if (ret)
		goto out;
	ret = arm64_plan_boot(arch_region(VM_REGION_RAM)->base, vm->cfg.ram_size, &img,
			      initrd.fd >= 0 ? initrd.size : 0, &plan, &why);
	if (ret) {
		log_error("--mem %llu MiB: %s", (unsigned long long)(vm->cfg.ram_size >> 20), why);
		goto out;
	}
	ret = boot_file_load(&kernel, &vm->mem, 0, kernel.size, plan.kernel_gpa, kernel.size);
	vm_phase_done(vm, "kernel");
	if (!ret && initrd.fd >= 0) {
		ret = boot_file_load(&initrd, &vm->mem, 0, initrd.size, plan.initrd_gpa, initrd.size);
		vm_phase_done(vm, "initrd");
	}
	if (!ret)
		ret = boot_write_fdt(vm, &plan, initrd.fd >= 0 ? initrd.size : 0);
	vm_phase_done(vm, "device tree");
	if (!ret)
		ret = arm64_set_reg(&vm->vcpus[0], arm64_core_reg_pc(), plan.kernel_gpa, "PC");
	if (!ret)
		ret = arm64_set_reg(&vm->vcpus[0], arm64_core_reg_x(0), plan.dtb_gpa, "X0");
out:
	boot_file_close(&kernel);
	boot_file_close(&initrd);
	return ret;
}

int arch_boot_setup(struct vm *vm)
{
	/* A restored VM (no kernel) gets its memory and registers from the snapshot instead. */
	int ret = vm->cfg.kernel_path ? boot_load_guest(vm) : 0;
	/* Firmware: the discovery services are visible only with a targets config; roam answers what it owns. The
	 * bitmaps are set on a restore too (the saved firmware registers then overwrite them with the same values). */
	if (!ret)
		ret = arm64_smccc_set_discover_bits(&vm->vcpus[0], vm->targets.config != NULL);
	if (!ret)
		ret = arm64_smccc_register_services(&vm->vcpus[0]);
	if (!ret)
		ret = arm64_smccc_install_filters(vm);
	return ret;
}
