/*
 * Unit test of what an arm64 restore refuses in the snapshot's sections, against the fake KVM
 * (test_arm64_fakekvm.h), through roam's own component table and vm_snapshot: a VM that ran its guest is written
 * through a changed copy of the table - a component left out, one vCPU fewer, a component twice, two components
 * swapped, a component claiming a newer version - and restored the way roam restore does. Each restore fails with
 * one line naming the section, before the vCPUs get any saved state. So does a snapshot whose devices are not the
 * VM's, in both directions: a device the snapshot lacks, and one the VM lacks.
 */
#include "arm64_fake_vm.h"
#include "check.h"
#include "core/component.h"
#include "snapshot/snapshot.h"
#include "stderr_capture.h"
#include "test_arm64_fakekvm.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static const struct component *table[COMPONENT_MAX];
static int nr_table;

/* Roam's table entry for section `id`. */
static const struct component *by_section(uint32_t id)
{
	for (int i = 0; i < nr_table; i++)
		if (table[i]->section == id)
			return table[i];
	return NULL;
}

/* Roam's table with `a` replaced by `b` (NULL: left out) into out; returns its length. */
static int replaced(const struct component *out[COMPONENT_MAX], const struct component *a, const struct component *b)
{
	int n = 0;
	for (int i = 0; i < nr_table; i++)
		if (table[i] != a)
			out[n++] = table[i];
		else if (b)
			out[n++] = b;
	return n;
}

/*
 * A VM made with `cfg` that ran its guest, written through `out` (n entries), restored with `edit` (or NULL) on the
 * configuration: the restore fails with `err` and `line` in roam's words; where the refused section comes before
 * the vCPUs' end in the table (`before_vcpus`), no saved register reached them.
 */
static void refused(const struct vm_config *cfg, const struct component *const *out, int n,
		    void (*edit)(struct vm_config *cfg), int err, const char *line, bool before_vcpus)
{
	static struct vm a, b;
	char path[64];
	fakekvm_reset();
	CHECK_EQ(fake_vm_create(&a, cfg), 0);
	fake_vm_run_guest(&a);
	CHECK_EQ(fake_vm_save_table(&a, fake_vm_temp_path(path, "refusal"), out, n), 0);
	struct stderr_capture cap;
	stderr_capture_begin(&cap);
	int ret = fake_vm_restore_edited(&b, path, VM_PREFAULT_AUTO, NULL, edit);
	char *log = stderr_capture_end(&cap);
	CHECK_EQ(ret, err);
	CHECK_CONTAINS(log, line);
	if (before_vcpus)
		CHECK(fake_vm_untouched(&b));
	CHECK_EQ(fakekvm.refusals, 0);
	free(log);
	vm_destroy(&a);
	vm_destroy(&b);
	unlink(path);
}

static uint32_t one(const struct vm *vm)
{
	(void)vm;
	return 1;
}

/* The whole table round-trips (so what the other cases change is what they refuse). */
static void test_whole_table(void)
{
	static struct vm a, b;
	char path[64];
	struct vm_config cfg = fake_vm_config();
	fakekvm_reset();
	CHECK_EQ(fake_vm_create(&a, &cfg), 0);
	fake_vm_run_guest(&a);
	CHECK_EQ(fake_vm_save_table(&a, fake_vm_temp_path(path, "refusal"), table, nr_table), 0);
	CHECK_EQ(fake_vm_restore(&b, path, VM_PREFAULT_AUTO, NULL), 0);
	CHECK_EQ(fake_vm_differences(&a, &b), 0);
	vm_destroy(&a);
	vm_destroy(&b);
	unlink(path);
}

static void test_sections(void)
{
	const struct component *out[COMPONENT_MAX];
	const struct component *timer = by_section(SNAPSHOT_SEC_TIMER), *vcpu = by_section(SNAPSHOT_SEC_VCPU),
			       *irqchip = by_section(SNAPSHOT_SEC_IRQCHIP), *pvlock = by_section(SNAPSHOT_SEC_PVLOCK);
	struct vm_config cfg = fake_vm_config();
	CHECK(timer && vcpu && irqchip && pvlock);
	if (!timer || !vcpu || !irqchip || !pvlock)
		return;

	/* Missing: a whole component, and one instance of the vCPUs (found when the next section comes). */
	refused(&cfg, out, replaced(out, pvlock, NULL), NULL, -EBADMSG,
		"no section \"pvlock 0\": this VM has it, the snapshot does not", true);
	refused(&cfg, out, replaced(out, timer, NULL), NULL, -EBADMSG,
		"no section \"timer\": this VM has it, the snapshot does not", true);
	struct component vcpu0 = *vcpu;
	vcpu0.count = one;
	refused(&cfg, out, replaced(out, vcpu, &vcpu0), NULL, -EBADMSG,
		"no section \"vcpu 1\": this VM has it, the snapshot does not", true);
	refused(&cfg, out, replaced(out, irqchip, NULL), NULL, -EBADMSG,
		"no section \"irqchip\": this VM has it, the snapshot does not", false);

	/* Duplicate: the GIC twice. */
	int n = replaced(out, NULL, NULL);
	for (int i = n - 1; i >= 0; i--)
		if (out[i] == irqchip) {
			memmove(&out[i + 1], &out[i], (size_t)(n - i) * sizeof(out[0]));
			n++;
			break;
		}
	refused(&cfg, out, n, NULL, -EBADMSG, "section \"irqchip\": duplicate section", false);

	/* Out of order: the GIC before the vCPUs it belongs after, so that they are missing when it comes. */
	n = replaced(out, NULL, NULL);
	for (int i = 0; i < n; i++)
		if (out[i] == vcpu)
			out[i] = irqchip;
		else if (out[i] == irqchip)
			out[i] = vcpu;
	refused(&cfg, out, n, NULL, -EBADMSG, "no section \"vcpu 0\": this VM has it, the snapshot does not", true);

	/* Out of order: the timer again after the vCPUs it belongs before. */
	n = replaced(out, NULL, NULL);
	for (int i = n - 1; i >= 0; i--)
		if (out[i] == vcpu) {
			memmove(&out[i + 2], &out[i + 1], (size_t)(n - i - 1) * sizeof(out[0]));
			out[i + 1] = timer;
			n++;
			break;
		}
	refused(&cfg, out, n, NULL, -EBADMSG, "section \"timer\": out of order: it belongs before \"vcpu\"", true);

	/* Newer: a timer section of a version this roam does not read yet. */
	struct component newer = *timer;
	newer.version = timer->version + 1;
	char line[128];
	snprintf(line, sizeof(line), "section \"timer\" has version %u, newer than this roam's %u; use a newer roam",
		 newer.version, timer->version);
	refused(&cfg, out, replaced(out, timer, &newer), NULL, -ENOTSUP, line, true);
}

static void no_devices(struct vm_config *cfg)
{
	cfg->nr_device_options = 0;
}

static void with_rng(struct vm_config *cfg)
{
	cfg->nr_device_options = 1;
	snprintf(cfg->device_options[0].name, sizeof(cfg->device_options[0].name), "rng");
}

/* The snapshot's devices against the VM's, both ways. */
static void test_devices(void)
{
	struct vm_config cfg = fake_vm_config();
	refused(&cfg, table, nr_table, no_devices, -EINVAL,
		"section \"device 2 (virtio-rng)\": this VM has no such device; restore with the snapshot's "
		"configuration",
		false);
	no_devices(&cfg);
	refused(&cfg, table, nr_table, with_rng, -EBADMSG,
		"no section \"device 2 (virtio-rng)\": this VM has it, the snapshot does not; restore with the "
		"snapshot's configuration",
		false);
}

int main(void)
{
	nr_table = component_table(table);
	fake_vm_setup();
	test_whole_table();
	test_sections();
	test_devices();
	fake_vm_teardown();
	return check_exit();
}
