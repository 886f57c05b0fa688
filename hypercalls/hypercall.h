/*
 * The hypercall dispatcher shared by every service roam answers itself (target discovery, PV lock, ...) and by both
 * architectures. The architecture glue (arm64: SMCCC calls forwarded by KVM's SMCCC filter; LoongArch: hvcl user
 * service calls) builds a hypercall_ctx from the exit and writes ctx->ret back into the guest's registers.
 *
 * Services are stateless (the guest passes everything a call needs), so nothing here is part of a snapshot except
 * each service's configuration.
 */
#ifndef ROAM_HYPERCALL_H
#define ROAM_HYPERCALL_H

#include <stdbool.h>
#include <stdint.h>

#define HYPERCALL_MAX_HANDLERS 32
#define HYPERCALL_NOT_SUPPORTED (-1) /* the same on SMCCC and LoongArch */

struct hypercall_ctx {
	uint64_t fid; /* the function ID (arm64: w0/x0; LoongArch: a0) */
	int vcpu_id;
	/* Reads argument register n (1..5: x1.. / a1..) on demand; returns 0 or -errno. */
	int (*read_arg)(void *opaque, int n, uint64_t *value);
	void *opaque;
	int64_t invalid_parameter; /* the architecture's "invalid parameter" status: SMCCC -3, LoongArch -2 */
	uint64_t ret[4]; /* x0..x3 / a0..a3 to write back; ret[0] is the signed status */
	int nr_ret; /* how many of ret[] the handler set (at least 1) */
};

/* A handler fills ctx->ret/nr_ret. Returns 0, or -errno if reading an argument failed. */
typedef int (*hypercall_fn)(struct hypercall_ctx *ctx, void *service);

struct hypercall_handler {
	uint64_t fid;
	const char *name;
	hypercall_fn fn;
	void *service;
};

struct hypercall_table {
	struct hypercall_handler handlers[HYPERCALL_MAX_HANDLERS];
	int nr;
	bool trace; /* --trace-hypercalls */
};

/* Empties the table. */
void hypercall_table_init(struct hypercall_table *t);

/* Adds a handler. Refuses (with a message) a function ID registered twice and a full table: -EEXIST, -ENOSPC. */
int hypercall_register(struct hypercall_table *t, uint64_t fid, const char *name, hypercall_fn fn, void *service);

/* The handler for `fid`, or NULL. */
const struct hypercall_handler *hypercall_find(const struct hypercall_table *t, uint64_t fid);

/*
 * Answers one call: runs the handler, or answers NOT_SUPPORTED (x0 = -1, x1..x3 = 0, as KVM does for unknown
 * vendor calls) when none is registered. With t->trace set, logs "vCPUn: NAME(fid)(args) -> results".
 * Returns 0, or the handler's -errno.
 */
int hypercall_dispatch(const struct hypercall_table *t, struct hypercall_ctx *ctx);

/* Handler helpers: a status-only answer, and a full answer of x0..x3. */
void hypercall_return_status(struct hypercall_ctx *ctx, int64_t status);
void hypercall_return4(struct hypercall_ctx *ctx, int64_t status, uint64_t r1, uint64_t r2, uint64_t r3);

#endif
