/*
 * Console output of roam's arm64 test guests: the 16550 UART (THR at +0, LSR at +5, byte registers) and a small
 * printf formatter shared by guest_printf (to the UART, one call at a time across vCPUs) and guest_vsnprintf (to a
 * buffer, e.g. a ucall message). The formatter itself has no architecture dependency.
 */
#include "arch/arm64/layout.h"
#include "guest.h"

#include <stdatomic.h>
#include <stdbool.h>

#define UART_THR 0
#define UART_LSR 5
#define UART_LSR_THRE 0x20

void uart_putc(char c)
{
	uint64_t base = arm64_layout[ARM64_REGION_UART].base;
	while (!(mmio_read8(base + UART_LSR) & UART_LSR_THRE))
		cpu_relax();
	mmio_write8(base + UART_THR, (uint8_t)c);
}

void uart_puts(const char *s)
{
	while (*s)
		uart_putc(*s++);
}

/* Where formatted bytes go: a bounded buffer, or the UART when buf is NULL. len counts every byte produced. */
struct fmt_sink {
	char *buf;
	size_t size;
	size_t len;
};

static void sink_put(struct fmt_sink *s, char c)
{
	if (!s->buf)
		uart_putc(c);
	else if (s->len + 1 < s->size)
		s->buf[s->len] = c;
	s->len++;
}

static void sink_pad(struct fmt_sink *s, char c, int n)
{
	while (n-- > 0)
		sink_put(s, c);
}

struct fmt_spec {
	bool left; /* '-' */
	bool zero; /* '0' */
	bool alt; /* '#' */
	int width;
};

/* Writes str (len bytes) with optional prefix ("-", "0x") in the field width. */
static void sink_field(struct fmt_sink *s, const struct fmt_spec *spec, const char *prefix, const char *str, int len)
{
	int plen = (int)strlen(prefix);
	int pad = spec->width - len - plen;
	if (!spec->left && !spec->zero)
		sink_pad(s, ' ', pad);
	for (int i = 0; i < plen; i++)
		sink_put(s, prefix[i]);
	if (!spec->left && spec->zero)
		sink_pad(s, '0', pad);
	for (int i = 0; i < len; i++)
		sink_put(s, str[i]);
	if (spec->left)
		sink_pad(s, ' ', pad);
}

static void sink_number(struct fmt_sink *s, const struct fmt_spec *spec, unsigned long long v, unsigned base,
			bool upper, const char *prefix)
{
	const char *digits = upper ? "0123456789ABCDEF" : "0123456789abcdef";
	char tmp[24];
	int n = sizeof(tmp);
	do {
		tmp[--n] = digits[v % base];
		v /= base;
	} while (v);
	sink_field(s, spec, prefix, tmp + n, (int)sizeof(tmp) - n);
}

enum fmt_length { LEN_INT, LEN_CHAR, LEN_SHORT, LEN_LONG, LEN_LLONG, LEN_SIZE };

static unsigned long long arg_unsigned(va_list *ap, enum fmt_length len)
{
	switch (len) {
	case LEN_CHAR:
		return (unsigned char)va_arg(*ap, unsigned int);
	case LEN_SHORT:
		return (unsigned short)va_arg(*ap, unsigned int);
	case LEN_LONG:
		return va_arg(*ap, unsigned long);
	case LEN_LLONG:
		return va_arg(*ap, unsigned long long);
	case LEN_SIZE:
		return va_arg(*ap, size_t);
	default:
		return va_arg(*ap, unsigned int);
	}
}

static long long arg_signed(va_list *ap, enum fmt_length len)
{
	switch (len) {
	case LEN_CHAR:
		return (signed char)va_arg(*ap, int);
	case LEN_SHORT:
		return (short)va_arg(*ap, int);
	case LEN_LONG:
		return va_arg(*ap, long);
	case LEN_LLONG:
		return va_arg(*ap, long long);
	case LEN_SIZE:
		return (long long)va_arg(*ap, size_t);
	default:
		return va_arg(*ap, int);
	}
}

static void format(struct fmt_sink *s, const char *fmt, va_list *ap)
{
	for (; *fmt; fmt++) {
		if (*fmt != '%') {
			sink_put(s, *fmt);
			continue;
		}
		const char *start = fmt++;
		struct fmt_spec spec = {0};
		for (;; fmt++) {
			if (*fmt == '-')
				spec.left = true;
			else if (*fmt == '0')
				spec.zero = true;
			else if (*fmt == '#')
				spec.alt = true;
			else
				break;
		}
		if (*fmt == '*') {
			spec.width = va_arg(*ap, int);
			if (spec.width < 0) {
				spec.left = true;
				spec.width = -spec.width;
			}
			fmt++;
		}
		while (*fmt >= '0' && *fmt <= '9')
			spec.width = spec.width * 10 + (*fmt++ - '0');
		enum fmt_length len = LEN_INT;
		if (*fmt == 'h') {
			len = fmt[1] == 'h' ? LEN_CHAR : LEN_SHORT;
			fmt += fmt[1] == 'h' ? 2 : 1;
		} else if (*fmt == 'l') {
			len = fmt[1] == 'l' ? LEN_LLONG : LEN_LONG;
			fmt += fmt[1] == 'l' ? 2 : 1;
		} else if (*fmt == 'z' || *fmt == 'j' || *fmt == 't') {
			len = LEN_SIZE;
			fmt++;
		}
		switch (*fmt) {
		case 'd':
		case 'i': {
			long long v = arg_signed(ap, len);
			unsigned long long mag = v < 0 ? 0ull - (unsigned long long)v : (unsigned long long)v;
			sink_number(s, &spec, mag, 10, false, v < 0 ? "-" : "");
			break;
		}
		case 'u':
			sink_number(s, &spec, arg_unsigned(ap, len), 10, false, "");
			break;
		case 'x':
		case 'X':
			sink_number(s, &spec, arg_unsigned(ap, len), 16, *fmt == 'X', spec.alt ? "0x" : "");
			break;
		case 'o':
			sink_number(s, &spec, arg_unsigned(ap, len), 8, false, spec.alt ? "0" : "");
			break;
		case 'p':
			sink_number(s, &spec, (uintptr_t)va_arg(*ap, void *), 16, false, "0x");
			break;
		case 'c': {
			char c = (char)va_arg(*ap, int);
			sink_field(s, &spec, "", &c, 1);
			break;
		}
		case 's': {
			const char *str = va_arg(*ap, const char *);
			if (!str)
				str = "(null)";
			sink_field(s, &spec, "", str, (int)strlen(str));
			break;
		}
		case '%':
			sink_put(s, '%');
			break;
		default: /* unknown conversion (or end of string): print it as written */
			for (const char *p = start; p <= fmt && *p; p++)
				sink_put(s, *p);
			if (!*fmt)
				return;
			break;
		}
	}
}

int guest_vsnprintf(char *buf, size_t size, const char *fmt, va_list ap)
{
	static char dummy;
	struct fmt_sink s = {.buf = size ? buf : &dummy, .size = size, .len = 0};
	va_list copy;
	va_copy(copy, ap);
	format(&s, fmt, &copy);
	va_end(copy);
	if (size)
		buf[s.len < size ? s.len : size - 1] = '\0';
	return (int)s.len;
}

int guest_snprintf(char *buf, size_t size, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	int n = guest_vsnprintf(buf, size, fmt, ap);
	va_end(ap);
	return n;
}

/* Keeps one guest_printf's output together when several vCPUs print. Needs the MMU on (Normal memory). */
static atomic_flag uart_lock = ATOMIC_FLAG_INIT;

int guest_printf(const char *fmt, ...)
{
	struct fmt_sink s = {.buf = NULL, .size = 0, .len = 0};
	va_list ap;
	va_start(ap, fmt);
	while (atomic_flag_test_and_set_explicit(&uart_lock, memory_order_acquire))
		cpu_relax();
	format(&s, fmt, &ap);
	atomic_flag_clear_explicit(&uart_lock, memory_order_release);
	va_end(ap);
	return (int)s.len;
}
