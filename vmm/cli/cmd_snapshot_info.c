/*
 * `roam snapshot-info FILE [--json]`: shows a snapshot's header, every section (name, id, instance, version, flags,
 * length, checksum), and decodes the HOST, VM and TARGETS sections (snapshot_meta.h). It reads in inspect mode, so a
 * section with a bad checksum is listed as BAD and the listing goes on; truncation or a broken section header ends
 * it with the reason. Exit status: 0 when the whole file verifies, 1 otherwise, 2 for bad usage. "-" reads standard
 * input. Arch-neutral, no KVM: tested natively (tests/unit/test_snapshot_info.c).
 *
 * It streams: each section's row is printed as the section is read, and the decoded summaries and totals come after
 * the rows, so memory stays the same whatever the number of sections (a file may be crafted with millions of them).
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

enum info_decoded { INFO_ABSENT, INFO_OK, INFO_UNDECODED };

struct info {
	const char *file;
	const char *name; /* file, or "stdin" for "-" */
	bool json;
	bool have_header, complete;
	struct snapshot_header header;
	uint64_t nr_sections; /* rows printed */
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

/*
 * Writes a u64 as a JSON number when every JSON reader holds it exactly (up to 2^53), else as a hex string: only a
 * damaged or crafted file has such values (a creation time, a RAM size), and a number some readers refuse or round
 * would make the whole listing unreadable.
 */
static void put_json_u64(FILE *out, uint64_t v)
{
	if (v <= (1ull << 53))
		fprintf(out, "%" PRIu64, v);
	else
		fprintf(out, "\"0x%" PRIx64 "\"", v);
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

/* The header line and the head of the section table, once the file header has been read. */
static void print_text_begin(const struct info *in, FILE *out)
{
	char when[64];
	format_time(in->header.created, when, sizeof(when));
	fprintf(out, "%s: roam snapshot format %u, %s, written by roam %s on %s\n", in->name, in->header.format_version,
		in->header.arch, in->header.roam_version, when);
	fprintf(out, "sections:\n  %-24s %5s %8s %7s %-8s %12s  %s\n", "NAME", "ID", "INSTANCE", "VERSION", "FLAGS",
		"LENGTH", "CHECKSUM");
}

static void print_text_row(FILE *out, const struct snapshot_section *s)
{
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

/* After the last row: what the descriptive sections say, then the verdict. */
static void print_text_end(const struct info *in, FILE *out)
{
	if (!in->have_header)
		return;
	print_text_summaries(in, out);
	if (info_ok(in))
		fprintf(out, "%" PRIu64 " sections, %" PRIu64 " bytes: every checksum verifies\n", in->nr_sections,
			in->bytes);
	else if (in->complete)
		fprintf(out,
			"%" PRIu64 " sections, %" PRIu64
			" bytes: %d with a bad checksum, %d that this roam cannot read\n",
			in->nr_sections, in->bytes, in->bad, in->refused);
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
		fprintf(out, "{\"ram_size\": ");
		put_json_u64(out, in->vm.ram_size);
		fprintf(out, ", \"nr_vcpus\": %u, \"pvlock\": %s, \"targets\": %s, \"kernel\": ", in->vm.nr_vcpus,
			in->vm.flags & SNAPSHOT_VM_PVLOCK ? "true" : "false",
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

/* Everything before the rows: the file and its header, once the header was read (or failed). */
static void print_json_begin(const struct info *in, FILE *out)
{
	fprintf(out, "{\n  \"file\": ");
	put_json_str(out, in->name);
	fprintf(out, ",\n  \"header\": ");
	if (in->have_header) {
		char when[64];
		format_time(in->header.created, when, sizeof(when));
		fprintf(out, "{\"format_version\": %u, \"arch\": ", in->header.format_version);
		put_json_str(out, in->header.arch);
		fprintf(out, ", \"roam_version\": ");
		put_json_str(out, in->header.roam_version);
		fprintf(out, ", \"created\": ");
		put_json_u64(out, in->header.created);
		fprintf(out, ", \"created_utc\": ");
		put_json_str(out, when);
		fprintf(out, "},\n");
	} else {
		fprintf(out, "null,\n");
	}
	fprintf(out, "  \"sections\": [");
}

static void print_json_row(FILE *out, const struct snapshot_section *s, bool first)
{
	fprintf(out, "%s\n    {\"name\": ", first ? "" : ",");
	put_json_str(out, s->name);
	fprintf(out,
		", \"id\": %u, \"instance\": %u, \"version\": %u, \"flags\": %u, \"mandatory\": %s, \"known\": "
		"%s, \"refused\": %s, \"length\": ",
		s->id, s->instance, s->version, s->flags, s->flags & SNAPSHOT_FLAG_MANDATORY ? "true" : "false",
		s->known ? "true" : "false", s->refused ? "true" : "false");
	put_json_u64(out, s->length);
	fprintf(out, ", \"checksum\": \"%s\"", s->checked ? (s->crc_ok ? "ok" : "bad") : "unchecked");
	if (snapshot_is_memory_id(s->id) && s->known) {
		fprintf(out, ", \"memory\": {\"gpa\": \"0x%" PRIx64 "\", \"size\": ", s->mem.gpa);
		put_json_u64(out, s->mem.size);
		fprintf(out, ", \"page_size\": %u, \"present\": ", s->mem.page_size);
		put_json_u64(out, s->mem.present);
		fputc('}', out);
	}
	fputc('}', out);
}

/* After the rows: the summaries and the verdict. */
static void print_json_end(const struct info *in, FILE *out)
{
	fprintf(out, "%s],\n", in->nr_sections ? "\n  " : "");
	print_json_summaries(in, out);
	fprintf(out, "  \"ok\": %s,\n  \"error\": ", info_ok(in) ? "true" : "false");
	if (in->error[0])
		put_json_str(out, in->error);
	else
		fprintf(out, "null");
	fprintf(out, ",\n  \"complete\": %s,\n  \"bad_checksums\": %d,\n  \"refused_sections\": %d,\n  \"bytes\": ",
		in->complete ? "true" : "false", in->bad, in->refused);
	put_json_u64(out, in->bytes);
	fprintf(out, "\n}\n");
}

static void info_print_row(struct info *in, const struct snapshot_section *sec, FILE *out)
{
	if (in->json)
		print_json_row(out, sec, in->nr_sections == 0);
	else
		print_text_row(out, sec);
	in->nr_sections++;
}

/*
 * Reads the whole snapshot, printing each section's row as it comes; messages for bad sections go to err as they
 * come. Only the decoded descriptive sections and the counts are kept.
 */
static void info_read(struct info *in, FILE *out, FILE *err)
{
	struct snapshot_reader r;
	struct snapshot_section sec;
	int opened = snapshot_reader_open_path(&r, in->file, NULL, SNAPSHOT_READ_INSPECT);
	if (opened == 0) {
		in->have_header = true;
		in->header = r.header;
	} else {
		snprintf(in->error, sizeof(in->error), "%s", r.err);
	}
	if (in->json)
		print_json_begin(in, out);
	else if (in->have_header)
		print_text_begin(in, out);
	while (opened == 0) {
		int ret = snapshot_read_next(&r, &sec);
		if (ret < 0) {
			snprintf(in->error, sizeof(in->error), "%s", r.err);
			break;
		}
		if (snapshot_is_memory_id(sec.id) && sec.known && snapshot_skip_section(&r, &sec) < 0) {
			snprintf(in->error, sizeof(in->error), "%s", r.err);
			info_print_row(in, &sec, out); /* listed, unchecked */
			break;
		}
		info_print_row(in, &sec, out);
		in->refused += sec.refused; /* restore would refuse it */
		in->bad += sec.checked && !sec.crc_ok;
		if (sec.refused || (sec.checked && !sec.crc_ok))
			fprintf(err, "roam: %s\n", r.err);
		else if (sec.known)
			info_decode(in, &sec);
		if (ret == 0) {
			in->complete = true;
			break;
		}
	}
	in->bytes = r.offset;
	snapshot_reader_close(&r);
	if (in->json)
		print_json_end(in, out);
	else
		print_text_end(in, out);
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
	info_read(in, out, err);
	if (in->error[0])
		fprintf(err, "roam: %s\n", in->error);
	int status = info_ok(in) ? 0 : 1;
	free(in);
	return status;
}

int cmd_snapshot_info(int argc, char **argv)
{
	return snapshot_info_main(argc, argv, stdout, stderr);
}
