/*
 * The LoongArch JSON files of migration targets, in the arm64 formats' style and with the shared helpers
 * (targets/tjson.h; docs/loongarch.md has the fields): a CPU profile ("format": "roam-cpu-profile",
 * "arch": "loongarch64") per host and a targets config ("roam-targets"). Loading, saving and the check report's
 * JSON are the shared code's (targets/targets.h, targets/report.h).
 * 32-bit words are hex strings; readers refuse unknown keys, missing words, duplicates and values out of range
 * with one line "<file>: <JSON path>: <reason>", and writers produce the same bytes for the same struct.
 */
#ifndef ROAM_LOONGARCH_TARGETS_JSON_H
#define ROAM_LOONGARCH_TARGETS_JSON_H

#include "cpucfg.h"

#include <stddef.h>

/* The profile / targets as JSON text ending in a newline (malloc'd), or NULL without memory. */
char *loongarch_profile_to_json(const struct loongarch_cpu_profile *p);
char *loongarch_targets_to_json(const struct loongarch_targets *t);

/* Parse JSON text; `origin` names it in messages. Return 0, or -EINVAL with one line in `err`. */
int loongarch_profile_from_json(const char *text, size_t len, const char *origin, struct loongarch_cpu_profile *p,
				char *err, size_t err_len);
int loongarch_targets_from_json(const char *text, size_t len, const char *origin, struct loongarch_targets *t,
				char *err, size_t err_len);

#endif
