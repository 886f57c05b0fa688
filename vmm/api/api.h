/*
 * The control API server: a UNIX stream socket (mode 0600) served by a thread of its own, which polls the listening
 * socket, up to API_MAX_CLIENTS clients and an eventfd that stops it. Each client sends newline-delimited JSON
 * requests and gets one reply line per request (api_proto.h). A bad request gets an error reply and the connection
 * stays open. A client with no request for the idle timeout is closed with an error line; when API_MAX_CLIENTS are
 * connected, a new client takes the place of the one idle longest, so a `status` always gets in. A request may carry
 * one descriptor (SCM_RIGHTS); any its handler does not keep is closed once it is answered. The server knows nothing of
 * the VM: it runs the handlers of the command table it is given (the VM's are in api_vm.c), one request at a time, on
 * its thread. Protocol: docs/api.md.
 */
#ifndef ROAM_API_H
#define ROAM_API_H

#include "api_proto.h"

#include <stddef.h>

#define API_MAX_CLIENTS 16
#define API_MAX_PENDING_REPLY (1u << 20) /* a client that reads no replies is dropped past this many bytes */
#define API_IDLE_TIMEOUT_MS 60000 /* a client that sends no request for this long is dropped (docs/api.md) */

struct api_server;

/*
 * Creates the socket at `path` and listens, without serving yet. Refuses (-EADDRINUSE, with a message) when another
 * process answers on `path`, and (-EEXIST) when `path` is something other than a socket; removes a stale socket
 * nobody answers on. Returns 0 and *out, or -errno with a message naming the path.
 */
int api_server_open(const char *path, struct api_server **out);

/* Sets the idle timeout in ms (API_IDLE_TIMEOUT_MS by default; 0 or less restores it). Call before starting. */
void api_server_set_idle_timeout(struct api_server *srv, int ms);

/*
 * Starts the server thread with the command table `cmds` (nr entries, which must outlive the server) and the
 * handlers' context `ctx`. Call with the signals that the main thread handles already blocked (the thread inherits
 * the mask). Called again, it changes the table (a restore's, then the VM's): the thread stops between two requests
 * and starts again with the new one, every client staying connected (the on_close hook is not run for the old
 * context). Returns 0 or -errno with a message.
 */
int api_server_start(struct api_server *srv, const struct api_command *cmds, size_t nr, void *ctx);

/*
 * Sends one event line (compact JSON without a newline; copied) to every client that subscribed with
 * {"cmd": "events"} (the server answers that command itself, {"ok": true, "events": true}, and the connection then
 * carries events between its replies). Safe from any thread. Returns 0, or -ENOMEM when the line is dropped.
 */
int api_server_emit(struct api_server *srv, const char *line);

/* Registers `fini(ctx)`, run by api_server_close once no handler runs any more (e.g. to end a job thread). */
void api_server_on_close(struct api_server *srv, void (*fini)(void *ctx));

/*
 * Stops the thread (pending replies get up to a second to go out), closes every connection, removes the socket file
 * if it is still ours and frees the server. NULL is a no-op. After it returns no handler runs any more.
 */
void api_server_close(struct api_server *srv);

#endif
