/* SPDX-License-Identifier: MIT */
/*
 * COM1 (16550 UART at 0x3f8, 115200 8N1): the hypervisor's only device
 * besides the interrupt controller and timer. Owns the log prefix and log
 * level, and a small input ring filled from the UART's receive interrupt that
 * dom0 drains through console_io. Single pCPU: interrupts are off whenever the
 * hypervisor runs, so the ring needs no lock yet.
 */
#include <hv/console.h>
#include <hv/time.h>
#include <asm/x86.h>
#include <lamina/fmt.h>

#define COM1_PORT 0x3f8
#define UART_THR 0
#define UART_RBR 0
#define UART_IER 1
#define UART_FCR 2
#define UART_IIR 2
#define UART_LCR 3
#define UART_MCR 4
#define UART_LSR 5
#define LSR_DATA_READY 0x01
#define LSR_THR_EMPTY 0x20

enum log_level hv_loglvl = LOG_INFO;

static char input_ring[4096];

/* Everything the hypervisor logs, for `xl dmesg` (XEN_SYSCTL_readconsole):
 * a ring of the newest HISTORY_SIZE bytes; history_total counts every byte
 * ever written, so readers can resume and notice what they missed. */
#define HISTORY_SIZE 16384
static char history[HISTORY_SIZE];
static uint64_t history_total;

static void history_add(const char *s, size_t len)
{
    for (size_t i = 0; i < len; i++)
        history[history_total++ % HISTORY_SIZE] = s[i];
}

size_t console_history_read(uint64_t *index, char *buf, size_t len)
{
    uint64_t oldest = history_total > HISTORY_SIZE ? history_total - HISTORY_SIZE : 0;
    if (*index < oldest)
        *index = oldest;
    size_t n = 0;
    while (n < len && *index < history_total)
        buf[n++] = history[(*index)++ % HISTORY_SIZE];
    return n;
}
static size_t input_prod, input_cons;   /* free-running; prod - cons <= size */

void console_init(void)
{
    /* Input may already be waiting: a pipe into QEMU delivers at once. A
     * 16550 resets both FIFOs whenever the FIFO-enable bit changes, which
     * would drop it, so we leave FIFO mode as the firmware set it (IIR bits
     * 6-7 say) and never ask for a receive-FIFO reset. */
    bool fifo_on = (inb(COM1_PORT + UART_IIR) & 0xc0) == 0xc0;
    outb(COM1_PORT + UART_IER, 0x00);
    outb(COM1_PORT + UART_LCR, 0x80);      /* DLAB: set divisor */
    outb(COM1_PORT + 0, 0x01);             /* 115200 baud */
    outb(COM1_PORT + 1, 0x00);
    outb(COM1_PORT + UART_LCR, 0x03);      /* 8N1 */
    outb(COM1_PORT + UART_FCR, fifo_on ? 0xc1 : 0x00);
    outb(COM1_PORT + UART_MCR, 0x0b);      /* DTR, RTS, OUT2 (routes the IRQ) */
    console_poll_input();
}

void console_enable_rx_irq(void)
{
    outb(COM1_PORT + UART_IER, 0x01);      /* data-available interrupt */
}

static void serial_putc(char c)
{
    /* Bounded wait: a wedged UART must not hang the hypervisor forever. */
    for (unsigned spins = 0; spins < 100000; spins++)
        if (inb(COM1_PORT + UART_LSR) & LSR_THR_EMPTY)
            break;
    outb(COM1_PORT + UART_THR, (uint8_t)c);
}

void console_write_raw(const char *buf, size_t len)
{
    for (size_t i = 0; i < len; i++) {
        if (buf[i] == '\n')
            serial_putc('\r');
        serial_putc(buf[i]);
    }
}

void console_line_flush(struct console_line *cl, unsigned domid)
{
    char prefix[16];
    if (!cl->len)
        return;
    int n = fmt_snprintf(prefix, sizeof(prefix), "(d%u) ", domid);
    console_write_raw(prefix, (size_t)n);
    console_write_raw(cl->buf, cl->len);
    console_write_raw("\n", 1);
    cl->len = 0;
}

/* Whole lines only, each with its domain's prefix: a domU can neither start
 * a line that looks like the hypervisor's or dom0's nor split theirs. */
void console_write_guest(struct console_line *cl, unsigned domid, const char *buf, size_t len)
{
    for (size_t i = 0; i < len; i++) {
        char c = buf[i];
        if (c == '\n') {
            if (!cl->len)
                cl->buf[cl->len++] = ' ';
            console_line_flush(cl, domid);
            continue;
        }
        /* Only printable text: no escape sequences, no carriage returns. */
        if (c < 0x20 || c > 0x7e)
            c = (c == '\t' || c == '\r') ? ' ' : '?';
        cl->buf[cl->len++] = c;
        if (cl->len == sizeof(cl->buf))
            console_line_flush(cl, domid);
    }
}

bool console_poll_input(void)
{
    bool got = false;
    while (inb(COM1_PORT + UART_LSR) & LSR_DATA_READY) {
        char c = (char)inb(COM1_PORT + UART_RBR);
        if (input_prod - input_cons < sizeof(input_ring))
            input_ring[input_prod++ % sizeof(input_ring)] = c;
        got = true;
    }
    return got;
}

size_t console_read_input(char *buf, size_t len)
{
    size_t n = 0;
    console_poll_input();
    while (n < len && input_cons != input_prod)
        buf[n++] = input_ring[input_cons++ % sizeof(input_ring)];
    return n;
}

void vprintk(enum log_level lvl, const char *fmt, va_list ap)
{
    char line[512];
    if (lvl > hv_loglvl)
        return;
    int n = fmt_vsnprintf(line, sizeof(line), fmt, ap);
    size_t len = n < 0 ? 0 : MIN((size_t)n, sizeof(line) - 1);
    console_write_raw("(HV) ", 5);
    console_write_raw(line, len);
    if (len == 0 || line[len - 1] != '\n')
        console_write_raw("\n", 1);
    history_add(line, len);
    if (len == 0 || line[len - 1] != '\n')
        history_add("\n", 1);
}

void printk(enum log_level lvl, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vprintk(lvl, fmt, ap);
    va_end(ap);
}

/* Token bucket: 20 guest-triggered lines at once, then one per 100 ms. */
bool guest_log_allowed(void)
{
    static uint64_t tokens = 20, last_ns;
    static unsigned suppressed;
    uint64_t now = time_now_ns();

    if (now - last_ns >= 100000000ull) {
        tokens = MIN(tokens + (now - last_ns) / 100000000ull, 20);
        last_ns = now;
    }
    if (tokens) {
        tokens--;
        if (suppressed) {
            unsigned n = suppressed;
            suppressed = 0;
            printk(LOG_WARN, "(%u guest messages suppressed)", n);
        }
        return true;
    }
    suppressed++;
    return false;
}
