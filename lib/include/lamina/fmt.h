/* SPDX-License-Identifier: MIT */
/*
 * printf-style formatting, written once for the hypervisor, dom0, the guest
 * runtime and host tests. Supports %d %i %u %x %X %o %c %s %p %% with the
 * flags '-', '0', width, precision for strings, and the length modifiers
 * hh h l ll z. No floating point.
 */
#ifndef LAMINA_FMT_H
#define LAMINA_FMT_H
#include <stdarg.h>
#include <stddef.h>

/* Writes at most size-1 characters and a NUL (when size > 0); returns the
 * length the full output would have had, like C's vsnprintf. */
int fmt_vsnprintf(char *buf, size_t size, const char *fmt, va_list ap);
/* The value of a hex digit (either case), or -1. */
/* Formats an error message into buf and returns -1: `return fmt_fail(why, ...)`. */
int fmt_fail(char *buf, size_t size, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
int fmt_hex_digit(int c);
int fmt_snprintf(char *buf, size_t size, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

#endif
