/*
 * The ucall device: test guests store the address of a struct ucall at offset 0 of the ucall window. roam reads the
 * struct through the checked guest-memory accessor and acts on it: DONE stops the VM with status 0, ABORT with
 * status 1 after printing the guest's file:line and message. The guest's strings are escaped (ucall_decode), and the
 * lines a guest makes roam log (PRINT, traced SYNCs, malformed stores) are rate-limited per VM (ucall.h), so a guest
 * flooding ucalls can neither forge log lines nor fill the disk.
 */
#include "ucall.h"

#include "arch.h"
#include "core/log.h"
#include "core/vm.h"
#include "device.h"
#include "guest_log.h"

#include <errno.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

struct ucall_dev {
	struct vm *vm;
	pthread_mutex_t lock; /* vCPUs store concurrently: serializes the rate limit */
	struct guest_log_rate rate;
};

static uint64_t le_get(const uint8_t *p, int bytes)
{
	uint64_t v = 0;
	for (int i = bytes - 1; i >= 0; i--)
		v = (v << 8) | p[i];
	return v;
}

/* Whether the guest may make roam log one more line now; says so first if lines were dropped. */
static bool ucall_may_log(struct ucall_dev *u, bool *last)
{
	uint64_t dropped;
	pthread_mutex_lock(&u->lock);
	bool ok = guest_log_rate_allow(&u->rate, UCALL_LOG_BURST, guest_log_now_ns(), &dropped, last);
	pthread_mutex_unlock(&u->lock);
	if (ok && dropped)
		log_info("guest: %llu ucall messages were not logged (more than %d a second)",
			 (unsigned long long)dropped, UCALL_LOG_BURST);
	return ok;
}

static const char *ucall_more(bool last)
{
	return last ? " (the guest's next messages this second are not logged)" : "";
}

static void ucall_handle(struct ucall_dev *u, uint64_t gpa)
{
	struct vm *vm = u->vm;
	uint8_t raw[UCALL_SIZE];
	struct ucall_msg msg;
	const char *why;
	bool last;
	if (memory_read(&vm->mem, gpa, raw, sizeof(raw)) < 0) {
		log_error("ucall: the guest passed %#llx, which is not %d bytes of guest RAM", (unsigned long long)gpa,
			  UCALL_SIZE);
		vm_request_stop(vm, ROAM_EXIT_ERROR);
		return;
	}
	if (ucall_decode(raw, sizeof(raw), &msg, &why) < 0) {
		log_error("ucall at %#llx: %s", (unsigned long long)gpa, why);
		vm_request_stop(vm, ROAM_EXIT_ERROR);
		return;
	}
	switch (msg.cmd) {
	case UCALL_SYNC:
		if (vm->cfg.trace_ucall && ucall_may_log(u, &last))
			log_info("guest sync %llu at %s:%u (%#llx %#llx %#llx)%s", (unsigned long long)msg.args[0],
				 msg.file, msg.line, (unsigned long long)msg.args[1], (unsigned long long)msg.args[2],
				 (unsigned long long)msg.args[3], ucall_more(last));
		break;
	case UCALL_PRINT:
		if (ucall_may_log(u, &last))
			log_info("guest: %s%s", msg.msg, ucall_more(last));
		break;
	case UCALL_DONE:
		vm_request_stop(vm, ROAM_EXIT_POWEROFF);
		break;
	case UCALL_ABORT:
		log_error("guest abort at %s:%u: %s", msg.file, msg.line, msg.msg);
		vm_request_stop(vm, ROAM_EXIT_ERROR);
		break;
	}
}

static int ucall_access(void *opaque, uint64_t offset, uint8_t *data, uint32_t len, bool is_write)
{
	struct ucall_dev *u = opaque;
	bool last;
	if (!is_write) {
		memset(data, 0, len);
		return 0;
	}
	if (offset != 0 || len != 8) {
		if (ucall_may_log(u, &last))
			log_error(
			    "ucall: the guest wrote %u bytes at offset %#llx; a ucall is one 8-byte store at offset "
			    "0%s",
			    len, (unsigned long long)offset, ucall_more(last));
		return -EINVAL;
	}
	ucall_handle(u, le_get(data, 8));
	return 0;
}

static void ucall_destroy(void *state)
{
	struct ucall_dev *u = state;
	if (!u)
		return;
	pthread_mutex_destroy(&u->lock);
	free(u);
}

static int ucall_create(struct vm *vm, void **state)
{
	const struct vm_region_info *region = arch_region(VM_REGION_UCALL);
	struct ucall_dev *u = calloc(1, sizeof(*u));
	if (!u)
		return log_errno(-ENOMEM, "ucall: out of memory");
	u->vm = vm;
	pthread_mutex_init(&u->lock, NULL);
	*state = u;
	return bus_insert(&vm->mmio, region->base, region->size, "ucall", ucall_access, u);
}

const struct device_desc ucall_device = {
    .name = "ucall",
    .create = ucall_create,
    .destroy = ucall_destroy,
    .fdt = NULL,
};
