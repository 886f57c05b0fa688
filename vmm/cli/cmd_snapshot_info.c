/*
 * `roam snapshot-info FILE [--json]`: shows a snapshot's header, every section (name, id, instance, version, flags,
 * length, checksum), and decodes the HOST, VM and TARGETS sections (snapshot_meta.h). It reads in inspect mode, so a
 * section with a bad checksum is listed as BAD and the listing goes on; truncation or a broken section header ends
 * it with the reason. Exit status: 0 when the whole file verifies, 1 otherwise, 2 for bad usage. "-" reads standard
 * input. Arch-neutral, no KVM: tested natively (tests/unit/test_snapshot_info.c).
 */
#include "commands.h"

#include "core/device_options.h"
#include "core/vm.h"
#include "snapshot/snapshot.h"
#include "snapshot/snapshot_meta.h"

#include <inttypes.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

struct info_row {
	struct snapshot_section sec; /* payload and bitmap pointers are not kept */
};

enum info_decoded { INFO_ABSENT, INFO_OK, INFO_UNDECODED };

struct info {
	const char *file;
	const char *name; /* file, or "stdin" for "-" */
	bool json;
	bool have_header, complete;
	struct snapshot_header header;
	struct info_row *rows;
	size_t nr_rows, cap_rows;
	int bad; /* sections whose checksum failed */
	int refused; /* mandatory sections this roam cannot read */
	char error[SNAPSHOT_ERR_LEN]; /* what ended the listing early */
	uint64_t bytes;
	enum info_decoded host_state, vm_state, targets_state;
	char host_why[64], vm_why[64], targets_why[64];
	struct snapshot_host_info host;
	struct snapshot_vm_info vm;
	struct snapshot_targets_info targets;
	bool have_devices; /* a VM section of version 2 or later: the devices and their backing */
	struct vm_config devices;
};

static const char info_usage_text[] =
    "usage: roam snapshot-info FILE [--json]\n"
    "Shows a roam snapshot (format: docs/snapshot-format.md): its header, each section with its size, version\n"
    "and checksum status, the VM, the migration targets and the source host. FILE - reads standard input.\n"
    "\n"
    "  --json       print the same as JSON\n"
    "  -h, --help   this text\n"
    "\n"
    "Exit status: 0 the whole snapshot verifies, 1 it does not (roam: lines say why) or cannot be read, 2 bad usage.\n";

/* Writes `s` with anything not printable ASCII as '?'. */
static void put_text(FILE *out, const char *s)
{
	for (; *s; s++)
		fputc(*s >= ' ' && *s <= '~' ? *s : '?', out);
}

/* Writes `s` as a JSON string. */
static void put_json_str(FILE *out, const char *s)
{
	fputc('"', out);
	for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
		if (*p == '"' || *p == '\\')
			fprintf(out, "\\%c", *p);
		else if (*p < 0x20 || *p >= 0x7f)
			fprintf(out, "\\u%04x", *p < 0x80 ? *p : 0xfffd);
		else
			fputc(*p, out);
	}
	fputc('"', out);
}

static void format_time(uint64_t t, char *buf, size_t len)
{
	time_t tt = (time_t)t;
	struct tm tm;
	if (t > (uint64_t)INT64_MAX || !gmtime_r(&tt, &tm) || !strftime(buf, len, "%Y-%m-%d %H:%M:%S UTC", &tm))
		snprintf(buf, len, "%" PRIu64 " s after the epoch", t);
}

/* The devices line of the text listing: the options `roam restore` recreates them with. */
static void put_devices(FILE *out, const struct vm_config *d)
{
	char line[1024];
	device_options_format(d, line, sizeof(line));
	fprintf(out, "  devices:");
	put_text(out, line[0] ? line : " none");
	fputc('\n', out);
}

/* Decodes the leading fields of a descriptive section, recording whether they follow the documented layout. */
static void info_decode(struct info *in, const struct snapshot_section *sec)
{
	struct snap_reader p;
	enum info_decoded *state;
	char *why;
	snap_reader_init(&p, sec->payload, sec->length);
	if (sec->id == SNAPSHOT_SEC_HOST) {
		snapshot_host_decode(&p, &in->host);
		state = &in->host_state, why = in->host_why;
	} else if (sec->id == SNAPSHOT_SEC_VM) {
		snapshot_vm_decode(&p, &in->vm);
		if (sec->version >= 2 && sec->version <= SNAPSHOT_VM_VERSION && !p.err) {
			snapshot_vm_devices_decode(&p, &in->devices, sec->version);
			in->have_devices = !p.err;
		}
		state = &in->vm_state, why = in->vm_why;
	} else if (sec->id == SNAPSHOT_SEC_TARGETS) {
		snapshot_targets_decode(&p, &in->targets);
		state = &in->targets_state, why = in->targets_why;
	} else {
		return;
	}
	*state = p.err ? INFO_UNDECODED : INFO_OK;
	snprintf(why, sizeof(in->host_why), "%s", p.err && p.what ? p.what : "");
}

static int info_add_row(struct info *in, const struct snapshot_section *sec)
{
	if (in->nr_rows == in->cap_rows) {
		size_t cap = in->cap_rows ? in->cap_rows * 2 : 32;
		struct info_row *rows = realloc(in->rows, cap * sizeof(*rows));
		if (!rows)
			return -1;
		in->rows = rows;
		in->cap_rows = cap;
	}
	struct info_row *row = &in->rows[in->nr_rows++];
	row->sec = *sec;
	row->sec.payload = NULL;
	row->sec.mem.bitmap = NULL;
	return 0;
}

/* Reads the whole snapshot, collecting what it shows; messages for bad sections go to err as they come. */
static void info_read(struct info *in, FILE *err)
{
	struct snapshot_reader r;
	struct snapshot_section sec;
	if (snapshot_reader_open_path(&r, in->file, NULL, SNAPSHOT_READ_INSPECT) < 0) {
		snprintf(in->error, sizeof(in->error), "%s", r.err);
		snapshot_reader_close(&r);
		return;
	}
	in->have_header = true;
	in->header = r.header;
	for (;;) {
		int ret = snapshot_read_next(&r, &sec);
		if (ret < 0) {
			snprintf(in->error, sizeof(in->error), "%s", r.err);
			break;
		}
		if (snapshot_is_memory_id(sec.id) && sec.known && snapshot_skip_section(&r, &sec) < 0) {
			snprintf(in->error, sizeof(in->error), "%s", r.err);
			info_add_row(in, &sec); /* listed, unchecked */
			break;
		}
		if (info_add_row(in, &sec) < 0) {
			snprintf(in->error, sizeof(in->error), "%s: out of memory", in->name);
			break;
		}
		in->refused += sec.refused; /* restore would refuse it */
		in->bad += sec.checked && !sec.crc_ok;
		if (sec.refused || (sec.checked && !sec.crc_ok))
			fprintf(err, "roam: %s\n", r.err);
		else if (sec.known) {
			info_decode(in, &sec);
		}
		if (ret == 0) {
			in->complete = true;
			break;
		}
	}
	in->bytes = r.offset;
	snapshot_reader_close(&r);
}

/* The whole snapshot verified, and this roam can read every mandatory section. */
static bool info_ok(const struct info *in)
{
	return in->complete && !in->bad && !in->refused;
}

static void print_flags(FILE *out, uint32_t flags)
{
	char buf[16];
	snprintf(buf, sizeof(buf), "%s", flags & SNAPSHOT_FLAG_MANDATORY ? "M" : "-");
	if (flags & ~SNAPSHOT_FLAG_MANDATORY)
		snprintf(buf + 1, sizeof(buf) - 1, "+%#x", flags & ~SNAPSHOT_FLAG_MANDATORY);
	fprintf(out, "%-8s", buf);
}

static const char *checksum_word(const struct snapshot_section *s)
{
	return !s->checked ? "unchecked" : s->crc_ok ? "ok" : "BAD";
}

static void print_text_summaries(const struct info *in, FILE *out)
{
	if (in->host_state == INFO_OK) {
		fprintf(out, "  source host: ");
		put_text(out, in->host.hostname);
		fprintf(out, ", kernel ");
		put_text(out, in->host.kernel);
		fprintf(out, ", CPU id 0x%" PRIx64 " rev 0x%" PRIx64 ", roam ", in->host.midr, in->host.revidr);
		put_text(out, in->host.roam_version);
		fputc('\n', out);
	}
	if (in->vm_state == INFO_OK) {
		fprintf(out, "  vm: %" PRIu64 " MiB RAM, %u vCPU%s%s%s\n", in->vm.ram_size >> 20, in->vm.nr_vcpus,
			in->vm.nr_vcpus == 1 ? "" : "s", in->vm.flags & SNAPSHOT_VM_PVLOCK ? ", PV-lock" : "",
			in->vm.flags & SNAPSHOT_VM_TARGETS ? ", targets" : "");
		fprintf(out, "  kernel: ");
		put_text(out, in->vm.kernel);
		fprintf(out, "\n  cmdline: ");
		put_text(out, in->vm.cmdline);
		fputc('\n', out);
		if (in->have_devices)
			put_devices(out, &in->devices);
	}
	if (in->targets_state == INFO_OK) {
		fprintf(out, "  targets:");
		for (uint32_t i = 0; i < in->targets.count; i++) {
			const struct snapshot_target *t = &in->targets.target[i];
			fprintf(out, "%s ", i ? "," : "");
			put_text(out, t->name);
			fprintf(out, " (MIDR 0x%" PRIx64 " REVIDR 0x%" PRIx64 " AIDR 0x%" PRIx64 ")", t->midr,
				t->revidr, t->aidr);
		}
		fprintf(out, "\n  guest CPU: MIDR 0x%" PRIx64 " REVIDR 0x%" PRIx64 " AIDR 0x%" PRIx64 "\n",
			in->targets.guest_midr, in->targets.guest_revidr, in->targets.guest_aidr);
	}
	const char *names[] = {"source host", "vm", "targets"};
	const enum info_decoded states[] = {in->host_state, in->vm_state, in->targets_state};
	const char *whys[] = {in->host_why, in->vm_why, in->targets_why};
	for (int i = 0; i < 3; i++)
		if (states[i] == INFO_UNDECODED)
			fprintf(out, "  %s: not in the documented layout (%s)\n", names[i], whys[i]);
}

static void print_text(const struct info *in, FILE *out)
{
	char when[64];
	format_time(in->header.created, when, sizeof(when));
	fprintf(out, "%s: roam snapshot format %u, %s, written by roam %s on %s\n", in->name, in->header.format_version,
		in->header.arch, in->header.roam_version, when);
	print_text_summaries(in, out);
	fprintf(out, "sections:\n  %-24s %5s %8s %7s %-8s %12s  %s\n", "NAME", "ID", "INSTANCE", "VERSION", "FLAGS",
		"LENGTH", "CHECKSUM");
	for (size_t i = 0; i < in->nr_rows; i++) {
		const struct snapshot_section *s = &in->rows[i].sec;
		fprintf(out, "  %-24s %5u %8u %7u ", s->name, s->id, s->instance, s->version);
		print_flags(out, s->flags);
		fprintf(out, " %12" PRIu64 "  %s", s->length, checksum_word(s));
		if (snapshot_is_memory_id(s->id) && s->known)
			fprintf(out, "  %" PRIu64 " of %" PRIu64 " pages of %u bytes at 0x%" PRIx64, s->mem.present,
				s->mem.size / s->mem.page_size, s->mem.page_size, s->mem.gpa);
		if (s->refused)
			fprintf(out, "  (mandatory, and this roam cannot read it)");
		else if (!s->known)
			fprintf(out, "  (not known to this roam, optional)");
		fputc('\n', out);
	}
	if (info_ok(in))
		fprintf(out, "%zu sections, %" PRIu64 " bytes: every checksum verifies\n", in->nr_rows, in->bytes);
	else if (in->complete)
		fprintf(out, "%zu sections, %" PRIu64 " bytes: %d with a bad checksum, %d that this roam cannot read\n",
			in->nr_rows, in->bytes, in->bad, in->refused);
	else
		fprintf(out, "incomplete: %s\n", in->error);
}

static void print_json_target_ids(FILE *out, uint64_t midr, uint64_t revidr, uint64_t aidr)
{
	fprintf(out, "\"midr\": \"0x%" PRIx64 "\", \"revidr\": \"0x%" PRIx64 "\", \"aidr\": \"0x%" PRIx64 "\"", midr,
		revidr, aidr);
}

static void print_json_summaries(const struct info *in, FILE *out)
{
	fprintf(out, "  \"host\": ");
	if (in->host_state == INFO_OK) {
		fprintf(out, "{\"hostname\": ");
		put_json_str(out, in->host.hostname);
		fprintf(out, ", \"kernel\": ");
		put_json_str(out, in->host.kernel);
		fprintf(out, ", \"roam_version\": ");
		put_json_str(out, in->host.roam_version);
		fprintf(out, ", \"midr\": \"0x%" PRIx64 "\", \"revidr\": \"0x%" PRIx64 "\"},\n", in->host.midr,
			in->host.revidr);
	} else {
		fprintf(out, "null,\n");
	}
	fprintf(out, "  \"vm\": ");
	if (in->vm_state == INFO_OK) {
		fprintf(out,
			"{\"ram_size\": %" PRIu64 ", \"nr_vcpus\": %u, \"pvlock\": %s, \"targets\": %s, \"kernel\": ",
			in->vm.ram_size, in->vm.nr_vcpus, in->vm.flags & SNAPSHOT_VM_PVLOCK ? "true" : "false",
			in->vm.flags & SNAPSHOT_VM_TARGETS ? "true" : "false");
		put_json_str(out, in->vm.kernel);
		fprintf(out, ", \"cmdline\": ");
		put_json_str(out, in->vm.cmdline);
		fprintf(out, "},\n");
	} else {
		fprintf(out, "null,\n");
	}
	fprintf(out, "  \"targets\": ");
	if (in->targets_state == INFO_OK) {
		fprintf(out, "{\"targets\": [");
		for (uint32_t i = 0; i < in->targets.count; i++) {
			const struct snapshot_target *t = &in->targets.target[i];
			fprintf(out, "%s{\"name\": ", i ? ", " : "");
			put_json_str(out, t->name);
			fprintf(out, ", ");
			print_json_target_ids(out, t->midr, t->revidr, t->aidr);
			fputc('}', out);
		}
		fprintf(out, "], \"guest\": {");
		print_json_target_ids(out, in->targets.guest_midr, in->targets.guest_revidr, in->targets.guest_aidr);
		fprintf(out, "}},\n");
	} else {
		fprintf(out, "null,\n");
	}
}

static void print_json(const struct info *in, FILE *out)
{
	fprintf(out, "{\n  \"file\": ");
	put_json_str(out, in->name);
	fprintf(out, ",\n  \"ok\": %s,\n  \"error\": ", info_ok(in) ? "true" : "false");
	if (in->error[0])
		put_json_str(out, in->error);
	else
		fprintf(out, "null");
	fprintf(out, ",\n  \"header\": ");
	if (in->have_header) {
		char when[64];
		format_time(in->header.created, when, sizeof(when));
		fprintf(out, "{\"format_version\": %u, \"arch\": ", in->header.format_version);
		put_json_str(out, in->header.arch);
		fprintf(out, ", \"roam_version\": ");
		put_json_str(out, in->header.roam_version);
		fprintf(out, ", \"created\": %" PRIu64 ", \"created_utc\": ", in->header.created);
		put_json_str(out, when);
		fprintf(out, "},\n");
	} else {
		fprintf(out, "null,\n");
	}
	print_json_summaries(in, out);
	fprintf(out, "  \"sections\": [");
	for (size_t i = 0; i < in->nr_rows; i++) {
		const struct snapshot_section *s = &in->rows[i].sec;
		fprintf(out, "%s\n    {\"name\": ", i ? "," : "");
		put_json_str(out, s->name);
		fprintf(out,
			", \"id\": %u, \"instance\": %u, \"version\": %u, \"flags\": %u, \"mandatory\": %s, \"known\": "
			"%s, \"refused\": %s, "
			"\"length\": %" PRIu64 ", \"checksum\": \"%s\"",
			s->id, s->instance, s->version, s->flags, s->flags & SNAPSHOT_FLAG_MANDATORY ? "true" : "false",
			s->known ? "true" : "false", s->refused ? "true" : "false", s->length,
			s->checked ? (s->crc_ok ? "ok" : "bad") : "unchecked");
		if (snapshot_is_memory_id(s->id) && s->known)
			fprintf(out,
				", \"memory\": {\"gpa\": \"0x%" PRIx64 "\", \"size\": %" PRIu64 ", \"page_size\": %u, "
				"\"present\": %" PRIu64 "}",
				s->mem.gpa, s->mem.size, s->mem.page_size, s->mem.present);
		fputc('}', out);
	}
	fprintf(
	    out,
	    "%s],\n  \"complete\": %s,\n  \"bad_checksums\": %d,\n  \"refused_sections\": %d,\n  \"bytes\": %" PRIu64
	    "\n}\n",
	    in->nr_rows ? "\n  " : "", in->complete ? "true" : "false", in->bad, in->refused, in->bytes);
}

int snapshot_info_main(int argc, char **argv, FILE *out, FILE *err)
{
	struct info *in = calloc(1, sizeof(*in));
	if (!in) {
		fprintf(err, "roam: snapshot-info: out of memory\n");
		return 1;
	}
	bool options_done = false;
	for (int i = 1; i < argc; i++) {
		const char *a = argv[i];
		if (!options_done && !strcmp(a, "--")) {
			options_done = true;
		} else if (!options_done && (!strcmp(a, "-h") || !strcmp(a, "--help"))) {
			fputs(info_usage_text, out);
			free(in);
			return 0;
		} else if (!options_done && !strcmp(a, "--json")) {
			in->json = true;
		} else if (!options_done && a[0] == '-' && a[1]) {
			fprintf(err, "roam: snapshot-info: unknown option '%s'; see roam snapshot-info --help\n", a);
			free(in);
			return 2;
		} else if (!in->file) {
			in->file = a;
		} else {
			fprintf(err,
				"roam: snapshot-info: one FILE only ('%s' is extra); see roam snapshot-info --help\n",
				a);
			free(in);
			return 2;
		}
	}
	if (!in->file) {
		fprintf(err, "roam: snapshot-info: no FILE given; see roam snapshot-info --help\n");
		free(in);
		return 2;
	}
	in->name = strcmp(in->file, "-") ? in->file : "stdin";
	info_read(in, err);
	if (in->json)
		print_json(in, out);
	else if (in->have_header)
		print_text(in, out);
	if (in->error[0])
		fprintf(err, "roam: %s\n", in->error);
	int status = info_ok(in) ? 0 : 1;
	free(in->rows);
	free(in);
	return status;
}

int cmd_snapshot_info(int argc, char **argv)
{
	return snapshot_info_main(argc, argv, stdout, stderr);
}
