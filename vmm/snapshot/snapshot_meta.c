/* The HOST, VM and TARGETS payload layouts: see snapshot_meta.h and docs/snapshot-format.md. */
#include "snapshot_meta.h"

#include "core/vm.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <sys/utsname.h>
#include <unistd.h>

#ifndef ROAM_VERSION
#define ROAM_VERSION "unknown"
#endif

static void put_str(struct snap_writer *p, const char *s, size_t max)
{
	snap_put_blob(p, s, (uint32_t)strnlen(s, max - 1));
}

/* A blob of at most size - 1 bytes into a NUL-terminated string; a NUL inside is an error. */
static void get_str(struct snap_reader *p, char *s, size_t size, const char *what)
{
	uint32_t n = snap_get_blob(p, s, (uint32_t)size - 1, what);
	s[n] = '\0';
	if (strlen(s) != n)
		snap_reader_fail(p, what);
}

void snapshot_host_collect(struct snapshot_host_info *h)
{
	struct utsname u;
	memset(h, 0, sizeof(*h));
	if (gethostname(h->hostname, sizeof(h->hostname) - 1) < 0)
		snprintf(h->hostname, sizeof(h->hostname), "unknown");
	if (uname(&u) == 0)
		snprintf(h->kernel, sizeof(h->kernel), "%s", u.release);
	snprintf(h->roam_version, sizeof(h->roam_version), "%s", ROAM_VERSION);
}

void snapshot_host_encode(struct snap_writer *p, const struct snapshot_host_info *h)
{
	put_str(p, h->hostname, sizeof(h->hostname));
	put_str(p, h->kernel, sizeof(h->kernel));
	put_str(p, h->roam_version, sizeof(h->roam_version));
	snap_put_u64(p, h->midr);
	snap_put_u64(p, h->revidr);
}

void snapshot_host_decode(struct snap_reader *p, struct snapshot_host_info *h)
{
	memset(h, 0, sizeof(*h));
	get_str(p, h->hostname, sizeof(h->hostname), "host name");
	get_str(p, h->kernel, sizeof(h->kernel), "kernel release");
	get_str(p, h->roam_version, sizeof(h->roam_version), "roam version");
	h->midr = snap_get_u64(p, "midr");
	h->revidr = snap_get_u64(p, "revidr");
}

void snapshot_vm_encode(struct snap_writer *p, const struct snapshot_vm_info *v)
{
	snap_put_u64(p, v->ram_size);
	snap_put_u32(p, v->nr_vcpus);
	snap_put_u32(p, v->flags);
	put_str(p, v->kernel, sizeof(v->kernel));
	put_str(p, v->cmdline, sizeof(v->cmdline));
}

void snapshot_vm_decode(struct snap_reader *p, struct snapshot_vm_info *v)
{
	memset(v, 0, sizeof(*v));
	v->ram_size = snap_get_u64(p, "ram size");
	v->nr_vcpus = snap_get_u32(p, "vcpu count");
	v->flags = snap_get_u32(p, "flags");
	get_str(p, v->kernel, sizeof(v->kernel), "kernel");
	get_str(p, v->cmdline, sizeof(v->cmdline), "command line");
}

void snapshot_targets_encode(struct snap_writer *p, const struct snapshot_targets_info *t)
{
	if (t->count > SNAPSHOT_TARGETS_MAX) {
		if (!p->err)
			p->err = -E2BIG;
		return;
	}
	snap_put_u32(p, t->count);
	for (uint32_t i = 0; i < t->count; i++) {
		put_str(p, t->target[i].name, sizeof(t->target[i].name));
		snap_put_u64(p, t->target[i].midr);
		snap_put_u64(p, t->target[i].revidr);
		snap_put_u64(p, t->target[i].aidr);
	}
	snap_put_u64(p, t->guest_midr);
	snap_put_u64(p, t->guest_revidr);
	snap_put_u64(p, t->guest_aidr);
}

void snapshot_targets_decode(struct snap_reader *p, struct snapshot_targets_info *t)
{
	memset(t, 0, sizeof(*t));
	uint32_t count = snap_get_u32(p, "target count");
	if (count > SNAPSHOT_TARGETS_MAX) {
		snap_reader_fail(p, "target count");
		return;
	}
	for (uint32_t i = 0; i < count && !p->err; i++) {
		get_str(p, t->target[i].name, sizeof(t->target[i].name), "target name");
		t->target[i].midr = snap_get_u64(p, "target midr");
		t->target[i].revidr = snap_get_u64(p, "target revidr");
		t->target[i].aidr = snap_get_u64(p, "target aidr");
	}
	t->count = p->err ? 0 : count;
	t->guest_midr = snap_get_u64(p, "guest midr");
	t->guest_revidr = snap_get_u64(p, "guest revidr");
	t->guest_aidr = snap_get_u64(p, "guest aidr");
}

void snapshot_vm_devices_encode(struct snap_writer *p, const struct vm_config *cfg)
{
	snap_put_u32(p, (uint32_t)cfg->nr_device_options);
	for (int i = 0; i < cfg->nr_device_options; i++) {
		put_str(p, cfg->device_options[i].name, sizeof(cfg->device_options[i].name));
		put_str(p, cfg->device_options[i].value, sizeof(cfg->device_options[i].value));
	}
}

/* Appends option --name with a value formatted from fmt, unless cfg is full (then p fails). */
__attribute__((format(printf, 4, 5))) static void add_option(struct snap_reader *p, struct vm_config *cfg,
							     const char *name, const char *fmt, ...)
{
	if (cfg->nr_device_options == VM_MAX_DEVICE_OPTIONS) {
		snap_reader_fail(p, "device count");
		return;
	}
	struct vm_device_option *o = &cfg->device_options[cfg->nr_device_options++];
	snprintf(o->name, sizeof(o->name), "%s", name);
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(o->value, sizeof(o->value), fmt, ap);
	va_end(ap);
}

/* Version 2's typed record: disks, NICs, the entropy flag and the console kind. */
static void decode_devices_v2(struct snap_reader *p, struct vm_config *cfg)
{
	char text[VM_DEVICE_OPTION_VALUE_MAX - 8];
	uint32_t disks = snap_get_u32(p, "disk count");
	if (disks > VM_MAX_DEVICE_OPTIONS)
		snap_reader_fail(p, "disk count");
	for (uint32_t i = 0; !p->err && i < disks; i++) {
		get_str(p, text, sizeof(text), "disk path");
		bool readonly = snap_get_u8(p, "disk read-only flag") != 0;
		if (!p->err)
			add_option(p, cfg, "disk", "%s%s", text, readonly ? ",ro" : "");
	}
	uint32_t nics = snap_get_u32(p, "NIC count");
	if (nics > VM_MAX_DEVICE_OPTIONS)
		snap_reader_fail(p, "NIC count");
	for (uint32_t i = 0; !p->err && i < nics; i++) {
		char tap[16];
		uint8_t mac[6];
		get_str(p, tap, sizeof(tap), "TAP name");
		bool mac_set = snap_get_u8(p, "MAC flag") != 0;
		snap_get_bytes(p, mac, sizeof(mac), "MAC");
		if (p->err)
			break;
		if (mac_set)
			add_option(p, cfg, "net", "tap=%s,mac=%02x:%02x:%02x:%02x:%02x:%02x", tap, mac[0], mac[1],
				   mac[2], mac[3], mac[4], mac[5]);
		else
			add_option(p, cfg, "net", "tap=%s", tap);
	}
	if (snap_get_u8(p, "rng flag") && !p->err)
		add_option(p, cfg, "rng", "%s", "");
	if (snap_get_u8(p, "console kind") && !p->err)
		add_option(p, cfg, "console", "%s", "virtio");
}

void snapshot_vm_devices_decode(struct snap_reader *p, struct vm_config *cfg, uint32_t version)
{
	cfg->nr_device_options = 0;
	if (version == 2) {
		decode_devices_v2(p, cfg);
	} else {
		uint32_t n = snap_get_u32(p, "device option count");
		if (n > VM_MAX_DEVICE_OPTIONS)
			snap_reader_fail(p, "device option count");
		for (uint32_t i = 0; !p->err && i < n; i++) {
			struct vm_device_option *o = &cfg->device_options[i];
			get_str(p, o->name, sizeof(o->name), "device option name");
			get_str(p, o->value, sizeof(o->value), "device option value");
			cfg->nr_device_options = p->err ? (int)i : (int)i + 1;
		}
	}
	if (p->err)
		cfg->nr_device_options = 0;
}
