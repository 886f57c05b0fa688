/*
 * LoongArch direct kernel boot on KVM: boot_load.c fills guest memory, then the boot vCPU gets PC = kernel entry and
 * a0 = 1 (EFI tables valid), a1 = command line, a2 = EFI system table (booting.rst); every other vCPU starts in the
 * secondary wait loop. Registers go in with KVM_SET_REGS. Then registers roam's hypercall services (hcall.h).
 */
#include "arch.h"
#include "boot_load.h"
#include "core/log.h"
#include "core/vcpu.h"
#include "core/vm.h"
#include "devices/device.h"
#include "hcall.h"
#include "loongarch.h"
#include "pvlock/pvlock.h"

#include <errno.h>
#include <linux/kvm.h>
#include <string.h>

int arch_check_kernel(const char *path)
{
	return loongarch_kernel_check_file(path);
}

static void boot_add_devices(void *opaque, struct fdt_builder *b)
{
	devices_fdt_all(opaque, b);
}

static int boot_set_pc(struct vcpu *vcpu, uint64_t pc, const uint64_t *args, int nr_args)
{
	struct kvm_regs regs;
	int ret = loongarch_get_regs(vcpu, &regs);
	if (ret)
		return ret;
	regs.pc = pc;
	for (int i = 0; i < nr_args; i++)
		regs.gpr[4 + i] = args[i]; /* a0.. are r4.. */
	return loongarch_set_regs(vcpu, &regs);
}

/* The direct boot: guest memory from the files, then the registers. */
static int boot_load_guest(struct vm *vm)
{
	struct loongarch_boot_inputs in = {
	    .kernel_path = vm->cfg.kernel_path,
	    .initrd_path = vm->cfg.initrd_path,
	    .cmdline = vm->cfg.cmdline,
	    .dump_dtb_path = vm->cfg.dump_dtb_path,
	    .nr_cpus = vm->nr_vcpus,
	    .pvlock_base = vm->pvlock ? vm->pvlock->gpa : 0,
	    .pvlock_size = vm->pvlock ? vm->pvlock->size : 0,
	    .add_devices = boot_add_devices,
	    .opaque = vm,
	};
	struct loongarch_boot_result out;
	in.nr_banks = loongarch_ram_banks(vm->cfg.ram_size, in.banks);
	if (in.nr_banks == 0)
		return log_errno(-EINVAL, "--mem %llu MiB does not fit the LoongArch memory map",
				 (unsigned long long)(vm->cfg.ram_size >> 20));
	int ret = loongarch_boot_prepare(&in, &vm->mem, &out);
	if (ret)
		return ret;
	const uint64_t args[3] = {out.a0, out.a1, out.a2};
	ret = boot_set_pc(&vm->vcpus[0], out.pc, args, 3);
	for (int i = 1; !ret && i < vm->nr_vcpus; i++)
		ret = boot_set_pc(&vm->vcpus[i], out.secondary_pc, NULL, 0);
	return ret;
}

int arch_boot_setup(struct vm *vm)
{
	/* A restored VM (no kernel) gets its memory and registers from the snapshot instead. */
	int ret = vm->cfg.kernel_path ? boot_load_guest(vm) : 0;
	return ret ? ret : loongarch_hcall_register_services(vm);
}
