/* SPDX-License-Identifier: MIT */
/*
 * lib/fmt.c against the host C library: for every format both must produce the
 * same text and return value, at every buffer size from 0 to past the end.
 * Where Lamina deliberately differs (%p of NULL, unknown conversions) the
 * expected text is spelled out instead.
 */
#include "unit.h"
#include <lamina/fmt.h>
#include <limits.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#define BUF 512
#define CANARY 0x5a

/* Both formatters, at every size 0..len+2: same return, same bytes, nothing
 * written at or past buf[size]. */
static void check_same_v(const char *where, const char *fmt, va_list ap)
{
    char want[BUF], got[BUF];
    va_list a1, a2;

    va_copy(a1, ap);
    int want_len = vsnprintf(want, sizeof(want), fmt, a1);
    va_end(a1);
    FAST_ASSERT_MSG(want_len >= 0 && want_len < BUF - 4, "%s: test format too long", where);

    for (size_t size = 0; size <= (size_t)want_len + 2; size++) {
        memset(got, CANARY, sizeof(got));
        va_copy(a2, ap);
        int got_len = fmt_vsnprintf(size ? got : NULL, size, fmt, a2);
        va_end(a2);
        FAST_ASSERT_MSG(got_len == want_len, "%s: \"%s\" size %zu returned %d, libc %d", where,
                      fmt, size, got_len, want_len);
        if (size == 0)
            continue;
        size_t n = size - 1 < (size_t)want_len ? size - 1 : (size_t)want_len;
        FAST_ASSERT_MSG(memcmp(got, want, n) == 0 && got[n] == '\0',
                      "%s: \"%s\" size %zu gave \"%.*s\", libc \"%.*s\"", where, fmt, size,
                      (int)n, got, (int)n, want);
        for (size_t i = n + 1; i < sizeof(got); i++)
            FAST_ASSERT_MSG((unsigned char)got[i] == CANARY, "%s: \"%s\" size %zu wrote byte %zu",
                          where, fmt, size, i);
    }
}

__attribute__((format(printf, 2, 3))) static void check_same(const char *where, const char *fmt,
                                                               ...)
{
    va_list ap;
    va_start(ap, fmt);
    check_same_v(where, fmt, ap);
    va_end(ap);
}

#define STR2(x) #x
#define STR(x) STR2(x)
#define SAME(...) check_same(__FILE__ ":" STR(__LINE__), __VA_ARGS__)

/* For formats the host's printf does not define or where fmt differs on
 * purpose. Not checked by -Wformat, so it can take those formats; callers
 * pass such formats through volatile pointers so gcc's format tracking
 * leaves them alone too. */
static void check_is(const char *where, const char *want, const char *fmt, ...)
{
    char got[BUF];
    va_list ap;

    va_start(ap, fmt);
    int n = fmt_vsnprintf(got, sizeof(got), fmt, ap);
    va_end(ap);
    ck_assert_msg(strcmp(got, want) == 0 && n == (int)strlen(want),
                  "%s: \"%s\" gave \"%s\" (%d), want \"%s\"", where, fmt, got, n, want);
}
#define IS(...) check_is(__FILE__ ":" STR(__LINE__), __VA_ARGS__)

START_TEST(plain_text)
{
    const char *volatile empty = "";
    IS("", empty);
    ck_assert_int_eq(fmt_snprintf(NULL, 0, empty), 0);
    SAME("hello, world");
    SAME("100%%");
    SAME("%%%%");
    SAME("a%%b%%c");
}
END_TEST

START_TEST(signed_decimal)
{
    static const int vals[] = { 0, 1, -1, 9, 10, -10, 12345, -12345, INT_MAX, INT_MIN };
    for (size_t i = 0; i < sizeof(vals) / sizeof(vals[0]); i++) {
        int v = vals[i];
        SAME("%d", v);
        SAME("%i", v);
        SAME("[%5d]", v);
        SAME("[%-5d]", v);
        SAME("[%05d]", v);
        SAME("[%012d]", v);
        SAME("[%-12d]", v);
        SAME("[%1d]", v);
        SAME("[%*d]", 8, v);
        SAME("[%*d]", -8, v);
        SAME("[%0*d]", 9, v);
    }
}
END_TEST

START_TEST(wide_signed)
{
    static const int64_t vals[] = { 0, -1, INT64_MAX, INT64_MIN, (int64_t)INT32_MIN - 1,
                                    (int64_t)1 << 40 };
    for (size_t i = 0; i < sizeof(vals) / sizeof(vals[0]); i++) {
        int64_t v = vals[i];
        SAME("%ld", (long)v);
        SAME("%lld", (long long)v);
        SAME("%zd", (ptrdiff_t)v);
        SAME("[%25lld]", (long long)v);
        SAME("[%025lld]", (long long)v);
        SAME("[%-25lld]", (long long)v);
        SAME("%li", (long)v);
    }
}
END_TEST

START_TEST(unsigned_bases)
{
    static const uint64_t vals[] = { 0, 1, 7, 8, 15, 16, 255, 0xdeadbeef, UINT32_MAX,
                                     (uint64_t)UINT32_MAX + 1, UINT64_MAX,
                                     0x0123456789abcdefull };
    for (size_t i = 0; i < sizeof(vals) / sizeof(vals[0]); i++) {
        uint64_t v = vals[i];
        unsigned u = (unsigned)v;
        SAME("%u %x %X %o", u, u, u, u);
        SAME("[%8x] [%-8x] [%08x] [%08X]", u, u, u, u);
        SAME("%lu %lx %lX %lo", (unsigned long)v, (unsigned long)v, (unsigned long)v,
             (unsigned long)v);
        SAME("%llu %llx", (unsigned long long)v, (unsigned long long)v);
        SAME("%zu %zx", (size_t)v, (size_t)v);
        SAME("[%30lo] [%016lx] [%-20lu]", (unsigned long)v, (unsigned long)v, (unsigned long)v);
    }
}
END_TEST

START_TEST(short_modifiers)
{
    /* The argument arrives promoted to int; hh and h must convert it back to
     * char / short. The format is not a literal so the uncast int is allowed. */
    static const int vals[] = { 0, 1, -1, 127, 128, 255, 256, 300, -129, 32767, 32768, 65535,
                                70000, -70000, INT_MAX, INT_MIN };
    const char *volatile f = "%hhd|%hd|%hhu|%hu|%hhx|%hX|%hho|%hhi";
    for (size_t i = 0; i < sizeof(vals) / sizeof(vals[0]); i++) {
        int v = vals[i];
        char want[128], got[128];
        snprintf(want, sizeof(want), "%hhd|%hd|%hhu|%hu|%hhx|%hX|%hho|%hhi", (signed char)v,
                 (short)v, (unsigned char)v, (unsigned short)v, (unsigned char)v,
                 (unsigned short)v, (unsigned char)v, (signed char)v);
        fmt_snprintf(got, sizeof(got), f, v, v, v, v, v, v, v, v);
        ck_assert_msg(strcmp(got, want) == 0, "%d: got \"%s\", want \"%s\"", v, got, want);
        SAME("[%5hhd] [%-6hd] [%04hx]", (signed char)v, (short)v, (unsigned short)v);
    }
}
END_TEST

START_TEST(chars_and_strings)
{
    SAME("%c%c%c", 'a', 'b', 'c');
    SAME("[%3c] [%-3c]", 'x', 'y');
    SAME("%s", "");
    SAME("%s", "string");
    SAME("[%10s] [%-10s] [%2s]", "abc", "def", "toolong");
    SAME("[%.3s] [%.0s] [%.10s]", "abcdef", "abc", "abc");
    SAME("[%8.3s] [%-8.3s]", "abcdef", "abcdef");
    SAME("[%.*s] [%*s] [%-*s]", 2, "abcdef", 6, "ab", 6, "ab");
    SAME("[%.*s]", -1, "negative precision means none");
    SAME("%s=%d %s=%x", "a", 1, "b", 0xb);
    char c0[8];
    int n = fmt_snprintf(c0, sizeof(c0), "a%cb", 0);
    ck_assert_int_eq(n, 3);
    ck_assert(c0[0] == 'a' && c0[1] == '\0' && c0[2] == 'b' && c0[3] == '\0');
}
END_TEST

START_TEST(null_string)
{
    /* glibc also prints "(null)", but -Wformat rejects a literal NULL. */
    const char *volatile np = NULL;
    IS("(null)", "%s", np);
    IS("[  (null)]", "[%8s]", np);
    IS("[(nu]", "[%.3s]", np);
}
END_TEST

START_TEST(pointers)
{
    int x;
    void *ps[] = { &x, (void *)(uintptr_t)0x1, (void *)(uintptr_t)0xffffffff80000000ull,
                   (void *)(uintptr_t)UINTPTR_MAX };
    for (size_t i = 0; i < sizeof(ps) / sizeof(ps[0]); i++) {
        SAME("%p", ps[i]);
        SAME("[%24p] [%-24p] [%3p]", ps[i], ps[i], ps[i]);
    }
    /* Lamina's own choices: NULL is 0x0 (glibc: "(nil)"); '0' pads after 0x. */
    IS("0x0", "%p", (void *)NULL);
    IS("[     0x0]", "[%8p]", (void *)NULL);
    IS("0x000000ff", "%010p", (void *)(uintptr_t)0xff);
    IS("[0xff    ]", "[%-08p]", (void *)(uintptr_t)0xff);
}
END_TEST

START_TEST(flag_combinations)
{
    /* '-' wins over '0' (glibc agrees; gcc warns on the literal, hence f). */
    const char *volatile f = "[%-05d] [%0-5d] [%-08x]";
    IS("[-42  ] [7    ] [ff      ]", f, -42, 7, 0xff);
    SAME("[%05d] [%05d]", -42, 42);
    SAME("[%02d] [%03d]", -100, -100);
    SAME("%d %s %u %c %x %%", -5, "mid", 5u, 'q', 0xabcu);
}
END_TEST

START_TEST(odd_formats)
{
    /* Unknown conversions and a trailing '%' are shown, not interpreted. */
    const char *volatile unknown = "a%qb", *volatile trailing = "abc%", *volatile fl = "%f";
    IS("a%qb", unknown);
    IS("abc%", trailing);
    IS("%f", fl, 1);
    /* Widths too large for an int are clamped, not overflowed (UBSan). */
    const char *volatile huge = "%99999999999999999999d";
    char small[8];
    int n = fmt_snprintf(small, sizeof(small), huge, 1);
    ck_assert_int_gt(n, 1000);
    ck_assert_str_eq(small, "       ");
    const char *volatile star = "%*d";
    n = fmt_snprintf(NULL, 0, star, INT_MIN, 1);
    ck_assert_int_gt(n, 1000);
    const char *volatile hprec = "%.99999999999999999999s";
    n = fmt_snprintf(small, sizeof(small), hprec, "abc");
    ck_assert_int_eq(n, 3);
}
END_TEST

START_TEST(truncation_and_returns)
{
    char buf[16];
    memset(buf, CANARY, sizeof(buf));
    ck_assert_int_eq(fmt_snprintf(buf, 4, "%s", "abcdefgh"), 8);
    ck_assert_str_eq(buf, "abc");
    ck_assert_int_eq((unsigned char)buf[4], CANARY);

    memset(buf, CANARY, sizeof(buf));
    ck_assert_int_eq(fmt_snprintf(buf, 1, "%d", 12345), 5);
    ck_assert_int_eq(buf[0], '\0');
    ck_assert_int_eq((unsigned char)buf[1], CANARY);

    /* size 0: nothing written, even through a NULL buffer. */
    ck_assert_int_eq(fmt_snprintf(NULL, 0, "%s-%d", "x", -1), 4);
    buf[0] = 'Z';
    ck_assert_int_eq(fmt_snprintf(buf, 0, "abc"), 3);
    ck_assert_int_eq(buf[0], 'Z');

    /* Long output through every size (SAME walks the sizes itself). */
    SAME("%s|%40d|%-40s|%lx", "long line", -7, "left", (unsigned long)UINT64_MAX);
}
END_TEST

static Suite *fmt_suite(void)
{
    Suite *s = suite_create("fmt");
    TCase *tc = tcase_create("core");
    tcase_add_test(tc, plain_text);
    tcase_add_test(tc, signed_decimal);
    tcase_add_test(tc, wide_signed);
    tcase_add_test(tc, unsigned_bases);
    tcase_add_test(tc, short_modifiers);
    tcase_add_test(tc, chars_and_strings);
    tcase_add_test(tc, null_string);
    tcase_add_test(tc, pointers);
    tcase_add_test(tc, flag_combinations);
    tcase_add_test(tc, odd_formats);
    tcase_add_test(tc, truncation_and_returns);
    suite_add_tcase(s, tc);
    return s;
}

UNIT_MAIN(fmt_suite)
