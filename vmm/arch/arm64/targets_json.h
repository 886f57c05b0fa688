/*
 * JSON files for migration targets (docs/targets.md describes both formats field by field):
 *  - a CPU profile ("format": "roam-cpu-profile"), written by `roam cpu-profile`, one per host;
 *  - a targets config ("format": "roam-targets"), written by `roam targets merge` and editable by hand. 64-bit values
 * are hex strings ("0x00000000410fd083"), since JSON numbers lose precision above 2^53; readers also take plain
 * integers below 2^53. Readers check everything a hand edit can break and fail with one line: "<file>: <JSON path>:
 * <reason>", e.g. "targets.json: id_registers.ID_AA64PFR0_EL1: not a hex string". Writers produce the same bytes for
 * the same struct, so write -> read -> write is stable. Built on jansson and the shared helpers (targets/tjson.h);
 * loading, saving and the report's JSON are the shared code's (targets/targets.h, targets/report.h).
 */
#ifndef ROAM_ARM64_TARGETS_JSON_H
#define ROAM_ARM64_TARGETS_JSON_H

#include "cpu_profile.h"
#include "targets.h"

#include <stddef.h>

/* The profile as JSON text (2-space indented, ending in a newline). Returns a malloc'd string, or NULL without
 * memory. */
char *arm64_profile_to_json(const struct arm64_cpu_profile *p);

/*
 * Parses profile JSON `text` of `len` bytes into `p` (registers sorted by encoding). `origin` names the text in
 * messages (the file name). Returns 0, or -EINVAL with one line in `err`.
 */
int arm64_profile_from_json(const char *text, size_t len, const char *origin, struct arm64_cpu_profile *p, char *err,
			    size_t err_len);

/*
 * The targets config as JSON text. Register `writable` masks are not part of the format (each host's own masks
 * decide, at `roam targets check` and `roam run`). Returns a malloc'd string, or NULL without memory.
 */
char *arm64_targets_to_json(const struct arm64_targets *t);

/*
 * Parses targets JSON into `t` (registers sorted by encoding, `writable` 0, "lowered" notes kept as they are).
 * Returns 0, or -EINVAL with one line in `err`.
 */
int arm64_targets_from_json(const char *text, size_t len, const char *origin, struct arm64_targets *t, char *err,
			    size_t err_len);

#endif
