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
	snap_put_u32(p, (uint32_t)cfg->nr_disks);
	for (int i = 0; i < cfg->nr_disks; i++) {
		put_str(p, cfg->disks[i].path, sizeof(cfg->disks[i].path));
		snap_put_u8(p, cfg->disks[i].readonly);
	}
	snap_put_u32(p, (uint32_t)cfg->nr_nics);
	for (int i = 0; i < cfg->nr_nics; i++) {
		put_str(p, cfg->nics[i].tap, sizeof(cfg->nics[i].tap));
		snap_put_u8(p, cfg->nics[i].mac_set);
		snap_put_bytes(p, cfg->nics[i].mac, sizeof(cfg->nics[i].mac));
	}
	snap_put_u8(p, cfg->rng);
	snap_put_u8(p, cfg->console == VM_CONSOLE_VIRTIO);
}

void snapshot_vm_devices_decode(struct snap_reader *p, struct vm_config *cfg)
{
	uint32_t disks = snap_get_u32(p, "disk count");
	if (disks > VM_MAX_DISKS)
		snap_reader_fail(p, "disk count");
	for (uint32_t i = 0; !p->err && i < disks; i++) {
		get_str(p, cfg->disks[i].path, sizeof(cfg->disks[i].path), "disk path");
		cfg->disks[i].readonly = snap_get_u8(p, "disk read-only flag") != 0;
	}
	cfg->nr_disks = p->err ? 0 : (int)disks;
	uint32_t nics = snap_get_u32(p, "NIC count");
	if (nics > VM_MAX_NICS)
		snap_reader_fail(p, "NIC count");
	for (uint32_t i = 0; !p->err && i < nics; i++) {
		get_str(p, cfg->nics[i].tap, sizeof(cfg->nics[i].tap), "TAP name");
		cfg->nics[i].mac_set = snap_get_u8(p, "MAC flag") != 0;
		snap_get_bytes(p, cfg->nics[i].mac, sizeof(cfg->nics[i].mac), "MAC");
	}
	cfg->nr_nics = p->err ? 0 : (int)nics;
	cfg->rng = snap_get_u8(p, "rng flag") != 0;
	cfg->console = snap_get_u8(p, "console kind") ? VM_CONSOLE_VIRTIO : VM_CONSOLE_SERIAL;
}

/* snprintf at buf + *n, keeping *n within size (a cut-short text stays terminated). */
__attribute__((format(printf, 4, 5))) static void append(char *buf, size_t size, size_t *n, const char *fmt, ...)
{
	if (*n >= size)
		return;
	va_list ap;
	va_start(ap, fmt);
	int w = vsnprintf(buf + *n, size - *n, fmt, ap);
	va_end(ap);
	*n += w > 0 ? (size_t)w : 0;
}

void snapshot_vm_devices_format(const struct vm_config *cfg, char *buf, size_t size)
{
	size_t n = 0;
	if (size)
		buf[0] = '\0';
	for (int i = 0; i < cfg->nr_disks; i++)
		append(buf, size, &n, " --disk %s%s", cfg->disks[i].path, cfg->disks[i].readonly ? ",ro" : "");
	for (int i = 0; i < cfg->nr_nics; i++)
		append(buf, size, &n, " --net tap=%s", cfg->nics[i].tap);
	if (cfg->rng)
		append(buf, size, &n, " --rng");
	if (cfg->console == VM_CONSOLE_VIRTIO)
		append(buf, size, &n, " --console virtio");
}

bool snapshot_vm_has_devices(const struct vm_config *cfg)
{
	return cfg->nr_disks || cfg->nr_nics || cfg->rng || cfg->console != VM_CONSOLE_SERIAL;
}
