/*
 * Fuzzes the restore path (snapshot/component_walk.c and the components' restore hooks) on a VM without KVM: 1 MiB
 * of RAM, the PV-lock region (a read-only slot), and four devices made by the device registry as `roam run --disk
 * /proc/self/fd/N --rng --console virtio` makes them (the UART, the ucall window, a virtio disk on a memfd, an
 * entropy device, a virtio console). The input is a whole snapshot; it is read from a memfd and restored through the
 * real walk over the VM's KVM-free components, in the component table's order: the PV lock, the devices, memory and
 * memory deltas. (The vCPU, timer and interrupt-controller components need KVM: the arm64 and LoongArch fake-KVM
 * unit tests cover them.)
 *
 * Invariants besides the sanitizers': a refusal has a message; restore never writes the disk, the read-only slot or
 * outside RAM; and a snapshot that restored is a fixed point: saving the VM, restoring that and saving again gives
 * the same sections (the same bytes after the file header). The defects this harness guards against indexed arrays with
 * a section's instance taken as a negative int (issue 13): ASan reports such an access as a crash.
 *
 * Seeds: the VM saved by the real walk, once as made and once with RAM written and a memory delta after it (as a
 * migration round writes one). The custom mutator repairs checksums as fuzz_snapshot's does.
 */
#include "arch.h"
#include "core/component.h"
#include "core/vm.h"
#include "devices/device.h"
#include "fuzz_snapshot_crc.h"
#include "fuzz_util.h"
#include "fuzz_vm.h"
#include "pvlock/pvlock.h"
#include "snapshot/component_walk.h"
#include "snapshot/snapshot.h"

#include <errno.h>
#include <sys/stat.h>

#define RAM_SIZE (1u << 20)
#define DISK_SIZE (64u << 10)
#define PAGE 4096u

/*
 * The devices' component without its pause, resume and restore_finish hooks: the devices stay paused as created, so
 * their I/O threads never act on a restored queue between two saves (fuzz_guest runs the devices themselves).
 */
static struct component devices_held;
static const struct component *const table[] = {&pvlock_component,	 &devices_held,
						&memory_component,	 &memory_sums_component,
						&memory_delta_component, &memory_packed_component};
#define NR_TABLE ((int)(sizeof(table) / sizeof(table[0])))

static struct vm vm;
static uint8_t pristine_disk[DISK_SIZE];
static int disk_fd = -1;
static struct memory_slot *ram;
static const struct memory_slot *ro_slot;
static uint8_t *ro_copy;
static struct bus bus_before_devices;

/* The VM functions devices call: nothing runs a guest here. */
int vm_irq_line(struct vm *v, uint32_t irq, bool level)
{
	(void)v, (void)irq, (void)level;
	return 0;
}

void vm_console_output(struct vm *v, uint8_t byte)
{
	(void)v, (void)byte;
}

void vm_request_stop(struct vm *v, int code)
{
	(void)v, (void)code;
}

static void add_option(const char *name, const char *value)
{
	struct vm_device_option *o = &vm.cfg.device_options[vm.cfg.nr_device_options++];
	snprintf(o->name, sizeof(o->name), "%s", name);
	snprintf(o->value, sizeof(o->value), "%s", value);
}

/* Restores the snapshot on fd into the VM; returns the walk's result. */
static int restore_fd(int fd, char *err, size_t err_len)
{
	struct snapshot_reader r;
	int ret = snapshot_reader_open_fd(&r, fd, "fuzz.roam", NULL, 0);
	if (!ret)
		ret = component_walk_restore(&vm, &r, table, NR_TABLE);
	snprintf(err, err_len, "%s", r.err);
	snapshot_reader_close(&r);
	return ret;
}

/* Saves the VM through the real walk into a new memfd (at offset 0); returns it, its length in *len. */
static int save_fd(size_t *len)
{
	int fd = memfd_create("save", MFD_CLOEXEC);
	struct snapshot_writer w;
	uint64_t pages;
	FUZZ_ASSERT(fd >= 0 && snapshot_writer_open_fd(&w, fd, "save", "fuzz") == 0, "writer");
	int ret = component_walk_write(&vm, &w, table, NR_TABLE, &pages);
	FUZZ_ASSERT(ret == 0 && snapshot_writer_commit(&w) == 0, "saving the restored VM: %s", w.err);
	off_t end = lseek(fd, 0, SEEK_END);
	FUZZ_ASSERT(end > 0, "empty save");
	*len = (size_t)end;
	lseek(fd, 0, SEEK_SET);
	return fd;
}

static uint8_t *contents(int fd, size_t len)
{
	uint8_t *buf = malloc(len);
	FUZZ_ASSERT(buf && pread(fd, buf, len, 0) == (ssize_t)len, "reading back %zu bytes", len);
	return buf;
}

/* Save -> restore -> save: the same bytes. */
static void check_fixed_point(void)
{
	size_t len_a, len_b;
	char err[512];
	int a = save_fd(&len_a);
	int ret = restore_fd(a, err, sizeof(err));
	FUZZ_ASSERT(ret == 0, "what roam saved does not restore: %s", err);
	int b = save_fd(&len_b);
	uint8_t *x = contents(a, len_a), *y = contents(b, len_b);
	size_t at = SNAPSHOT_HEADER_SIZE; /* the file header differs: it holds the time of writing */
	while (at < len_a && at < len_b && x[at] == y[at])
		at++;
	FUZZ_ASSERT(len_a == len_b && at == len_a,
		    "save -> restore -> save differs (%zu and %zu bytes, first at offset %zu: %#x, then %#x)", len_a,
		    len_b, at, at < len_a ? x[at] : 0, at < len_b ? y[at] : 0);
	free(x);
	free(y);
	close(a);
	close(b);
}

/* Fresh devices and zeroed RAM, as a real restore starts with (a failed restore may leave state half set). */
static void fresh_vm(void)
{
	devices_destroy_all(&vm);
	vm.mmio = bus_before_devices; /* their windows go with them */
	FUZZ_ASSERT(devices_create_all(&vm) == 0, "devices");
	devices_pause_all(&vm); /* as created for a restore: waiting for guest memory */
	memset(ram->host, 0, RAM_SIZE);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	fresh_vm();
	int fd = fuzz_memfd("input", data, size);
	FUZZ_ASSERT(fd >= 0, "memfd");
	char err[512];
	int ret = restore_fd(fd, err, sizeof(err));
	close(fd);
	FUZZ_ASSERT(ret <= 0, "restore returned %d", ret);
	static uint8_t disk[DISK_SIZE];
	struct stat st;
	FUZZ_ASSERT(fstat(disk_fd, &st) == 0 && st.st_size == DISK_SIZE, "the disk changed size");
	FUZZ_ASSERT(pread(disk_fd, disk, DISK_SIZE, 0) == DISK_SIZE && !memcmp(disk, pristine_disk, DISK_SIZE),
		    "restore wrote the disk");
	FUZZ_ASSERT(!memcmp(ro_slot->host, ro_copy, ro_slot->size), "restore wrote the read-only slot");
	FUZZ_ASSERT(ram->size == RAM_SIZE && vm.mem.nr_slots == 2, "the memory layout changed");
	if (ret == 0)
		check_fixed_point();
	return 0;
}

/* Writes the VM, as the real walk saves it, into DIR/NAME; with `delta`, RAM is written and a delta follows. */
static void seed(const char *dir, const char *name, bool delta)
{
	int fd = memfd_create("seed", MFD_CLOEXEC);
	struct snapshot_writer w;
	uint64_t pages;
	FUZZ_ASSERT(fd >= 0 && snapshot_writer_open_fd(&w, fd, name, "fuzz") == 0, "seed writer");
	for (uint32_t page = 0; page < 8; page += 3) /* a few pages: small seeds fuzz faster */
		ram->host[page * PAGE] = (uint8_t)(page + 1);
	FUZZ_ASSERT(component_walk_write(&vm, &w, table, NR_TABLE, &pages) == 0, "seed %s: %s", name, w.err);
	if (delta) {
		uint8_t dirty[RAM_SIZE / PAGE / 8] = {0x25, 0x80};
		memset(ram->host + 5 * PAGE, 0xa5, PAGE);
		FUZZ_ASSERT(snapshot_write_memory_delta(&w, 0, ram->gpa, ram->host, RAM_SIZE, PAGE, dirty) >= 0,
			    "seed delta");
	}
	FUZZ_ASSERT(snapshot_writer_commit(&w) == 0, "seed %s: %s", name, w.err);
	size_t len = (size_t)lseek(fd, 0, SEEK_END);
	uint8_t *buf = contents(fd, len);
	fuzz_seed(dir, name, buf, len);
	free(buf);
	close(fd);
}

static void write_seeds(const char *dir)
{
	seed(dir, "vm.roam", false);
	seed(dir, "delta.roam", true);
}

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	(void)argc;
	(void)argv;
	fuzz_disk_pattern(pristine_disk, DISK_SIZE);
	vm.cfg.console_out_fd = open("/dev/null", O_WRONLY | O_CLOEXEC); /* the UART's output */
	ram = fuzz_vm_init(&vm, RAM_SIZE, &ro_slot);
	bus_before_devices = vm.mmio;

	char value[64];
	disk_fd = fuzz_memfd("disk", pristine_disk, DISK_SIZE);
	FUZZ_ASSERT(disk_fd >= 0, "memfd");
	snprintf(value, sizeof(value), "/proc/self/fd/%d", disk_fd);
	add_option("disk", value);
	add_option("rng", "");
	add_option("console", "virtio");
	fresh_vm();
	devices_held = devices_component;
	devices_held.pause = devices_held.resume = NULL;
	devices_held.restore_finish = NULL;
	fuzz_maybe_write_seeds(write_seeds);
	ro_copy = malloc(ro_slot->size);
	memcpy(ro_copy, ro_slot->host, ro_slot->size);
	return 0;
}
