/*
 * The device interface. Each device type is a const descriptor; devices/registry.c lists them in creation order
 * (DESIGN.md rule 5: explicit, no constructors). A device registers its own MMIO windows on the VM's bus, sees only
 * offsets inside them, and adds its own device-tree node.
 */
#ifndef ROAM_DEVICE_H
#define ROAM_DEVICE_H

#include <stdint.h>

struct vm;
struct fdt_builder;
struct snap_writer;
struct snap_reader;

struct device_desc {
	const char *name;
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
};

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
