/* SPDX-License-Identifier: MIT */
#include <stdarg.h>
#include <lamina/fmt.h>
#include <guest/hypercall.h>
#include <guest/runtime.h>
#include "console.h"

void con_write(const char *s, size_t len)
{
    size_t start = 0;

    for (size_t i = 0; i < len; i++) {
        if (s[i] != '\n')
            continue;
        if (i > start)
            console_write(s + start, i - start);
        console_write("\r\n", 2);
        start = i + 1;
    }
    if (len > start)
        console_write(s + start, len - start);
}

int con_printf(const char *fmt, ...)
{
    char buf[512];
    va_list ap;

    va_start(ap, fmt);
    int n = fmt_vsnprintf(buf, sizeof(buf), fmt, ap);
    va_end(ap);
    size_t len = n < 0 ? 0 : (size_t)n >= sizeof(buf) ? sizeof(buf) - 1 : (size_t)n;
    con_write(buf, len);
    return n;
}

long con_read(char *buf, size_t size)
{
    return hyp_console_io(CONSOLEIO_read, (unsigned)size, buf);
}
