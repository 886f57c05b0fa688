/*
 * arm64 direct kernel boot: load the Image (by its header), the initrd and the device tree into guest RAM per
 * Documentation/arch/arm64/booting.rst, and point the boot vCPU at the kernel with x0 = device tree address.
 */
#include "arch.h"
#include "arm64.h"
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
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

struct boot_file {
	const char *what; /* "kernel", "initrd" */
	const char *path;
	int fd;
	uint64_t size;
};

static int boot_file_open(struct boot_file *f, const char *what, const char *path)
{
	struct stat st;
	f->what = what;
	f->path = path;
	f->fd = open(path, O_RDONLY | O_CLOEXEC);
	if (f->fd < 0)
		return log_errno(-errno, "%s %s: %s", what, path, strerror(errno));
	if (fstat(f->fd, &st) < 0 || !S_ISREG(st.st_mode)) {
		close(f->fd);
		f->fd = -1;
		return log_errno(-EINVAL, "%s %s: not a regular file", what, path);
	}
	f->size = (uint64_t)st.st_size;
	return 0;
}

static int boot_file_load(struct boot_file *f, struct vm *vm, uint64_t gpa)
{
	uint8_t *dst = memory_gpa_to_host(&vm->mem, gpa, f->size);
	if (!dst)
		return log_errno(-ENOSPC, "%s %s: does not fit in guest RAM at %#llx", f->what, f->path,
				 (unsigned long long)gpa);
	for (uint64_t done = 0; done < f->size;) {
		ssize_t n = pread(f->fd, dst + done, f->size - done, (off_t)done);
		if (n <= 0)
			return log_errno(n < 0 ? -errno : -EIO, "%s %s: read failed: %s", f->what, f->path,
					 n < 0 ? strerror(errno) : "file shrank");
		done += (uint64_t)n;
	}
	return 0;
}

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
		ret = memory_write(&vm->mem, plan->dtb_gpa, b.blob, fdt_builder_blob_size(&b));
	fdt_builder_fini(&b);
	return ret;
}

static int boot_read_image_header(struct boot_file *kernel, struct arm64_image *img)
{
	uint8_t header[ARM64_IMAGE_HEADER_SIZE];
	const char *why;
	ssize_t n = pread(kernel->fd, header, sizeof(header), 0);
	int ret = arm64_image_parse(header, n < 0 ? 0 : (size_t)n, kernel->size, img, &why);
	if (ret)
		log_error("kernel %s: %s", kernel->path, why);
	return ret;
}

int arch_check_kernel(const char *path)
{
	struct boot_file kernel;
	struct arm64_image img;
	int ret = boot_file_open(&kernel, "kernel", path);
	if (ret)
		return ret;
	ret = boot_read_image_header(&kernel, &img);
	close(kernel.fd);
	return ret;
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
	ret = boot_read_image_header(&kernel, &img);
	if (ret)
		goto out;
	ret = arm64_plan_boot(arch_region(VM_REGION_RAM)->base, vm->cfg.ram_size, &img,
			      initrd.fd >= 0 ? initrd.size : 0, &plan, &why);
	if (ret) {
		log_error("--mem %llu MiB: %s", (unsigned long long)(vm->cfg.ram_size >> 20), why);
		goto out;
	}
	ret = boot_file_load(&kernel, vm, plan.kernel_gpa);
	if (!ret && initrd.fd >= 0)
		ret = boot_file_load(&initrd, vm, plan.initrd_gpa);
	if (!ret)
		ret = boot_write_fdt(vm, &plan, initrd.fd >= 0 ? initrd.size : 0);
	if (!ret)
		ret = arm64_set_reg(&vm->vcpus[0], arm64_core_reg_pc(), plan.kernel_gpa, "PC");
	if (!ret)
		ret = arm64_set_reg(&vm->vcpus[0], arm64_core_reg_x(0), plan.dtb_gpa, "X0");
out:
	if (kernel.fd >= 0)
		close(kernel.fd);
	if (initrd.fd >= 0)
		close(initrd.fd);
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
