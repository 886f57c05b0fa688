/*
 * The control API's protocol, apart from sockets and the VM (so it is unit-tested natively): newline-delimited JSON
 * requests of at most API_MAX_REQUEST bytes, each an object {"cmd": NAME, ARGUMENTS...} answered by one object
 * {"ok": true, ...} or {"ok": false, "error": TEXT}. This file splits a byte stream into lines (dropping the rest of
 * an oversized one), parses and checks a request against a const command table, runs its handler and encodes the
 * reply. The protocol is documented in docs/api.md; the server is api.c, the VM's commands api_vm.c.
 */
#ifndef ROAM_API_PROTO_H
#define ROAM_API_PROTO_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>

#define API_MAX_REQUEST 65536 /* bytes of one request line, without its '\n' */
#define API_ERROR_MAX 256

/* ---- line splitting ---- */

struct api_line_reader {
	size_t len; /* bytes of the current line in buf */
	bool ready; /* the previous call returned API_LINE_READY: the next one starts a new line */
	bool discarding; /* dropping the rest of an oversized line, up to its '\n' */
	char buf[API_MAX_REQUEST + 1];
};

enum api_line_status {
	API_LINE_NEED_MORE, /* every byte was consumed and no line is complete */
	API_LINE_READY, /* r->buf holds a line (NUL-terminated, without '\n' or a trailing '\r'), r->len bytes */
	API_LINE_TOO_LARGE, /* a line passed API_MAX_REQUEST bytes: answer it once; its rest is dropped silently */
};

/* Makes an empty reader. */
void api_line_reader_init(struct api_line_reader *r);

/*
 * Consumes bytes of `data` until a line is complete, a line turns out too large, or the data ends; *used says how
 * many bytes were consumed (call again with the rest). A too-large line is reported as soon as it passes the limit,
 * without waiting for its end, and exactly once.
 */
enum api_line_status api_line_feed(struct api_line_reader *r, const char *data, size_t len, size_t *used);

/*
 * At the end of the stream: returns API_LINE_READY when an unterminated line is pending (treated as a request),
 * API_LINE_NEED_MORE otherwise.
 */
enum api_line_status api_line_finish(struct api_line_reader *r);

/* ---- requests, commands and replies ---- */

struct api_call;

/* A command's handler: fills call->reply and returns 0, or returns api_call_fail(call, ...). */
typedef int (*api_handler_fn)(struct api_call *call);

struct api_command {
	const char *name;
	const char *const *args; /* NULL-terminated names of the arguments it takes besides "cmd"; NULL for none */
	api_handler_fn handler;
};

struct api_call {
	const struct api_command *cmd;
	void *ctx; /* what the server was given for the command table (the VM) */
	const json_t *request; /* the request object, checked: "cmd" names this command, only known arguments */
	json_t *reply; /* {"ok": true} to which the handler adds its fields */
	void (*after_reply)(void *ctx); /* set by a handler: run once the reply has been sent (e.g. stop the VM) */
	int *passed_fd; /* a descriptor the client sent with the request (SCM_RIGHTS), or NULL / -1: a handler that
			   keeps it sets it to -1 */
	char error[API_ERROR_MAX];
};

/* Sets call->error to "<command>: <message>" (just the message before the command is known) and returns -1. */
int api_call_fail(struct api_call *call, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/*
 * Reads the optional "vcpu" argument: *id = -1 when absent (the whole VM), else an integer from 0 to nr_vcpus - 1.
 * Returns 0, or api_call_fail naming the bad type or the unknown vCPU.
 */
int api_arg_vcpu(struct api_call *call, int nr_vcpus, int *id);

/*
 * Reads the snapshot command's arguments (docs/api.md): "path", an absolute file name or "-" for the descriptor
 * passed with the request, and the optional "stop". Sets *file, *stop and *fd (the passed descriptor for "-",
 * which the caller then owns and closes; -1 otherwise). Returns 0, or api_call_fail naming the bad argument.
 */
int api_snapshot_args(struct api_call *call, const char **file, bool *stop, int *fd);

/*
 * Handles one request line: parses it, finds the command in `cmds` (nr entries), checks the argument names, runs
 * the handler with `ctx`. Returns the reply as compact JSON without a newline (malloc'ed; NULL only when out of
 * memory) and sets *after_reply to the handler's after-reply action, or NULL.
 */
char *api_handle_line(const struct api_command *cmds, size_t nr, void *ctx, const char *line, size_t len,
		      void (**after_reply)(void *ctx), int *passed_fd);

/* {"ok":false,"error":MESSAGE} as compact JSON (malloc'ed; NULL only when out of memory). */
char *api_error_reply(const char *message);

/* The reply to a line longer than API_MAX_REQUEST: {"ok":false,"error":"request too large (max 65536 bytes)"}. */
char *api_too_large_reply(void);

/* The VM's state from its vCPUs' state names: their common name ("running", "paused", ...), or "mixed". */
const char *api_summarize_states(const char *const *states, int n);

/* The name of a JSON value's type for messages: "an object", "a string", "an integer", "null", ... */
const char *api_json_type_name(const json_t *v);

#endif
