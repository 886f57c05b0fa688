/*
 * Unit test of LoongArch snapshot state. Pure: the vCPU, interrupt-controller and timer payloads round-trip
 * (save -> restore -> save gives the same bytes) and every malformed payload is refused naming the field. Through
 * the fake KVM: a VM's vCPU registers, CSRs, CPUCFG words, FPU/LSX/LASX registers, steal-time address, IPI/EIOINTC/
 * PCH-PIC registers and counter are saved with arch.h's functions, restored into a fresh VM, and saved again with
 * identical bytes; the compatibility check reports what the destination cannot take.
 */
#include "arch.h"
#include "arch/loongarch/loongarch.h"
#include "arch/loongarch/snapshot.h"
#include "check.h"
#include "core/component.h"
#include "core/vcpu.h"
#include "core/vcpu_component.h"
#include "core/vm.h"
#include "snapshot/snap_codec.h"
#include "snapshot/snapshot.h"
#include "snapshot/vm_snapshot.h"
#include "test_loongarch_fakekvm.h"

#include <asm/kvm_para.h>
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static void fill_vcpu(struct loongarch_vcpu_state *st, uint32_t width)
{
	memset(st, 0, sizeof(*st));
	for (int i = 1; i < 32; i++)
		st->gpr[i] = 0x1000000000000000ull * (uint64_t)(i % 16) + (uint64_t)i;
	st->pc = 0x9000000000201234ull;
	st->nr_csrs = (uint32_t)loongarch_csr_count();
	for (uint32_t i = 0; i < st->nr_csrs; i++) {
		st->csr_num[i] = loongarch_csr_at((int)i)->num;
		st->csr_val[i] = 0xabcd000000000000ull | i;
	}
	for (int i = 0; i < LOONGARCH_NR_CPUCFG; i++)
		st->cpucfg[i] = 0x01010101u * (uint32_t)i;
	st->pv_features = 0x2000006;
	st->steal_time_gpa = 0x12340001;
	st->fp_width = width;
	st->fcsr = 0x1f;
	st->fcc = 0x0101010100000001ull;
	for (int i = 0; i < 32; i++)
		for (uint32_t k = 0; k < width / 64; k++)
			st->fpr[i][k] = ((uint64_t)i << 32) | k;
}

/* Saves `st`, restores it, saves again: the two payloads must be equal; returns the first payload's length. */
static size_t vcpu_round_trip(const struct loongarch_vcpu_state *st)
{
	struct snap_writer w1, w2;
	struct snap_reader r;
	static struct loongarch_vcpu_state back;
	snap_writer_init(&w1);
	snap_writer_init(&w2);
	loongarch_vcpu_state_save(st, &w1);
	snap_reader_init(&r, w1.buf, w1.len);
	CHECK_EQ(loongarch_vcpu_state_restore(&r, &back), 0);
	loongarch_vcpu_state_save(&back, &w2);
	CHECK_EQ(w1.len, w2.len);
	CHECK(w1.len == w2.len && !memcmp(w1.buf, w2.buf, w1.len));
	CHECK_EQ(back.pc, st->pc);
	CHECK_EQ(back.fpr[31][st->fp_width ? st->fp_width / 64 - 1 : 0],
		 st->fpr[31][st->fp_width ? st->fp_width / 64 - 1 : 0]);
	size_t len = w1.len;
	snap_writer_fini(&w1);
	snap_writer_fini(&w2);
	return len;
}

/* Decodes `len` bytes; returns r.what of the failure (NULL if it decoded). */
static const char *vcpu_decode_error(const uint8_t *buf, size_t len)
{
	static struct snap_reader r;
	static struct loongarch_vcpu_state st;
	snap_reader_init(&r, buf, len);
	return loongarch_vcpu_state_restore(&r, &st) ? r.what : NULL;
}

static void test_vcpu_payload(void)
{
	static struct loongarch_vcpu_state st;
	fill_vcpu(&st, 256);
	size_t lasx = vcpu_round_trip(&st);
	fill_vcpu(&st, 128);
	size_t lsx = vcpu_round_trip(&st);
	fill_vcpu(&st, 0);
	size_t none = vcpu_round_trip(&st);
	CHECK_EQ(lasx - lsx, 32 * 16);
	CHECK_EQ(lsx - none, 32 * 16 + 4 + 8);
	CHECK_EQ(loongarch_fp_width(0x7), 64);
	CHECK_EQ(loongarch_fp_width(0x47), 128);
	CHECK_EQ(loongarch_fp_width(0xc7), 256);
	CHECK_EQ(loongarch_fp_width(0xc6), 0);

	struct snap_writer w;
	snap_writer_init(&w);
	fill_vcpu(&st, 64);
	loongarch_vcpu_state_save(&st, &w);
	CHECK(vcpu_decode_error(w.buf, w.len) == NULL);
	CHECK(vcpu_decode_error(w.buf, w.len - 1) != NULL); /* truncated */
	uint8_t *copy = malloc(w.len + 1);
	memcpy(copy, w.buf, w.len);
	copy[w.len] = 0;
	CHECK_CONTAINS(vcpu_decode_error(copy, w.len + 1), "trailing bytes");
	size_t csr0 = 33 * 8 + 4; /* after the GPRs, the PC and the CSR count */
	memcpy(copy, w.buf, w.len);
	copy[csr0] = 0x99, copy[csr0 + 1] = 0x09; /* CSR 0x999 */
	CHECK_CONTAINS(vcpu_decode_error(copy, w.len), "CSR number (one roam does not restore)");
	memcpy(copy, w.buf, w.len);
	copy[csr0 + 10] = copy[csr0], copy[csr0 + 11] = copy[csr0 + 1]; /* the second CSR repeats the first */
	CHECK_CONTAINS(vcpu_decode_error(copy, w.len), "given twice");
	memcpy(copy, w.buf, w.len);
	copy[33 * 8] = 65; /* CSR count */
	CHECK_CONTAINS(vcpu_decode_error(copy, w.len), "CSR count");
	size_t cpucfg_count = csr0 + (size_t)st.nr_csrs * 10;
	memcpy(copy, w.buf, w.len);
	copy[cpucfg_count] = 20;
	CHECK_CONTAINS(vcpu_decode_error(copy, w.len), "CPUCFG count");
	size_t width = cpucfg_count + 4 + 21 * 4 + 4 + 8;
	memcpy(copy, w.buf, w.len);
	copy[width] = 100;
	CHECK_CONTAINS(vcpu_decode_error(copy, w.len), "FPU width");
	free(copy);
	snap_writer_fini(&w);
}

static void fill_irqchip(struct loongarch_irqchip_state *st, uint32_t cpus)
{
	memset(st, 0, sizeof(*st));
	st->nr_cpus = cpus;
	for (uint32_t c = 0; c < cpus; c++) {
		st->ipi[c] =
		    (struct loongarch_ipi_state){c + 1, 0xffffffff, 0, 0, {c, 0x9000000000201000ull + c, 3, 4}};
		for (int i = 0; i < LOONGARCH_EIOINTC_COREISR_WORDS; i++)
			st->eiointc.coreisr[c][i] = c * 100 + (uint32_t)i;
	}
	st->eiointc.num_cpu = cpus;
	st->eiointc.features = 0xf;
	st->eiointc.status = 0x2;
	for (int i = 0; i < 64; i++)
		st->eiointc.coremap[i] = 0x01010101u * (uint32_t)(i % 4);
	st->eiointc.enable[3] = 0x80000001;
	st->eiointc.ipmap[1] = 0x01010101;
	st->pch_pic = (struct loongarch_pch_pic_state){~0ull ^ 4, 0, 0x10, 0, 0, 4, 4, 0, {0}, {0}};
	for (int i = 0; i < 64; i++) {
		st->pch_pic.route_entry[i] = 1;
		st->pch_pic.htmsi_vector[i] = (uint8_t)i;
	}
}

static void test_irqchip_payload(void)
{
	static struct loongarch_irqchip_state st, back;
	struct snap_writer w1, w2;
	struct snap_reader r;
	fill_irqchip(&st, 3);
	snap_writer_init(&w1);
	snap_writer_init(&w2);
	loongarch_irqchip_state_save(&st, &w1);
	snap_reader_init(&r, w1.buf, w1.len);
	CHECK_EQ(loongarch_irqchip_state_restore(&r, &back), 0);
	loongarch_irqchip_state_save(&back, &w2);
	CHECK(w1.len == w2.len && !memcmp(w1.buf, w2.buf, w1.len));
	CHECK_EQ(back.ipi[2].buf[1], 0x9000000000201002ull);
	CHECK_EQ(back.pch_pic.htmsi_vector[63], 63);
	snap_reader_init(&r, w1.buf, w1.len - 1);
	CHECK_EQ(loongarch_irqchip_state_restore(&r, &back), -EBADMSG);
	uint8_t *copy = malloc(w1.len);
	memcpy(copy, w1.buf, w1.len);
	copy[0] = 0;
	snap_reader_init(&r, copy, w1.len);
	CHECK_EQ(loongarch_irqchip_state_restore(&r, &back), -EBADMSG);
	CHECK_CONTAINS(r.what, "vCPU count");
	memcpy(copy, w1.buf, w1.len);
	copy[4 + 3 * 48] = 2; /* the EIOINTC claims another vCPU count */
	snap_reader_init(&r, copy, w1.len);
	CHECK_EQ(loongarch_irqchip_state_restore(&r, &back), -EBADMSG);
	CHECK_CONTAINS(r.what, "EIOINTC vCPU count");
	free(copy);
	snap_writer_fini(&w1);
	snap_writer_fini(&w2);

	uint64_t counter = 0;
	snap_writer_init(&w1);
	loongarch_timer_state_save(0x123456789abcull, &w1);
	snap_reader_init(&r, w1.buf, w1.len);
	CHECK_EQ(loongarch_timer_state_restore(&r, &counter), 0);
	CHECK_EQ(counter, 0x123456789abcull);
	snap_reader_init(&r, w1.buf, 7);
	CHECK_EQ(loongarch_timer_state_restore(&r, &counter), -EBADMSG);
	snap_writer_fini(&w1);
}

/* --- through the fake KVM --------------------------------------------------------------------------------- */

static char kernel_path[] = "/tmp/roam-la-snap-XXXXXX";

static void write_kernel(void)
{
	static uint8_t buf[0x2000];
	memcpy(buf, "\177ELF", 4);
	buf[4] = 2, buf[5] = 1, buf[18] = 258 & 0xff, buf[19] = 258 >> 8;
	buf[26] = 0x20, buf[32] = 64, buf[54] = 56, buf[56] = 1; /* entry 0x200000, one program header at 64 */
	buf[64] = 1, buf[64 + 9] = 0x10, buf[64 + 26] = 0x20, buf[64 + 33] = 0x10, buf[64 + 41] = 0x10;
	int fd = mkstemp(kernel_path);
	CHECK(fd >= 0 && write(fd, buf, sizeof(buf)) == (ssize_t)sizeof(buf));
	close(fd);
}

static int create_vm(struct vm *vm, int cpus)
{
	struct vm_config cfg = {.kernel_path = kernel_path,
				.cmdline = "",
				.ram_size = 64 << 20,
				.nr_vcpus = cpus,
				.kvm_path = "/dev/null",
				.console_out_fd = 1,
				.no_pvlock = true};
	fakekvm_reset();
	return vm_create(vm, &cfg, 0);
}

/* Puts recognisable values into the fake's state of `vm`, as a running guest would leave it. */
static void dirty_state(struct vm *vm)
{
	for (int v = 0; v < vm->nr_vcpus; v++) {
		struct fakekvm_vcpu *f = fakekvm_vcpu_by_fd(vm->vcpus[v].fd);
		for (int i = 1; i < 32; i++)
			f->regs.gpr[i] = (uint64_t)(v * 100 + i);
		f->regs.pc = 0x9000000000300000ull + (uint64_t)v;
		for (int i = 0; i < loongarch_csr_count(); i++)
			if (loongarch_csr_at(i)->num != 0x20)
				f->csr[loongarch_csr_at(i)->num] = 0x5000 + (uint64_t)v * 0x100 + (uint64_t)i;
		f->fpu.fcsr = 0x10 + (uint32_t)v;
		f->fpu.fcc = 0x0100000000000001ull;
		for (int i = 0; i < 32; i++)
			for (int k = 0; k < 4; k++)
				f->fpu.fpr[i].val64[k] = ((uint64_t)v << 48) | ((uint64_t)i << 8) | (uint64_t)k;
		f->pvtime_gpa = 0x3f00001;
	}
	struct arch_vm *a = vm->arch;
	uint32_t u32 = 0x5;
	uint64_t u64 = 0x9000000000400000ull;
	uint8_t u8 = 7;
	loongarch_attr(a->ipi_fd, true, KVM_DEV_LOONGARCH_IPI_GRP_REGS, (1u << 16) | 0x0, &u32, "test");
	loongarch_attr(a->ipi_fd, true, KVM_DEV_LOONGARCH_IPI_GRP_REGS, (1u << 16) | 0x20, &u64, "test");
	loongarch_attr(a->eiointc_fd, true, KVM_DEV_LOONGARCH_EXTIOI_GRP_REGS, 0x200, &u32, "test");
	loongarch_attr(a->eiointc_fd, true, KVM_DEV_LOONGARCH_EXTIOI_GRP_REGS, (1u << 16) | 0x404, &u32, "test");
	loongarch_attr(a->pch_pic_fd, true, KVM_DEV_LOONGARCH_PCH_PIC_GRP_REGS, 0x20, &u64, "test");
	loongarch_attr(a->pch_pic_fd, true, KVM_DEV_LOONGARCH_PCH_PIC_GRP_REGS, 0x105, &u8, "test");
	u64 = 0x777777;
	loongarch_set_one(&vm->vcpus[0], KVM_REG_LOONGARCH_COUNTER, u64, "test");
}

struct saved {
	struct snap_writer vcpu[2], irqchip, timer;
};

/* The architecture's component called `name`. */
static const struct component *arch_component(const char *name)
{
	const struct arch_components *a = arch_components();
	for (int i = 0; i < a->nr_cpu; i++)
		if (!strcmp(a->cpu[i]->name, name))
			return a->cpu[i];
	CHECK(!"no such component");
	return a->cpu[0];
}

static int comp_save(struct vm *vm, const char *name, uint32_t instance, struct snap_writer *w)
{
	struct component_ctx ctx = {.self = arch_component(name), .vm = vm};
	return ctx.self->save(&ctx, instance, w);
}

static int comp_restore(struct vm *vm, const char *name, uint32_t version, struct snap_reader *r)
{
	struct component_ctx ctx = {.self = arch_component(name), .vm = vm};
	return ctx.self->restore(&ctx, 0, version, r);
}

static const struct vcpu_state_ops *vcpu_ops(void)
{
	return arch_component("vcpu")->data;
}

static void save_all(struct vm *vm, struct saved *s)
{
	snap_writer_init(&s->timer);
	snap_writer_init(&s->irqchip);
	CHECK_EQ(comp_save(vm, "timer", 0, &s->timer), 0);
	for (int v = 0; v < 2; v++) {
		snap_writer_init(&s->vcpu[v]);
		CHECK_EQ(comp_save(vm, "vcpu", (uint32_t)v, &s->vcpu[v]), 0);
	}
	CHECK_EQ(comp_save(vm, "irqchip", 0, &s->irqchip), 0);
}

static void free_saved(struct saved *s)
{
	snap_writer_fini(&s->timer);
	snap_writer_fini(&s->irqchip);
	snap_writer_fini(&s->vcpu[0]);
	snap_writer_fini(&s->vcpu[1]);
}

static void same_bytes(const struct snap_writer *a, const struct snap_writer *b)
{
	CHECK_EQ(a->len, b->len);
	CHECK(a->len == b->len && !memcmp(a->buf, b->buf, a->len));
}

static void test_through_kvm(void)
{
	static struct vm a, b;
	struct saved first, second;
	struct snap_reader r;
	CHECK_EQ(create_vm(&a, 2), 0);
	dirty_state(&a);
	save_all(&a, &first);
	vm_destroy(&a);

	CHECK_EQ(create_vm(&b, 2), 0);
	snap_reader_init(&r, first.timer.buf, first.timer.len);
	CHECK_EQ(comp_restore(&b, "timer", LOONGARCH_TIMER_STATE_VERSION, &r), 0);
	for (int v = 0; v < 2; v++) {
		void *state = NULL;
		char report[512] = "";
		snap_reader_init(&r, first.vcpu[v].buf, first.vcpu[v].len);
		CHECK_EQ(vcpu_ops()->load(&r, LOONGARCH_VCPU_STATE_VERSION, &state), 0);
		CHECK_EQ(vcpu_ops()->check(&b.vcpus[v], state, report, sizeof(report)), 0);
		CHECK_EQ(vcpu_ops()->apply(&b.vcpus[v], state), 0);
		vcpu_ops()->free(state);
	}
	snap_reader_init(&r, first.irqchip.buf, first.irqchip.len);
	CHECK_EQ(comp_restore(&b, "irqchip", LOONGARCH_IRQCHIP_STATE_VERSION, &r), 0);
	CHECK_EQ(fakekvm_device_of_type(KVM_DEV_TYPE_LOONGARCH_EIOINTC)->load_finished, 1);
	CHECK_EQ(arch_component("vcpu")->restore_finish(&b), 0);
	struct fakekvm_vcpu *f1 = fakekvm_vcpu_by_fd(b.vcpus[1].fd);
	CHECK_EQ(f1->regs.pc, 0x9000000000300001ull);
	CHECK_EQ(f1->fpu.fpr[31].val64[3], (1ull << 48) | (31u << 8) | 3);
	CHECK_EQ(f1->pvtime_gpa, 0x3f00001);
	CHECK_EQ(fakekvm_device_attr(KVM_DEV_TYPE_LOONGARCH_PCHPIC, KVM_DEV_LOONGARCH_PCH_PIC_GRP_REGS, 0x105, 0), 7);
	/* save -> restore -> save: the same bytes through KVM. */
	save_all(&b, &second);
	same_bytes(&first.timer, &second.timer);
	same_bytes(&first.vcpu[0], &second.vcpu[0]);
	same_bytes(&first.vcpu[1], &second.vcpu[1]);
	same_bytes(&first.irqchip, &second.irqchip);
	free_saved(&second);

	/* The compatibility check names what this host cannot take. */
	void *state = NULL;
	char report[1024] = "";
	snap_reader_init(&r, first.vcpu[0].buf, first.vcpu[0].len);
	CHECK_EQ(vcpu_ops()->load(&r, LOONGARCH_VCPU_STATE_VERSION, &state), 0);
	((struct loongarch_vcpu_state *)state)->cpucfg[7] = 1;
	((struct loongarch_vcpu_state *)state)->pv_features |= 1u << KVM_FEATURE_VIRT_EXTIOI;
	CHECK_EQ(vcpu_ops()->check(&b.vcpus[0], state, report, sizeof(report)), 2);
	CHECK_CONTAINS(report, "CPUCFG7: the guest saw 0x1; KVM here lets a VMM set only 0x0\n");
	CHECK_CONTAINS(report, "PV features: the guest saw 0x1000006, this VM offers 0x6");
	vcpu_ops()->free(state);
	vm_destroy(&b);

	/* Versions and vCPU counts that do not match. */
	CHECK_EQ(create_vm(&b, 1), 0);
	snap_reader_init(&r, first.irqchip.buf, first.irqchip.len);
	CHECK_EQ(comp_restore(&b, "irqchip", LOONGARCH_IRQCHIP_STATE_VERSION, &r), -EINVAL);
	snap_reader_init(&r, first.irqchip.buf, first.irqchip.len);
	CHECK_EQ(comp_restore(&b, "irqchip", 9, &r), -EBADMSG);
	snap_reader_init(&r, first.vcpu[0].buf, first.vcpu[0].len);
	CHECK_EQ(comp_restore(&b, "vcpu", 9, &r), -EBADMSG);
	snap_reader_init(&r, first.vcpu[0].buf, 10);
	CHECK_EQ(vcpu_ops()->load(&r, LOONGARCH_VCPU_STATE_VERSION, &state), -EBADMSG);
	/* A counter that went backwards is caught. */
	b.arch->saved_counter = UINT64_MAX;
	CHECK_EQ(arch_component("vcpu")->restore_finish(&b), -EIO);
	vm_destroy(&b);
	free_saved(&first);

	uint64_t id[2];
	arch_host_identity(id);
	CHECK_EQ(id[0], loongarch_host_cpucfg(0));
	CHECK_EQ(arch_snapshot_id(), 2);
}

/* The whole VM through roam's snapshot file: save, read the configuration back, restore into a fresh VM. */
static void test_file(void)
{
	static struct vm a, b;
	static struct snapshot_reader reader;
	struct saved first, second;
	struct vm_snapshot_result res;
	char path[] = "/tmp/roam-la-snap-file-XXXXXX", err[512] = "";
	close(mkstemp(path));
	CHECK_EQ(create_vm(&a, 2), 0);
	dirty_state(&a);
	save_all(&a, &first);
	CHECK_EQ(vm_snapshot_save(&a, path, -1, true, &res, err, sizeof(err)), 0);
	if (err[0])
		fprintf(stderr, "%s\n", err);
	vm_destroy(&a);

	struct vm_config cfg = {.cmdline = "", .kvm_path = "/dev/null", .console_out_fd = 1};
	char *targets_json = NULL;
	CHECK_EQ(snapshot_reader_open_path(&reader, path, arch_name(), 0), 0);
	static struct vm_restore_base base;
	CHECK_EQ(vm_restore_config(&reader, &cfg, &targets_json, &base), 0);
	CHECK_EQ(base.path[0], 0);
	CHECK_EQ(cfg.nr_vcpus, 2);
	CHECK(cfg.kernel_path == NULL);
	fakekvm_reset();
	CHECK_EQ(vm_create(&b, &cfg, 0), 0);
	CHECK_EQ(vm_restore_state(&b, &reader), 0);
	snapshot_reader_close(&reader);
	save_all(&b, &second);
	same_bytes(&first.timer, &second.timer);
	same_bytes(&first.vcpu[0], &second.vcpu[0]);
	same_bytes(&first.vcpu[1], &second.vcpu[1]);
	same_bytes(&first.irqchip, &second.irqchip);
	free_saved(&first);
	free_saved(&second);
	vm_destroy(&b);
	free(targets_json);
	unlink(path);
}

int main(void)
{
	test_vcpu_payload();
	test_irqchip_payload();
	write_kernel();
	test_through_kvm();
	test_file();
	unlink(kernel_path);
	return check_exit();
}
