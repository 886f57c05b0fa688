/*
 * The host side of the guest console: puts a terminal into raw mode (and always restores it), and turns bytes read
 * from stdin into console input, handling the escape sequence Ctrl-A x (quit) and Ctrl-A Ctrl-A (a literal Ctrl-A)
 * when stdin is a terminal.
 */
#ifndef ROAM_CONSOLE_H
#define ROAM_CONSOLE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <termios.h>

#define CONSOLE_ESCAPE 0x01 /* Ctrl-A */

struct console {
	int in_fd;
	bool is_tty;
	bool raw;
	bool escape_pending;
	struct termios saved;
};

/* Prepares `in_fd` (normally stdin): raw mode if it is a terminal. Returns 0 or -errno. */
int console_init(struct console *c, int in_fd);

/* Restores the terminal settings saved by console_init. Idempotent. */
void console_restore(struct console *c);

/*
 * Filters `len` input bytes in place for the guest; returns how many remain. Sets *quit when the escape sequence
 * asked roam to quit. Without a terminal, bytes pass unchanged.
 */
size_t console_filter(struct console *c, uint8_t *buf, size_t len, bool *quit);

#endif
