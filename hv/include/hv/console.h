/* SPDX-License-Identifier: MIT */
/* The serial console: hypervisor log output, and the input ring that dom0
 * reads with CONSOLEIO_read. */
#ifndef HV_CONSOLE_H
#define HV_CONSOLE_H
#include <hv/lib.h>

void console_init(void);
/* Raw bytes to the serial port (no prefix); used for dom0's console_io. */
void console_write_raw(const char *buf, size_t len);
/* A domU's console_io output (debug builds only, as in Xen) is collected
 * per domain and written as whole lines prefixed "(d<id>) ", so it cannot
 * pass for hypervisor or dom0 output. */
struct console_line {
    unsigned len;
    char buf[160];
};
void console_write_guest(struct console_line *cl, unsigned domid, const char *buf, size_t len);
void console_line_flush(struct console_line *cl, unsigned domid);
/* Drains the UART receive FIFO into the input ring; called from its IRQ.
 * Returns true if anything arrived. */
bool console_poll_input(void);
/* Copies up to len bytes of pending input into buf; returns the count. */
size_t console_read_input(char *buf, size_t len);
/* Enables the UART's receive interrupt (after the interrupt controller is up). */
void console_enable_rx_irq(void);
/* The log history (see console.c): copies from *index on, advances it. */
size_t console_history_read(uint64_t *index, char *buf, size_t len);
#define COM1_IRQ 4

#endif
