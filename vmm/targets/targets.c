/* Loading and saving profiles and targets, and the host's place among the targets: see targets.h. */
#include "targets.h"

#include "core/file_util.h"
#include "report.h"

#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/utsname.h>
#include <unistd.h>

/* Loads `path` and hands its text to `parse`; file errors become "<path>: <reason>". */
static int load_file(const char *path, targets_parse_fn parse, void *out, char *err, size_t err_len)
{
	char *text;
	size_t len;
	const char *label = strcmp(path, "-") == 0 ? "(standard input)" : path;
	int ret = read_file_all(path, TARGETS_JSON_MAX_FILE, &text, &len);
	if (ret == -EFBIG) {
		snprintf(err, err_len, "%s: larger than %u bytes; not a roam JSON file", label, TARGETS_JSON_MAX_FILE);
		return ret;
	}
	if (ret) {
		snprintf(err, err_len, "%s: cannot read: %s", label, strerror(-ret));
		return ret;
	}
	ret = parse(text, len, label, out, err, err_len);
	free(text);
	return ret;
}

/* Writes and frees `text`. */
static int save_file(const char *path, char *text, char *err, size_t err_len)
{
	if (!text) {
		snprintf(err, err_len, "%s: out of memory while making the JSON text", path);
		return -ENOMEM;
	}
	int ret = write_file_atomic(path, text, strlen(text));
	if (ret)
		snprintf(err, err_len, "%s: cannot write: %s", path, strerror(-ret));
	free(text);
	return ret;
}

int targets_load_profile(const struct targets_arch_ops *ops, const char *path, void *profile, char *err, size_t err_len)
{
	return load_file(path, ops->profile_from_json, profile, err, err_len);
}

int targets_load_targets(const struct targets_arch_ops *ops, const char *path, void *targets, char *err, size_t err_len)
{
	return load_file(path, ops->targets_from_json, targets, err, err_len);
}

int targets_save_profile(const struct targets_arch_ops *ops, const char *path, const void *profile, char *err,
			 size_t err_len)
{
	return save_file(path, ops->profile_to_json(profile), err, err_len);
}

int targets_save_targets(const struct targets_arch_ops *ops, const char *path, const void *targets, char *err,
			 size_t err_len)
{
	return save_file(path, ops->targets_to_json(targets), err, err_len);
}

/* "MIDR 0x410fd083, REVIDR 0x0": the identity registers that tell CPUs apart. */
static void ids_text(const struct targets_arch_ops *ops, const uint64_t *id, char *buf, size_t len)
{
	size_t used = 0;
	buf[0] = '\0';
	for (int i = 0; i < ops->id.nr_match && used < len; i++)
		used += (size_t)snprintf(buf + used, len - used, "%s%s 0x%" PRIx64, i ? ", " : "", ops->id.regs[i].name,
					 id[i]);
}

void targets_check_identity(const struct targets_arch_ops *ops, const struct targets_impl *impls, int nr,
			    const char *name, const uint64_t *host_id, struct targets_report *r)
{
	const struct targets_impl *me = NULL;
	char ids[96];
	targets_report_init(r, name);
	for (int i = 0; i < nr && !me; i++) {
		bool same = true;
		for (int k = 0; k < ops->id.nr_match && same; k++)
			same = impls[i].id[k] == host_id[k];
		if (same)
			me = &impls[i];
	}
	ids_text(ops, host_id, ids, sizeof(ids));
	if (me) {
		targets_report_add(r, TARGETS_OK, "host-in-targets", "this host (%s) is target \"%s\"", ids, me->name);
	} else {
		char names[160];
		targets_impl_names(impls, nr, names, sizeof(names));
		targets_report_add(r, TARGETS_ERROR, "host-not-in-targets",
				   "this host (%s) is not one of the targets (%s); add its profile with roam targets "
				   "merge",
				   ids, names);
	}
}

void targets_impl_names(const struct targets_impl *impls, int nr, char *buf, size_t len)
{
	size_t used = 0;
	buf[0] = '\0';
	for (int i = 0; i < nr && used < len; i++)
		used += (size_t)snprintf(buf + used, len - used, "%s%s", i ? ", " : "", impls[i].name);
	if (used >= len && len > 4)
		memcpy(buf + len - 4, "...", 4);
}

void targets_impl_list(const struct targets_arch_ops *ops, const struct targets_impl *impls, int nr, char *buf,
		       size_t len)
{
	size_t used = 0;
	buf[0] = '\0';
	for (int i = 0; i < nr && used < len; i++)
		used += (size_t)snprintf(buf + used, len - used, "%s%s (%s %#" PRIx64 ")", i ? ", " : "", impls[i].name,
					 ops->id.regs[0].name, impls[i].id[0]);
}

void targets_host_label(const char *want, char *name, char *kernel, size_t kernel_len)
{
	struct utsname uts;
	if (uname(&uts) == 0)
		snprintf(kernel, kernel_len, "%s", uts.release);
	if (want)
		snprintf(name, TARGETS_NAME_LEN, "%s", want);
	else if (gethostname(name, TARGETS_NAME_LEN - 1) < 0)
		snprintf(name, TARGETS_NAME_LEN, "host");
}
