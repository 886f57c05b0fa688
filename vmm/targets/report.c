/* The check report and its text and JSON renderings: see report.h. */
#include "report.h"

#include "tjson.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

void targets_report_init(struct targets_report *r, const char *host)
{
	memset(r, 0, sizeof(*r));
	snprintf(r->host, sizeof(r->host), "%s", host);
}

void targets_report_add(struct targets_report *r, enum targets_severity severity, const char *code, const char *fmt,
			...)
{
	if (severity == TARGETS_ERROR)
		r->nr_errors++;
	if (r->nr_findings == TARGETS_REPORT_MAX_FINDINGS) {
		r->nr_dropped++;
		return;
	}
	struct targets_finding *f = &r->findings[r->nr_findings++];
	f->severity = severity;
	f->code = code;
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(f->message, sizeof(f->message), fmt, ap);
	va_end(ap);
}

bool targets_report_has(const struct targets_report *r, const char *code, bool other)
{
	for (int i = 0; i < r->nr_findings; i++)
		if (r->findings[i].severity == TARGETS_ERROR && (strcmp(r->findings[i].code, code) != 0) == other)
			return true;
	return other && r->nr_dropped > 0;
}

const struct targets_finding *targets_report_find(const struct targets_report *r, const char *code)
{
	for (int i = 0; i < r->nr_findings; i++)
		if (strcmp(r->findings[i].code, code) == 0)
			return &r->findings[i];
	return NULL;
}

const char *targets_severity_name(enum targets_severity severity)
{
	return severity == TARGETS_OK ? "ok" : "error";
}

char *targets_report_text(const struct targets_report *r, const char *targets_label)
{
	char *buf = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&buf, &len);
	if (!f)
		return NULL;
	for (int i = 0; i < r->nr_findings; i++) {
		const struct targets_finding *x = &r->findings[i];
		fprintf(f, "%-5s %-21s %s\n", targets_severity_name(x->severity), x->code, x->message);
	}
	if (r->nr_dropped)
		fprintf(f, "      (%d more findings not shown)\n", r->nr_dropped);
	const char *host = r->host[0] ? r->host : "this host";
	if (r->nr_errors == 0)
		fprintf(f, "%s can run guests made for %s\n", host, targets_label);
	else
		fprintf(f, "%s cannot run guests made for %s: %d problem%s\n", host, targets_label, r->nr_errors,
			r->nr_errors == 1 ? "" : "s");
	if (fclose(f) != 0) {
		free(buf);
		return NULL;
	}
	return buf;
}

char *targets_report_json(const struct targets_report *r, const char *targets_label)
{
	json_t *root = json_object();
	json_object_set_new(root, "host", tjson_string(r->host));
	json_object_set_new(root, "targets", tjson_string(targets_label));
	json_object_set_new(root, "ok", json_boolean(r->nr_errors == 0));
	json_object_set_new(root, "errors", json_integer(r->nr_errors));
	json_t *arr = json_array();
	for (int i = 0; i < r->nr_findings && i < TARGETS_REPORT_MAX_FINDINGS; i++) {
		const struct targets_finding *f = &r->findings[i];
		json_t *o = json_object();
		json_object_set_new(o, "severity", json_string(targets_severity_name(f->severity)));
		json_object_set_new(o, "code", json_string(f->code));
		json_object_set_new(o, "message", tjson_string(f->message));
		json_array_append_new(arr, o);
	}
	json_object_set_new(root, "findings", arr);
	json_object_set_new(root, "dropped", json_integer(r->nr_dropped));
	return tjson_dump(root);
}
