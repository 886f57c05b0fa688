/*
 * The ucall ABI, shared by test guests and the host (C99, no host or guest dependencies).
 *
 * A guest fills a struct ucall in its own RAM and stores the struct's guest-physical address, as one 64-bit
 * little-endian store, at offset 0 of the ucall window (ARM64_UCALL_BASE on arm64). The store traps to roam, which
 * reads the struct through its checked guest-memory accessor before the guest continues, so the guest may reuse
 * the struct as soon as the store returns.
 *
 *   UCALL_SYNC   progress report; args[0] is a stage number, args[1..3] are free. roam logs it with --trace-ucall
 *                and hands it to whoever drives the VM (tests).
 *   UCALL_PRINT  msg is printed on roam's stderr, prefixed with the vCPU.
 *   UCALL_DONE   the test passed: roam stops the VM and exits 0.
 *   UCALL_ABORT  the test failed: roam prints "guest abort at FILE:LINE: MSG" and exits 1.
 *
 * Every field is little-endian. Strings are NUL-terminated within their arrays; roam never reads past them.
 */
#ifndef ROAM_UCALL_H
#define ROAM_UCALL_H

#include <stdint.h>

#define UCALL_MAGIC 0x4c4c4143u /* "CALL" */
#define UCALL_ABI_VERSION 1u

enum ucall_cmd {
	UCALL_SYNC = 1,
	UCALL_PRINT = 2,
	UCALL_DONE = 3,
	UCALL_ABORT = 4,
};

#define UCALL_FILE_LEN 64
#define UCALL_MSG_LEN 192

struct ucall {
	uint32_t magic; /* UCALL_MAGIC */
	uint16_t version; /* UCALL_ABI_VERSION */
	uint16_t cmd; /* enum ucall_cmd */
	uint32_t line; /* source line of the call */
	uint32_t reserved;
	uint64_t args[4];
	char file[UCALL_FILE_LEN]; /* source file of the call */
	char msg[UCALL_MSG_LEN];
};

/* Offsets the host decodes by; a test checks they match the struct on every build. */
#define UCALL_OFF_MAGIC 0
#define UCALL_OFF_VERSION 4
#define UCALL_OFF_CMD 6
#define UCALL_OFF_LINE 8
#define UCALL_OFF_ARGS 16
#define UCALL_OFF_FILE 48
#define UCALL_OFF_MSG 112
#define UCALL_SIZE 304

#endif
