/* Diff snapshots and their chains: see diff_chain.h. */
#include "diff_chain.h"

#include "arch.h"
#include "component_walk.h"
#include "core/component.h"
#include "core/log.h"
#include "core/vm.h"
#include "sha256.h"
#include "snapshot.h"
#include "snapshot_meta.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#define BASE_VERSION 1u
#define FLAT_PAGE 4096u

int diff_write_base(struct snapshot_writer *w, const char *path, uint64_t size, const uint8_t sha[32])
{
	struct snap_writer p;
	snap_writer_init(&p);
	snap_put_blob(&p, path, (uint32_t)strnlen(path, COMPONENT_PATH_MAX - 1));
	snap_put_u64(&p, size);
	snap_put_bytes(&p, sha, 32);
	int ret = snapshot_write_payload(w, SNAPSHOT_SEC_BASE, 0, BASE_VERSION, SNAPSHOT_FLAG_MANDATORY, &p);
	snap_writer_fini(&p);
	return ret;
}

static int base_restore(struct component_ctx *ctx, uint32_t instance, uint32_t version, struct snap_reader *p)
{
	(void)instance;
	(void)version;
	struct component_base *b = &ctx->config->base;
	uint32_t n = snap_get_blob(p, b->path, sizeof(b->path) - 1, "base path");
	b->path[n] = '\0';
	b->size = snap_get_u64(p, "base size");
	snap_get_bytes(p, b->sha256, sizeof(b->sha256), "base SHA-256");
	if (!p->err && (strlen(b->path) != n || !n))
		snap_reader_fail(p, "base path");
	b->present = !p->err;
	return 0;
}

const struct component base_component = {
    .name = "base",
    .section = SNAPSHOT_SEC_BASE,
    .version = BASE_VERSION,
    .flags = COMPONENT_CONFIG,
    .restore = base_restore,
};

int diff_check_base(const char *who, const struct vm_restore_base *base)
{
	int fd = open(base->path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return log_errno(-errno,
				 "%s: its base %s cannot be opened: %s (a diff snapshot needs the snapshot it was "
				 "taken on; roam restore DIFF --base FILE names another place)",
				 who, base->path, strerror(errno));
	struct stat st;
	int ret = fstat(fd, &st) < 0 ? -errno : 0;
	if (!ret && (uint64_t)st.st_size != base->size)
		ret = log_errno(-EINVAL,
				"%s: its base %s is %llu bytes, the diff was taken on one of %llu: not the same "
				"snapshot",
				who, base->path, (unsigned long long)st.st_size, (unsigned long long)base->size);
	struct sha256 h;
	sha256_init(&h);
	uint8_t *buf = ret ? NULL : malloc(1u << 20);
	if (!ret && !buf)
		ret = log_errno(-ENOMEM, "%s: out of memory", who);
	for (ssize_t n = 1; !ret && n > 0;) {
		n = read(fd, buf, 1u << 20);
		if (n < 0 && errno != EINTR)
			ret = log_errno(-errno, "%s: its base %s cannot be read: %s", who, base->path, strerror(errno));
		else if (n > 0)
			sha256_update(&h, buf, (size_t)n);
	}
	free(buf);
	close(fd);
	if (ret)
		return ret;
	uint8_t digest[32];
	sha256_final(&h, digest);
	if (memcmp(digest, base->sha256, 32)) {
		char have[65], want[65];
		sha256_hex(digest, have);
		sha256_hex(base->sha256, want);
		return log_errno(-EINVAL,
				 "%s: its base %s has changed since the diff was taken (SHA-256 %.16s..., the diff "
				 "recorded %.16s...): restore needs that exact snapshot",
				 who, base->path, have, want);
	}
	return 0;
}

/* Opens `path` and reads its description into config (scratch: recorded devices go to a throw-away config). */
static int open_described(const char *path, struct snapshot_reader *r, struct component_config *config)
{
	static const struct component *const config_table[] = {&host_component, &vm_component, &targets_component,
							       &base_component};
	memset(config, 0, sizeof(*config));
	config->cfg = calloc(1, sizeof(*config->cfg));
	config->host = calloc(1, sizeof(*config->host));
	if (!config->cfg || !config->host)
		return log_errno(-ENOMEM, "%s: out of memory", path);
	config->cfg->nr_device_options = 1; /* keeps the recorded devices out of it: they are not needed here */
	int ret = snapshot_reader_open_path(r, path, NULL, 0);
	if (ret)
		return log_errno(ret, "%s", r->err);
	return component_walk_config(r, config_table, 4, config);
}

static void close_described(struct snapshot_reader *r, struct component_config *config)
{
	snapshot_reader_close(r);
	free(config->cfg);
	free(config->host);
	free(config->targets_json);
	memset(config, 0, sizeof(*config));
}

/* A base's place: as recorded when absolute, else next to the file that recorded it (cut to fit `size`). */
static void base_place(const char *recorder, const char *recorded, char *out, size_t size)
{
	const char *slash = strrchr(recorder, '/');
	size_t dir = recorded[0] == '/' || !slash ? 0 : (size_t)(slash - recorder) + 1, len = strlen(recorded);
	if (dir >= size)
		dir = 0;
	if (dir + len >= size)
		len = size - dir - 1;
	memcpy(out, recorder, dir);
	memcpy(out + dir, recorded, len);
	out[dir + len] = '\0';
}

/*
 * Walks the chain from `first` back to a full snapshot: checks each base, and its VM against ram/vcpus. Fills
 * paths[0..*n) newest first (the last one is full). Returns 0 or -errno after one line.
 */
static int chain_paths(const char *who, const struct vm_restore_base *first, uint64_t ram, uint32_t vcpus,
		       char (*paths)[COMPONENT_PATH_MAX], int *n)
{
	struct vm_restore_base cur = *first;
	char recorder[COMPONENT_PATH_MAX];
	snprintf(recorder, sizeof(recorder), "%s", who);
	for (*n = 0; *n < DIFF_CHAIN_MAX; (*n)++) {
		int ret = diff_check_base(recorder, &cur);
		if (ret)
			return ret;
		snprintf(paths[*n], COMPONENT_PATH_MAX, "%s", cur.path);
		struct snapshot_reader r;
		struct component_config config;
		ret = open_described(cur.path, &r, &config);
		if (!ret && (config.ram_size != ram || config.nr_vcpus != vcpus))
			ret = log_errno(-EINVAL,
					"%s: its base %s is of another VM (%llu MiB and %u vCPUs, not %llu and %u)",
					recorder, cur.path, (unsigned long long)(config.ram_size >> 20),
					config.nr_vcpus, (unsigned long long)(ram >> 20), vcpus);
		bool more = !ret && config.base.present;
		if (more) {
			snprintf(recorder, sizeof(recorder), "%s", cur.path);
			base_place(recorder, config.base.path, cur.path, sizeof(cur.path));
			cur.size = config.base.size;
			memcpy(cur.sha256, config.base.sha256, 32);
		}
		close_described(&r, &config);
		if (ret)
			return ret;
		if (!more) {
			(*n)++;
			return 0;
		}
	}
	return log_errno(-ELOOP, "%s: more than %d bases behind it (a loop?)", who, DIFF_CHAIN_MAX);
}

/* A slot to apply memory sections into: host memory of `size` bytes at `gpa`. */
struct mem_target {
	uint64_t gpa, size;
	uint8_t *host;
};

/*
 * Applies the memory sections of the open reader (after its description) to targets[instance]; skips the rest.
 * `state` (or NULL) receives every other section but END, in order, as its owner would.
 */
static int apply_memory(struct snapshot_reader *r, struct mem_target *targets, int nr,
			int (*state)(void *opaque, const struct snapshot_section *sec), void *opaque)
{
	struct snapshot_section sec;
	int ret;
	while ((ret = snapshot_read_next(r, &sec)) == 1) {
		if (!snapshot_is_memory_id(sec.id)) {
			ret = state ? state(opaque, &sec) : 0;
			if (ret)
				return ret;
			continue;
		}
		if (sec.instance >= (uint32_t)nr || !targets[sec.instance].host ||
		    targets[sec.instance].gpa != sec.mem.gpa || targets[sec.instance].size != sec.mem.size)
			return snapshot_reader_fail(
			    r, &sec, -EINVAL, "memory at %#llx (%llu MiB) fits no slot of this VM",
			    (unsigned long long)sec.mem.gpa, (unsigned long long)(sec.mem.size >> 20));
		int64_t n = snapshot_read_memory(r, &sec, targets[sec.instance].host, sec.mem.size);
		if (n < 0)
			return (int)n;
	}
	return ret;
}

/* Applies the memory of chain paths[n-1] (full) .. paths[0] to targets. */
static int apply_chain(char (*paths)[COMPONENT_PATH_MAX], int n, struct mem_target *targets, int nr)
{
	for (int i = n - 1; i >= 0; i--) {
		struct snapshot_reader r;
		struct component_config config;
		int ret = open_described(paths[i], &r, &config);
		if (!ret)
			ret = apply_memory(&r, targets, nr, NULL, NULL);
		if (ret && r.err[0])
			log_error("%s", r.err);
		close_described(&r, &config);
		if (ret)
			return ret;
	}
	return 0;
}

int diff_chain_load(struct vm *vm, const char *who, const struct vm_restore_base *base)
{
	char(*paths)[COMPONENT_PATH_MAX] = calloc(DIFF_CHAIN_MAX, COMPONENT_PATH_MAX);
	struct mem_target targets[MEMORY_MAX_SLOTS] = {{0}};
	if (!paths)
		return log_errno(-ENOMEM, "%s: out of memory", who);
	for (int i = 0; i < vm->mem.nr_slots; i++)
		if (!vm->mem.slots[i].guest_readonly)
			targets[i] =
			    (struct mem_target){vm->mem.slots[i].gpa, vm->mem.slots[i].size, vm->mem.slots[i].host};
	int n = 0;
	int ret = chain_paths(who, base, vm->cfg.ram_size, (uint32_t)vm->nr_vcpus, paths, &n);
	if (!ret) {
		log_info("restore: %s is a diff on %d snapshot%s, back to %s", who, n, n == 1 ? "" : "s", paths[n - 1]);
		ret = apply_chain(paths, n, targets, vm->mem.nr_slots);
	}
	free(paths);
	return ret;
}

/* flatten: the output, and the composed memory. */
struct flatten {
	struct snapshot_writer w;
	struct mem_target slots[MEMORY_MAX_SLOTS];
	int fds[MEMORY_MAX_SLOTS];
};

/* Copies a state section of the diff to the output as it is. */
static int flatten_copy(void *opaque, const struct snapshot_section *sec)
{
	struct flatten *f = opaque;
	if (sec->id == SNAPSHOT_SEC_PRECHECK)
		return 0;
	return snapshot_write_section(&f->w, sec->id, sec->instance, sec->version, sec->flags, sec->payload,
				      sec->length);
}

/* The output's description: the diff's, its VM section without the diff flag, no BASE. */
static int flatten_description(struct flatten *f, const char *diff)
{
	struct snapshot_reader r;
	struct snapshot_section sec;
	int ret = snapshot_reader_open_path(&r, diff, NULL, 0);
	while (!ret && (ret = snapshot_read_next(&r, &sec)) == 1) {
		if (sec.id == SNAPSHOT_SEC_BASE)
			break;
		if (sec.id != SNAPSHOT_SEC_VM) {
			ret = flatten_copy(f, &sec);
			continue;
		}
		struct snap_reader p;
		struct snap_writer out;
		struct snapshot_vm_info *info = calloc(1, sizeof(*info));
		struct vm_config *devices = calloc(1, sizeof(*devices));
		snap_reader_init(&p, sec.payload, sec.length);
		snap_writer_init(&out);
		if (info && devices) {
			snapshot_vm_decode(&p, info);
			if (sec.version >= 2)
				snapshot_vm_devices_decode(&p, devices, sec.version);
			info->flags &= ~SNAPSHOT_VM_DIFF;
			snapshot_vm_encode(&out, info);
			snapshot_vm_devices_encode(&out, devices);
		}
		ret = !info || !devices ? -ENOMEM
		      : p.err		? snapshot_reader_fail(&r, &sec, -EBADMSG, "bad payload (%s)", p.what)
			      : snapshot_write_payload(&f->w, SNAPSHOT_SEC_VM, 0, SNAPSHOT_VM_VERSION, sec.flags, &out);
		snap_writer_fini(&out);
		free(info);
		free(devices);
	}
	if (ret < 0 && r.err[0])
		log_error("%s", r.err);
	snapshot_reader_close(&r);
	return ret < 0 ? ret : 0;
}

/* The composed memory's slots, from the full snapshot at the end of the chain: memfds as large as its sections. */
static int flatten_slots(struct flatten *f, const char *full)
{
	struct snapshot_reader r;
	struct component_config config;
	struct snapshot_section sec;
	int ret = open_described(full, &r, &config);
	while (!ret && (ret = snapshot_read_next(&r, &sec)) == 1) {
		if (sec.id != SNAPSHOT_SEC_MEMORY)
			continue;
		if (sec.instance >= MEMORY_MAX_SLOTS || f->slots[sec.instance].host) {
			ret = snapshot_reader_fail(&r, &sec, -EBADMSG, "unexpected memory slot");
			break;
		}
		int fd = memfd_create("flatten", MFD_CLOEXEC);
		void *host = fd < 0 || ftruncate(fd, (off_t)sec.mem.size) < 0
				 ? MAP_FAILED
				 : mmap(NULL, sec.mem.size, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_NORESERVE, fd, 0);
		if (host == MAP_FAILED) {
			if (fd >= 0)
				close(fd);
			ret = log_errno(-ENOMEM, "%s: cannot hold %llu MiB of memory", full,
					(unsigned long long)(sec.mem.size >> 20));
			break;
		}
		f->slots[sec.instance] = (struct mem_target){sec.mem.gpa, sec.mem.size, host};
		f->fds[sec.instance] = fd;
	}
	if (ret < 0 && r.err[0])
		log_error("%s", r.err);
	close_described(&r, &config);
	return ret < 0 ? ret : 0;
}

int diff_flatten(const char *diff, const char *out)
{
	struct flatten *f = calloc(1, sizeof(*f));
	char(*paths)[COMPONENT_PATH_MAX] = calloc(DIFF_CHAIN_MAX, COMPONENT_PATH_MAX);
	struct snapshot_reader r;
	struct component_config config;
	int ret = f && paths ? 0 : log_errno(-ENOMEM, "snapshot-flatten: out of memory");
	for (int i = 0; f && i < MEMORY_MAX_SLOTS; i++)
		f->fds[i] = -1;
	memset(&r, 0, sizeof(r));
	memset(&config, 0, sizeof(config));
	if (!ret)
		ret = open_described(diff, &r, &config);
	if (!ret && !config.base.present)
		ret = log_errno(-EINVAL, "%s: not a diff snapshot: it is whole already", diff);
	int n = 0;
	struct vm_restore_base base;
	if (!ret) {
		base_place(diff, config.base.path, base.path, sizeof(base.path));
		base.size = config.base.size;
		memcpy(base.sha256, config.base.sha256, 32);
		ret = chain_paths(diff, &base, config.ram_size, config.nr_vcpus, paths, &n);
	}
	if (!ret)
		ret = flatten_slots(f, paths[n - 1]);
	if (!ret)
		ret = apply_chain(paths, n, f->slots, MEMORY_MAX_SLOTS);
	if (!ret && (ret = snapshot_writer_open_path(&f->w, out, r.header.arch)) < 0)
		log_error("%s", f->w.err);
	if (!ret)
		ret = flatten_description(f, diff);
	/* The diff's state sections go to the output as they come; its deltas onto the composed memory. */
	if (!ret && (ret = apply_memory(&r, f->slots, MEMORY_MAX_SLOTS, flatten_copy, f)) < 0 && r.err[0])
		log_error("%s", r.err);
	for (int i = 0; !ret && i < MEMORY_MAX_SLOTS; i++)
		if (f->slots[i].host &&
		    (snapshot_write_memory(&f->w, (uint32_t)i, f->slots[i].gpa, f->slots[i].host, f->slots[i].size,
					   FLAT_PAGE,
					   &(struct snapshot_data_map){snapshot_file_data_range, &f->fds[i]}) < 0 ||
		     snapshot_write_memory_sums(&f->w, (uint32_t)i) < 0))
			ret = -EIO;
	if (!ret)
		ret = snapshot_writer_commit(&f->w);
	if (ret && f && f->w.err[0] && f->w.error)
		log_error("%s", f->w.err);
	if (f)
		snapshot_writer_abort(&f->w);
	close_described(&r, &config);
	for (int i = 0; f && i < MEMORY_MAX_SLOTS; i++)
		if (f->slots[i].host) {
			munmap(f->slots[i].host, f->slots[i].size);
			close(f->fds[i]);
		}
	free(f);
	free(paths);
	return ret;
}
