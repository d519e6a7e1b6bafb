/* SPDX-License-Identifier: MIT */
/*
 * dom0's console: the hypervisor's serial port, reached with console_io
 * (xen-pv-abi.md §A.2 CONSOLEIO_write/read). Input is announced with
 * VIRQ_CONSOLE.
 */
#ifndef DOM0_CONSOLE_H
#define DOM0_CONSOLE_H
#include <stddef.h>

/* Writes text, turning "\n" into "\r\n" for terminals in raw mode; a call
 * of up to 512 characters is one hypercall, so it stays together on the serial
 * line even while other domains print. */
void con_write(const char *s, size_t len);
int con_printf(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
/* Reads up to `size` bytes of pending input; returns the count (0 = none)
 * or a negative error. Never blocks. */
long con_read(char *buf, size_t size);

#endif
