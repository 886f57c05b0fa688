/*
 * hello: the smallest roam test guest. It writes "hello from roam guest" and a newline to the UART and reports
 * GUEST_DONE, so roam exits 0. It checks the Image loader, the entry state, the start code, the UART and the ucall
 * window.
 */
#include "guest.h"

void guest_main(uint64_t dtb)
{
	(void)dtb;
	guest_printf("hello from roam guest\n");
	GUEST_DONE();
}
