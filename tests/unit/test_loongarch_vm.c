/*
 * Unit test of the LoongArch VM glue against the fake KVM (test_loongarch_fakekvm.h): vm_create() of roam's own
 * core runs arch_vm_init, arch_vcpu_init, arch_irqchip_init and arch_boot_setup for LoongArch, and the test checks
 * what reached "KVM": the CPUCFG words, CSR.CPUID, the paravirtual features, the three interrupt controllers, the boot
 * registers, the memory slots; then hypercall and IOCSR exits through arch_handle_exit, an interrupt line, and every
 * refusal with its message (host not in the targets, words the host cannot present, no USER_HCALL, no in-kernel
 * interrupt controllers, a failing ioctl).
 */
#include "arch.h"
#include "arch/loongarch/cpucfg.h"
#include "arch/loongarch/hcall.h"
#include "arch/loongarch/layout.h"
#include "arch/loongarch/loongarch.h"
#include "arch/loongarch/targets_json.h"
#include "check.h"
#include "core/vcpu.h"
#include "core/vm.h"
#include "pvlock/pvlock.h"
#include "snapshot/snapshot_meta.h"
#include "test_loongarch_fakekvm.h"

#include <asm/kvm_para.h>
#include <errno.h>
#include <fcntl.h>
#include <libfdt.h>
#include <stdlib.h>
#include <unistd.h>

#define MiB (1ull << 20)

static char kernel_path[] = "/tmp/roam-la-vmlinux-XXXXXX";
static char targets_path[] = "/tmp/roam-la-targets-XXXXXX";

static void put(uint8_t *p, uint64_t v, int n)
{
	for (int i = 0; i < n; i++)
		p[i] = (uint8_t)(v >> (8 * i));
}

/* A minimal ELF vmlinux: entry 0x200000, 64 KiB loaded there. */
static void write_kernel(void)
{
	static uint8_t buf[0x11000];
	memcpy(buf, "\177ELF", 4);
	buf[4] = 2, buf[5] = 1;
	put(buf + 18, 258, 2);
	put(buf + 24, 0x9000000000200000ull, 8);
	put(buf + 32, 64, 8);
	put(buf + 54, 56, 2);
	put(buf + 56, 1, 2);
	put(buf + 64, 1, 4);
	put(buf + 64 + 8, 0x1000, 8);
	put(buf + 64 + 24, 0x200000, 8);
	put(buf + 64 + 32, 0x10000, 8);
	put(buf + 64 + 40, 0x10000, 8);
	int fd = mkstemp(kernel_path);
	CHECK(fd >= 0 && write(fd, buf, sizeof(buf)) == (ssize_t)sizeof(buf));
	close(fd);
}

static struct vm_config config(int cpus)
{
	static int devnull = -1;
	if (devnull < 0)
		devnull = open("/dev/null", O_WRONLY);
	struct vm_config cfg = {
	    .kernel_path = kernel_path,
	    .cmdline = "console=ttyS0",
	    .ram_size = 512 * MiB,
	    .nr_vcpus = cpus,
	    .kvm_path = "/dev/null",
	    .console_out_fd = devnull,
	};
	return cfg;
}

struct create {
	struct vm vm;
	struct vm_config cfg;
	int ret;
};

static void run_create(void *arg)
{
	struct create *c = arg;
	c->ret = vm_create(&c->vm, &c->cfg, 0);
}

/* vm_create with stderr captured; the VM stays for inspection until vm_destroy. */
static const char *create(struct create *c, struct vm_config cfg)
{
	c->cfg = cfg;
	return fakekvm_capture(run_create, c);
}

/* This host's profile as roam's run path sees it: the cpucfg instruction and the fake KVM's masks. */
static void host_profile(struct loongarch_cpu_profile *p)
{
	memset(p, 0, sizeof(*p));
	snprintf(p->name, sizeof(p->name), "here");
	for (uint32_t i = 0; i < LOONGARCH_NR_CPUCFG; i++) {
		p->cpucfg[i] = loongarch_host_cpucfg(i);
		p->writable[i] = fakekvm.mask[i];
	}
	p->user_hcall = true;
}

static int exit_ret;

static void run_exit(void *vcpu)
{
	exit_ret = arch_handle_exit(vcpu);
}

static void test_plain_boot(void)
{
	static struct create c;
	fakekvm_reset();
	const char *err = create(&c, config(2));
	CHECK_EQ(c.ret, 0);
	CHECK(!err[0]);
	if (err[0])
		fprintf(stderr, "%s", err);
	struct loongarch_cpu_profile host;
	uint32_t want[LOONGARCH_NR_CPUCFG];
	const char *why;
	host_profile(&host);
	CHECK_EQ(loongarch_guest_cpucfg(&host, want, &why), 0);
	CHECK_EQ(fakekvm.nr_vcpus, 2);
	for (int v = 0; v < 2; v++) {
		struct fakekvm_vcpu *f = fakekvm_vcpu_by_fd(c.vm.vcpus[v].fd);
		CHECK(f != NULL);
		if (!f)
			return;
		CHECK(!memcmp(f->cpucfg, want, sizeof(want)));
		CHECK_EQ(f->csr[0x20], v); /* CSR.CPUID */
	}
	CHECK_EQ(want[0], loongarch_host_cpucfg(0)); /* the guest sees this host's PRID */
	CHECK_EQ(want[6], 0); /* no PMU */
	/* KVM's PV defaults plus USER_HCALL (the PV lock answers hypercalls), no VIRT_EXTIOI for 2 vCPUs */
	CHECK_EQ(fakekvm.pv_features & 0xffffffff, fakekvm.pv_default | (1u << KVM_FEATURE_USER_HCALL));
	CHECK_EQ(fakekvm.nr_devices, 3);
	CHECK_EQ(fakekvm_device_attr(KVM_DEV_TYPE_LOONGARCH_EIOINTC, KVM_DEV_LOONGARCH_EXTIOI_GRP_SW_STATUS, 0, 99), 2);
	CHECK_EQ(fakekvm_device_attr(KVM_DEV_TYPE_LOONGARCH_EIOINTC, KVM_DEV_LOONGARCH_EXTIOI_GRP_SW_STATUS, 1, 99), 0);
	CHECK_EQ(fakekvm_device_attr(KVM_DEV_TYPE_LOONGARCH_PCHPIC, KVM_DEV_LOONGARCH_PCH_PIC_GRP_CTRL,
				     KVM_DEV_LOONGARCH_PCH_PIC_CTRL_INIT, 0),
		 0x10000000);
	CHECK_EQ(fakekvm.nr_slots, 3); /* low RAM, high RAM, PV lock */
	struct fakekvm_vcpu *v0 = fakekvm_vcpu_by_fd(c.vm.vcpus[0].fd), *v1 = fakekvm_vcpu_by_fd(c.vm.vcpus[1].fd);
	CHECK_EQ(v0->regs.pc, 0x200000);
	CHECK_EQ(v0->regs.gpr[4], 1);
	CHECK_EQ(v0->regs.gpr[5], 0x120000);
	CHECK_EQ(v0->regs.gpr[6], 0x110000);
	CHECK_EQ(v1->regs.pc, 0x121000);
	CHECK_EQ(c.vm.hypercalls.nr, 2); /* the PV-lock calls */
	CHECK(!memcmp(memory_gpa_to_host(&c.vm.mem, 0x110000, 8), "IBI SYST", 8));

	/* A user-service hypercall: status through run->hypercall.ret, a1 through KVM_SET_REGS. */
	struct vcpu *vc = &c.vm.vcpus[1];
	int set_regs = v1->set_regs_calls;
	vc->run->exit_reason = KVM_EXIT_HYPERCALL;
	vc->run->hypercall.nr = LOONGARCH_HCALL_USER_SERVICE;
	vc->run->hypercall.args[0] = LOONGARCH_ROAM_PV_LOCK_PREEMPTED;
	CHECK_EQ(arch_handle_exit(vc), 0);
	CHECK_EQ(vc->run->hypercall.ret, 0);
	CHECK_EQ(v1->regs.gpr[5], c.vm.pvlock->gpa + 64);
	CHECK_EQ(v1->set_regs_calls, set_regs + 1);
	CHECK_EQ(v1->regs.pc, 0x121000); /* KVM steps the PC on the next KVM_RUN, not roam */
	/* A status-only answer writes no register. */
	vc->run->hypercall.args[0] = LOONGARCH_ROAM_PV_LOCK_FEATURES;
	vc->run->hypercall.args[1] = LOONGARCH_ROAM_DISCOVER_IMPL_VER; /* not here without --targets */
	CHECK_EQ(arch_handle_exit(vc), 0);
	CHECK_EQ((int64_t)vc->run->hypercall.ret, -1);
	CHECK_EQ(v1->set_regs_calls, set_regs + 1);
	/* An IOCSR read. */
	vc->run->exit_reason = KVM_EXIT_LOONGARCH_IOCSR;
	vc->run->iocsr_io.phys_addr = 0x10;
	vc->run->iocsr_io.len = 8;
	vc->run->iocsr_io.is_write = 0;
	CHECK_EQ(arch_handle_exit(vc), 0);
	CHECK(!memcmp(vc->run->iocsr_io.data, "Loongson", 8));
	/* Anything else stops the VM with a message. */
	vc->run->exit_reason = KVM_EXIT_S390_SIEIC;
	CHECK_CONTAINS(fakekvm_capture(run_exit, vc), "roam: vCPU1: unexpected KVM exit reason 13; stopping the VM");
	CHECK_EQ(exit_ret, -EIO);
	/* An interrupt line of the UART's pin. */
	CHECK_EQ(vm_irq_line(&c.vm, 2, true), 0);
	CHECK_EQ(fakekvm.irq_lines[2], 1);
	vm_destroy(&c.vm);
}

/* The power-off and reset registers, as the guest's syscon-poweroff / syscon-reboot drivers write them. */
static void test_power(void)
{
	static struct create c;
	uint8_t d[4] = {1, 0, 0, 0};
	fakekvm_reset();
	create(&c, config(1));
	CHECK_EQ(c.ret, 0);
	uint64_t base = LOONGARCH_POWER_BASE;
	CHECK_EQ(bus_access(&c.vm.mmio, base, d, 4, false), 0);
	CHECK_EQ(d[0], 0);
	d[0] = 2; /* another value: ignored */
	CHECK_EQ(bus_access(&c.vm.mmio, base, d, 4, true), 0);
	d[0] = 1;
	CHECK_EQ(bus_access(&c.vm.mmio, base + 8, d, 4, true), 0); /* another register: ignored */
	CHECK_EQ(bus_access(&c.vm.mmio, base, d, 1, true), 0); /* a byte: ignored */
	CHECK(!atomic_load(&c.vm.stopping));
	CHECK_EQ(bus_access(&c.vm.mmio, base + 4, d, 4, true), 0); /* reset */
	CHECK(atomic_load(&c.vm.stopping));
	CHECK_EQ(c.vm.exit_code, ROAM_EXIT_RESET);
	vm_destroy(&c.vm);
	fakekvm_reset();
	create(&c, config(1));
	CHECK_EQ(bus_access(&c.vm.mmio, base, d, 4, true), 0); /* power off */
	CHECK_EQ(c.vm.exit_code, ROAM_EXIT_POWEROFF);
	CHECK(atomic_load(&c.vm.stopping));
	vm_destroy(&c.vm);
}

/* A virtio device takes the first transport slot: PCH-PIC input 16, edge-triggered (irqfd pulses). */
static void test_virtio(void)
{
	static struct create c;
	fakekvm_reset();
	struct vm_config cfg = config(1);
	cfg.nr_device_options = 1;
	snprintf(cfg.device_options[0].name, sizeof(cfg.device_options[0].name), "rng");
	const char *err = create(&c, cfg);
	CHECK_EQ(c.ret, 0);
	if (c.ret)
		fprintf(stderr, "%s", err);
	const void *fdt = memory_gpa_to_host(&c.vm.mem, 0x100000, 0x10000);
	int node = fdt ? fdt_node_offset_by_compatible(fdt, -1, "virtio,mmio") : -1;
	CHECK(node > 0);
	int len = 0;
	const fdt32_t *irq = node > 0 ? fdt_getprop(fdt, node, "interrupts", &len) : NULL;
	CHECK_EQ(len, 8);
	if (irq && len == 8) {
		CHECK_EQ(fdt32_to_cpu(irq[0]), LOONGARCH_VIRTIO_PIN_FIRST);
		CHECK_EQ(fdt32_to_cpu(irq[1]), 1);
	}
	const fdt32_t *reg = node > 0 ? fdt_getprop(fdt, node, "reg", &len) : NULL;
	CHECK(reg && fdt32_to_cpu(reg[1]) == LOONGARCH_VIRTIO_BASE);
	vm_destroy(&c.vm);
}

static void test_many_vcpus_and_no_pvlock(void)
{
	static struct create c;
	fakekvm_reset();
	struct vm_config cfg = config(6);
	cfg.no_pvlock = true;
	create(&c, cfg);
	CHECK_EQ(c.ret, 0);
	/* Beyond 4 vCPUs: VIRT_EXTIOI and the EIOINTC's virtualization extension; no hypercalls without a user. */
	CHECK_EQ(fakekvm.pv_features & 0xffffffff, fakekvm.pv_default | (1u << KVM_FEATURE_VIRT_EXTIOI));
	CHECK_EQ(fakekvm_device_attr(KVM_DEV_TYPE_LOONGARCH_EIOINTC, KVM_DEV_LOONGARCH_EXTIOI_GRP_SW_STATUS, 1, 99),
		 0xf);
	CHECK_EQ(c.vm.hypercalls.nr, 0);
	for (int v = 0; v < 6; v++)
		CHECK_EQ(fakekvm_vcpu_by_fd(c.vm.vcpus[v].fd)->csr[0x20], v);
	vm_destroy(&c.vm);
}

static void test_no_user_hcall(void)
{
	static struct create c;
	fakekvm_reset();
	fakekvm.pv_valid &= ~(1u << KVM_FEATURE_USER_HCALL);
	const char *err = create(&c, config(1));
	CHECK_EQ(c.ret, 0); /* the PV lock alone does not need to stop the VM */
	CHECK_CONTAINS(err, "cannot pass user-service hypercalls to roam (USER_HCALL); the guest gets no PV-lock");
	CHECK_EQ(c.vm.hypercalls.nr, 0);
	vm_destroy(&c.vm);
}

static void write_targets(uint32_t prid, int lower_lasx, int raise_palen)
{
	struct loongarch_cpu_profile p[2];
	struct loongarch_targets t;
	struct targets_merge_options mo = {0};
	char err[256];
	host_profile(&p[0]);
	p[1] = p[0];
	snprintf(p[1].name, sizeof(p[1].name), "other");
	p[0].cpucfg[0] = prid;
	p[1].cpucfg[0] = 0x14d000;
	if (lower_lasx)
		p[1].cpucfg[2] &= ~LOONGARCH_CPUCFG2_LASX;
	CHECK_EQ(loongarch_targets_merge_opts(p, 2, &mo, &t, err, sizeof(err)), 0);
	if (raise_palen)
		t.cpucfg[1] = (t.cpucfg[1] & ~0xff0u) | 0xff0u;
	int fd = mkstemp(targets_path);
	close(fd);
	CHECK_EQ(targets_save_targets(&loongarch_targets_ops, targets_path, &t, err, sizeof(err)), 0);
}

static void test_targets(void)
{
	static struct create c;
	uint32_t prid = loongarch_host_cpucfg(0);
	fakekvm_reset();
	write_targets(prid, 1, 0);
	struct vm_config cfg = config(2);
	cfg.targets_path = targets_path;
	const char *err = create(&c, cfg);
	CHECK_EQ(c.ret, 0);
	CHECK(!err[0]);
	struct fakekvm_vcpu *v0 = fakekvm_vcpu_by_fd(c.vm.vcpus[0].fd);
	CHECK_EQ(v0->cpucfg[2] & LOONGARCH_CPUCFG2_LASX, 0); /* the merged words, not this host's */
	CHECK_EQ(v0->cpucfg[0], prid);
	CHECK_EQ(c.vm.hypercalls.nr, 4); /* discovery and the PV lock */
	CHECK(arch_targets_text(&c.vm) != NULL);
	CHECK_CONTAINS(arch_targets_text(&c.vm), "\"arch\": \"loongarch64\"");
	static struct snapshot_targets_info info;
	arch_targets_summary(&c.vm, &info);
	CHECK_EQ(info.count, 2);
	CHECK_EQ(info.target[1].midr, 0x14d000); /* the identity field carries PRID */
	CHECK(!strcmp(info.target[1].name, "other"));
	CHECK_EQ(info.guest_midr, prid);
	struct vcpu *vc = &c.vm.vcpus[0];
	vc->run->exit_reason = KVM_EXIT_HYPERCALL;
	vc->run->hypercall.nr = LOONGARCH_HCALL_USER_SERVICE;
	vc->run->hypercall.args[0] = LOONGARCH_ROAM_DISCOVER_IMPL_CPUS;
	vc->run->hypercall.args[1] = 1;
	CHECK_EQ(arch_handle_exit(vc), 0);
	CHECK_EQ(vc->run->hypercall.ret, 0);
	CHECK_EQ(v0->regs.gpr[5], 0x14d000);
	vm_destroy(&c.vm);

	/* This host's PRID is not among the targets. */
	fakekvm_reset();
	write_targets(0x11111, 0, 0);
	err = create(&c, cfg);
	CHECK_EQ(c.ret, -EINVAL);
	char want[256];
	snprintf(want, sizeof(want),
		 "roam: host PRID %#x is not in the targets of %s (here (PRID 0x11111), other (PRID 0x14d000)); use "
		 "--force-host to try anyway",
		 prid, targets_path);
	CHECK_CONTAINS(err, want);
	vm_destroy(&c.vm);
	cfg.force_host = true;
	fakekvm_reset();
	err = create(&c, cfg);
	CHECK_EQ(c.ret, 0);
	CHECK_CONTAINS(err, "starting anyway (--force-host)");
	vm_destroy(&c.vm);

	/* A word this host cannot present: the whole report. */
	fakekvm_reset();
	write_targets(prid, 0, 1);
	cfg.force_host = false;
	err = create(&c, cfg);
	CHECK_EQ(c.ret, -EINVAL);
	CHECK_CONTAINS(err, "this host cannot present the CPU of");
	CHECK_CONTAINS(err, "error cpucfg-above-host");
	CHECK_CONTAINS(err, "CPUCFG1.PALEN: the targets need 0xff");
	vm_destroy(&c.vm);

	/* --targets needs USER_HCALL. */
	fakekvm_reset();
	write_targets(prid, 0, 0);
	fakekvm.pv_valid &= ~(1u << KVM_FEATURE_USER_HCALL);
	err = create(&c, cfg);
	CHECK_EQ(c.ret, -EINVAL);
	CHECK_CONTAINS(err, "KVM_SET_DEVICE_ATTR(vCPU0 CPUCFG_KVM_FEATURE");
	CHECK_CONTAINS(err, "USER_HCALL for --targets");
	vm_destroy(&c.vm);

	/* A targets file that is not one. */
	fakekvm_reset();
	cfg.targets_path = kernel_path;
	err = create(&c, cfg);
	CHECK_EQ(c.ret, -EINVAL);
	CHECK_CONTAINS(err, kernel_path);
	vm_destroy(&c.vm);
	/* The targets a snapshot carries. */
	fakekvm_reset();
	cfg.targets_path = NULL;
	cfg.targets_json = "{\"format\": \"roam-targets\"}";
	err = create(&c, cfg);
	CHECK_CONTAINS(err, "the snapshot's targets: version: missing");
	vm_destroy(&c.vm);
	unlink(targets_path);
}

static void test_failures(void)
{
	static struct create c;
	CHECK_EQ(arch_check_kernel(kernel_path), 0);
	struct vm_config cfg;
	fakekvm_reset();
	fakekvm.create_device_errno = ENODEV;
	const char *err = create(&c, config(1));
	CHECK_EQ(c.ret, -ENODEV);
	CHECK_CONTAINS(err, "KVM_CREATE_DEVICE(IPI): No such device (this host's KVM has no in-kernel LoongArch "
			    "interrupt controllers");
	vm_destroy(&c.vm);

	fakekvm_reset();
	fakekvm.fail_request = KVM_SET_REGS;
	fakekvm.fail_after = 1;
	fakekvm.fail_errno = EIO;
	err = create(&c, config(1));
	CHECK_EQ(c.ret, -EIO);
	CHECK_CONTAINS(err, "KVM_SET_REGS(vCPU0): Input/output error");
	vm_destroy(&c.vm);

	/* KVM here would hide the constant timer: no guest can run. */
	fakekvm_reset();
	fakekvm.mask[2] &= ~LOONGARCH_CPUCFG2_LLFTP;
	err = create(&c, config(1));
	CHECK_EQ(c.ret, -EINVAL);
	CHECK_CONTAINS(err, "constant timer (CPUCFG2.LLFTP)");
	vm_destroy(&c.vm);

	/* A KVM without a capability roam needs. */
	fakekvm_reset();
	fakekvm.missing_cap = KVM_CAP_ONE_REG;
	err = create(&c, config(1));
	CHECK_EQ(c.ret, -ENOTSUP);
	CHECK_CONTAINS(err, "KVM on this host lacks KVM_CAP_ONE_REG, which roam needs for register access");
	vm_destroy(&c.vm);

	/* A CPUCFG word that does not read back as written. */
	fakekvm_reset();
	fakekvm.cpucfg_read_xor = 0x100;
	err = create(&c, config(1));
	CHECK_EQ(c.ret, -EIO);
	CHECK_CONTAINS(err, "vCPU0 CPUCFG0: wrote 0x");
	CHECK_CONTAINS(err, ", KVM reads back 0x");
	vm_destroy(&c.vm);

	/* A targets file that is not there. */
	fakekvm_reset();
	cfg = config(1);
	cfg.targets_path = "/nonexistent/targets.json";
	err = create(&c, cfg);
	CHECK_EQ(c.ret, -ENOENT);
	CHECK_CONTAINS(err, "targets /nonexistent/targets.json: No such file or directory");
	vm_destroy(&c.vm);

	/* Too much memory for the map. */
	fakekvm_reset();
	cfg = config(1);
	cfg.ram_size = LOONGARCH_LOWRAM_SIZE + LOONGARCH_HIGHRAM_MAX_SIZE + MiB;
	err = create(&c, cfg);
	CHECK_EQ(c.ret, -EINVAL);
	CHECK_CONTAINS(err, "the loongarch64 memory map has room for at most");
	vm_destroy(&c.vm);
}

/*
 * With ROAM_TEST_LOONGARCH_KERNEL set (e.g. Debian's vmlinux.efi, extracted from its zboot image as
 * docs/loongarch.md shows), boots that kernel into the fake KVM too: placement and registers from its real header.
 */
static void test_real_kernel(void)
{
	static struct create c;
	const char *path = getenv("ROAM_TEST_LOONGARCH_KERNEL");
	if (!path)
		return;
	fakekvm_reset();
	struct vm_config cfg = config(2);
	cfg.kernel_path = path;
	cfg.ram_size = 1024 * MiB;
	const char *err = create(&c, cfg);
	CHECK_EQ(c.ret, 0);
	if (c.ret)
		fprintf(stderr, "%s", err);
	struct fakekvm_vcpu *v0 = fakekvm_vcpu_by_fd(c.vm.vcpus[0].fd);
	printf("%s: boots at PC %#llx\n", path, (unsigned long long)(v0 ? v0->regs.pc : 0));
	CHECK(v0 && v0->regs.pc >= 0x200000);
	vm_destroy(&c.vm);
}

int main(void)
{
	write_kernel();
	test_plain_boot();
	test_power();
	test_virtio();
	test_many_vcpus_and_no_pvlock();
	test_no_user_hcall();
	test_targets();
	test_failures();
	test_real_kernel();
	unlink(kernel_path);
	return check_exit();
}
