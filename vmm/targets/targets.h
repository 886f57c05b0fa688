/*
 * Migration targets, shared by every architecture (docs/targets.md): CPU profiles of hosts, targets configs merged
 * from them, and the check whether a host can run guests made for a config. This module owns what is the same on
 * every architecture: the `roam cpu-profile` and `roam targets merge|check` commands, loading and saving the JSON
 * files, the host's place among the targets, and the check report (report.h). Each architecture supplies only what
 * is its own through one const struct targets_arch_ops: its identity registers (MIDR/REVIDR/AIDR, PRID) with their
 * JSON keys and --options, its profile and targets structs with their JSON fields, its merge and check rules.
 * Profiles and targets are opaque here (`void *`, of the sizes the ops give). No KVM: capturing a profile is the
 * caller's (targets_capture_fn).
 */
#ifndef ROAM_TARGETS_H
#define ROAM_TARGETS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define TARGETS_MAX_IDS 3 /* identity registers per CPU: arm64 MIDR, REVIDR, AIDR; LoongArch PRID */
#define TARGETS_MAX_IMPLS 16 /* different CPUs in one targets config */
#define TARGETS_NAME_LEN 64 /* a host's or target's name, NUL included */
#define TARGETS_JSON_MAX_FILE (1u << 20) /* larger files are refused: a real one is a few KiB */

struct targets_report;

/* One identity register of the architecture: what the guest is told it runs on, never merged field by field. */
struct targets_ident {
	const char *name; /* in messages: "MIDR", "PRID" */
	const char *key; /* the JSON key and the merge override option (--KEY): "midr", "prid" */
	uint64_t max; /* its largest value */
};

/* A target as the shared code sees it: its name and identity registers (unused ones 0). */
struct targets_impl {
	char name[TARGETS_NAME_LEN];
	uint64_t id[TARGETS_MAX_IDS];
};

/* Options of a merge; all-zero means "the defaults". */
struct targets_merge_options {
	const char *const *names; /* NULL, or n labels replacing the profiles' names (an entry may be NULL) */
	bool set_id[TARGETS_MAX_IDS]; /* the guest identity override (--midr, --prid, ...), in ops->id.regs order */
	uint64_t id[TARGETS_MAX_IDS]; /* unset ones are the first profile's */
};

typedef int (*targets_parse_fn)(const char *text, size_t len, const char *origin, void *out, char *err, size_t err_len);

/* An architecture's identity registers. */
struct targets_ids {
	const struct targets_ident *regs;
	int nr; /* 1 to TARGETS_MAX_IDS */
	int nr_match; /* how many of regs[] tell CPUs apart (arm64: MIDR and REVIDR) */
	const char *match_label; /* those in words: "MIDR and REVIDR", "PRID" */
};

/* The architecture's words in the commands' --help. */
struct targets_help {
	const char *doc; /* where the rules are documented: "docs/targets.md" */
	const char *profile; /* `roam cpu-profile --help`: what a profile records (lines ending in '\n') */
	const char *merge; /* what a merge computes, after "merge: computes " */
	const char *check; /* what a check verifies, after "one of the targets and " */
};

/* What an architecture supplies. Every function is pure (no KVM, no files). */
struct targets_arch_ops {
	const char *arch; /* the files' "arch": "arm64", "loongarch64" */
	struct targets_help help;
	struct targets_ids id;
	size_t profile_size; /* the architecture's profile struct */
	size_t targets_size; /* and its targets struct */
	/* The profile's identity registers. */
	void (*profile_ids)(const void *profile, uint64_t id[TARGETS_MAX_IDS]);
	/* The targets of a config, as shared impls (at most TARGETS_MAX_IMPLS); returns the count. */
	int (*targets_impls)(const void *targets, struct targets_impl *out);
	/* JSON (docs/targets.md): writers return a malloc'd text or NULL without memory; parsers 0 or -EINVAL with
	 * one line "<origin>: <JSON path>: <reason>" in err. */
	char *(*profile_to_json)(const void *profile);
	targets_parse_fn profile_from_json;
	char *(*targets_to_json)(const void *targets);
	targets_parse_fn targets_from_json;
	/* Merges n profiles (an array of profile_size structs) into out; 0 or -errno with one line in err. */
	int (*merge)(const void *profiles, int n, const struct targets_merge_options *opt, void *out, char *err,
		     size_t err_len);
	/* Checks host against targets into r (never fails); the host passes when r->nr_errors == 0. */
	void (*check)(const void *targets, const void *host, struct targets_report *r);
};

/*
 * Defines the static adapters an architecture's ops table points at (<arch>_ops_profile_to_json, ..._check), each
 * calling the architecture's typed function of the same name without "_ops": <arch>_profile_to_json(const P *),
 * <arch>_profile_from_json(..., P *, ...), <arch>_targets_to_json, <arch>_targets_from_json,
 * <arch>_targets_merge_opts(const P *, int, const struct targets_merge_options *, T *, ...), <arch>_targets_check,
 * <arch>_targets_impls and <arch>_profile_ids(const P *, uint64_t id[TARGETS_MAX_IDS]).
 */
#define TARGETS_OPS_ADAPTERS(arch)                                                                                     \
	static char *arch##_ops_profile_to_json(const void *p)                                                         \
	{                                                                                                              \
		return arch##_profile_to_json(p);                                                                      \
	}                                                                                                              \
	static int arch##_ops_profile_from_json(const char *text, size_t len, const char *origin, void *out,           \
						char *err, size_t err_len)                                             \
	{                                                                                                              \
		return arch##_profile_from_json(text, len, origin, out, err, err_len);                                 \
	}                                                                                                              \
	static char *arch##_ops_targets_to_json(const void *t)                                                         \
	{                                                                                                              \
		return arch##_targets_to_json(t);                                                                      \
	}                                                                                                              \
	static int arch##_ops_targets_from_json(const char *text, size_t len, const char *origin, void *out,           \
						char *err, size_t err_len)                                             \
	{                                                                                                              \
		return arch##_targets_from_json(text, len, origin, out, err, err_len);                                 \
	}                                                                                                              \
	static int arch##_ops_merge(const void *p, int n, const struct targets_merge_options *opt, void *out,          \
				    char *err, size_t err_len)                                                         \
	{                                                                                                              \
		return arch##_targets_merge_opts(p, n, opt, out, err, err_len);                                        \
	}                                                                                                              \
	static void arch##_ops_check(const void *t, const void *host, struct targets_report *r)                        \
	{                                                                                                              \
		arch##_targets_check(t, host, r);                                                                      \
	}                                                                                                              \
	static int arch##_ops_targets_impls(const void *t, struct targets_impl *out)                                   \
	{                                                                                                              \
		return arch##_targets_impls(t, out);                                                                   \
	}                                                                                                              \
	static void arch##_ops_profile_ids(const void *p, uint64_t id[TARGETS_MAX_IDS])                                \
	{                                                                                                              \
		arch##_profile_ids(p, id);                                                                             \
	}

/* The ops table's sizes and functions for TARGETS_OPS_ADAPTERS(arch) with profile type P and targets type T. */
#define TARGETS_OPS_FUNCTIONS(arch, P, T)                                                                              \
	.profile_size = sizeof(P), .targets_size = sizeof(T), .profile_ids = arch##_ops_profile_ids,                   \
	.targets_impls = arch##_ops_targets_impls, .profile_to_json = arch##_ops_profile_to_json,                      \
	.profile_from_json = arch##_ops_profile_from_json, .targets_to_json = arch##_ops_targets_to_json,              \
	.targets_from_json = arch##_ops_targets_from_json, .merge = arch##_ops_merge, .check = arch##_ops_check

/* Captures this host's profile (ops->profile_size bytes) through KVM at kvm_path; name NULL: the host name. */
typedef int (*targets_capture_fn)(const char *kvm_path, const char *name, void *profile);

/* Reads a profile or targets file ("-": standard input) with the ops' parser. 0 or -errno, one line in err. */
int targets_load_profile(const struct targets_arch_ops *ops, const char *path, void *profile, char *err,
			 size_t err_len);
int targets_load_targets(const struct targets_arch_ops *ops, const char *path, void *targets, char *err,
			 size_t err_len);

/* Writes a profile or targets file atomically ("-": standard output). 0 or -errno with one line in err. */
int targets_save_profile(const struct targets_arch_ops *ops, const char *path, const void *profile, char *err,
			 size_t err_len);
int targets_save_targets(const struct targets_arch_ops *ops, const char *path, const void *targets, char *err,
			 size_t err_len);

/*
 * The first step of every check: starts `r` for host `name` and reports whether the host's identity registers
 * (the first ops->id.nr_match) are those of one of the `nr` targets: ok "host-in-targets" or error
 * "host-not-in-targets", each naming the registers as "(MIDR 0x410fd083, REVIDR 0x0)".
 */
void targets_check_identity(const struct targets_arch_ops *ops, const struct targets_impl *impls, int nr,
			    const char *name, const uint64_t *host_id, struct targets_report *r);

/* "a72, n1": the targets' names for messages, shortened with "..." to fit `len`. */
void targets_impl_names(const struct targets_impl *impls, int nr, char *buf, size_t len);

/* "a72 (MIDR 0x410fd083), n1 (MIDR 0x414fd0c1)": the names with the first identity register. */
void targets_impl_list(const struct targets_arch_ops *ops, const struct targets_impl *impls, int nr, char *buf,
		       size_t len);

/*
 * Fills a profile's `name` (TARGETS_NAME_LEN bytes) with `want`, or this host's name when want is NULL, and
 * `kernel` (kernel_len bytes) with the running kernel's release (uname -r).
 */
void targets_host_label(const char *want, char *name, char *kernel, size_t kernel_len);

/*
 * The commands (argv[0] is the command's name): `roam cpu-profile [-o FILE] [--name NAME] [--kvm-device PATH]` and
 * `roam targets merge PROFILE... -o FILE [--ID X]...` / `roam targets check TARGETS [--json] [--profile HOST.json]
 * [--kvm-device PATH]`. Results on standard output, messages on standard error. Return the exit status: 0, 1
 * (failed, or the check found problems), 2 (bad usage).
 */
int targets_cmd_cpu_profile(const struct targets_arch_ops *ops, targets_capture_fn capture, int argc, char **argv);
int targets_cmd_targets(const struct targets_arch_ops *ops, targets_capture_fn capture, int argc, char **argv);

#endif
