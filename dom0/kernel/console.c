/* SPDX-License-Identifier: MIT */
#include <stdarg.h>
#include <lamina/fmt.h>
#include <guest/hypercall.h>
#include <guest/runtime.h>
#include "console.h"

void con_write(const char *s, size_t len)
{
    /* One console_io per buffer-full, so a line is not split by what other
     * domains print between our hypercalls. */
    char out[1024];
    size_t n = 0;

    for (size_t i = 0; i < len; i++) {
        if (n + 2 > sizeof(out)) {
            console_write(out, n);
            n = 0;
        }
        if (s[i] == '\n')
            out[n++] = '\r';
        out[n++] = s[i];
    }
    if (n)
        console_write(out, n);
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
