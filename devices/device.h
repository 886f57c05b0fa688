/*
 * The device interface. Each device type is a const descriptor; devices/registry.c lists them in creation order
 * (DESIGN.md rule 5: explicit, no constructors). A device registers its own MMIO windows on the VM's bus, sees only
 * offsets inside them, and adds its own device-tree node.
 */
#ifndef ROAM_DEVICE_H
#define ROAM_DEVICE_H

#include <stdint.h>

#include <stdbool.h>
#include <stddef.h>

struct vm;
struct vm_config;
struct fdt_builder;
struct snap_writer;
struct snap_reader;

/*
 * The command-line option of a device type, the same on `roam run` and `roam restore` (--NAME [VALUE]), which the
 * VM's configuration keeps as given (struct vm_device_option) and snapshots record.
 */
struct device_option {
	const char *name; /* "disk" for --disk */
	const char *syntax; /* the value's syntax for --help, "FILE[,ro]"; NULL: a flag without a value */
	const char *help; /* what it gives, for --help */
	int max; /* how many times it may be given */
	const char *plural; /* for "at most 8 disks" */
	/*
	 * Checks one value's syntax, against cfg's earlier options of the same type (e.g. a TAP named twice); files and
	 * devices are opened later, when the device is created. NULL: any value. Returns false with one line in err,
	 * starting with the option ("--net tap=a/b: ...").
	 */
	bool (*check)(const char *value, const struct vm_config *cfg, char *err, size_t err_len);
};

struct device_desc {
	const char *name;
	/* The command-line option that asks for this device, or NULL (devices every VM has). */
	const struct device_option *option;
	/* Creates the device for `vm` and registers its windows. Returns 0 or -errno with a message. */
	int (*create)(struct vm *vm, void **state);
	/*
	 * Optional, for devices the configuration asks for any number of times, or not at all (virtio disks, NICs):
	 * how many instances `vm` needs; each is then made by create_nth(vm, instance, &state) instead of create().
	 */
	int (*count)(const struct vm *vm);
	int (*create_nth)(struct vm *vm, int instance, void **state);
	/* Frees the device. */
	void (*destroy)(void *state);
	/* Adds the device's node(s) under the root node; NULL if the device is not in the device tree. */
	void (*fdt)(void *state, struct fdt_builder *b);
	/*
	 * Snapshot support (NULL: the device has no state to save). save() is called with every vCPU paused and
	 * writes the device's section payload; restore() reads it into a freshly created device before any vCPU runs.
	 * save -> restore -> save must give identical bytes. restore() returns 0 or -errno after a message.
	 */
	uint32_t snapshot_version; /* the payload format version save() writes */
	void (*save)(void *state, struct snap_writer *w);
	int (*restore)(void *state, struct snap_reader *r, uint32_t version);
	/*
	 * Optional, for devices that work on their own threads (virtio I/O threads): pause() returns once the device
	 * has no request in flight and holds it still (what the guest queues meanwhile waits), so save() sees state
	 * consistent with guest memory; resume() lets it go on. A device with these hooks is also left paused by
	 * restore() (its rings are in guest memory, which may be restored after it): resume it once the whole VM
	 * state is restored.
	 */
	void (*pause)(void *state);
	void (*resume)(void *state);
	/*
	 * Optional, for live migration between two roams that share a resource (a disk image on shared storage):
	 * release() lets go of what the other roam needs to take the device over (a disk's lock), on the source once
	 * its final state is written; claim() takes it, on the destination before its guest runs (waiting up to
	 * timeout_ms for the source to let go) and on the source again when the move failed. claim() returns 0 or
	 * -errno after a message, and is a no-op when the device holds it already.
	 */
	void (*release)(void *state);
	int (*claim)(void *state, int timeout_ms);
};

/* A list of device types: the registry's (device_registry()), or a test's. */
struct device_table {
	const struct device_desc *const *types;
	int n;
};

/* The registered device types, in creation order. */
const struct device_table *device_registry(void);

/* Creates every registered device in order. */
int devices_create_all(struct vm *vm);

/* Adds every device's device-tree nodes. */
void devices_fdt_all(struct vm *vm, struct fdt_builder *b);

/* Pauses every device that has a pause hook (call with every vCPU paused, before saving), in order. */
void devices_pause_all(struct vm *vm);

/* Resumes them, in reverse order. */
void devices_resume_all(struct vm *vm);

/* Destroys the devices in reverse order. */
void devices_destroy_all(struct vm *vm);

#endif
