/* The control API's line splitting, request checking and replies: see api_proto.h and docs/api.md. */
#include "api_proto.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

void api_line_reader_init(struct api_line_reader *r)
{
	r->len = 0;
	r->ready = false;
	r->discarding = false;
	r->buf[0] = '\0';
}

enum api_line_status api_line_feed(struct api_line_reader *r, const char *data, size_t len, size_t *used)
{
	if (r->ready) {
		r->ready = false;
		r->len = 0;
	}
	size_t off = 0;
	while (r->discarding) {
		const char *nl = memchr(data + off, '\n', len - off);
		if (!nl) {
			*used = len;
			return API_LINE_NEED_MORE;
		}
		off = (size_t)(nl - data) + 1;
		r->discarding = false;
	}
	const char *nl = memchr(data + off, '\n', len - off);
	size_t chunk = (nl ? (size_t)(nl - data) : len) - off;
	if (chunk > API_MAX_REQUEST - r->len) {
		/* Too large: the rest of this line goes, now if its end is here, or as it arrives. */
		r->len = 0;
		r->discarding = !nl;
		*used = nl ? (size_t)(nl - data) + 1 : len;
		return API_LINE_TOO_LARGE;
	}
	memcpy(r->buf + r->len, data + off, chunk);
	r->len += chunk;
	if (!nl) {
		*used = len;
		return API_LINE_NEED_MORE;
	}
	if (r->len && r->buf[r->len - 1] == '\r')
		r->len--;
	r->buf[r->len] = '\0';
	r->ready = true;
	*used = off + chunk + 1;
	return API_LINE_READY;
}

enum api_line_status api_line_finish(struct api_line_reader *r)
{
	if (r->ready || r->discarding || !r->len)
		return API_LINE_NEED_MORE;
	if (r->buf[r->len - 1] == '\r')
		r->len--;
	r->buf[r->len] = '\0';
	r->ready = true;
	return API_LINE_READY;
}

const char *api_json_type_name(const json_t *v)
{
	switch (json_typeof(v)) {
	case JSON_OBJECT:
		return "an object";
	case JSON_ARRAY:
		return "an array";
	case JSON_STRING:
		return "a string";
	case JSON_INTEGER:
		return "an integer";
	case JSON_REAL:
		return "a real number";
	case JSON_TRUE:
		return "true";
	case JSON_FALSE:
		return "false";
	case JSON_NULL:
		return "null";
	}
	return "?";
}

static const char *const api_error_code_names[API_ERR_COUNT] = {
    [API_ERR_BAD_REQUEST] = "bad-request",
    [API_ERR_UNKNOWN_COMMAND] = "unknown-command",
    [API_ERR_BAD_ARGUMENT] = "bad-argument",
    [API_ERR_NO_SUCH_VCPU] = "no-such-vcpu",
    [API_ERR_VM_STOPPING] = "vm-stopping",
    [API_ERR_SNAPSHOT_FAILED] = "snapshot-failed",
    [API_ERR_BUSY] = "busy",
    [API_ERR_TOO_LARGE] = "too-large",
    [API_ERR_INTERNAL] = "internal",
    [API_ERR_CLOSED] = "closed",
    [API_ERR_RESTORING] = "vm-restoring",
};

const char *api_error_code_name(enum api_error_code code)
{
	return (unsigned)code < API_ERR_COUNT ? api_error_code_names[code] : "internal";
}

static void api_call_vfail(struct api_call *call, enum api_error_code code, const char *fmt, va_list ap)
{
	int n = call->cmd ? snprintf(call->error, sizeof(call->error), "%s: ", call->cmd->name) : 0;
	vsnprintf(call->error + n, sizeof(call->error) - (size_t)n, fmt, ap);
	call->code = code;
}

int api_call_fail(struct api_call *call, enum api_error_code code, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	api_call_vfail(call, code, fmt, ap);
	va_end(ap);
	return -1;
}

int api_call_fail_logged(struct api_call *call, enum api_error_code code, const char *fmt, ...)
{
	if (call->log.count)
		return api_call_fail(call, code, "%s", call->log.first);
	va_list ap;
	va_start(ap, fmt);
	api_call_vfail(call, code, fmt, ap);
	va_end(ap);
	log_error("%s", call->error);
	return -1;
}

int api_arg_vcpu(struct api_call *call, int nr_vcpus, int *id)
{
	const json_t *v = json_object_get(call->request, "vcpu");
	*id = -1;
	if (!v)
		return 0;
	if (!json_is_integer(v))
		return api_call_fail(call, API_ERR_BAD_ARGUMENT, "\"vcpu\" must be a vCPU number (an integer), not %s",
				     api_json_type_name(v));
	json_int_t n = json_integer_value(v);
	if (n < 0 || n >= nr_vcpus) {
		if (nr_vcpus == 1)
			return api_call_fail(call, API_ERR_NO_SUCH_VCPU, "no vCPU %lld: this VM has vCPU 0 only",
					     (long long)n);
		return api_call_fail(call, API_ERR_NO_SUCH_VCPU, "no vCPU %lld: this VM has vCPUs 0 to %d",
				     (long long)n, nr_vcpus - 1);
	}
	*id = (int)n;
	return 0;
}

/* A boolean argument: false when absent. Returns 0 or -1 (not a boolean). */
static int api_arg_bool(const json_t *request, const char *name, bool *value)
{
	const json_t *arg = json_object_get(request, name);
	*value = arg && json_is_true(arg);
	return !arg || json_is_boolean(arg) ? 0 : -1;
}

int api_snapshot_args(struct api_call *call, struct api_snapshot_request *req)
{
	const json_t *path = json_object_get(call->request, "path");
	if (!json_is_string(path) || !json_string_value(path)[0])
		return api_call_fail(call, API_ERR_BAD_ARGUMENT,
				     "needs \"path\": a file name, or \"-\" with a passed descriptor");
	static const char *const flags[] = {"stop", "track", "diff"};
	bool *values[] = {&req->stop, &req->track, &req->diff};
	for (size_t i = 0; i < sizeof(flags) / sizeof(flags[0]); i++)
		if (api_arg_bool(call->request, flags[i], values[i]) < 0)
			return api_call_fail(call, API_ERR_BAD_ARGUMENT, "\"%s\" must be true or false", flags[i]);
	req->file = json_string_value(path);
	bool to_fd = !strcmp(req->file, "-");
	if (to_fd && (!call->passed_fd || *call->passed_fd < 0))
		return api_call_fail(call, API_ERR_BAD_ARGUMENT,
				     "\"-\" needs the output descriptor passed with the request "
				     "(roam ctl SOCK snapshot - does that)");
	if (!to_fd && req->file[0] != '/')
		return api_call_fail(call, API_ERR_BAD_ARGUMENT,
				     "\"%s\": give an absolute path (roam ctl makes relative ones absolute)",
				     req->file);
	if ((req->track || req->diff) && to_fd)
		return api_call_fail(call, API_ERR_BAD_ARGUMENT,
				     "--track and --diff need a file: a diff names its base by path");
	return 0;
}

static char *api_dump(json_t *reply)
{
	/* 12 significant digits: a rounded real prints short (212.4, not 212.40000000000001). */
	char *text = reply ? json_dumps(reply, JSON_COMPACT | JSON_ENSURE_ASCII | JSON_REAL_PRECISION(12)) : NULL;
	json_decref(reply);
	return text;
}

/*
 * A message as a JSON string. A message may quote a request's bytes (jansson's error near a token, an unknown
 * command's name) that are not UTF-8, which JSON strings cannot hold: then every byte outside printable ASCII is
 * written "\xNN" instead, so the reply still has its "error".
 */
static json_t *api_json_message(const char *message)
{
	json_t *s = json_string(message);
	if (s)
		return s;
	size_t len = strlen(message), o = 0;
	char *text = malloc(4 * len + 1);
	if (!text)
		return NULL;
	for (const unsigned char *p = (const unsigned char *)message; *p; p++) {
		if (*p >= ' ' && *p <= '~')
			text[o++] = (char)*p;
		else
			o += (size_t)sprintf(text + o, "\\x%02x", *p);
	}
	text[o] = '\0';
	s = json_string(text);
	free(text);
	return s;
}

char *api_error_reply(enum api_error_code code, const char *message)
{
	json_t *reply = json_object();
	if (reply) {
		json_object_set_new(reply, "ok", json_false());
		json_object_set_new(reply, "error", api_json_message(message));
		json_object_set_new(reply, "code", json_string(api_error_code_name(code)));
	}
	return api_dump(reply);
}

char *api_too_large_reply(void)
{
	char msg[64];
	snprintf(msg, sizeof(msg), "request too large (max %d bytes)", API_MAX_REQUEST);
	return api_error_reply(API_ERR_TOO_LARGE, msg);
}

/* Writes "a, b, c" (the command names) into buf. */
static void api_list_names(const struct api_command *cmds, size_t nr, char *buf, size_t size)
{
	size_t off = 0;
	buf[0] = '\0';
	for (size_t i = 0; i < nr && off < size; i++) {
		int n = snprintf(buf + off, size - off, "%s%s", i ? ", " : "", cmds[i].name);
		if (n < 0)
			break;
		off += (size_t)n;
	}
}

static bool api_takes_arg(const struct api_command *cmd, const char *key)
{
	for (const char *const *a = cmd->args; a && *a; a++)
		if (!strcmp(*a, key))
			return true;
	return false;
}

/* Checks the request's shape and finds its command; returns 0 or -1 with call->error set. */
static int api_check_request(const struct api_command *cmds, size_t nr, struct api_call *call)
{
	const json_t *req = call->request;
	if (!json_is_object(req))
		return api_call_fail(call, API_ERR_BAD_REQUEST,
				     "a request must be a JSON object such as {\"cmd\":\"status\"}, not %s",
				     api_json_type_name(req));
	const json_t *name = json_object_get(req, "cmd");
	if (!name)
		return api_call_fail(call, API_ERR_BAD_REQUEST,
				     "a request needs \"cmd\", the command's name, e.g. {\"cmd\":\"status\"}");
	if (!json_is_string(name))
		return api_call_fail(call, API_ERR_BAD_REQUEST, "\"cmd\" must be a string, not %s",
				     api_json_type_name(name));
	for (size_t i = 0; i < nr; i++)
		if (!strcmp(cmds[i].name, json_string_value(name)))
			call->cmd = &cmds[i];
	if (!call->cmd) {
		char names[API_ERROR_MAX / 2];
		api_list_names(cmds, nr, names, sizeof(names));
		/* The name came from outside: keep the message one line of reasonable length. */
		return api_call_fail(call, API_ERR_UNKNOWN_COMMAND, "unknown command \"%.40s\" (commands: %s)",
				     json_string_value(name), names);
	}
	const char *key;
	const json_t *value;
	json_object_foreach((json_t *)req, key, value)
	{
		(void)value;
		if (strcmp(key, "cmd") && !api_takes_arg(call->cmd, key)) {
			if (!call->cmd->args || !call->cmd->args[0])
				return api_call_fail(call, API_ERR_BAD_ARGUMENT,
						     "unknown argument \"%.40s\" (it takes none)", key);
			char takes[API_ERROR_MAX / 2] = "";
			for (size_t i = 0, off = 0; call->cmd->args[i] && off < sizeof(takes); i++)
				off += (size_t)snprintf(takes + off, sizeof(takes) - off, "%s%s", i ? ", " : "",
							call->cmd->args[i]);
			return api_call_fail(call, API_ERR_BAD_ARGUMENT, "unknown argument \"%.40s\" (it takes: %s)",
					     key, takes);
		}
	}
	return 0;
}

char *api_handle_line(const struct api_command *cmds, size_t nr, void *ctx, const char *line, size_t len,
		      void (**after_reply)(void *ctx), int *passed_fd)
{
	struct api_call call = {.ctx = ctx, .passed_fd = passed_fd};
	json_error_t jerr;
	*after_reply = NULL;
	json_t *req = json_loadb(line, len, JSON_DECODE_ANY | JSON_REJECT_DUPLICATES, &jerr);
	if (!req) {
		snprintf(call.error, sizeof(call.error), "malformed JSON: %s (column %d)", jerr.text, jerr.column);
		return api_error_reply(API_ERR_BAD_REQUEST, call.error);
	}
	call.request = req;
	int ret = api_check_request(cmds, nr, &call);
	if (ret == 0) {
		call.reply = json_object();
		if (!call.reply) {
			json_decref(req);
			return NULL;
		}
		json_object_set_new(call.reply, "ok", json_true());
		/* What deep code logs on this thread meanwhile is kept for api_call_fail_logged (log.h). */
		log_capture_begin(&call.log);
		ret = call.cmd->handler(&call);
		log_capture_end(&call.log);
	}
	json_decref(req);
	if (ret < 0) {
		json_decref(call.reply);
		return api_error_reply(call.code, call.error);
	}
	*after_reply = call.after_reply;
	return api_dump(call.reply);
}

const char *api_summarize_states(const char *const *states, int n)
{
	if (n <= 0)
		return "none";
	for (int i = 1; i < n; i++)
		if (strcmp(states[i], states[0]))
			return "mixed";
	return states[0];
}

bool api_line_is_subscribe(const char *line, size_t len)
{
	json_t *req = json_loadb(line, len, JSON_REJECT_DUPLICATES, NULL);
	const json_t *cmd = req ? json_object_get(req, "cmd") : NULL;
	bool yes = json_is_object(req) && json_object_size(req) == 1 && json_is_string(cmd) &&
		   !strcmp(json_string_value(cmd), "events");
	json_decref(req);
	return yes;
}
