/* One-line error messages into a caller's buffer: see errbuf.h. */
#include "errbuf.h"

#include <stdarg.h>
#include <stdio.h>

bool errbuf_set(char *err, size_t err_len, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	if (err_len)
		vsnprintf(err, err_len, fmt, ap);
	va_end(ap);
	return false;
}
