/* SPDX-License-Identifier: MIT */
/*
 * Freestanding vsnprintf. Owns nothing but the output buffer it is given; it
 * never writes past buf[size-1] and always terminates when size > 0.
 */
#include <lamina/fmt.h>
#include <stdint.h>

/* Widths and precisions stop growing here instead of overflowing an int; no
 * real format asks for more. */
#define FMT_MAX_WIDTH (1 << 20)

struct out {
    char *buf;
    size_t size;
    size_t len;     /* characters produced so far, written or not */
};

static void put(struct out *o, char c)
{
    if (o->len + 1 < o->size)
        o->buf[o->len] = c;
    o->len++;
}

static void put_padded(struct out *o, const char *s, size_t n, int width,
                       int left, char pad)
{
    size_t fill = width > 0 && (size_t)width > n ? (size_t)width - n : 0;

    if (!left)
        while (fill--)
            put(o, pad);
    for (size_t i = 0; i < n; i++)
        put(o, s[i]);
    if (left)
        while (fill--)
            put(o, ' ');
}

/* Prints v in `base` after `prefix` ("-", "0x" or ""), padded to `width`. With
 * zero padding the prefix goes before the zeros ("-0042", "0x00ff"); with
 * space padding it stays next to the digits ("  -42"). */
static void put_number(struct out *o, uint64_t v, unsigned base, const char *prefix,
                       int upper, int width, int left, char pad)
{
    const char *digits = upper ? "0123456789ABCDEF" : "0123456789abcdef";
    char tmp[24];   /* 22 octal digits of UINT64_MAX plus a 2-character prefix */
    size_t n = 0, plen = 0;

    while (prefix[plen])
        plen++;
    do {
        tmp[sizeof(tmp) - 1 - n++] = digits[v % base];
        v /= base;
    } while (v);
    if (pad == '0' && !left) {
        for (size_t i = 0; i < plen; i++)
            put(o, prefix[i]);
        width = width > (int)plen ? width - (int)plen : 0;
    } else {
        for (size_t i = plen; i-- > 0;)
            tmp[sizeof(tmp) - 1 - n++] = prefix[i];
    }
    put_padded(o, tmp + sizeof(tmp) - n, n, width, left, pad);
}

/* The low `bits` bits of v as a two's-complement number: what a char
 * (hh) or short (h) argument was before it was promoted to int. */
static int64_t low_signed(int64_t v, unsigned bits)
{
    int64_t m = (int64_t)1 << bits, low = v & (m - 1);
    return low >= m / 2 ? low - m : low;
}

int fmt_vsnprintf(char *buf, size_t size, const char *fmt, va_list ap)
{
    struct out o = { buf, size, 0 };

    while (*fmt) {
        if (*fmt != '%') {
            put(&o, *fmt++);
            continue;
        }
        fmt++;
        int left = 0, width = 0, precision = -1, lng = 0, shrt = 0;
        char pad = ' ';
        for (;; fmt++) {
            if (*fmt == '-')
                left = 1;
            else if (*fmt == '0')
                pad = '0';
            else
                break;
        }
        if (*fmt == '*') {
            width = va_arg(ap, int);
            if (width < 0) {
                left = 1;
                width = width < -FMT_MAX_WIDTH ? FMT_MAX_WIDTH : -width;
            }
            fmt++;
        }
        for (; *fmt >= '0' && *fmt <= '9'; fmt++)
            if (width < FMT_MAX_WIDTH)
                width = width * 10 + (*fmt - '0');
        if (*fmt == '.') {
            fmt++;
            precision = 0;
            if (*fmt == '*') {
                precision = va_arg(ap, int);
                fmt++;
            }
            for (; *fmt >= '0' && *fmt <= '9'; fmt++)
                if (precision < FMT_MAX_WIDTH)
                    precision = precision * 10 + (*fmt - '0');
        }
        while (*fmt == 'l' || *fmt == 'z' || *fmt == 'h') {
            if (*fmt == 'h')
                shrt++;
            else
                lng++;
            fmt++;
        }
        char conv = *fmt;
        if (conv)
            fmt++;
        switch (conv) {
        case 'd':
        case 'i': {
            int64_t v = lng ? va_arg(ap, int64_t) : va_arg(ap, int);
            /* hh and h print the argument converted to char / short, as C
             * says; it was promoted to int on the way in. */
            if (!lng && shrt)
                v = low_signed(v, shrt == 1 ? 16 : 8);
            uint64_t mag = v < 0 ? (uint64_t)0 - (uint64_t)v : (uint64_t)v;
            put_number(&o, mag, 10, v < 0 ? "-" : "", 0, width, left, pad);
            break;
        }
        case 'u':
        case 'x':
        case 'X':
        case 'o': {
            uint64_t v = lng ? va_arg(ap, uint64_t) : va_arg(ap, unsigned int);
            if (!lng && shrt == 1)
                v = (unsigned short)v;
            else if (!lng && shrt >= 2)
                v = (unsigned char)v;
            unsigned base = conv == 'u' ? 10 : conv == 'o' ? 8 : 16;
            put_number(&o, v, base, "", conv == 'X', width, left, pad);
            break;
        }
        case 'p': {
            /* "0x" and the digits pad as one field, as C's %p does; NULL
             * prints as 0x0 rather than glibc's "(nil)". */
            uintptr_t v = (uintptr_t)va_arg(ap, void *);
            put_number(&o, v, 16, "0x", 0, width, left, pad);
            break;
        }
        case 'c': {
            char c = (char)va_arg(ap, int);
            put_padded(&o, &c, 1, width, left, ' ');
            break;
        }
        case 's': {
            const char *s = va_arg(ap, const char *);
            size_t n = 0;
            if (!s)
                s = "(null)";
            /* The precision bounds the read: the string need not be
             * terminated within it. */
            while ((precision < 0 || n < (size_t)precision) && s[n])
                n++;
            put_padded(&o, s, n, width, left, ' ');
            break;
        }
        case '%':
            put(&o, '%');
            break;
        default:
            /* Unknown conversion: show it rather than guess at arguments. */
            put(&o, '%');
            if (conv)
                put(&o, conv);
            break;
        }
    }
    if (o.size)
        o.buf[o.len < o.size ? o.len : o.size - 1] = '\0';
    return o.len > (size_t)INT32_MAX ? INT32_MAX : (int)o.len;
}

int fmt_snprintf(char *buf, size_t size, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    int n = fmt_vsnprintf(buf, size, fmt, ap);
    va_end(ap);
    return n;
}

int fmt_fail(char *buf, size_t size, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    fmt_vsnprintf(buf, size, fmt, ap);
    va_end(ap);
    return -1;
}

int fmt_hex_digit(int c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    if (c >= 'a' && c <= 'f')
        return c - 'a' + 10;
    if (c >= 'A' && c <= 'F')
        return c - 'A' + 10;
    return -1;
}
