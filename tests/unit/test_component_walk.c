/*
 * The snapshot's component walk (snapshot/component_walk.c) over tables of test components, without KVM:
 * save -> restore -> save gives the same bytes; a new section is one ops struct and one table line ("hello");
 * restore refuses missing, duplicate and out-of-order sections, an instance the VM does not have (2^31 and up
 * included: they once indexed arrays with a negative number), a newer version and an unknown mandatory id, naming
 * each; optional components may be absent; and the sections of a snapshot written before the component table
 * (tests/data/snapshots) are accepted in their order.
 */
#include "arch.h"
#include "check.h"
#include "core/component.h"
#include "core/device_options.h"
#include "core/vm.h"
#include "devices/device.h"
#include "snapshot/component_walk.h"
#include "snapshot/snapshot.h"
#include "snapshot/snapshot_meta.h"
#include "stderr_capture.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#ifndef ROAM_TEST_DATA
#error "ROAM_TEST_DATA must name tests/data"
#endif

/* The test components' state: the test program's own. */
#define MAX_INST 4
static uint64_t counter_value[MAX_INST];
static uint32_t counter_instances = 3;
static uint64_t hello_greeting;
static int hello_restored;
static bool sparse_present[MAX_INST] = {true, false, true, false};
static uint64_t sparse_value[MAX_INST];

static uint32_t counter_count(const struct vm *vm)
{
	(void)vm;
	return counter_instances;
}

static int counter_save(struct component_ctx *ctx, uint32_t i, struct snap_writer *p)
{
	(void)ctx;
	snap_put_u64(p, counter_value[i]);
	return 0;
}

static int counter_restore(struct component_ctx *ctx, uint32_t i, uint32_t version, struct snap_reader *p)
{
	(void)ctx;
	(void)version;
	counter_value[i] = snap_get_u64(p, "counter value");
	return 0;
}

static const struct component counter_component = {
    .name = "counter",
    .section = SNAPSHOT_SEC_VCPU,
    .version = 2,
    .count = counter_count,
    .save = counter_save,
    .restore = counter_restore,
};

static uint32_t sparse_count(const struct vm *vm)
{
	(void)vm;
	return MAX_INST;
}

static bool sparse_is_present(const struct vm *vm, uint32_t i)
{
	(void)vm;
	return sparse_present[i];
}

static int sparse_save(struct component_ctx *ctx, uint32_t i, struct snap_writer *p)
{
	(void)ctx;
	snap_put_u64(p, sparse_value[i]);
	return 0;
}

static int sparse_restore(struct component_ctx *ctx, uint32_t i, uint32_t version, struct snap_reader *p)
{
	(void)ctx;
	(void)version;
	sparse_value[i] = snap_get_u64(p, "sparse value");
	return 0;
}

static void sparse_name(const struct vm *vm, uint32_t i, char *buf, size_t size)
{
	(void)vm;
	snprintf(buf, size, "device %u (sparse)", i);
}

static const struct component sparse_component = {
    .name = "device",
    .section = SNAPSHOT_SEC_DEVICE,
    .version = 1,
    .count = sparse_count,
    .present = sparse_is_present,
    .instance_name = sparse_name,
    .save = sparse_save,
    .restore = sparse_restore,
};

/* A new section: one ops struct (this), one table line (below). */
static int hello_save(struct component_ctx *ctx, uint32_t i, struct snap_writer *p)
{
	(void)ctx;
	(void)i;
	snap_put_u64(p, hello_greeting);
	return 0;
}

static int hello_restore(struct component_ctx *ctx, uint32_t i, uint32_t version, struct snap_reader *p)
{
	(void)ctx;
	(void)i;
	(void)version;
	hello_greeting = snap_get_u64(p, "greeting");
	hello_restored++;
	return 0;
}

static const struct component hello_component = {
    .name = "hello",
    .section = SNAPSHOT_SEC_HYPERCALLS, /* an id no core component owns yet */
    .version = 1,
    .flags = COMPONENT_OPTIONAL,
    .save = hello_save,
    .restore = hello_restore,
};

static const struct component *const table[] = {&counter_component, &sparse_component, &hello_component};
#define TABLE_N ((int)(sizeof(table) / sizeof(table[0])))

static struct vm vm; /* the components keep their own state: the VM is only passed through */

static char *tmp_path(void)
{
	static char path[64];
	snprintf(path, sizeof(path), "/tmp/roam-walk-XXXXXX");
	close(mkstemp(path));
	return path;
}

/* Saves the table into a new file; returns its contents (malloc'd) and length. */
static uint8_t *save_to_memory(size_t *len)
{
	const char *path = tmp_path();
	struct snapshot_writer w;
	uint64_t pages = 99;
	CHECK_EQ(snapshot_writer_open_path(&w, path, "test"), 0);
	snapshot_writer_set_created(&w, 1700000000);
	CHECK_EQ(component_walk_save(&vm, &w, table, TABLE_N, &pages), 0);
	CHECK_EQ(pages, 0);
	CHECK_EQ(snapshot_writer_commit(&w), 0);
	FILE *f = fopen(path, "rb");
	fseek(f, 0, SEEK_END);
	*len = (size_t)ftell(f);
	rewind(f);
	uint8_t *buf = malloc(*len);
	CHECK_EQ(fread(buf, 1, *len, f), *len);
	fclose(f);
	unlink(path);
	return buf;
}

/* Restores from `buf` with the table; returns the result and copies the reader's message into err. */
static int restore_from_memory(const uint8_t *buf, size_t len, char *err, size_t err_len)
{
	const char *path = tmp_path();
	FILE *f = fopen(path, "wb");
	fwrite(buf, 1, len, f);
	fclose(f);
	struct snapshot_reader r;
	int ret = snapshot_reader_open_path(&r, path, "test", 0);
	if (!ret)
		ret = component_walk_restore(&vm, &r, table, TABLE_N);
	snprintf(err, err_len, "%s", r.err);
	snapshot_reader_close(&r);
	unlink(path);
	return ret;
}

static void test_round_trip(void)
{
	for (int i = 0; i < MAX_INST; i++) {
		counter_value[i] = 0x1000 + (uint64_t)i;
		sparse_value[i] = 0x2000 + (uint64_t)i;
	}
	hello_greeting = 0x68656c6c6f;
	size_t len1, len2;
	uint8_t *first = save_to_memory(&len1);
	memset(counter_value, 0, sizeof(counter_value));
	memset(sparse_value, 0, sizeof(sparse_value));
	hello_greeting = 0;
	char err[SNAPSHOT_ERR_LEN];
	CHECK_EQ(restore_from_memory(first, len1, err, sizeof(err)), 0);
	CHECK_EQ(counter_value[2], 0x1002);
	CHECK_EQ(sparse_value[2], 0x2002);
	CHECK_EQ(sparse_value[1], 0); /* not present: not saved, not restored */
	CHECK_EQ(hello_greeting, 0x68656c6c6f);
	CHECK_EQ(hello_restored, 1);
	uint8_t *second = save_to_memory(&len2);
	CHECK_EQ(len1, len2);
	CHECK(len1 == len2 && !memcmp(first, second, len1));
	free(first);
	free(second);
}

/* A stream of sections written by hand: (id, instance, version, flags) each with an 8-byte payload. */
struct sec {
	uint32_t id, instance, version, flags;
};

static int restore_stream(const struct sec *secs, int n, char *err, size_t err_len)
{
	const char *path = tmp_path();
	struct snapshot_writer w;
	CHECK_EQ(snapshot_writer_open_path(&w, path, "test"), 0);
	for (int i = 0; i < n; i++) {
		uint64_t payload = 7;
		CHECK_EQ(snapshot_write_section(&w, secs[i].id, secs[i].instance, secs[i].version, secs[i].flags,
						&payload, sizeof(payload)),
			 0);
	}
	CHECK_EQ(snapshot_writer_commit(&w), 0);
	struct snapshot_reader r;
	int ret = snapshot_reader_open_path(&r, path, "test", 0);
	if (!ret)
		ret = component_walk_restore(&vm, &r, table, TABLE_N);
	snprintf(err, err_len, "%s", r.err);
	snapshot_reader_close(&r);
	unlink(path);
	return ret;
}

#define M SNAPSHOT_FLAG_MANDATORY
#define C SNAPSHOT_SEC_VCPU
#define D SNAPSHOT_SEC_DEVICE

static void expect_refusal(const struct sec *secs, int n, const char *message)
{
	char err[SNAPSHOT_ERR_LEN] = "";
	int ret = restore_stream(secs, n, err, sizeof(err));
	CHECK(ret < 0);
	CHECK_CONTAINS(err, message);
}

static void test_refusals(void)
{
	char err[SNAPSHOT_ERR_LEN];
	/* The complete set, hello left out (optional). */
	const struct sec good[] = {{C, 0, 2, M}, {C, 1, 2, M}, {C, 2, 2, M}, {D, 0, 1, M}, {D, 2, 1, M}};
	CHECK_EQ(restore_stream(good, 5, err, sizeof(err)), 0);

	const struct sec missing_mid[] = {{C, 0, 2, M}, {C, 2, 2, M}, {D, 0, 1, M}, {D, 2, 1, M}};
	expect_refusal(missing_mid, 4, "no section \"counter 1\": this VM has it, the snapshot does not");
	const struct sec missing_end[] = {{C, 0, 2, M}, {C, 1, 2, M}, {C, 2, 2, M}, {D, 0, 1, M}};
	expect_refusal(missing_end, 4, "no section \"device 2 (sparse)\"");
	const struct sec missing_all[] = {{C, 0, 2, M}, {C, 1, 2, M}, {C, 2, 2, M}};
	expect_refusal(missing_all, 3, "no section \"device 0 (sparse)\"");
	const struct sec duplicate[] = {{C, 0, 2, M}, {C, 1, 2, M}, {C, 1, 2, M}};
	expect_refusal(duplicate, 3, "section \"vcpu 1\": duplicate section");
	const struct sec backwards[] = {{C, 0, 2, M}, {C, 2, 2, M}, {C, 1, 2, M}};
	expect_refusal(backwards, 3, "no section \"counter 1\"");
	const struct sec late[] = {{C, 0, 2, M}, {C, 1, 2, M}, {C, 2, 2, M}, {D, 0, 1, M}, {C, 0, 2, M}};
	expect_refusal(late, 5, "out of order: it belongs before \"device\"");
	/* Instances the VM does not have, 2^31 and up included (no negative index). */
	const struct sec absent[] = {{C, 0, 2, M}, {C, 1, 2, M}, {C, 2, 2, M}, {D, 1, 1, M}};
	expect_refusal(absent, 4, "this VM has no such device");
	const struct sec huge_dev[] = {{C, 0, 2, M}, {C, 1, 2, M}, {C, 2, 2, M}, {D, 0x80000000u, 1, M}};
	expect_refusal(huge_dev, 4, "this VM has no such device");
	const struct sec huge_vcpu[] = {{C, 0xffffffffu, 2, M}};
	expect_refusal(huge_vcpu, 1, "this VM has no such counter");
	const struct sec newer[] = {{C, 0, 3, M}};
	expect_refusal(newer, 1, "has version 3, newer than this roam's 2");
	const struct sec unknown[] = {{C, 0, 2, M}, {77, 0, 1, M}};
	expect_refusal(unknown, 2, "id 77");
	const struct sec stranger[] = {{SNAPSHOT_SEC_TIMER, 0, 1, M}};
	expect_refusal(stranger, 1, "unexpected here");
	/* An unknown optional section is skipped. */
	const struct sec optional[] = {{C, 0, 2, M},  {C, 1, 2, M}, {C, 2, 2, M},
				       {78, 0, 1, 0}, {D, 0, 1, M}, {D, 2, 1, M}};
	CHECK_EQ(restore_stream(optional, 6, err, sizeof(err)), 0);
}

/* Sections that may stand anywhere (memory) and repeat (memory deltas), over a table of their own. */
static int any_restore(struct component_ctx *ctx, uint32_t i, uint32_t version, struct snap_reader *p)
{
	(void)ctx;
	(void)i;
	(void)version;
	p->pos = p->len;
	return 0;
}

static uint32_t two(const struct vm *v)
{
	(void)v;
	return 2;
}

#define BASE SNAPSHOT_SEC_PVLOCK
#define DELTA SNAPSHOT_SEC_TARGETS

static const struct component any_base_component = {.name = "base",
						    .section = BASE,
						    .version = 1,
						    .flags = COMPONENT_ANY_ORDER | COMPONENT_MEMORY,
						    .count = two,
						    .restore = any_restore};
static const struct component delta_component = {.name = "delta",
						 .section = DELTA,
						 .version = 1,
						 .flags = COMPONENT_ANY_ORDER | COMPONENT_REPEATABLE,
						 .requires = BASE,
						 .count = two,
						 .restore = any_restore};
static const struct component *const any_table[] = {&counter_component, &any_base_component, &delta_component};

/* hooks->memory_in: how often it ran, and how many sections had been read then. */
struct memory_in_seen {
	int calls;
	uint64_t after_sections;
	struct snapshot_reader *r;
};

static void memory_in(void *opaque, struct vm *v)
{
	struct memory_in_seen *s = opaque;
	(void)v;
	s->calls++;
	s->after_sections = s->r->sections;
}

static struct memory_in_seen seen_memory_in;

static int restore_any(const struct sec *secs, int n, const uint32_t *already, int nr_already, char *err,
		       size_t err_len)
{
	const char *path = tmp_path();
	struct snapshot_writer w;
	CHECK_EQ(snapshot_writer_open_path(&w, path, "test"), 0);
	for (int i = 0; i < n; i++) {
		uint64_t payload = 7;
		snapshot_write_section(&w, secs[i].id, secs[i].instance, secs[i].version, secs[i].flags, &payload,
				       sizeof(payload));
	}
	CHECK_EQ(snapshot_writer_commit(&w), 0);
	struct snapshot_reader r;
	struct component_walk_hooks hooks = {.memory_in = memory_in, .opaque = &seen_memory_in};
	seen_memory_in = (struct memory_in_seen){.r = &r};
	int ret = snapshot_reader_open_path(&r, path, "test", 0);
	if (!ret)
		ret = component_walk_restore_after(&vm, &r, any_table, 3, already, nr_already, &hooks);
	snprintf(err, err_len, "%s", r.err);
	snapshot_reader_close(&r);
	unlink(path);
	return ret;
}

static void test_any_order(void)
{
	char err[SNAPSHOT_ERR_LEN];
	/* Memory first, deltas repeating, then the CPU state: a migration stream's order. */
	const struct sec stream[] = {{BASE, 0, 1, M},  {BASE, 1, 1, M},	 {DELTA, 1, 1, M},
				     {DELTA, 0, 1, M}, {DELTA, 1, 1, M}, {C, 0, 2, M},
				     {C, 1, 2, M},     {C, 2, 2, M},	 {DELTA, 0, 1, M}};
	CHECK_EQ(restore_any(stream, 9, NULL, 0, err, sizeof(err)), 0);
	/* Once, as soon as both memory sections were read: before the deltas, while a source still runs. */
	CHECK_EQ(seen_memory_in.calls, 1);
	CHECK_EQ(seen_memory_in.after_sections, 2);
	/* A snapshot's order: memory last, no delta. */
	const struct sec file[] = {{C, 0, 2, M}, {C, 1, 2, M}, {C, 2, 2, M}, {BASE, 0, 1, M}, {BASE, 1, 1, M}};
	CHECK_EQ(restore_any(file, 5, NULL, 0, err, sizeof(err)), 0);
	CHECK_EQ(seen_memory_in.calls, 1);
	CHECK_EQ(seen_memory_in.after_sections, 5);
	const struct sec early_delta[] = {{BASE, 0, 1, M}, {DELTA, 1, 1, M}};
	CHECK(restore_any(early_delta, 2, NULL, 0, err, sizeof(err)) < 0);
	CHECK_CONTAINS(err, "section \"targets 1\": out of order: it needs \"base 1\" first");
	const struct sec twice[] = {{BASE, 0, 1, M}, {BASE, 0, 1, M}};
	CHECK(restore_any(twice, 2, NULL, 0, err, sizeof(err)) < 0);
	CHECK_CONTAINS(err, "duplicate section");
	const struct sec no_base[] = {{C, 0, 2, M}, {C, 1, 2, M}, {C, 2, 2, M}, {BASE, 1, 1, M}};
	CHECK(restore_any(no_base, 4, NULL, 0, err, sizeof(err)) < 0);
	CHECK_CONTAINS(err, "no section \"base 0\"");
	/* A diff snapshot on its base: the base's memory counts as read. */
	const uint32_t from_base[] = {BASE};
	const struct sec diff[] = {{DELTA, 1, 1, M}, {C, 0, 2, M}, {C, 1, 2, M}, {C, 2, 2, M}};
	CHECK_EQ(restore_any(diff, 4, from_base, 1, err, sizeof(err)), 0);
	CHECK_EQ(seen_memory_in.calls, 0); /* the memory came from the base */
}

/* The CONFIG stage and the sections' order of a snapshot written before the component table. */
static uint32_t rec_count_devices(const struct vm *v)
{
	(void)v;
	return 3;
}

static bool rec_present_devices(const struct vm *v, uint32_t i)
{
	(void)v;
	return i != 1; /* the ucall device has no state */
}

static int rec_restore(struct component_ctx *ctx, uint32_t i, uint32_t version, struct snap_reader *p)
{
	(void)ctx;
	(void)i;
	(void)version;
	p->pos = p->len; /* accept any payload: only the walk is under test */
	return 0;
}

static int rec_restore_memory(struct component_ctx *ctx, uint32_t i, struct snapshot_section *sec)
{
	(void)i;
	return snapshot_skip_section(ctx->r, sec);
}

static void test_old_snapshot(void)
{
	static const struct component pvlock = {
	    .name = "pvlock", .section = SNAPSHOT_SEC_PVLOCK, .version = 1, .restore = rec_restore};
	static const struct component timer = {
	    .name = "timer", .section = SNAPSHOT_SEC_TIMER, .version = 2, .restore = rec_restore};
	static const struct component vcpu = {
	    .name = "vcpu", .section = SNAPSHOT_SEC_VCPU, .version = 1, .restore = rec_restore};
	static const struct component gic = {
	    .name = "irqchip", .section = SNAPSHOT_SEC_IRQCHIP, .version = 1, .restore = rec_restore};
	static const struct component devices = {.name = "device",
						 .section = SNAPSHOT_SEC_DEVICE,
						 .version = 1,
						 .count = rec_count_devices,
						 .present = rec_present_devices,
						 .restore = rec_restore};
	static const struct component memory = {
	    .name = "memory", .section = SNAPSHOT_SEC_MEMORY, .version = 1, .restore_raw = rec_restore_memory};
	const struct component *const old_table[] = {
	    &host_component, &vm_component, &targets_component, &pvlock, &timer, &vcpu, &gic, &devices, &memory};
	struct snapshot_reader r;
	static struct vm_config cfg;
	static struct snapshot_host_info host;
	struct component_config config = {.cfg = &cfg, .host = &host};
	CHECK_EQ(snapshot_reader_open_path(&r, ROAM_TEST_DATA "/snapshots/main-11cfa4c-count-rng.snap", "arm64", 0), 0);
	CHECK_EQ(component_walk_config(&r, old_table, 9, &config), 0);
	CHECK_EQ(config.nr_vcpus, 1);
	CHECK_EQ(config.ram_size, 64u << 20);
	CHECK_EQ(device_option_count(&cfg, "rng"), 1);
	CHECK(config.vm_flags & SNAPSHOT_VM_PVLOCK);
	CHECK(config.targets_json == NULL);
	CHECK(!config.base.present);
	CHECK(!strcmp(host.hostname, "lab"));
	CHECK_EQ(component_walk_restore(&vm, &r, old_table, 9), 0);
	snapshot_reader_close(&r);
}

/* A VM section whose vCPU count, as an int, would be negative (2^31) or is past the architecture's maximum:
 * refused in the CONFIG stage, naming the count, before anything is sized by it. */
static void test_vcpu_count(void)
{
	const struct component *const config_table[] = {&host_component, &vm_component};
	const uint32_t counts[] = {0x80000000u, 0xffffffffu, (uint32_t)arch_max_vcpus() + 1};
	for (size_t i = 0; i < sizeof(counts) / sizeof(counts[0]); i++) {
		char *path = tmp_path();
		struct snapshot_writer w;
		struct snap_writer p;
		static struct snapshot_host_info h;
		struct snapshot_vm_info v = {
		    .ram_size = 64 << 20, .nr_vcpus = counts[i], .kernel = "/k", .cmdline = ""};
		CHECK_EQ(snapshot_writer_open_path(&w, path, "test"), 0);
		snap_writer_init(&p);
		snapshot_host_encode(&p, &h);
		CHECK_EQ(snapshot_write_payload(&w, SNAPSHOT_SEC_HOST, 0, SNAPSHOT_HOST_VERSION,
						SNAPSHOT_FLAG_MANDATORY, &p),
			 0);
		snap_writer_fini(&p);
		snap_writer_init(&p);
		snapshot_vm_encode(&p, &v);
		CHECK_EQ(snapshot_write_payload(&w, SNAPSHOT_SEC_VM, 0, 1, SNAPSHOT_FLAG_MANDATORY, &p), 0);
		snap_writer_fini(&p);
		CHECK_EQ(snapshot_writer_commit(&w), 0);

		struct snapshot_reader r;
		static struct vm_config cfg;
		static struct snapshot_host_info host;
		struct component_config config = {.cfg = &cfg, .host = &host};
		CHECK_EQ(snapshot_reader_open_path(&r, path, NULL, 0), 0);
		struct stderr_capture cap;
		stderr_capture_begin(&cap);
		CHECK_EQ(component_walk_config(&r, config_table, 2, &config), -EBADMSG);
		char *text = stderr_capture_end(&cap);
		char want[64];
		snprintf(want, sizeof(want), "the VM configuration has %u vCPUs;", counts[i]);
		CHECK(strstr(text, want) != NULL || strstr(r.err, want) != NULL);
		free(text);
		snapshot_reader_close(&r);
		unlink(path);
	}
}

/* The meta components call into the architecture only when saving: stand-ins for the test. */
void arch_host_identity(uint64_t id[2])
{
	id[0] = id[1] = 0;
}

const char *arch_targets_text(struct vm *v)
{
	(void)v;
	return NULL;
}

void arch_targets_summary(struct vm *v, struct snapshot_targets_info *info)
{
	(void)v;
	(void)info;
}

/* The device types the VM component checks a snapshot's recorded options against: a stand-in --rng. */
static const struct device_option rng_option = {.name = "rng", .max = 1};
static const struct device_desc rng_type = {.name = "virtio-rng", .option = &rng_option};
static const struct device_desc *const device_types[] = {&rng_type};
static const struct device_table device_table = {device_types, 1};

const struct device_table *device_registry(void)
{
	return &device_table;
}

int main(void)
{
	test_round_trip();
	test_refusals();
	test_any_order();
	test_old_snapshot();
	test_vcpu_count();
	return check_exit();
}
