/*
 * A 16550A UART, the guest's console (ttyS0). Output goes to the VM's console fd; input arrives from roam's console
 * loop into a 4 KiB receive buffer that the guest sees as the receive FIFO. The interrupt is level-triggered and
 * follows the IIR: it is asserted exactly while IIR reports a pending interrupt.
 */
#include "device.h"

#include "arch.h"
#include "core/log.h"
#include "core/vm.h"
#include "fdt/fdt_builder.h"
#include "snapshot/snap_codec.h"

#include <errno.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

enum uart_reg {
	UART_RBR_THR = 0,
	UART_IER = 1,
	UART_IIR_FCR = 2,
	UART_LCR = 3,
	UART_MCR = 4,
	UART_LSR = 5,
	UART_MSR = 6,
	UART_SCR = 7
};

#define UART_IER_RDI 0x01
#define UART_IER_THRI 0x02
#define UART_IIR_NONE 0x01
#define UART_IIR_THRI 0x02
#define UART_IIR_RDI 0x04
#define UART_IIR_FIFO 0xc0
#define UART_FCR_ENABLE 0x01
#define UART_FCR_CLEAR_RX 0x02
#define UART_LCR_DLAB 0x80
#define UART_MCR_LOOP 0x10
#define UART_LSR_DR 0x01
#define UART_LSR_THRE 0x20
#define UART_LSR_TEMT 0x40
#define UART_MSR_IDLE 0xb0 /* DCD, DSR and CTS asserted: a cable is plugged in */
#define UART_CLOCK_HZ 1843200
#define UART_RX_SIZE 4096

struct uart {
	struct vm *vm;
	uint64_t base;
	uint64_t size;
	uint32_t irq;
	pthread_mutex_t lock;
	uint8_t ier, lcr, mcr, scr, fcr, dll, dlm;
	bool thri_pending; /* the transmitter became empty and IIR has not reported it yet */
	bool irq_level;
	uint8_t rx[UART_RX_SIZE];
	size_t rx_head, rx_count;
};

static uint8_t uart_iir(const struct uart *u)
{
	uint8_t fifo = (u->fcr & UART_FCR_ENABLE) ? UART_IIR_FIFO : 0;
	if ((u->ier & UART_IER_RDI) && u->rx_count)
		return fifo | UART_IIR_RDI;
	if ((u->ier & UART_IER_THRI) && u->thri_pending)
		return fifo | UART_IIR_THRI;
	return fifo | UART_IIR_NONE;
}

/* Called with the lock held after every state change. */
static void uart_update_irq(struct uart *u)
{
	bool level = !(uart_iir(u) & UART_IIR_NONE);
	if (level != u->irq_level) {
		u->irq_level = level;
		vm_irq_line(u->vm, u->irq, level);
	}
}

static void uart_rx_push(struct uart *u, uint8_t byte)
{
	if (u->rx_count == UART_RX_SIZE)
		return; /* overrun: the byte is lost, as on hardware */
	u->rx[(u->rx_head + u->rx_count) % UART_RX_SIZE] = byte;
	u->rx_count++;
}

static uint8_t uart_rx_pop(struct uart *u)
{
	if (!u->rx_count)
		return 0;
	uint8_t byte = u->rx[u->rx_head];
	u->rx_head = (u->rx_head + 1) % UART_RX_SIZE;
	u->rx_count--;
	return byte;
}

static void uart_transmit(struct uart *u, uint8_t byte)
{
	if (u->mcr & UART_MCR_LOOP) {
		uart_rx_push(u, byte);
	} else {
		vm_console_output(u->vm, byte);
	}
	u->thri_pending = true;
}

static uint8_t uart_msr(const struct uart *u)
{
	if (!(u->mcr & UART_MCR_LOOP))
		return UART_MSR_IDLE;
	/* Loopback: RTS->CTS, DTR->DSR, OUT1->RI, OUT2->DCD. */
	return (uint8_t)(((u->mcr & 0x02) << 3) | ((u->mcr & 0x01) << 5) | ((u->mcr & 0x04) << 4) |
			 ((u->mcr & 0x08) << 4));
}

static uint8_t uart_read(struct uart *u, uint64_t reg)
{
	bool dlab = u->lcr & UART_LCR_DLAB;
	switch (reg) {
	case UART_RBR_THR:
		return dlab ? u->dll : uart_rx_pop(u);
	case UART_IER:
		return dlab ? u->dlm : u->ier;
	case UART_IIR_FCR: {
		uint8_t iir = uart_iir(u);
		if ((iir & 0x0f) == UART_IIR_THRI)
			u->thri_pending = false; /* reading IIR acknowledges a transmitter-empty interrupt */
		return iir;
	}
	case UART_LCR:
		return u->lcr;
	case UART_MCR:
		return u->mcr;
	case UART_LSR:
		return (uint8_t)(UART_LSR_THRE | UART_LSR_TEMT | (u->rx_count ? UART_LSR_DR : 0));
	case UART_MSR:
		return uart_msr(u);
	default:
		return u->scr;
	}
}

static void uart_write(struct uart *u, uint64_t reg, uint8_t value)
{
	bool dlab = u->lcr & UART_LCR_DLAB;
	switch (reg) {
	case UART_RBR_THR:
		if (dlab)
			u->dll = value;
		else
			uart_transmit(u, value);
		break;
	case UART_IER:
		if (dlab) {
			u->dlm = value;
		} else {
			/* Enabling the transmitter interrupt with an empty transmitter raises it at once. */
			if (!(u->ier & UART_IER_THRI) && (value & UART_IER_THRI))
				u->thri_pending = true;
			u->ier = value & 0x0f;
		}
		break;
	case UART_IIR_FCR:
		u->fcr = value & 0xc9;
		if (value & UART_FCR_CLEAR_RX)
			u->rx_head = u->rx_count = 0;
		break;
	case UART_LCR:
		u->lcr = value;
		break;
	case UART_MCR:
		u->mcr = value & 0x1f;
		break;
	case UART_LSR:
	case UART_MSR:
		break; /* read-only */
	default:
		u->scr = value;
		break;
	}
}

static int uart_access(void *opaque, uint64_t offset, uint8_t *data, uint32_t len, bool is_write)
{
	struct uart *u = opaque;
	if (offset >= 8) {
		if (!is_write)
			for (uint32_t i = 0; i < len; i++)
				data[i] = 0;
		return 0;
	}
	pthread_mutex_lock(&u->lock);
	/* Registers are bytes (reg-io-width 1); a wider access touches the addressed register only. */
	if (is_write)
		uart_write(u, offset, data[0]);
	else {
		data[0] = uart_read(u, offset);
		for (uint32_t i = 1; i < len; i++)
			data[i] = 0;
	}
	uart_update_irq(u);
	pthread_mutex_unlock(&u->lock);
	return 0;
}

static size_t uart_console_rx(void *opaque, const uint8_t *buf, size_t len)
{
	struct uart *u = opaque;
	pthread_mutex_lock(&u->lock);
	size_t room = UART_RX_SIZE - u->rx_count;
	size_t n = len < room ? len : room;
	for (size_t i = 0; i < n; i++)
		uart_rx_push(u, buf[i]);
	uart_update_irq(u);
	pthread_mutex_unlock(&u->lock);
	return n;
}

static int uart_create(struct vm *vm, void **state)
{
	const struct vm_region_info *region = arch_region(VM_REGION_UART);
	struct uart *u = calloc(1, sizeof(*u));
	if (!u)
		return -ENOMEM;
	u->vm = vm;
	u->base = region->base;
	u->size = region->size;
	u->irq = region->irq;
	u->mcr = 0x08; /* OUT2, as firmware leaves it */
	pthread_mutex_init(&u->lock, NULL);
	int ret = bus_insert(&vm->mmio, u->base, u->size, "uart", uart_access, u);
	if (ret < 0) {
		free(u);
		return ret;
	}
	vm->console_rx = uart_console_rx;
	vm->console_rx_opaque = u;
	*state = u;
	return 0;
}

static void uart_destroy(void *state)
{
	struct uart *u = state;
	pthread_mutex_destroy(&u->lock);
	free(u);
}

/*
 * Snapshot payload, version 1: IER, LCR, MCR, SCR, FCR, DLL, DLM, the pending transmitter-empty interrupt and the
 * interrupt line as u8 each, then the received bytes the guest has not read yet (a blob, oldest first). Without it a
 * restored guest that waits for console input with only the receive interrupt enabled would never hear of it.
 */
#define UART_SNAPSHOT_VERSION 1

static void uart_save(void *state, struct snap_writer *w)
{
	struct uart *u = state;
	pthread_mutex_lock(&u->lock);
	const uint8_t regs[] = {u->ier, u->lcr, u->mcr, u->scr, u->fcr, u->dll, u->dlm, u->thri_pending, u->irq_level};
	snap_put_bytes(w, regs, sizeof(regs));
	uint8_t rx[UART_RX_SIZE];
	for (size_t i = 0; i < u->rx_count; i++)
		rx[i] = u->rx[(u->rx_head + i) % UART_RX_SIZE];
	snap_put_blob(w, rx, (uint32_t)u->rx_count);
	pthread_mutex_unlock(&u->lock);
}

static int uart_restore(void *state, struct snap_reader *r, uint32_t version)
{
	struct uart *u = state;
	uint8_t regs[9];
	snap_get_bytes(r, regs, sizeof(regs), "UART registers");
	uint8_t rx[UART_RX_SIZE];
	uint32_t n = snap_get_blob(r, rx, sizeof(rx), "UART receive buffer");
	if (r->err || version != UART_SNAPSHOT_VERSION)
		return log_errno(-EBADMSG, "uart: bad state (%s)", r->err ? r->what : "version");
	pthread_mutex_lock(&u->lock);
	u->ier = regs[0], u->lcr = regs[1], u->mcr = regs[2], u->scr = regs[3], u->fcr = regs[4];
	u->dll = regs[5], u->dlm = regs[6], u->thri_pending = regs[7] != 0;
	/* The line's level itself comes back with the interrupt controller's state: only remember it. */
	u->irq_level = regs[8] != 0;
	memcpy(u->rx, rx, n);
	u->rx_head = 0;
	u->rx_count = n;
	pthread_mutex_unlock(&u->lock);
	return 0;
}

static void uart_fdt(void *state, struct fdt_builder *b)
{
	struct uart *u = state;
	char name[32];
	uint32_t irq[3];
	snprintf(name, sizeof(name), "uart@%llx", (unsigned long long)u->base);
	fdtb_begin_node(b, name);
	fdtb_prop_string(b, "compatible", "ns16550a");
	fdtb_prop_reg64(b, u->base, u->size);
	fdtb_prop_cells(b, "interrupts", irq, arch_fdt_irq_cells(u->irq, irq));
	fdtb_prop_u32(b, "clock-frequency", UART_CLOCK_HZ);
	fdtb_prop_u32(b, "reg-shift", 0);
	fdtb_prop_u32(b, "reg-io-width", 1);
	fdtb_end_node(b);
}

const struct device_desc uart_device = {
    .name = "uart",
    .create = uart_create,
    .destroy = uart_destroy,
    .fdt = uart_fdt,
    .snapshot_version = UART_SNAPSHOT_VERSION,
    .save = uart_save,
    .restore = uart_restore,
};
