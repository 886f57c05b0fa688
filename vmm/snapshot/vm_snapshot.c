/*
 * Whole-VM snapshots: see vm_snapshot.h. Section order (restore reads them in one pass, so a pipe works): HOST, VM,
 * TARGETS (with --targets), PVLOCK, TIMER, VCPU 0..n-1, IRQCHIP, DEVICE 0..m-1, MEMORY, END.
 */
#include "vm_snapshot.h"

#include "arch.h"
#include "core/log.h"
#include "core/vcpu.h"
#include "core/vm.h"
#include "devices/device.h"
#include "pvlock/pvlock.h"
#include "snapshot.h"
#include "snapshot_meta.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define VM_SNAPSHOT_PVLOCK_VERSION 1
#define VM_SNAPSHOT_PAGE 4096u
#define VM_RESTORE_REPORT_LEN 8192

static int save_meta(struct vm *vm, struct snapshot_writer *w)
{
	struct snap_writer p;
	struct snapshot_host_info host;
	snapshot_host_collect(&host);
	uint64_t id[2];
	arch_host_identity(id);
	host.midr = id[0];
	host.revidr = id[1];
	snap_writer_init(&p);
	snapshot_host_encode(&p, &host);
	int ret = snapshot_write_payload(w, SNAPSHOT_SEC_HOST, 0, SNAPSHOT_HOST_VERSION, 0, &p);
	snap_writer_fini(&p);

	const char *targets = arch_targets_text(vm);
	struct snapshot_vm_info info = {.ram_size = vm->cfg.ram_size, .nr_vcpus = (uint32_t)vm->nr_vcpus};
	info.flags = (vm->pvlock ? SNAPSHOT_VM_PVLOCK : 0) | (targets ? SNAPSHOT_VM_TARGETS : 0);
	snprintf(info.kernel, sizeof(info.kernel), "%s", vm->cfg.kernel_path ? vm->cfg.kernel_path : "(restored)");
	snprintf(info.cmdline, sizeof(info.cmdline), "%s", vm->cfg.cmdline ? vm->cfg.cmdline : "");
	snap_writer_init(&p);
	snapshot_vm_encode(&p, &info);
	snapshot_vm_devices_encode(&p, &vm->cfg);
	if (!ret)
		ret = snapshot_write_payload(w, SNAPSHOT_SEC_VM, 0, SNAPSHOT_VM_VERSION, SNAPSHOT_FLAG_MANDATORY, &p);
	snap_writer_fini(&p);

	if (!ret && targets) {
		/* The summary for snapshot-info, then the whole config the destination applies. */
		struct snapshot_targets_info *ti = calloc(1, sizeof(*ti));
		if (!ti)
			return -ENOMEM;
		arch_targets_summary(vm, ti);
		snap_writer_init(&p);
		snapshot_targets_encode(&p, ti);
		snap_put_blob(&p, targets, (uint32_t)strlen(targets));
		ret = snapshot_write_payload(w, SNAPSHOT_SEC_TARGETS, 0, 1, SNAPSHOT_FLAG_MANDATORY, &p);
		snap_writer_fini(&p);
		free(ti);
	}
	if (!ret && vm->pvlock) {
		snap_writer_init(&p);
		snap_put_u64(&p, vm->pvlock->gpa);
		snap_put_u64(&p, vm->pvlock->size);
		snap_put_u32(&p, (uint32_t)vm->pvlock->nr_vcpus);
		ret = snapshot_write_payload(w, SNAPSHOT_SEC_PVLOCK, 0, VM_SNAPSHOT_PVLOCK_VERSION,
					     SNAPSHOT_FLAG_MANDATORY, &p);
		snap_writer_fini(&p);
	}
	return ret;
}

/* Writes one component's section from a payload it builds with `fill`. */
static int save_component(struct snapshot_writer *w, uint32_t id, uint32_t instance, uint32_t version,
			  int (*fill)(void *obj, struct snap_writer *p), void *obj)
{
	struct snap_writer p;
	snap_writer_init(&p);
	int ret = fill(obj, &p);
	if (!ret)
		ret = snapshot_write_payload(w, id, instance, version, SNAPSHOT_FLAG_MANDATORY, &p);
	snap_writer_fini(&p);
	return ret;
}

static int fill_timer(void *vm, struct snap_writer *p)
{
	return arch_save_timer(vm, p);
}

static int fill_vcpu(void *vcpu, struct snap_writer *p)
{
	return arch_save_vcpu(vcpu, p);
}

static int fill_irqchip(void *vm, struct snap_writer *p)
{
	return arch_save_irqchip(vm, p);
}

static int save_all(struct vm *vm, struct snapshot_writer *w, uint64_t *pages)
{
	/* Device I/O threads (virtio) hold still: nothing in flight, and guest memory unchanged until RAM is saved. */
	devices_pause_all(vm);
	int ret = save_meta(vm, w);
	if (!ret)
		ret =
		    save_component(w, SNAPSHOT_SEC_TIMER, 0, arch_section_version(SNAPSHOT_SEC_TIMER), fill_timer, vm);
	for (int i = 0; !ret && i < vm->nr_vcpus; i++)
		ret = save_component(w, SNAPSHOT_SEC_VCPU, (uint32_t)i, arch_section_version(SNAPSHOT_SEC_VCPU),
				     fill_vcpu, &vm->vcpus[i]);
	if (!ret)
		ret = save_component(w, SNAPSHOT_SEC_IRQCHIP, 0, arch_section_version(SNAPSHOT_SEC_IRQCHIP),
				     fill_irqchip, vm);
	for (int i = 0; !ret && i < vm->nr_devices; i++) {
		const struct device_desc *d = vm->devices[i].desc;
		if (!d->save)
			continue;
		struct snap_writer p;
		snap_writer_init(&p);
		snap_put_blob(&p, d->name, (uint32_t)strlen(d->name));
		d->save(vm->devices[i].state, &p);
		ret = snapshot_write_payload(w, SNAPSHOT_SEC_DEVICE, (uint32_t)i, d->snapshot_version,
					     SNAPSHOT_FLAG_MANDATORY, &p);
		snap_writer_fini(&p);
	}
	*pages = 0;
	for (int i = 0; !ret && i < vm->mem.nr_slots; i++) {
		const struct memory_slot *slot = &vm->mem.slots[i];
		if (slot->guest_readonly)
			continue; /* the PV-lock region: roam rewrites every flag */
		int64_t n = snapshot_write_memory(w, (uint32_t)i, slot->gpa, slot->host, slot->size, VM_SNAPSHOT_PAGE,
						  slot->fd);
		if (n < 0)
			ret = (int)n;
		else
			*pages += (uint64_t)n;
	}
	devices_resume_all(vm);
	return ret;
}

int vm_snapshot_save(struct vm *vm, const char *path, int fd, bool stop, struct vm_snapshot_result *res, char *err,
		     size_t err_len)
{
	memset(res, 0, sizeof(*res));
	bool *was_paused = calloc((size_t)vm->nr_vcpus, sizeof(*was_paused));
	if (!was_paused) {
		snprintf(err, err_len, "out of memory");
		if (fd >= 0)
			close(fd);
		return -ENOMEM;
	}
	for (int i = 0; i < vm->nr_vcpus; i++) {
		struct vcpu_status st;
		vcpu_get_status(&vm->vcpus[i], &st);
		was_paused[i] = st.pause_requested;
	}
	uint64_t t0 = vm_now_ns();
	int ret = vm_pause(vm, -1);
	struct snapshot_writer w;
	memset(&w, 0, sizeof(w));
	if (ret) {
		snprintf(err, err_len, "cannot pause the VM: it is stopping");
	} else {
		uint64_t t1 = vm_now_ns();
		ret = fd >= 0 ? snapshot_writer_open_fd(&w, fd, "standard output", arch_name())
			      : snapshot_writer_open_path(&w, path, arch_name());
		if (!ret)
			ret = save_all(vm, &w, &res->pages);
		if (!ret) {
			ret = snapshot_writer_commit(&w);
			res->bytes = w.offset; /* with the END section commit wrote */
		}
		if (ret) {
			snprintf(err, err_len, "%s", w.err[0] ? w.err : strerror(-ret));
			snapshot_writer_abort(&w);
		}
		res->save_ms = (vm_now_ns() - t1) / 1e6;
	}
	if (fd >= 0)
		close(fd);
	if (!stop || ret)
		for (int i = 0; i < vm->nr_vcpus; i++)
			if (!was_paused[i])
				vm_resume(vm, i);
	res->downtime_ms = (vm_now_ns() - t0) / 1e6;
	free(was_paused);
	return ret;
}

/*
 * The devices recorded in a version-2 VM section: taken when the command line names none (Firecracker-style: the
 * snapshot knows its drives), else the command line's devices apply and the device sections must match them.
 */
static void restore_devices_config(struct snap_reader *p, struct vm_config *cfg)
{
	struct vm_config *saved = calloc(1, sizeof(*saved));
	if (!saved) {
		snap_reader_fail(p, "devices (out of memory)");
		return;
	}
	snapshot_vm_devices_decode(p, saved);
	if (!p->err && !snapshot_vm_has_devices(cfg) && snapshot_vm_has_devices(saved)) {
		memcpy(cfg->disks, saved->disks, sizeof(cfg->disks));
		cfg->nr_disks = saved->nr_disks;
		memcpy(cfg->nics, saved->nics, sizeof(cfg->nics));
		cfg->nr_nics = saved->nr_nics;
		cfg->rng = saved->rng;
		cfg->console = saved->console;
		char line[1024];
		snapshot_vm_devices_format(cfg, line, sizeof(line));
		log_info("restore: the snapshot's devices:%s", line);
	}
	free(saved);
}

int vm_restore_config(struct snapshot_reader *r, struct vm_config *cfg, char **targets_json)
{
	struct snapshot_section sec;
	struct snapshot_host_info host;
	struct snapshot_vm_info *info = calloc(1, sizeof(*info));
	struct snapshot_targets_info *ti = calloc(1, sizeof(*ti));
	bool have_vm = false;
	int ret = info && ti ? 0 : -ENOMEM;
	*targets_json = NULL;
	memset(&host, 0, sizeof(host));
	/* HOST, VM and TARGETS lead the file; stop after TARGETS, or after VM when it has none. */
	while (!ret && (ret = snapshot_read_next(r, &sec)) == 1) {
		struct snap_reader p;
		int b = snapshot_section_begin(r, &sec, sec.id == SNAPSHOT_SEC_VM ? SNAPSHOT_VM_VERSION : 1, &p);
		if (b < 0) {
			ret = b;
			break;
		}
		if (sec.id == SNAPSHOT_SEC_HOST) {
			snapshot_host_decode(&p, &host);
		} else if (sec.id == SNAPSHOT_SEC_VM) {
			snapshot_vm_decode(&p, info);
			have_vm = true;
			if (sec.version >= 2)
				restore_devices_config(&p, cfg);
		} else if (sec.id == SNAPSHOT_SEC_TARGETS) {
			snapshot_targets_decode(&p, ti);
			uint32_t len = snap_get_u32(&p, "targets config length");
			char *text = len < (1u << 20) ? calloc(1, (size_t)len + 1) : NULL;
			if (!text) {
				ret = snapshot_reader_fail(r, &sec, -EBADMSG, "bad targets config length %u", len);
				break;
			}
			snap_get_bytes(&p, text, len, "targets config");
			*targets_json = text;
		} else {
			ret = snapshot_reader_fail(r, &sec, -EBADMSG, "expected the VM configuration first");
			break;
		}
		ret = snapshot_section_end(r, &sec, &p);
		if (!ret && (sec.id == SNAPSHOT_SEC_TARGETS ||
			     (sec.id == SNAPSHOT_SEC_VM && !(info->flags & SNAPSHOT_VM_TARGETS))))
			break;
	}
	if (ret > 0)
		ret = 0;
	if (!ret && !have_vm)
		ret = snapshot_reader_fail(r, NULL, -EBADMSG, "no VM configuration section");
	if (!ret && info->nr_vcpus == 0)
		ret = snapshot_reader_fail(r, NULL, -EBADMSG, "the VM configuration has no vCPUs");
	if (ret) {
		log_error("%s", r->err);
	} else {
		log_info("restoring a VM of %u vCPU(s) and %llu MiB saved on %s (kernel %s, roam %s)", info->nr_vcpus,
			 (unsigned long long)(info->ram_size >> 20), host.hostname, host.kernel, host.roam_version);
		cfg->ram_size = info->ram_size;
		cfg->nr_vcpus = (int)info->nr_vcpus;
		cfg->no_pvlock = !(info->flags & SNAPSHOT_VM_PVLOCK);
		cfg->kernel_path = NULL;
		cfg->initrd_path = NULL;
		cfg->targets_json = *targets_json;
	}
	free(info);
	free(ti);
	return ret;
}

/* Reads the vCPU sections, checks them all against this host, then applies them. */
static int restore_vcpus(struct vm *vm, struct snapshot_reader *r, struct snapshot_section *sec)
{
	void **states = calloc((size_t)vm->nr_vcpus, sizeof(*states));
	char *report = calloc(1, VM_RESTORE_REPORT_LEN);
	int ret = states && report ? 0 : -ENOMEM, got = 0, problems = 0;
	while (!ret && got < vm->nr_vcpus) {
		if (got > 0 && (ret = snapshot_read_next(r, sec)) != 1) {
			ret = ret < 0 ? ret : snapshot_reader_fail(r, NULL, -EBADMSG, "fewer vCPU sections than vCPUs");
			break;
		}
		if (sec->id != SNAPSHOT_SEC_VCPU || sec->instance != (uint32_t)got) {
			ret = snapshot_reader_fail(r, sec, -EBADMSG, "expected the state of vCPU %d here", got);
			break;
		}
		struct snap_reader p;
		ret = snapshot_section_begin(r, sec, arch_section_version(SNAPSHOT_SEC_VCPU), &p);
		if (!ret)
			ret = arch_load_vcpu(&p, sec->version, &states[got]);
		if (!ret)
			problems += arch_check_vcpu(&vm->vcpus[got], states[got], report, VM_RESTORE_REPORT_LEN);
		got++;
	}
	if (!ret && problems) {
		log_error("%s: this host cannot take the saved vCPU state (%d problems):\n%s", r->name, problems,
			  report);
		ret = -EINVAL;
	}
	for (int i = 0; !ret && i < vm->nr_vcpus; i++)
		ret = arch_apply_vcpu(&vm->vcpus[i], states[i]);
	for (int i = 0; states && i < vm->nr_vcpus; i++)
		arch_free_vcpu_state(states[i]);
	free(states);
	free(report);
	return ret;
}

static int restore_device(struct vm *vm, struct snapshot_reader *r, struct snapshot_section *sec, struct snap_reader *p)
{
	char name[64] = "";
	snap_get_blob(p, name, sizeof(name) - 1, "device name");
	int i = (int)sec->instance;
	if (p->err || i >= vm->nr_devices || strcmp(vm->devices[i].desc->name, name))
		return snapshot_reader_fail(r, sec, -EINVAL,
					    "this VM has no device \"%s\" at index %d; restore with the same devices",
					    name, i);
	const struct device_desc *d = vm->devices[i].desc;
	if (!d->restore || sec->version > d->snapshot_version)
		return snapshot_reader_fail(r, sec, -ENOTSUP, "device %s cannot read state version %u", name,
					    sec->version);
	return d->restore(vm->devices[i].state, p, sec->version);
}

static int restore_memory(struct vm *vm, struct snapshot_reader *r, struct snapshot_section *sec)
{
	int i = (int)sec->instance;
	if (i >= vm->mem.nr_slots || vm->mem.slots[i].gpa != sec->mem.gpa || vm->mem.slots[i].size != sec->mem.size)
		return snapshot_reader_fail(r, sec, -EINVAL, "memory at %#llx (%llu MiB) does not match this VM",
					    (unsigned long long)sec->mem.gpa,
					    (unsigned long long)(sec->mem.size >> 20));
	int64_t n = snapshot_read_memory(r, sec, vm->mem.slots[i].host, vm->mem.slots[i].size);
	return n < 0 ? (int)n : 0;
}

int vm_restore_state(struct vm *vm, struct snapshot_reader *r)
{
	struct snapshot_section sec;
	int ret;
	while ((ret = snapshot_read_next(r, &sec)) == 1) {
		ret = 0;
		if (sec.id == SNAPSHOT_SEC_MEMORY) {
			ret = restore_memory(vm, r, &sec);
		} else if (sec.id == SNAPSHOT_SEC_VCPU) {
			ret = restore_vcpus(vm, r, &sec);
		} else {
			struct snap_reader p;
			/* The architecture checks which versions of its own sections it reads. */
			bool arch_owned = sec.id == SNAPSHOT_SEC_TIMER || sec.id == SNAPSHOT_SEC_IRQCHIP;
			int b = snapshot_section_begin(r, &sec, arch_owned ? arch_section_version(sec.id) : 1, &p);
			if (b)
				ret = b < 0 ? b : 0;
			else if (sec.id == SNAPSHOT_SEC_PVLOCK) {
				uint64_t base = snap_get_u64(&p, "PV-lock base"),
					 size = snap_get_u64(&p, "PV-lock size");
				snap_get_u32(&p, "PV-lock vCPUs");
				if (!vm->pvlock || base != vm->pvlock->gpa || size != vm->pvlock->size)
					ret =
					    snapshot_reader_fail(r, &sec, -EINVAL, "the PV-lock region does not match");
			} else if (sec.id == SNAPSHOT_SEC_TIMER) {
				ret = arch_restore_timer(vm, &p, sec.version);
			} else if (sec.id == SNAPSHOT_SEC_IRQCHIP) {
				ret = arch_restore_irqchip(vm, &p, sec.version);
			} else if (sec.id == SNAPSHOT_SEC_DEVICE) {
				ret = restore_device(vm, r, &sec, &p);
			} else {
				ret = snapshot_reader_fail(r, &sec, -EBADMSG, "unexpected here");
			}
			if (!ret && sec.id != SNAPSHOT_SEC_TIMER && sec.id != SNAPSHOT_SEC_IRQCHIP)
				ret = snapshot_section_end(r, &sec, &p);
		}
		if (ret) {
			if (r->err[0])
				log_error("%s", r->err);
			else
				log_error("%s: section \"%s\": cannot be restored (%s)", r->name, sec.name,
					  strerror(ret < 0 ? -ret : EBADMSG));
			return ret < 0 ? ret : -EBADMSG;
		}
	}
	if (ret < 0) {
		log_error("%s", r->err);
		return ret;
	}
	devices_resume_all(vm); /* restored devices waited for guest memory */
	return arch_finish_restore(vm);
}
