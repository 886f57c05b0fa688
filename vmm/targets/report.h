/*
 * The report of a targets check, the same on every architecture: an ordered list of findings, each with a
 * severity, a stable code for scripts ("host-not-in-targets", "reg-not-writable", "cpucfg-differs", ...) and a
 * message for people, plus the count of errors (kept or not) and of findings that did not fit. Rendered as text
 * (one "ok    CODE  MESSAGE" / "error CODE  MESSAGE" line per finding and a verdict) or as JSON with the same codes.
 */
#ifndef ROAM_TARGETS_REPORT_H
#define ROAM_TARGETS_REPORT_H

#include <stdbool.h>

#define TARGETS_REPORT_MAX_FINDINGS 64
#define TARGETS_FINDING_LEN 256

enum targets_severity {
	TARGETS_OK,
	TARGETS_ERROR,
};

struct targets_finding {
	enum targets_severity severity;
	const char *code; /* a static string */
	char message[TARGETS_FINDING_LEN];
};

struct targets_report {
	char host[64]; /* the checked host's name */
	int nr_errors; /* errors found, kept or not */
	int nr_dropped; /* findings that did not fit in `findings` */
	int nr_findings; /* entries used in `findings`, in the order found */
	struct targets_finding findings[TARGETS_REPORT_MAX_FINDINGS];
};

/* Empties `r` for the host named `host`. */
void targets_report_init(struct targets_report *r, const char *host);

/* Appends a finding (or counts it as dropped when the report is full); an error also counts in nr_errors. */
void targets_report_add(struct targets_report *r, enum targets_severity severity, const char *code, const char *fmt,
			...) __attribute__((format(printf, 4, 5)));

/*
 * True when `r` has an error whose code is `code` (with `other` false), or an error with another code (with `other`
 * true; dropped findings count as such).
 */
bool targets_report_has(const struct targets_report *r, const char *code, bool other);

/* The finding with `code`, or NULL. */
const struct targets_finding *targets_report_find(const struct targets_report *r, const char *code);

/* "ok" or "error". */
const char *targets_severity_name(enum targets_severity severity);

/*
 * The report for people: one "ok    CODE  MESSAGE" or "error CODE  MESSAGE" line per finding, a line for dropped
 * findings, and a closing verdict naming `targets_label` (e.g. the file name). Returns a malloc'd string, or NULL
 * without memory.
 */
char *targets_report_text(const struct targets_report *r, const char *targets_label);

/*
 * The report as JSON: {"host", "targets": `targets_label`, "ok", "errors", "findings": [{"severity", "code",
 * "message"}], "dropped"}. Returns a malloc'd string ending in a newline, or NULL without memory.
 */
char *targets_report_json(const struct targets_report *r, const char *targets_label);

#endif
