/*
 * The control API's protocol, apart from sockets and the VM (so it is unit-tested natively): newline-delimited JSON
 * requests of at most API_MAX_REQUEST bytes, each an object {"cmd": NAME, ARGUMENTS...} answered by one object
 * {"ok": true, ...} or {"ok": false, "error": TEXT, "code": CODE}, CODE being one of the stable names of enum
 * api_error_code. This file splits a byte stream into lines (dropping the rest of an oversized one), parses and
 * checks a request against a const command table, runs its handler (capturing the error lines it logs, so that a
 * failure deep inside reaches the client as roam logged it) and encodes the reply. The protocol is documented in
 * docs/api.md; the server is api.c, the VM's commands api_vm.c.
 */
#ifndef ROAM_API_PROTO_H
#define ROAM_API_PROTO_H

#include "core/log.h"

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>

#define API_MAX_REQUEST 65536 /* bytes of one request line, without its '\n' */
#define API_ERROR_MAX (LOG_CAPTURE_LINE + 128) /* a reply's error: "<command>: " and a logged line */

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

/*
 * Why a request failed, for programs: the reply's "code" (docs/api.md lists which command gives which). The names
 * are part of the protocol: never rename one; a new kind of failure gets a new code.
 */
enum api_error_code {
	API_ERR_BAD_REQUEST, /* "bad-request": not JSON, not an object, no "cmd" or not a string */
	API_ERR_UNKNOWN_COMMAND, /* "unknown-command" */
	API_ERR_BAD_ARGUMENT, /* "bad-argument": an argument the command does not take, or a bad value */
	API_ERR_NO_SUCH_VCPU, /* "no-such-vcpu": "vcpu" is an integer, but this VM has no such vCPU */
	API_ERR_VM_STOPPING, /* "vm-stopping": the VM is on its way out; nothing more can be done with it */
	API_ERR_SNAPSHOT_FAILED, /* "snapshot-failed": writing the snapshot failed; the VM runs on */
	API_ERR_BUSY, /* "busy": too many clients; try again later */
	API_ERR_TOO_LARGE, /* "too-large": the request line is longer than API_MAX_REQUEST */
	API_ERR_INTERNAL, /* "internal": roam itself failed (out of memory, an unexpected system error) */
	API_ERR_CLOSED, /* "closed": roam closes the connection (idle too long, or room made for a new client) */
	API_ERR_RESTORING, /* "vm-restoring": the VM is still being restored; it answers this once it runs */
	API_ERR_COUNT
};

/* The code's stable name ("no-such-vcpu"); "internal" for a value out of range. */
const char *api_error_code_name(enum api_error_code code);

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
	struct log_capture log; /* the error lines the handler's thread logged while it ran */
	enum api_error_code code;
	char error[API_ERROR_MAX];
};

/*
 * Sets call->code and call->error to "<command>: <message>" (just the message before the command is known) and
 * returns -1. For the command's own checks of its request.
 */
int api_call_fail(struct api_call *call, enum api_error_code code, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/*
 * For a failure below the handler (a snapshot's writer, a KVM ioctl), which deep code reports with log_error: the
 * message is "<command>: " and the first error line logged on the handler's thread since the command began, i.e.
 * the line roam printed on its stderr for it ("snapshot: KVM_GET_ONE_REG(vcpu0 register 0x...): Invalid argument").
 * When nothing was logged, it is fmt's message (e.g. what a writer kept in its err), which is then logged too: the
 * client and roam's stderr always tell the same. Returns -1.
 */
int api_call_fail_logged(struct api_call *call, enum api_error_code code, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/*
 * Reads the optional "vcpu" argument: *id = -1 when absent (the whole VM), else an integer from 0 to nr_vcpus - 1.
 * Returns 0, or api_call_fail naming the bad type (bad-argument) or the unknown vCPU (no-such-vcpu).
 */
int api_arg_vcpu(struct api_call *call, int nr_vcpus, int *id);

/* The snapshot command's arguments, checked (docs/api.md). */
struct api_snapshot_request {
	const char *file; /* an absolute file name, or "-": the descriptor passed with the request */
	bool stop; /* end the VM after writing */
	bool track; /* this snapshot is the base of the next diff */
	bool diff; /* only what changed since that base */
};

/*
 * Checks the snapshot command's arguments: "path", an absolute file name, or "-" when a descriptor was passed with
 * the request (call->passed_fd, which the caller then takes), and the optional booleans "stop", "track" and "diff"
 * (the last two need a file: a diff names its base by path). Returns 0, or api_call_fail (bad-argument) naming the
 * bad argument.
 */
int api_snapshot_args(struct api_call *call, struct api_snapshot_request *req);

/*
 * Handles one request line: parses it, finds the command in `cmds` (nr entries), checks the argument names, runs
 * the handler with `ctx` (capturing the error lines the calling thread logs meanwhile, see log.h). Returns the reply as
 * compact JSON without a newline (malloc'ed; NULL only when out of memory) and sets *after_reply to the handler's
 * after-reply action, or NULL.
 */
char *api_handle_line(const struct api_command *cmds, size_t nr, void *ctx, const char *line, size_t len,
		      void (**after_reply)(void *ctx), int *passed_fd);

/* Whether the line is the server's own {"cmd": "events"} (a subscription to event lines), with no other member. */
bool api_line_is_subscribe(const char *line, size_t len);

/* {"ok":false,"error":MESSAGE,"code":CODE} as compact JSON (malloc'ed; NULL only when out of memory). */
char *api_error_reply(enum api_error_code code, const char *message);

/*
 * The reply to a line longer than API_MAX_REQUEST:
 * {"ok":false,"error":"request too large (max 65536 bytes)","code":"too-large"}.
 */
char *api_too_large_reply(void);

/* The VM's state from its vCPUs' state names: their common name ("running", "paused", ...), or "mixed". */
const char *api_summarize_states(const char *const *states, int n);

/* The name of a JSON value's type for messages: "an object", "a string", "an integer", "null", ... */
const char *api_json_type_name(const json_t *v);

#endif
