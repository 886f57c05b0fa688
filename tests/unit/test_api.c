/*
 * Unit test of the control API's protocol (vmm/api_proto.c), without sockets or a VM: line splitting over buffers
 * (split lines, CRLF, the 64 KiB limit at, just past and far past it, in one piece and in chunks), and table-driven
 * request checking: malformed JSON, non-objects, a missing or non-string cmd, unknown commands and arguments, bad
 * vCPU types and numbers, handler errors, and the replies of good requests; each error's stable code, and a failure
 * deep below a handler reaching the reply as the line roam logged for it.
 */
#include "api/api_proto.h"
#include "check.h"
#include "core/log.h"
#include "stderr_capture.h"

#include <stdlib.h>

/* ---- line splitting ---- */

static struct api_line_reader reader; /* 64 KiB: too big for the stack of a test under ASan */

static enum api_line_status feed_str(const char *s, size_t *used)
{
	return api_line_feed(&reader, s, strlen(s), used);
}

static void test_lines_basic(void)
{
	size_t used;
	api_line_reader_init(&reader);
	CHECK_EQ(feed_str("abc\n", &used), API_LINE_READY);
	CHECK_EQ(used, 4);
	CHECK(!strcmp(reader.buf, "abc"));
	CHECK_EQ(reader.len, 3);

	/* A line in pieces, and two lines in one buffer. */
	CHECK_EQ(feed_str("ab", &used), API_LINE_NEED_MORE);
	CHECK_EQ(used, 2);
	CHECK_EQ(feed_str("c\r\nde\nf", &used), API_LINE_READY);
	CHECK_EQ(used, 3);
	CHECK(!strcmp(reader.buf, "abc")); /* the '\r' of CRLF goes */
	CHECK_EQ(feed_str("de\nf", &used), API_LINE_READY);
	CHECK_EQ(used, 3);
	CHECK(!strcmp(reader.buf, "de"));
	CHECK_EQ(feed_str("f", &used), API_LINE_NEED_MORE);
	CHECK_EQ(feed_str("\n", &used), API_LINE_READY);
	CHECK(!strcmp(reader.buf, "f"));

	/* An empty line is a line of length 0 (the server ignores it). */
	CHECK_EQ(feed_str("\n", &used), API_LINE_READY);
	CHECK_EQ(reader.len, 0);

	/* End of stream: an unterminated line counts, once; nothing pending gives nothing. */
	CHECK_EQ(feed_str("{\"cmd\":\"quit\"}", &used), API_LINE_NEED_MORE);
	CHECK_EQ(api_line_finish(&reader), API_LINE_READY);
	CHECK(!strcmp(reader.buf, "{\"cmd\":\"quit\"}"));
	CHECK_EQ(api_line_finish(&reader), API_LINE_NEED_MORE);
	api_line_reader_init(&reader);
	CHECK_EQ(api_line_finish(&reader), API_LINE_NEED_MORE);
}

static void test_lines_limit(void)
{
	size_t big = API_MAX_REQUEST + 100000, used, total;
	char *data = malloc(big + 16);
	memset(data, 'x', big);

	/* Exactly the limit is fine. */
	api_line_reader_init(&reader);
	data[API_MAX_REQUEST] = '\n';
	CHECK_EQ(api_line_feed(&reader, data, API_MAX_REQUEST + 1, &used), API_LINE_READY);
	CHECK_EQ(used, API_MAX_REQUEST + 1);
	CHECK_EQ(reader.len, API_MAX_REQUEST);
	data[API_MAX_REQUEST] = 'x';

	/* One byte more, newline in the same buffer: too large, whole line consumed, the next line is fine. */
	memcpy(data + API_MAX_REQUEST + 1, "\nok\n", 4);
	CHECK_EQ(api_line_feed(&reader, data, API_MAX_REQUEST + 5, &used), API_LINE_TOO_LARGE);
	CHECK_EQ(used, API_MAX_REQUEST + 2);
	CHECK_EQ(api_line_feed(&reader, data + used, 3, &used), API_LINE_READY);
	CHECK(!strcmp(reader.buf, "ok"));

	/* Far past the limit, in 4 KiB chunks as a socket delivers it: reported once, as soon as it passes. */
	memset(data, 'x', big);
	memcpy(data + big, "\n{\"a\":1}\n", 10);
	size_t len = big + 9, reports = 0, lines = 0, reported_at = 0;
	api_line_reader_init(&reader);
	for (total = 0; total < len;) {
		size_t chunk = len - total < 4096 ? len - total : 4096;
		size_t off = 0;
		while (off < chunk) {
			enum api_line_status st = api_line_feed(&reader, data + total + off, chunk - off, &used);
			off += used;
			if (st == API_LINE_TOO_LARGE && !reports++)
				reported_at = total + off;
			if (st == API_LINE_READY) {
				lines++;
				CHECK(!strcmp(reader.buf, "{\"a\":1}"));
			}
		}
		total += chunk;
	}
	CHECK_EQ(reports, 1);
	CHECK_EQ(lines, 1);
	CHECK(reported_at <= API_MAX_REQUEST + 4096); /* not at the end of the line */
	CHECK(!reader.discarding);

	/* A too-large line cut short by the end of the stream leaves nothing to answer. */
	api_line_reader_init(&reader);
	CHECK_EQ(api_line_feed(&reader, data, API_MAX_REQUEST + 10, &used), API_LINE_TOO_LARGE);
	CHECK_EQ(api_line_finish(&reader), API_LINE_NEED_MORE);
	free(data);
}

/* ---- requests ---- */

struct fake_vm {
	int nr_vcpus;
	int last_vcpu;
	int stops;
};

static int fake_pause(struct api_call *call)
{
	struct fake_vm *vm = call->ctx;
	int id;
	if (api_arg_vcpu(call, vm->nr_vcpus, &id) < 0)
		return -1;
	vm->last_vcpu = id;
	return 0;
}

static int fake_status(struct api_call *call)
{
	json_object_set_new(call->reply, "state", json_string("running"));
	return 0;
}

static void fake_stop(void *ctx)
{
	((struct fake_vm *)ctx)->stops++;
}

static int fake_quit(struct api_call *call)
{
	call->after_reply = fake_stop;
	return 0;
}

static int fake_fail(struct api_call *call)
{
	return api_call_fail(call, API_ERR_INTERNAL, "it broke on %s", "purpose");
}

/* A component deep below the handler: it reports with log_error, as the ioctl wrapper does, and returns -errno. */
static int fake_component_save(void)
{
	log_error("KVM_GET_ONE_REG(vcpu1 register 0x6030000000100000): Invalid argument");
	log_error("a later line, about the same failure");
	return -22;
}

static int fake_snapshot(struct api_call *call)
{
	int ret = fake_component_save();
	return api_call_fail_logged(call, API_ERR_SNAPSHOT_FAILED, "error %d", ret); /* "error -22": not used */
}

/* A failure nobody logged (a writer keeps its reason in its own err): the handler's message, logged now. */
static int fake_quiet_failure(struct api_call *call)
{
	return api_call_fail_logged(call, API_ERR_SNAPSHOT_FAILED, "%s", "snap.roam: write: No space left on device");
}

static const char *const vcpu_arg[] = {"vcpu", NULL};
static const struct api_command fake_commands[] = {
    {"pause", vcpu_arg, fake_pause}, {"status", NULL, fake_status},	{"quit", NULL, fake_quit},
    {"fail", NULL, fake_fail},	     {"snapshot", NULL, fake_snapshot}, {"quiet", NULL, fake_quiet_failure},
};

struct request_case {
	const char *line;
	const char *reply; /* a substring of the reply */
	const char *code; /* the reply's "code" */
};

static const struct request_case bad_requests[] = {
    {"not json", "{\"ok\":false,\"error\":\"malformed JSON: ", "bad-request"},
    {"", "malformed JSON", "bad-request"},
    {"{\"cmd\":\"status\"", "malformed JSON", "bad-request"},
    {"{\"cmd\":\"status\"} trailing", "malformed JSON", "bad-request"},
    {"{\"cmd\":\"status\",\"cmd\":\"status\"}", "malformed JSON: duplicate object key", "bad-request"},
    {"{\"cmd\":\"sta\\u0000tus\"}", "malformed JSON", "bad-request"},
    {"[1,2]", "a request must be a JSON object such as {\\\"cmd\\\":\\\"status\\\"}, not an array", "bad-request"},
    {"42", "not an integer", "bad-request"},
    {"\"status\"", "not a string", "bad-request"},
    {"null", "not null", "bad-request"},
    {"{}", "a request needs \\\"cmd\\\", the command's name", "bad-request"},
    {"{\"vcpu\":1}", "a request needs \\\"cmd\\\"", "bad-request"},
    {"{\"cmd\":3}", "\\\"cmd\\\" must be a string, not an integer", "bad-request"},
    {"{\"cmd\":null}", "\\\"cmd\\\" must be a string, not null", "bad-request"},
    {"{\"cmd\":\"frob\"}", "unknown command \\\"frob\\\" (commands: pause, status, quit, fail, snapshot, quiet)",
     "unknown-command"},
    {"{\"cmd\":\"PAUSE\"}", "unknown command \\\"PAUSE\\\"", "unknown-command"},
    {"{\"cmd\":\"status\",\"vcpu\":1}", "\"status: unknown argument \\\"vcpu\\\" (it takes none)\"", "bad-argument"},
    {"{\"cmd\":\"pause\",\"vpcu\":1}", "\"pause: unknown argument \\\"vpcu\\\" (it takes: vcpu)\"", "bad-argument"},
    {"{\"cmd\":\"pause\",\"vcpu\":\"1\"}", "pause: \\\"vcpu\\\" must be a vCPU number (an integer), not a string",
     "bad-argument"},
    {"{\"cmd\":\"pause\",\"vcpu\":1.0}", "not a real number", "bad-argument"},
    {"{\"cmd\":\"pause\",\"vcpu\":true}", "not true", "bad-argument"},
    {"{\"cmd\":\"pause\",\"vcpu\":null}", "not null", "bad-argument"},
    {"{\"cmd\":\"pause\",\"vcpu\":[1]}", "not an array", "bad-argument"},
    {"{\"cmd\":\"pause\",\"vcpu\":{}}", "not an object", "bad-argument"},
    {"{\"cmd\":\"pause\",\"vcpu\":-1}", "\"pause: no vCPU -1: this VM has vCPUs 0 to 1\"", "no-such-vcpu"},
    {"{\"cmd\":\"pause\",\"vcpu\":2}", "\"pause: no vCPU 2: this VM has vCPUs 0 to 1\"", "no-such-vcpu"},
    {"{\"cmd\":\"pause\",\"vcpu\":99999999999}", "no vCPU 99999999999", "no-such-vcpu"},
    {"{\"cmd\":\"fail\"}", "{\"ok\":false,\"error\":\"fail: it broke on purpose\",\"code\":\"internal\"}", "internal"},
    /* A deep failure: the first line logged below the handler, with the handler's code. */
    {"{\"cmd\":\"snapshot\"}",
     "{\"ok\":false,\"error\":\"snapshot: KVM_GET_ONE_REG(vcpu1 register 0x6030000000100000): Invalid argument\","
     "\"code\":\"snapshot-failed\"}",
     "snapshot-failed"},
    {"{\"cmd\":\"quiet\"}", "\"quiet: snap.roam: write: No space left on device\"", "snapshot-failed"},
};

static char *handle(struct fake_vm *vm, const char *line, size_t len, void (**after)(void *))
{
	return api_handle_line(fake_commands, sizeof(fake_commands) / sizeof(fake_commands[0]), vm, line, len, after,
			       NULL);
}

static char *handle_str(struct fake_vm *vm, const char *line, void (**after)(void *))
{
	return handle(vm, line, strlen(line), after);
}

static void test_requests(void)
{
	struct fake_vm vm = {.nr_vcpus = 2, .last_vcpu = 42};
	void (*after)(void *);
	for (size_t i = 0; i < sizeof(bad_requests) / sizeof(bad_requests[0]); i++) {
		char *reply = handle(&vm, bad_requests[i].line, strlen(bad_requests[i].line), &after);
		CHECK_CONTAINS(reply, bad_requests[i].reply);
		CHECK_CONTAINS(reply, "{\"ok\":false,\"error\":");
		char code[64];
		snprintf(code, sizeof(code), ",\"code\":\"%s\"}", bad_requests[i].code);
		CHECK_CONTAINS(reply, code);
		CHECK(reply && !strchr(reply, '\n'));
		CHECK(after == NULL);
		free(reply);
	}
	CHECK_EQ(vm.last_vcpu, 42); /* no bad request reached the handler */

	/* A NUL byte inside the line. */
	char *reply = handle(&vm, "{\"cmd\":\0\"status\"}", 18, &after);
	CHECK_CONTAINS(reply, "malformed JSON");
	free(reply);

	/* An absurd command name is cut short in the message. */
	char name[2100] = "{\"cmd\":\"";
	memset(name + 8, 'z', 2000);
	strcpy(name + 2008, "\"}");
	reply = handle(&vm, name, strlen(name), &after);
	CHECK_CONTAINS(reply, "unknown command \\\"zzzz");
	CHECK(reply && strlen(reply) < API_ERROR_MAX + 40);
	free(reply);

	/* One vCPU: the message says so. */
	struct fake_vm one = {.nr_vcpus = 1};
	reply = handle(&one, "{\"cmd\":\"pause\",\"vcpu\":1}", 24, &after);
	CHECK_CONTAINS(reply, "pause: no vCPU 1: this VM has vCPU 0 only");
	free(reply);

	/* Good requests. */
	reply = handle(&vm, "{\"cmd\":\"status\"}", 16, &after);
	CHECK(reply && !strcmp(reply, "{\"ok\":true,\"state\":\"running\"}"));
	free(reply);
	reply = handle(&vm, " { \"vcpu\" : 1 , \"cmd\" : \"pause\" } ", 34, &after);
	CHECK(reply && !strcmp(reply, "{\"ok\":true}"));
	CHECK_EQ(vm.last_vcpu, 1);
	free(reply);
	reply = handle(&vm, "{\"cmd\":\"pause\"}", 15, &after);
	CHECK_EQ(vm.last_vcpu, (uint64_t)-1);
	CHECK(after == NULL);
	free(reply);
	reply = handle(&vm, "{\"cmd\":\"quit\"}", 14, &after);
	CHECK(reply && !strcmp(reply, "{\"ok\":true}"));
	CHECK(after == fake_stop);
	CHECK_EQ(vm.stops, 0); /* the server runs it, after sending the reply */
	free(reply);

	reply = api_too_large_reply();
	CHECK(
	    reply &&
	    !strcmp(reply, "{\"ok\":false,\"error\":\"request too large (max 65536 bytes)\",\"code\":\"too-large\"}"));
	free(reply);
}

/* The codes are the protocol's: fixed kebab-case names, one each. */
static void test_error_codes(void)
{
	static const char *const names[API_ERR_COUNT] = {
	    "bad-request", "unknown-command", "bad-argument", "no-such-vcpu", "vm-stopping",  "snapshot-failed",
	    "busy",	   "too-large",	      "internal",     "closed",	      "vm-restoring",
	};
	for (int i = 0; i < API_ERR_COUNT; i++)
		CHECK(!strcmp(api_error_code_name((enum api_error_code)i), names[i]));
	CHECK(!strcmp(api_error_code_name(API_ERR_COUNT), "internal"));
}

/*
 * The same deep failure, as the client and roam's stderr see it: the reply's message is the line roam logged,
 * after the command's name; a failure nothing logged is logged by the API, so both always agree.
 */
static void test_deep_failure_matches_stderr(void)
{
	struct fake_vm vm = {.nr_vcpus = 2};
	void (*after)(void *);
	struct stderr_capture cap;
	stderr_capture_begin(&cap);
	char *deep = handle_str(&vm, "{\"cmd\":\"snapshot\"}", &after);
	char *quiet = handle_str(&vm, "{\"cmd\":\"quiet\"}", &after);
	char *own = handle_str(&vm, "{\"cmd\":\"fail\"}", &after); /* nothing logged, and nothing left over */
	char *logged = stderr_capture_end(&cap);
	CHECK(!strcmp(logged, "roam: KVM_GET_ONE_REG(vcpu1 register 0x6030000000100000): Invalid argument\n"
			      "roam: a later line, about the same failure\n"
			      "roam: quiet: snap.roam: write: No space left on device\n"));
	CHECK_CONTAINS(deep,
		       "\"error\":\"snapshot: KVM_GET_ONE_REG(vcpu1 register 0x6030000000100000): Invalid argument\"");
	CHECK_CONTAINS(quiet, "\"error\":\"quiet: snap.roam: write: No space left on device\"");
	CHECK_CONTAINS(own, "\"error\":\"fail: it broke on purpose\"");
	free(logged);
	free(deep);
	free(quiet);
	free(own);
}

static void test_summaries(void)
{
	const char *running[] = {"running", "running"};
	const char *mixed[] = {"running", "paused", "running"};
	const char *paused[] = {"paused"};
	CHECK(!strcmp(api_summarize_states(running, 2), "running"));
	CHECK(!strcmp(api_summarize_states(mixed, 3), "mixed"));
	CHECK(!strcmp(api_summarize_states(mixed, 1), "running"));
	CHECK(!strcmp(api_summarize_states(paused, 1), "paused"));
	CHECK(!strcmp(api_summarize_states(paused, 0), "none"));
}

/*
 * Errors that quote a request's bytes which are not UTF-8 (jansson's text near a bad token, an unknown command's
 * name): the reply still has its "error", those bytes written "\xNN". Found by tests/fuzz/fuzz_api.
 */
static void test_non_utf8_errors(void)
{
	struct fake_vm vm = {.nr_vcpus = 2};
	static const char *const lines[] = {"{\"sm*6\\\xdb\xaa\x04", "{\"cmd\":\"st\xd9\"}", "\xff\xfe"};
	for (size_t i = 0; i < sizeof(lines) / sizeof(lines[0]); i++) {
		void (*after)(void *);
		char *reply = handle_str(&vm, lines[i], &after);
		json_t *j = json_loads(reply ? reply : "", 0, NULL);
		CHECK(json_is_false(json_object_get(j, "ok")));
		CHECK(json_is_string(json_object_get(j, "error")));
		if (!json_is_string(json_object_get(j, "error")))
			fprintf(stderr, "line %zu: %s\n", i, reply ? reply : "(none)");
		json_decref(j);
		free(reply);
	}
}

int main(void)
{
	test_lines_basic();
	test_lines_limit();
	test_requests();
	test_error_codes();
	test_non_utf8_errors();
	test_deep_failure_matches_stderr();
	test_summaries();
	return check_exit();
}
