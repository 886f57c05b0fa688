/* arm64 VMs on the fake KVM for the snapshot tests: see arm64_fake_vm.h. */
#include "arm64_fake_vm.h"

#include "arch.h"
#include "core/bus.h"
#include "core/component.h"
#include "core/vcpu.h"
#include "devices/virtio_mmio.h"
#include "snapshot/component_walk.h"
#include "snapshot/snapshot.h"
#include "snapshot/vm_snapshot.h"
#include "test_arm64_fakekvm.h"

#include <fcntl.h>
#include <inttypes.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define RAM_BASE 0x40000000ull
#define HEADER_CREATED 60 /* the snapshot header's creation time, then its CRC, up to byte 72 */
#define HEADER_SIZE 72

/* The test program's own: the Image's path and the console's /dev/null. */
static char kernel_path[64];
static int devnull = -1;

void fake_vm_setup(void)
{
	static uint8_t image[0x10000];
	image[18] = 1; /* image_size 64 KiB (little-endian at 16), text_offset 0 */
	memcpy(image + 56, "ARM\x64", 4);
	for (size_t i = 64; i < sizeof(image); i++)
		image[i] = (uint8_t)(i * 7 + 1); /* the "kernel": non-zero pages */
	fake_vm_temp_path(kernel_path, "image");
	int fd = open(kernel_path, O_WRONLY | O_CREAT | O_EXCL, 0600);
	if (fd < 0 || write(fd, image, sizeof(image)) != (ssize_t)sizeof(image))
		fprintf(stderr, "cannot write %s\n", kernel_path);
	close(fd);
	devnull = open("/dev/null", O_WRONLY | O_CLOEXEC);
}

void fake_vm_teardown(void)
{
	unlink(kernel_path);
	close(devnull);
}

static struct vm_config base_config(void)
{
	struct vm_config cfg = {.cmdline = "", .kvm_path = "/dev/null", .console_out_fd = devnull};
	return cfg;
}

struct vm_config fake_vm_config(void)
{
	struct vm_config cfg = base_config();
	cfg.kernel_path = kernel_path;
	cfg.cmdline = "console=ttyAMA0";
	cfg.ram_size = FAKE_VM_RAM;
	cfg.nr_vcpus = FAKE_VM_CPUS;
	cfg.nr_device_options = 1;
	snprintf(cfg.device_options[0].name, sizeof(cfg.device_options[0].name), "rng");
	return cfg;
}

int fake_vm_create(struct vm *vm, const struct vm_config *cfg)
{
	return vm_create(vm, cfg, 0);
}

static uint64_t core(size_t offset)
{
	return fakekvm_core_reg(offset, KVM_REG_SIZE_U64);
}

static void set_reg(struct fakekvm_vcpu *c, uint64_t id, uint64_t lo, uint64_t hi)
{
	struct fakekvm_reg *r = fakekvm_reg(c, id);
	if (r)
		r->value[0] = lo, r->value[1] = hi;
	else
		fprintf(stderr, "the fake vCPU has no register %#" PRIx64 "\n", id);
}

/* A vCPU's registers as a guest leaves them, all different per vCPU. */
static void run_vcpu(struct fakekvm_vcpu *c, int v)
{
	uint64_t tag = (uint64_t)(v + 1) << 56;
	for (int n = 0; n < 31; n++)
		set_reg(c, core(offsetof(struct kvm_regs, regs.regs) + 8 * (size_t)n), tag | (uint64_t)n * 0x1111, 0);
	set_reg(c, core(offsetof(struct kvm_regs, regs.sp)), tag | 0xfff0, 0);
	set_reg(c, core(offsetof(struct kvm_regs, regs.pc)), 0xffff800080012340ull + 4 * (uint64_t)v, 0);
	set_reg(c, core(offsetof(struct kvm_regs, regs.pstate)), 0x60000005, 0);
	set_reg(c, core(offsetof(struct kvm_regs, sp_el1)), 0xffff800082003f00ull + (uint64_t)v * 0x4000, 0);
	set_reg(c, core(offsetof(struct kvm_regs, elr_el1)), 0xffff800080010000ull, 0);
	set_reg(c, core(offsetof(struct kvm_regs, spsr)), 0x3c5, 0);
	for (int n = 0; n < 32; n++)
		set_reg(c,
			fakekvm_core_reg(offsetof(struct kvm_regs, fp_regs.vregs) + 16 * (size_t)n, KVM_REG_SIZE_U128),
			tag | (uint64_t)n, ~(tag | (uint64_t)n));
	set_reg(c, fakekvm_core_reg(offsetof(struct kvm_regs, fp_regs.fpcr), KVM_REG_SIZE_U32), 0x03000000, 0);
	static const struct {
		uint64_t id, value;
	} sys[] = {
	    {ARM64_SYS_REG(3, 0, 1, 0, 0), 0x30d0199d}, /* SCTLR_EL1: MMU and caches on */
	    {ARM64_SYS_REG(3, 0, 2, 0, 0), 0x41234000},
	    {ARM64_SYS_REG(3, 0, 2, 0, 1), 0x41235000},
	    {ARM64_SYS_REG(3, 0, 2, 0, 2), 0x32b5593519},
	    {ARM64_SYS_REG(3, 0, 10, 2, 0), 0x40044ff00},
	    {ARM64_SYS_REG(3, 0, 12, 0, 0), 0xffff800080010800},
	    {ARM64_SYS_REG(3, 0, 13, 0, 4), 0xffff00003fdc0000},
	    {ARM64_SYS_REG(3, 3, 13, 0, 2), 0xffffa1b2c3d4e5f0},
	    {ARM64_SYS_REG(3, 0, 14, 1, 0), 0xd6},
	    {KVM_REG_ARM_TIMER_CTL, 1},
	    {KVM_REG_ARM_PTIMER_CVAL, 0x7777},
	};
	for (size_t i = 0; i < sizeof(sys) / sizeof(sys[0]); i++)
		set_reg(c, sys[i].id, sys[i].value + (uint64_t)v, 0);
	set_reg(c, KVM_REG_ARM_TIMER_CVAL, 6000000000ull + (uint64_t)v, 0);
	c->mp_state = KVM_MP_STATE_RUNNABLE; /* the secondary was started by PSCI CPU_ON */
	c->events.exception.serror_pending = (uint8_t)v;
}

/* The GIC attribute of a vCPU's redistributor or CPU interface (Aff3..Aff0 of its MPIDR in bits 63..32). */
static uint64_t gic_cpu(struct vm *vm, int v, uint64_t offset)
{
	struct fakekvm_vm *fv = fakekvm_vm_by_fd(vm->vm_fd);
	uint64_t m = fakekvm_reg_get64(fv, fakekvm_vcpu_by_fd(vm->vcpus[v].fd, NULL), ARM64_SYS_REG(3, 0, 0, 0, 5));
	uint64_t packed = ((m >> 32) & 0xff) << 24 | (m & 0xffffff);
	return packed << 32 | offset;
}

static void run_gic(struct vm *vm)
{
	struct fakekvm_vm *fv = fakekvm_vm_by_fd(vm->vm_fd);
	const uint32_t D = KVM_DEV_ARM_VGIC_GRP_DIST_REGS, R = KVM_DEV_ARM_VGIC_GRP_REDIST_REGS,
		       S = KVM_DEV_ARM_VGIC_GRP_CPU_SYSREGS, L = KVM_DEV_ARM_VGIC_GRP_LEVEL_INFO;
	const uint64_t sets[][3] = {
	    {D, 0x0000, 0x2}, /* GICD_CTLR: group 1 enabled */
	    {D, 0x0084, 0xffffffff}, /* IGROUPR1 */
	    {D, 0x0104, 0x00010003}, /* ISENABLER1: SPIs 0, 1 (the UART) and 16 (virtio) */
	    {D, 0x0204, 0x00010000}, /* ISPENDR1 */
	    {D, 0x0420, 0xa0a0a0a0}, /* IPRIORITYR8 */
	    {D, 0x0c08, 0x00000002}, /* ICFGR2: SPI 0 edge */
	    {D, 0x6000 + 8 * 33, 0x1}, /* IROUTER33: to vCPU 1 */
	    {L, 32, 0x2}, /* the UART's line is high */
	};
	for (size_t i = 0; i < sizeof(sets) / sizeof(sets[0]); i++)
		if (fakekvm_gic_set(fv, (uint32_t)sets[i][0], sets[i][1], sets[i][2]))
			fprintf(stderr, "fake GIC: cannot set %#" PRIx64 "\n", sets[i][1]);
	for (int v = 0; v < vm->nr_vcpus; v++) {
		const uint64_t cpu_sets[][3] = {
		    {R, 0x10080, 0xffffffff}, /* IGROUPR0 */
		    {R, 0x10100, 0x0800ffff}, /* ISENABLER0: the SGIs and the virtual timer's PPI 27 */
		    {R, 0x10418, 0x00a00000 + (uint64_t)v * 0x08}, /* IPRIORITYR6 */
		    {R, 0x10c04, 0x00800000}, /* ICFGR1 */
		    {L, 0, 0x08000000}, /* PPI 27's line */
		    {S, (3 << 14) | (0 << 11) | (4 << 7) | (6 << 3) | 0, 0xf0}, /* ICC_PMR_EL1 */
		    {S, (3 << 14) | (0 << 11) | (12 << 7) | (12 << 3) | 7, 1}, /* ICC_IGRPEN1_EL1 */
		    {S, (3 << 14) | (0 << 11) | (12 << 7) | (12 << 3) | 3, 2}, /* ICC_BPR1_EL1 */
		    {S, (3 << 14) | (0 << 11) | (12 << 7) | (9 << 3) | 0, (uint64_t)v + 1}, /* ICC_AP1R0_EL1 */
		};
		for (size_t i = 0; i < sizeof(cpu_sets) / sizeof(cpu_sets[0]); i++)
			if (fakekvm_gic_set(fv, (uint32_t)cpu_sets[i][0], gic_cpu(vm, v, cpu_sets[i][1]),
					    cpu_sets[i][2]))
				fprintf(stderr, "fake GIC: cannot set vCPU %d's %#" PRIx64 "\n", v, cpu_sets[i][1]);
	}
}

/* The virtio-mmio transport of the VM's device with virtio device id `id` (4: rng), or 0. */
static uint64_t virtio_window(struct vm *vm, uint32_t id)
{
	const struct vm_region_info *region = arch_region(VM_REGION_VIRTIO);
	for (uint64_t base = region->base; base < region->base + region->size; base += VIRTIO_MMIO_SLOT_SIZE) {
		uint64_t offset;
		if (bus_find(&vm->mmio, base, 4, &offset) && fake_vm_virtio_read(vm, base + 0x08) == id)
			return base;
	}
	return 0;
}

uint32_t fake_vm_virtio_read(struct vm *vm, uint64_t gpa)
{
	uint8_t b[4] = {0};
	bus_access(&vm->mmio, gpa, b, 4, false);
	return (uint32_t)b[0] | (uint32_t)b[1] << 8 | (uint32_t)b[2] << 16 | (uint32_t)b[3] << 24;
}

static void virtio_write(struct vm *vm, uint64_t gpa, uint32_t v)
{
	uint8_t b[4] = {(uint8_t)v, (uint8_t)(v >> 8), (uint8_t)(v >> 16), (uint8_t)(v >> 24)};
	bus_access(&vm->mmio, gpa, b, 4, true);
}

/* What a guest's virtio-rng driver leaves: features negotiated, queue 0 of 64 entries at 48 MiB, DRIVER_OK. */
static void run_rng_driver(struct vm *vm)
{
	uint64_t base = virtio_window(vm, 4), ring = RAM_BASE + (48 << 20);
	const uint32_t status = VIRTIO_STATUS_ACKNOWLEDGE | VIRTIO_STATUS_DRIVER;
	if (!base)
		return; /* a VM without it */
	const uint32_t writes[][2] = {
	    {0x70, status},
	    {0x24, 1}, /* DriverFeaturesSel: the high word */
	    {0x20, 1u << (VIRTIO_F_VERSION_1 - 32)},
	    {0x70, status | VIRTIO_STATUS_FEATURES_OK},
	    {0x30, 0}, /* QueueSel */
	    {0x38, 64}, /* QueueNum */
	    {0x80, (uint32_t)ring},
	    {0x90, (uint32_t)ring + 0x1000},
	    {0xa0, (uint32_t)ring + 0x2000},
	    {0x44, 1}, /* QueueReady */
	    {0x70, status | VIRTIO_STATUS_FEATURES_OK | VIRTIO_STATUS_DRIVER_OK},
	};
	for (size_t i = 0; i < sizeof(writes) / sizeof(writes[0]); i++)
		virtio_write(vm, base + writes[i][0], writes[i][1]);
}

uint64_t fake_vm_rng_window(struct vm *vm)
{
	return virtio_window(vm, 4);
}

void fake_vm_run_guest(struct vm *vm)
{
	for (int v = 0; v < vm->nr_vcpus; v++)
		run_vcpu(fakekvm_vcpu_by_fd(vm->vcpus[v].fd, NULL), v);
	run_gic(vm);
	run_rng_driver(vm);
	/* Memory: a page in the middle, two pages at 40 MiB, the last page; the Image and device tree are there. */
	static const uint64_t pages[] = {16 << 20, 40 << 20, (40 << 20) + 4096, FAKE_VM_RAM - 4096};
	for (size_t i = 0; i < sizeof(pages) / sizeof(pages[0]); i++) {
		uint8_t *p = memory_gpa_to_host(&vm->mem, RAM_BASE + pages[i], 4096);
		for (int k = 0; p && k < 4096; k += 8)
			p[k] = (uint8_t)(i + 1 + (size_t)k);
	}
	fakekvm.host.counter += 5000000000ull; /* 80 s at 62.5 MHz */
}

int fake_vm_save(struct vm *vm, const char *path)
{
	struct vm_snapshot_result res;
	char err[512] = "";
	int ret = vm_snapshot_save(vm, path, -1, false, &res, err, sizeof(err));
	if (ret)
		fprintf(stderr, "snapshot %s: %s\n", path, err);
	return ret;
}

int fake_vm_save_table(struct vm *vm, const char *path, const struct component *const *table, int n)
{
	struct snapshot_writer w;
	uint64_t pages;
	int ret = snapshot_writer_open_path(&w, path, arch_name());
	if (!ret)
		ret = component_walk_write(vm, &w, table, n, &pages);
	if (!ret)
		return snapshot_writer_commit(&w);
	snapshot_writer_abort(&w);
	return ret;
}

int fake_vm_restore(struct vm *vm, const char *path, enum vm_prefault prefault,
		    const struct component_walk_hooks *hooks)
{
	return fake_vm_restore_edited(vm, path, prefault, hooks, NULL);
}

int fake_vm_restore_edited(struct vm *vm, const char *path, enum vm_prefault prefault,
			   const struct component_walk_hooks *hooks, void (*edit)(struct vm_config *cfg))
{
	struct snapshot_reader *r = calloc(1, sizeof(*r));
	struct vm_restore_base *base = calloc(1, sizeof(*base));
	struct vm_config cfg = base_config();
	char *targets_json = NULL;
	const struct component *table[COMPONENT_MAX];
	int n = component_table(table);
	/* What vm_create does first, so that vm_destroy is right whichever step fails. */
	memset(vm, 0, sizeof(*vm));
	vm->kvm_fd = vm->vm_fd = vm->stop_eventfd = -1;
	pthread_mutex_init(&vm->stop_lock, NULL);
	cfg.prefault = prefault;
	int ret = r && base ? snapshot_reader_open_path(r, path, arch_name(), 0) : -1;
	if (ret && r)
		fprintf(stderr, "%s\n", r->err);
	if (!ret)
		ret = vm_restore_config(r, &cfg, &targets_json, base);
	if (!ret && edit)
		edit(&cfg);
	if (!ret) {
		pthread_mutex_destroy(&vm->stop_lock);
		ret = vm_create(vm, &cfg, 0);
	}
	if (!ret)
		ret = component_walk_restore_after(vm, r, table, n, NULL, 0, hooks);
	if (r)
		snapshot_reader_close(r);
	free(r);
	free(base);
	free(targets_json);
	return ret;
}

static int vcpu_differences(struct fakekvm_vm *fa, struct fakekvm_vm *fb, int v)
{
	struct fakekvm_vcpu *a = &fa->vcpus[v], *b = &fb->vcpus[v];
	int diffs = a->nr_regs != b->nr_regs;
	for (int i = 0; i < a->nr_regs; i++) {
		uint64_t id = a->regs[i].id;
		struct fakekvm_reg *rb = fakekvm_reg(b, id);
		uint64_t va = fakekvm_reg_get64(fa, a, id), vb = rb ? fakekvm_reg_get64(fb, b, id) : ~va;
		bool same = rb && va == vb && a->regs[i].value[1] == rb->value[1];
		if (id == KVM_REG_ARM_TIMER_CNT || id == KVM_REG_ARM_PTIMER_CNT || same)
			continue;
		fprintf(stderr, "vCPU%d register %#" PRIx64 ": %#" PRIx64 " and %#" PRIx64 "\n", v, id, va, vb);
		diffs++;
	}
	if (a->mp_state != b->mp_state || memcmp(&a->events, &b->events, sizeof(a->events))) {
		fprintf(stderr, "vCPU%d: MP state %u and %u, or the events differ\n", v, a->mp_state, b->mp_state);
		diffs++;
	}
	return diffs;
}

static int gic_differences(struct fakekvm_vm *fa, struct fakekvm_vm *fb)
{
	int diffs = fa->gic.revision != fb->gic.revision || fa->gic.nr_irqs != fb->gic.nr_irqs;
	const struct fakekvm_vm *both[2] = {fa, fb};
	for (int k = 0; k < 2; k++)
		for (int i = 0; i < both[k]->gic.nr_attrs; i++) {
			uint32_t group = both[k]->gic.attrs[i].group;
			uint64_t attr = both[k]->gic.attrs[i].attr;
			uint64_t va = fakekvm_gic_get(fa, group, attr), vb = fakekvm_gic_get(fb, group, attr);
			if (va != vb) {
				fprintf(stderr, "GIC group %u register %#" PRIx64 ": %#" PRIx64 " and %#" PRIx64 "\n",
					group, attr, va, vb);
				diffs++;
			}
		}
	return diffs;
}

int fake_vm_differences(struct vm *a, struct vm *b)
{
	struct fakekvm_vm *fa = fakekvm_vm_by_fd(a->vm_fd), *fb = fakekvm_vm_by_fd(b->vm_fd);
	if (!fa || !fb || fa->nr_vcpus != fb->nr_vcpus) {
		fprintf(stderr, "the fake KVM does not have both VMs, or they differ in vCPUs\n");
		return 1;
	}
	int diffs = gic_differences(fa, fb);
	for (int v = 0; v < fa->nr_vcpus; v++)
		diffs += vcpu_differences(fa, fb, v);
	for (int s = 0; s < FAKEKVM_MAX_SLOTS; s++) {
		const struct kvm_userspace_memory_region *ra = &fa->slots[s].region, *rb = &fb->slots[s].region;
		bool same = ra->memory_size == rb->memory_size && ra->guest_phys_addr == rb->guest_phys_addr &&
			    (!ra->memory_size || !memcmp((void *)(uintptr_t)ra->userspace_addr,
							 (void *)(uintptr_t)rb->userspace_addr, ra->memory_size));
		if (!same) {
			fprintf(stderr, "memory slot %d differs\n", s);
			diffs++;
		}
	}
	return diffs;
}

bool fake_vm_untouched(struct vm *vm)
{
	struct fakekvm_vm *fv = fakekvm_vm_by_fd(vm->vm_fd);
	return fv && fv->nr_vcpus &&
	       fakekvm_reg_get64(fv, &fv->vcpus[0], core(offsetof(struct kvm_regs, regs.pc))) == 0;
}

uint64_t fake_vm_counter(struct vm *vm, int v, bool physical)
{
	struct fakekvm_vm *fv = fakekvm_vm_by_fd(vm->vm_fd);
	struct fakekvm_vcpu *c = fakekvm_vcpu_by_fd(vm->vcpus[v].fd, NULL);
	return fv && c ? fakekvm_reg_get64(fv, c, physical ? KVM_REG_ARM_PTIMER_CNT : KVM_REG_ARM_TIMER_CNT) : 0;
}

static uint8_t *read_all(const char *path, size_t *len)
{
	FILE *f = fopen(path, "rb");
	uint8_t *buf = NULL;
	*len = 0;
	if (f && fseek(f, 0, SEEK_END) == 0) {
		long size = ftell(f);
		buf = size > 0 ? malloc((size_t)size) : NULL;
		rewind(f);
		*len = buf && fread(buf, 1, (size_t)size, f) == (size_t)size ? (size_t)size : 0;
	}
	if (f)
		fclose(f);
	return buf;
}

static uint64_t le(const uint8_t *p, int bytes)
{
	uint64_t v = 0;
	for (int i = bytes - 1; i >= 0; i--)
		v = v << 8 | p[i];
	return v;
}

int fake_vm_file_differences(const char *a, const char *b, char *names, size_t size)
{
	size_t la, lb, pa = HEADER_SIZE, pb = HEADER_SIZE, used = 0;
	uint8_t *fa = read_all(a, &la), *fb = read_all(b, &lb);
	int diffs = 0;
	names[0] = '\0';
	if (!fa || !fb || la < HEADER_SIZE || lb < HEADER_SIZE || memcmp(fa, fb, HEADER_CREATED)) {
		snprintf(names, size, "header");
		diffs = 1;
	}
	/* Each section: a header of 32 bytes (id, instance, ..., the length a u64 at 16), the payload, a CRC of 4. */
	bool lined_up = !diffs;
	while (lined_up && pa + 32 <= la && pb + 32 <= lb) {
		uint64_t ta = 32 + le(fa + pa + 16, 8) + 4, tb = 32 + le(fb + pb + 16, 8) + 4;
		if (memcmp(fa + pa, fb + pb, 8)) { /* another id or instance: the files do not line up */
			used += (size_t)snprintf(names + used, used < size ? size - used : 0, "%sthe order",
						 used ? ", " : "");
			diffs++;
			lined_up = false;
			break;
		}
		if (ta != tb || pa + ta > la || pb + tb > lb || memcmp(fa + pa, fb + pb, ta)) {
			diffs++;
			used += (size_t)snprintf(names + used, used < size ? size - used : 0, "%s%s %u",
						 used ? ", " : "", snapshot_section_id_name((uint32_t)le(fa + pa, 4)),
						 (unsigned)le(fa + pa + 4, 4));
		}
		pa += ta;
		pb += tb;
	}
	if (lined_up && (pa != la || pb != lb))
		diffs = 1, snprintf(names, size, "the end");
	free(fa);
	free(fb);
	return diffs;
}

char *fake_vm_temp_path(char path[64], const char *what)
{
	snprintf(path, 64, "/tmp/roam-arm64-%s-XXXXXX", what);
	int fd = mkstemp(path);
	if (fd >= 0)
		close(fd);
	unlink(path);
	return path;
}
