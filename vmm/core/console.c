/* Terminal handling for the guest console: see console.h. */
#include "console.h"

#include "log.h"

#include <errno.h>
#include <string.h>
#include <unistd.h>

int console_init(struct console *c, int in_fd)
{
	memset(c, 0, sizeof(*c));
	c->in_fd = in_fd;
	c->is_tty = isatty(in_fd);
	if (!c->is_tty)
		return 0;
	if (tcgetattr(in_fd, &c->saved) < 0)
		return log_errno(-errno, "console: tcgetattr: %s", strerror(errno));
	struct termios raw = c->saved;
	cfmakeraw(&raw);
	raw.c_oflag |= OPOST | ONLCR; /* keep our own stderr lines readable */
	if (tcsetattr(in_fd, TCSANOW, &raw) < 0)
		return log_errno(-errno, "console: tcsetattr: %s", strerror(errno));
	c->raw = true;
	return 0;
}

void console_restore(struct console *c)
{
	if (c->raw) {
		tcsetattr(c->in_fd, TCSANOW, &c->saved);
		c->raw = false;
	}
}

size_t console_filter(struct console *c, uint8_t *buf, size_t len, bool *quit)
{
	size_t out = 0;
	*quit = false;
	if (!c->is_tty)
		return len;
	for (size_t i = 0; i < len; i++) {
		uint8_t byte = buf[i];
		if (c->escape_pending) {
			c->escape_pending = false;
			if (byte == 'x' || byte == 'X') {
				*quit = true;
				return out;
			}
			if (byte != CONSOLE_ESCAPE)
				continue; /* unknown escape: dropped */
		} else if (byte == CONSOLE_ESCAPE) {
			c->escape_pending = true;
			continue;
		}
		buf[out++] = byte;
	}
	return out;
}
