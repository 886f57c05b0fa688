/*
 * The VM's control-API commands (pause, resume, status, quit): a const table of {name, arguments, handler} run by
 * the API server (api.h) on its thread. A new command (e.g. snapshot) is one handler and one line in the table in
 * api_vm.c; a component that wants to appear in "status" adds one line to api_vm_status_sections there.
 */
#ifndef ROAM_API_VM_H
#define ROAM_API_VM_H

#include <stddef.h>

struct vm;
struct api_server;

/*
 * Starts serving the VM's commands on `srv` (opened with api_server_open). Call after vm_start, and close the
 * server (api_server_close) before vm_destroy. Returns 0 or -errno with a message.
 */
int api_vm_serve(struct api_server *srv, struct vm *vm);

struct api_command;

/*
 * The VM's command table (names, arguments, handlers) and its length, for a table that answers in its place with the
 * same names and arguments (api_restore.c).
 */
const struct api_command *api_vm_command_table(size_t *nr);

#endif
