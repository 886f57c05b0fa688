/*
 * Components (DESIGN.md rule 5): every part of a VM that has state of its own - the VM's description, the PV lock,
 * the counter, the vCPUs, the interrupt controller, the devices, guest memory - implements this one interface, and
 * one const ordered table lists them (component.c; the architecture supplies its entries through
 * arch_components()). A snapshot is the table walked in order: each component writes one section per instance.
 * Restore dispatches every section to its owner by section id, checks the version, ends the section and refuses
 * missing, duplicate and out-of-order sections, naming them (snapshot/vm_snapshot.c). Adding a section is one ops
 * struct and one table line.
 *
 * Instances are numbered 0..count-1; `present` can leave numbers out (a device without state, a memory slot roam
 * rewrites itself). Sections of one component come in ascending instance order.
 */
#ifndef ROAM_COMPONENT_H
#define ROAM_COMPONENT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct vm;
struct vm_config;
struct snap_writer;
struct snap_reader;
struct snapshot_writer;
struct snapshot_reader;
struct snapshot_section;
struct snapshot_host_info;

#define COMPONENT_PATH_MAX 4096

/* A diff snapshot's base (the BASE section): the snapshot it was taken on top of, by path and by content. */
struct component_base {
	bool present;
	char path[COMPONENT_PATH_MAX];
	uint64_t size;
	uint8_t sha256[32];
};

/* What the snapshot decides about the VM before it is created (the CONFIG stage of a restore). */
struct component_config {
	struct vm_config *cfg; /* the recorded devices go here when it names none */
	char *targets_json; /* the targets config text (malloc'd), or NULL */
	struct snapshot_host_info *host; /* where the snapshot was taken (the caller's) */
	uint32_t vm_flags; /* SNAPSHOT_VM_* of the VM section */
	uint32_t nr_vcpus;
	uint64_t ram_size;
	struct component_base base; /* a diff snapshot's base */
};

/* What the caller of a restore walk wants to hear as it goes (all optional). */
struct component_walk_hooks {
	/* A PRECHECK section was checked: `problems` reasons (one line each in report) this host cannot take it. */
	void (*prechecked)(void *opaque, int problems, const char *report);
	/* Every present instance of the memory component has its full section (a live migration's first pass). */
	void (*memory_in)(void *opaque, struct vm *vm);
	void *opaque;
};

/* What a component's hooks get during a save or a restore. */
struct component_ctx {
	const struct component *self; /* the component whose hook runs */
	const struct component *const *table; /* the walk's table (n entries) */
	int nr_table;
	const struct component_walk_hooks *hooks; /* restore: the caller's, or NULL */
	struct vm *vm; /* NULL in the CONFIG stage of a restore */
	struct snapshot_writer *w; /* save */
	struct snapshot_reader *r; /* restore: for snapshot_reader_fail() messages */
	const struct snapshot_section *sec; /* restore: the section being read */
	struct component_config *config; /* restore, CONFIG stage only */
	void *scratch; /* restore: the component's own, kept from its first section to restore_end */
	uint64_t pages; /* save: guest pages stored (the memory component adds to it) */
};

/* component flags */
#define COMPONENT_CONFIG 0x1u /* restored before the VM exists, into ctx->config (host, vm, targets) */
#define COMPONENT_OPTIONAL 0x2u /* written without the mandatory flag: a roam that does not know it skips it */
#define COMPONENT_ANY_ORDER 0x4u /* its sections may stand anywhere after the description (memory in a stream) */
#define COMPONENT_REPEATABLE 0x8u /* with ANY_ORDER: any number of sections per instance, none included */
/* Guest memory: once every instance has its section, a restore's hooks->memory_in runs (once). */
#define COMPONENT_MEMORY 0x10u

struct component {
	const char *name; /* "timer", "vcpu", ...: the section's name in messages */
	uint32_t section; /* the SNAPSHOT_SEC_* id it writes and reads; 0: no snapshot state (hooks only) */
	uint32_t version; /* the payload version save writes, and the newest restore reads */
	uint32_t flags; /* COMPONENT_* */
	uint32_t requires; /* with ANY_ORDER: instance i's section needs this section's instance i before it (or 0) */

	/* Instances in `vm`: numbers 0..count-1 (NULL: one, instance 0), of which `present` ones exist (NULL: all). */
	uint32_t (*count)(const struct vm *vm);
	bool (*present)(const struct vm *vm, uint32_t instance);
	/* The payload version of one instance when instances differ (devices); NULL: `version`. */
	uint32_t (*instance_version)(const struct vm *vm, uint32_t instance);
	/* Names an instance for messages ("device 3 (virtio-blk)"); NULL: "<name> <instance>" (or "<name>"). */
	void (*instance_name)(const struct vm *vm, uint32_t instance, char *buf, size_t size);

	/*
	 * Save (every vCPU paused): writes instance's payload into p. Or, for a component that writes the snapshot
	 * stream itself (memory), save_raw writes the whole section through ctx->w. Returns 0 or -errno after one
	 * message.
	 */
	int (*save)(struct component_ctx *ctx, uint32_t instance, struct snap_writer *p);
	int (*save_raw)(struct component_ctx *ctx, uint32_t instance);

	/*
	 * Restore, before any vCPU runs: reads one section of payload version `version` (at most the component's,
	 * checked by the caller, who also checks that the payload was consumed exactly). restore_raw reads a section
	 * the component takes from the stream itself (memory). Returns 0 or -errno after one message.
	 */
	int (*restore)(struct component_ctx *ctx, uint32_t instance, uint32_t version, struct snap_reader *p);
	int (*restore_raw)(struct component_ctx *ctx, uint32_t instance, struct snapshot_section *sec);
	/*
	 * Optional: would this section restore here? Decodes a payload of `version` as restore would and appends one
	 * line per reason it would not to `report` (size bytes, NUL-terminated), changing nothing; returns how many.
	 * A migration runs it on a sample of the source's state before the source stops its guest (PRECHECK).
	 */
	int (*check)(struct component_ctx *ctx, uint32_t instance, uint32_t version, struct snap_reader *p,
		     char *report, size_t size);
	/* After the component's last section (the vCPUs: check them all, then apply): frees ctx->scratch. */
	int (*restore_end)(struct component_ctx *ctx, bool ok);
	/* After the whole snapshot was read, in table order (devices resume, the arm64 prefault). */
	int (*restore_finish)(struct vm *vm);

	/* Around a save, in table order and in reverse: hold still (device I/O threads), then go on. */
	void (*pause)(struct vm *vm);
	void (*resume)(struct vm *vm);
	/* Live migration's hand-over of shared resources (struct device_desc's release and claim). */
	void (*release)(struct vm *vm);
	int (*claim)(struct vm *vm, int timeout_ms);

	/* The component's own constant data, for hooks shared by several components (e.g. vcpu_component.h). */
	const void *data;
};

#define COMPONENT_MAX 32

/* Fills `out` with the VM's components in table order; returns how many. */
int component_table(const struct component *out[COMPONENT_MAX]);

/* The component that owns section `id` among `table` (n entries), or -1. */
int component_by_section(const struct component *const *table, int n, uint32_t id);

/* The number of instances of c in vm (0..count-1, present or not). */
uint32_t component_count(const struct component *c, const struct vm *vm);

/* Whether instance i of c exists in vm. */
bool component_present(const struct component *c, const struct vm *vm, uint32_t i);

/* The payload version of instance i. */
uint32_t component_version(const struct component *c, const struct vm *vm, uint32_t i);

/* The name of instance i for messages: "vcpu 1", "timer", "device 3 (virtio-blk)". */
void component_instance_name(const struct component *c, const struct vm *vm, uint32_t i, char *buf, size_t size);

/* Appends a formatted line (with its newline) to report, keeping it terminated within size. */
void component_report_add(char *report, size_t size, const char *fmt, ...) __attribute__((format(printf, 3, 4)));

/* The core's components, for the table and for tests. */
extern const struct component host_component, vm_component, targets_component, pvlock_component, devices_component,
    memory_component, memory_sums_component, memory_delta_component, memory_packed_component, precheck_component,
    base_component;

#endif
