/* LoongArch direct boot into guest memory: see boot_load.h. */
#include "boot_load.h"

#include "core/boot_file.h"
#include "core/log.h"
#include "core/memory.h"
#include "efi.h"
#include "fdt.h"
#include "fdt/fdt_builder.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int boot_parse_kernel(const uint8_t *head, size_t len, uint64_t size, void *k, const char **why)
{
	return loongarch_kernel_parse(head, len, size, k, why);
}

int loongarch_kernel_check_file(const char *path)
{
	struct loongarch_kernel k;
	return boot_kernel_check(path, LOONGARCH_IMAGE_HEAD_SIZE, boot_parse_kernel, &k);
}

static int boot_write_fdt(const struct loongarch_boot_inputs *in, const struct loongarch_boot_plan *plan,
			  struct guest_memory *mem)
{
	char stdout_path[32];
	snprintf(stdout_path, sizeof(stdout_path), "/uart@%llx", (unsigned long long)LOONGARCH_UART_BASE);
	struct loongarch_fdt_params params = {
	    .nr_banks = in->nr_banks,
	    .nr_cpus = in->nr_cpus,
	    .cmdline = in->cmdline,
	    .initrd_start = plan->initrd_gpa,
	    .initrd_end = plan->initrd_gpa + plan->initrd_size,
	    .stdout_path = stdout_path,
	    .pvlock_base = in->pvlock_base,
	    .pvlock_size = in->pvlock_size,
	    .add_devices = in->add_devices,
	    .opaque = in->opaque,
	};
	memcpy(params.banks, in->banks, sizeof(params.banks));
	struct fdt_builder b;
	if (fdt_builder_init(&b, LOONGARCH_BOOT_FDT_MAX) < 0)
		return -ENOMEM;
	int ret = loongarch_fdt_build(&b, &params);
	if (!ret)
		ret = boot_place_dtb(mem, plan->fdt_gpa, b.blob, fdt_builder_blob_size(&b), in->dump_dtb_path);
	fdt_builder_fini(&b);
	return ret;
}

static int boot_write_efi(const struct loongarch_boot_inputs *in, const struct loongarch_boot_plan *plan,
			  struct guest_memory *mem)
{
	struct loongarch_efi_params p = {
	    .table_gpa = plan->efi_gpa,
	    .nr_banks = in->nr_banks,
	    .nr_ranges = 3,
	    .ranges = {{LOONGARCH_BOOTINFO_BASE, LOONGARCH_BOOTINFO_SIZE, EFI_LOADER_DATA},
		       {plan->kernel_start, plan->kernel_end - plan->kernel_start, EFI_LOADER_CODE},
		       {plan->initrd_gpa, plan->initrd_size, EFI_LOADER_DATA}},
	    .fdt_gpa = plan->fdt_gpa,
	    .initrd_gpa = plan->initrd_gpa,
	    .initrd_size = plan->initrd_size,
	};
	memcpy(p.banks, in->banks, sizeof(p.banks));
	uint8_t *buf = calloc(1, LOONGARCH_BOOT_EFI_MAX);
	const char *why;
	if (!buf)
		return -ENOMEM;
	int len = loongarch_efi_build(&p, buf, LOONGARCH_BOOT_EFI_MAX, &why);
	int ret = len < 0 ? log_errno(len, "EFI system table: %s", why)
			  : memory_write(mem, plan->efi_gpa, buf, (uint64_t)len);
	free(buf);
	return ret;
}

static int boot_write_info(const struct loongarch_boot_inputs *in, const struct loongarch_boot_plan *plan,
			   struct guest_memory *mem)
{
	size_t cmdline_len = strlen(in->cmdline) + 1;
	if (cmdline_len > LOONGARCH_BOOT_CMDLINE_MAX)
		return log_errno(-E2BIG, "--cmdline: %zu bytes, a LoongArch kernel takes at most %d", cmdline_len - 1,
				 LOONGARCH_BOOT_CMDLINE_MAX - 1);
	size_t stub_len = (size_t)(loongarch_secondary_stub_end - loongarch_secondary_stub);
	if (stub_len > LOONGARCH_BOOT_STUB_MAX)
		return log_errno(-E2BIG, "the secondary-vCPU wait loop does not fit its window");
	int ret = memory_write(mem, plan->cmdline_gpa, in->cmdline, cmdline_len);
	if (!ret)
		ret = memory_write(mem, plan->stub_gpa, loongarch_secondary_stub, stub_len);
	if (!ret)
		ret = boot_write_fdt(in, plan, mem);
	if (!ret)
		ret = boot_write_efi(in, plan, mem);
	return ret;
}

int loongarch_boot_prepare(const struct loongarch_boot_inputs *in, struct guest_memory *mem,
			   struct loongarch_boot_result *out)
{
	struct boot_file kernel = {.fd = -1}, initrd = {.fd = -1};
	struct loongarch_kernel k;
	const char *why;
	memset(out, 0, sizeof(*out));
	int ret = boot_file_open(&kernel, "kernel", in->kernel_path);
	if (!ret && in->initrd_path)
		ret = boot_file_open(&initrd, "initrd", in->initrd_path);
	if (!ret)
		ret = boot_kernel_parse(&kernel, LOONGARCH_IMAGE_HEAD_SIZE, boot_parse_kernel, &k);
	if (!ret) {
		ret = loongarch_plan_boot(in->banks, in->nr_banks, &k, initrd.fd >= 0 ? initrd.size : 0, &out->plan,
					  &why);
		if (ret) {
			uint64_t ram = 0;
			for (int i = 0; i < in->nr_banks; i++)
				ram += in->banks[i].size;
			log_error("--mem %llu MiB: %s", (unsigned long long)(ram >> 20), why);
		}
	}
	for (int i = 0; !ret && i < k.nr_segments; i++)
		ret = boot_file_load(&kernel, mem, k.segments[i].file_offset, k.segments[i].file_size,
				     k.segments[i].paddr, k.segments[i].mem_size);
	if (!ret && initrd.fd >= 0 && initrd.size)
		ret = boot_file_load(&initrd, mem, 0, initrd.size, out->plan.initrd_gpa, initrd.size);
	if (!ret)
		ret = boot_write_info(in, &out->plan, mem);
	if (!ret) {
		out->pc = out->plan.entry;
		out->a0 = 1;
		out->a1 = out->plan.cmdline_gpa;
		out->a2 = out->plan.efi_gpa;
		out->secondary_pc = out->plan.stub_gpa;
	}
	boot_file_close(&kernel);
	boot_file_close(&initrd);
	return ret;
}
