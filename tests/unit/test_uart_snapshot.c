/*
 * Unit test of the 16550's snapshot state (devices/uart.c): registers, the pending transmitter interrupt and unread
 * input survive save -> restore, save -> restore -> save gives identical bytes, and damaged payloads are refused.
 */
#include "check.h"
#include "core/vm.h"
#include "devices/device.h"
#include "snapshot/snap_codec.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

extern const struct device_desc uart_device;

/* The UART raises its line through the VM: remember the last level. */
static int line_level = -1;
int vm_irq_line(struct vm *vm, uint32_t irq, bool level)
{
	(void)vm;
	(void)irq;
	line_level = level;
	return 0;
}

void vm_console_output(struct vm *vm, uint8_t byte)
{
	(void)vm;
	(void)byte;
}

static uint8_t reg_read(struct vm *vm, uint64_t offset)
{
	uint8_t v = 0xee;
	CHECK_EQ(bus_access(&vm->mmio, 0x09000000 + offset, &v, 1, false), 0);
	return v;
}

static void reg_write(struct vm *vm, uint64_t offset, uint8_t v)
{
	CHECK_EQ(bus_access(&vm->mmio, 0x09000000 + offset, &v, 1, true), 0);
}

int main(void)
{
	static struct vm a, b; /* large; only the bus and console fields are used */
	bus_init(&a.mmio);
	bus_init(&b.mmio);
	void *ua = NULL, *ub = NULL;
	CHECK_EQ(uart_device.create(&a, &ua), 0);
	CHECK(uart_device.save && uart_device.restore);

	/* The guest programs the divisor and line, enables the receive interrupt, then input arrives unread. */
	reg_write(&a, 3, 0x83); /* LCR: DLAB, 8 bits */
	reg_write(&a, 0, 0x01); /* DLL */
	reg_write(&a, 1, 0x00); /* DLM */
	reg_write(&a, 3, 0x03); /* LCR */
	reg_write(&a, 2, 0x07); /* FCR: FIFO on */
	reg_write(&a, 7, 0x5a); /* SCR */
	reg_write(&a, 1, 0x01); /* IER: RDI */
	CHECK_EQ(a.console_rx(a.console_rx_opaque, (const uint8_t *)"ping\n", 5), 5);
	CHECK_EQ(line_level, 1);

	struct snap_writer w1, w2;
	snap_writer_init(&w1);
	uart_device.save(ua, &w1);
	CHECK_EQ(w1.err, 0);

	CHECK_EQ(uart_device.create(&b, &ub), 0);
	struct snap_reader r;
	snap_reader_init(&r, w1.buf, w1.len);
	line_level = -1;
	CHECK_EQ(uart_device.restore(ub, &r, uart_device.snapshot_version), 0);
	CHECK(snap_reader_done(&r));
	CHECK_EQ(line_level, -1); /* the level comes back with the interrupt controller, not from the device */

	snap_writer_init(&w2);
	uart_device.save(ub, &w2);
	CHECK_EQ(w2.len, w1.len);
	CHECK(w2.len == w1.len && !memcmp(w1.buf, w2.buf, w1.len));

	/* The restored UART reports the unread input through IIR and hands it over in order. */
	CHECK_EQ(reg_read(&b, 2) & 0x0f, 0x04); /* IIR: received data */
	CHECK_EQ(reg_read(&b, 7), 0x5a);
	CHECK_EQ(reg_read(&b, 3), 0x03);
	char got[6] = "";
	for (int i = 0; i < 5; i++) {
		CHECK(reg_read(&b, 5) & 0x01); /* LSR: data ready */
		got[i] = (char)reg_read(&b, 0);
	}
	CHECK(!strcmp(got, "ping\n"));
	CHECK(!(reg_read(&b, 5) & 0x01));
	CHECK_EQ(line_level, 0); /* nothing left: the line drops */

	/* Every truncation and another version are refused. */
	for (size_t len = 0; len < w1.len; len++) {
		snap_reader_init(&r, w1.buf, len);
		CHECK_EQ(uart_device.restore(ub, &r, uart_device.snapshot_version), -EBADMSG);
	}
	snap_reader_init(&r, w1.buf, w1.len);
	CHECK_EQ(uart_device.restore(ub, &r, uart_device.snapshot_version + 1), -EBADMSG);

	snap_writer_fini(&w1);
	snap_writer_fini(&w2);
	uart_device.destroy(ua);
	uart_device.destroy(ub);
	return check_exit();
}
