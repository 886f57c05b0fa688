/*
 * Unit test of arm64 whole-VM snapshots against the fake KVM (test_arm64_fakekvm.h). A VM with 2 vCPUs, the GICv3,
 * the counter, the PV-lock region, a virtio-rng device its driver set up, a booted Image and a guest's registers and
 * memory is saved with vm_snapshot_save and restored into a fresh VM the way roam restore does: the restored VM's
 * registers, MP states, events, GIC registers, device status and memory equal the source's, its counter continues
 * from the saved one, and saving it again gives the same bytes. Both ways of restoring time are covered -
 * KVM_ARM_SET_COUNTER_OFFSET, and the vCPUs' counter registers on a KVM without it - and the restore prefault of
 * erratum-834220 hosts, whose stub the fake KVM runs instruction by instruction.
 */
#include "arm64_fake_vm.h"
#include "check.h"
#include "devices/virtio_mmio.h"
#include "stderr_capture.h"
#include "test_arm64_fakekvm.h"

#include <stdlib.h>
#include <unistd.h>

#define A57_R1P0 0x411fd070ull /* a Cortex-A57 with erratum 834220 */

/* A fresh source VM that has run its guest, saved to `path`; its counters as saved in *virt and *phys. */
static void source_saved(struct vm *a, const char *path, uint64_t *virt, uint64_t *phys)
{
	struct vm_config cfg = fake_vm_config();
	CHECK_EQ(fake_vm_create(a, &cfg), 0);
	fake_vm_run_guest(a);
	*virt = fake_vm_counter(a, 0, false);
	*phys = fake_vm_counter(a, 0, true);
	CHECK_EQ(fake_vm_save(a, path), 0);
}

/*
 * Restores `from` into `to` after the host's counter moved on, checks `to` against `src` (registers, GIC, memory,
 * the virtual counter where it was saved) and saves it to `path`.
 */
static void hop(struct vm *src, const char *from, struct vm *to, char path[64], uint64_t virt)
{
	fakekvm.host.counter += 987654321;
	CHECK_EQ(fake_vm_restore(to, from, VM_PREFAULT_AUTO, NULL), 0);
	CHECK_EQ(fake_vm_differences(src, to), 0);
	CHECK_EQ(fake_vm_counter(to, 0, false), virt);
	CHECK_EQ(fake_vm_counter(to, 1, false), virt);
	uint64_t rng_src = fake_vm_rng_window(src), rng_to = fake_vm_rng_window(to);
	CHECK(rng_src && rng_to);
	CHECK(fake_vm_virtio_read(to, rng_to + 0x70) & VIRTIO_STATUS_DRIVER_OK); /* the driver's device status */
	CHECK_EQ(fake_vm_virtio_read(to, rng_to + 0x70), fake_vm_virtio_read(src, rng_src + 0x70));
	CHECK_EQ(fake_vm_virtio_read(to, rng_to + 0x44), 1); /* queue 0 ready */
	CHECK_EQ(fake_vm_save(to, fake_vm_temp_path(path, "snap")), 0);
}

/*
 * A -> f1 -> B -> f2 -> C -> f3. From the first restore on, the files are the same bytes. The first one differs
 * from the second in the VM section (a restored VM describes its kernel as "(restored)", with no command line), so
 * in the memory section's padding (its pages start at a multiple of the page size in the file) and the checksum of
 * that part in memory-sums, and, where `physical_differs`, in the vCPUs' physical counters (and in PRECHECK, which
 * samples vCPU 0).
 */
static void round_trips(bool physical_differs)
{
	static struct vm a, b, c;
	char f1[64], f2[64], f3[64], names[256];
	uint64_t virt, phys;
	source_saved(&a, fake_vm_temp_path(f1, "snap"), &virt, &phys);
	CHECK_EQ(virt, 5000000000ull); /* the guest ran 80 s */
	hop(&a, f1, &b, f2, virt);
	CHECK_EQ(fake_vm_counter(&b, 1, true), physical_differs ? virt : phys);
	CHECK_EQ(fake_vm_file_differences(f1, f2, names, sizeof(names)), physical_differs ? 6 : 3);
	CHECK_CONTAINS(names, physical_differs ? "vm 0, precheck 0, vcpu 0, vcpu 1, memory 0, memory-sums 0"
					       : "vm 0, memory 0, memory-sums 0");
	hop(&b, f2, &c, f3, virt);
	CHECK_EQ(fake_vm_file_differences(f2, f3, names, sizeof(names)), 0);
	CHECK_EQ(fakekvm.refusals, 0);
	vm_destroy(&a);
	vm_destroy(&b);
	vm_destroy(&c);
	unlink(f1);
	unlink(f2);
	unlink(f3);
}

/* A KVM without KVM_CAP_COUNTER_OFFSET: the vCPUs' own counter registers carry both counters. */
static void test_round_trip_counter_registers(void)
{
	fakekvm_reset();
	fakekvm.host.missing_caps[0] = KVM_CAP_COUNTER_OFFSET;
	round_trips(false);
}

/* KVM_ARM_SET_COUNTER_OFFSET: one VM-wide offset for both counters (the KVM API), the virtual one's. */
static void test_round_trip_counter_offset(void)
{
	fakekvm_reset();
	round_trips(true);
	CHECK_EQ(fakekvm.host.missing_caps[0], 0);
}

/* Every page of the source's RAM that holds data is mapped at stage 2 in `b`; returns how many pages that is. */
static int check_prefaulted(struct vm *a, struct vm *b)
{
	const struct memory_slot *ram = &a->mem.slots[0];
	struct fakekvm_slot *slot = &fakekvm_vm_by_fd(b->vm_fd)->slots[0];
	int pages = 0, missed = 0;
	for (uint64_t off = 0; off < ram->size; off += FAKEKVM_PAGE) {
		bool data = false;
		for (uint64_t k = 0; k < FAKEKVM_PAGE && !data; k++)
			data = ram->host[off + k] != 0;
		pages += data;
		missed += data && !slot->stage2[off / FAKEKVM_PAGE];
	}
	CHECK_EQ(missed, 0);
	return pages;
}

/* On an erratum-834220 host the restore first maps every restored page, then puts vCPU 0 back as it was. */
static void test_prefault(void)
{
	static struct vm a, b;
	char f1[64];
	uint64_t virt, phys;
	fakekvm_reset();
	fakekvm.host.midr = A57_R1P0;
	source_saved(&a, fake_vm_temp_path(f1, "snap"), &virt, &phys);
	CHECK_EQ(fake_vm_restore(&b, f1, VM_PREFAULT_OFF, NULL), 0);
	CHECK_EQ(fakekvm_vm_by_fd(b.vm_fd)->vcpus[0].runs, 0);
	vm_destroy(&b);

	struct stderr_capture cap;
	stderr_capture_begin(&cap);
	int ret = fake_vm_restore(&b, f1, VM_PREFAULT_AUTO, NULL);
	char *log = stderr_capture_end(&cap);
	CHECK_EQ(ret, 0);
	CHECK_CONTAINS(log, "(this host has Arm erratum 834220)");
	struct fakekvm_vm *fb = fakekvm_vm_by_fd(b.vm_fd);
	CHECK_EQ(fb->vcpus[0].runs, 1);
	CHECK_EQ(fb->vcpus[1].runs, 0);
	CHECK(check_prefaulted(&a, &b) > 16);
	CHECK_EQ(fakekvm.refusals, 0);
	CHECK(fakekvm.cleans >= 2); /* the stub and its page put back */
	CHECK_EQ(fake_vm_differences(&a, &b), 0); /* registers, MP state, the stub's page: as before */
	CHECK_EQ(fake_vm_counter(&b, 0, false), virt);
	free(log);
	vm_destroy(&b);
	vm_destroy(&a);
	unlink(f1);
}

int main(void)
{
	fake_vm_setup();
	test_round_trip_counter_registers();
	test_round_trip_counter_offset();
	test_prefault();
	fake_vm_teardown();
	return check_exit();
}
