/* SPDX-License-Identifier: MIT */
/* lib/cmdline.c: word lookup (last wins, exact keys, bounded copies) and the
 * number parsers' edge cases (suffixes, overflow, junk). */
#include "unit.h"
#include <lamina/cmdline.h>
#include <stdint.h>
#include <string.h>

#define CANARY 0x5a

/* Looks key up and returns the value, or NULL if absent; checks that the
 * copy stayed inside val_size bytes of a canary-filled buffer. */
static const char *find(const char *cmdline, const char *key, size_t val_size)
{
    static char buf[128];
    memset(buf, CANARY, sizeof(buf));
    ck_assert(val_size <= sizeof(buf));
    bool found = cmdline_find(cmdline, key, buf, val_size);
    for (size_t i = val_size; i < sizeof(buf); i++)
        FAST_ASSERT_MSG((unsigned char)buf[i] == CANARY, "wrote byte %zu of %zu", i, val_size);
    return found ? buf : NULL;
}

START_TEST(bare_and_valued_keys)
{
    const char *cl = "quiet loglvl=all dom0_mem=128M noreboot";
    ck_assert_str_eq(find(cl, "quiet", 64), "");
    ck_assert_str_eq(find(cl, "noreboot", 64), "");
    ck_assert_str_eq(find(cl, "loglvl", 64), "all");
    ck_assert_str_eq(find(cl, "dom0_mem", 64), "128M");
    ck_assert_ptr_null(find(cl, "missing", 64));
    ck_assert_ptr_null(find(cl, "all", 64));          /* values are not keys */
}
END_TEST

START_TEST(last_wins)
{
    ck_assert_str_eq(find("a=1 b=2 a=3", "a", 64), "3");
    ck_assert_str_eq(find("a=1 a a=", "a", 64), "");
    ck_assert_str_eq(find("a a=x", "a", 64), "x");
    ck_assert_str_eq(find("x=1 x=2 x=3 y=9", "x", 64), "3");
}
END_TEST

START_TEST(prefix_keys)
{
    /* dom0 must not match dom0_mem, nor dom0_mem match dom0. */
    const char *cl = "dom0_mem=512M dom0=pvh dom0x";
    ck_assert_str_eq(find(cl, "dom0", 64), "pvh");
    ck_assert_str_eq(find(cl, "dom0_mem", 64), "512M");
    ck_assert_ptr_null(find(cl, "dom", 64));
    ck_assert_ptr_null(find(cl, "dom0_m", 64));
    ck_assert_ptr_null(find(cl, "dom0_mem=", 64));
    ck_assert_ptr_null(find(cl, "dom0xx", 64));
    ck_assert_str_eq(find(cl, "dom0x", 64), "");
    ck_assert_ptr_null(find("dom0_mem=1G", "dom0", 64));
}
END_TEST

START_TEST(separators)
{
    const char *cl = "  \ta=1\t\tb=2\n c=3\r\nd  ";
    ck_assert_str_eq(find(cl, "a", 64), "1");
    ck_assert_str_eq(find(cl, "b", 64), "2");
    ck_assert_str_eq(find(cl, "c", 64), "3");
    ck_assert_str_eq(find(cl, "d", 64), "");
    /* '=' inside a value belongs to the value. */
    ck_assert_str_eq(find("console=com1,vga opt=a=b", "opt", 64), "a=b");
}
END_TEST

START_TEST(truncation)
{
    const char *cl = "k=0123456789";
    ck_assert_str_eq(find(cl, "k", 64), "0123456789");
    ck_assert_str_eq(find(cl, "k", 11), "0123456789");
    ck_assert_str_eq(find(cl, "k", 10), "012345678");
    ck_assert_str_eq(find(cl, "k", 4), "012");
    ck_assert_str_eq(find(cl, "k", 1), "");
    /* val_size 0: found, nothing written. */
    ck_assert_ptr_nonnull(find(cl, "k", 0));
    /* NULL val: only whether the key is there. */
    ck_assert(cmdline_find(cl, "k", NULL, 0));
    ck_assert(cmdline_find(cl, "k", NULL, 99));
    ck_assert(!cmdline_find(cl, "j", NULL, 99));
}
END_TEST

START_TEST(empty_and_null)
{
    char v[8] = "keep";
    ck_assert(!cmdline_find(NULL, "a", v, sizeof(v)));
    ck_assert(!cmdline_find("a=1", NULL, v, sizeof(v)));
    ck_assert(!cmdline_find("a=1", "", v, sizeof(v)));
    ck_assert(!cmdline_find("", "a", v, sizeof(v)));
    ck_assert(!cmdline_find("   ", "a", v, sizeof(v)));
    ck_assert(!cmdline_find("=1", "a", v, sizeof(v)));
    ck_assert_str_eq(v, "keep");      /* untouched when not found */
}
END_TEST

START_TEST(size_suffixes)
{
    static const struct {
        const char *s;
        uint64_t v;
    } ok[] = {
        { "0", 0 },
        { "4096", 4096 },
        { "1b", 1 },
        { "7B", 7 },
        { "1k", 1024 },
        { "512K", 512ull << 10 },
        { "128M", 128ull << 20 },
        { "128m", 128ull << 20 },
        { "2G", 2ull << 30 },
        { "2g", 2ull << 30 },
        { "1T", 1ull << 40 },
        { "3t", 3ull << 40 },
        { "16777215T", 16777215ull << 40 },
        { "17179869183G", 17179869183ull << 30 },
        { "18446744073709551615", UINT64_MAX },
        { "00000000000000000000000000000001K", 1024 },
    };
    for (size_t i = 0; i < sizeof(ok) / sizeof(ok[0]); i++) {
        uint64_t v = 0xdead;
        ck_assert_msg(parse_size(ok[i].s, &v) == 0, "\"%s\" rejected", ok[i].s);
        ck_assert_msg(v == ok[i].v, "\"%s\" gave %llu", ok[i].s, (unsigned long long)v);
    }
}
END_TEST

START_TEST(size_rejects)
{
    static const char *const bad[] = {
        "", "K", "M", "-1", "+1", " 1", "1 ", "1KB", "1Kx", "1x", "0x10", "1.5G", "1e3",
        "16777216T",               /* 2^64: one past the top */
        "17179869184G",
        "18446744073709551616",    /* UINT64_MAX + 1 */
        "99999999999999999999999999", "1P", "1KK",
    };
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        uint64_t v = 0xdead;
        ck_assert_msg(parse_size(bad[i], &v) == -1, "\"%s\" accepted", bad[i]);
        ck_assert_msg(v == 0xdead, "\"%s\" wrote the output on failure", bad[i]);
    }
    uint64_t v;
    ck_assert_int_eq(parse_size(NULL, &v), -1);
}
END_TEST

START_TEST(u64_values)
{
    static const struct {
        const char *s;
        uint64_t v;
    } ok[] = {
        { "0", 0 },
        { "1", 1 },
        { "010", 10 },                     /* no octal */
        { "18446744073709551615", UINT64_MAX },
        { "0x0", 0 },
        { "0x10", 16 },
        { "0XfF", 255 },
        { "0xffffffffffffffff", UINT64_MAX },
        { "0x000000000000000000001", 1 },
        { "0xDeadBeef", 0xdeadbeef },
    };
    for (size_t i = 0; i < sizeof(ok) / sizeof(ok[0]); i++) {
        uint64_t v = 0xdead;
        ck_assert_msg(parse_u64(ok[i].s, &v) == 0, "\"%s\" rejected", ok[i].s);
        ck_assert_msg(v == ok[i].v, "\"%s\" gave %llu", ok[i].s, (unsigned long long)v);
    }
}
END_TEST

START_TEST(u64_rejects)
{
    static const char *const bad[] = {
        "", "0x", "0X", "x10", "-1", "+1", " 1", "1 ", "12a", "0xg", "0x1g", "1K", "0x-1",
        "18446744073709551616", "99999999999999999999", "0x10000000000000000",
        "0x1ffffffffffffffff",
    };
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        uint64_t v = 0xdead;
        ck_assert_msg(parse_u64(bad[i], &v) == -1, "\"%s\" accepted", bad[i]);
        ck_assert_msg(v == 0xdead, "\"%s\" wrote the output on failure", bad[i]);
    }
    uint64_t v;
    ck_assert_int_eq(parse_u64(NULL, &v), -1);
}
END_TEST

static Suite *cmdline_suite(void)
{
    Suite *s = suite_create("cmdline");
    TCase *find_tc = tcase_create("cmdline_find");
    tcase_add_test(find_tc, bare_and_valued_keys);
    tcase_add_test(find_tc, last_wins);
    tcase_add_test(find_tc, prefix_keys);
    tcase_add_test(find_tc, separators);
    tcase_add_test(find_tc, truncation);
    tcase_add_test(find_tc, empty_and_null);
    suite_add_tcase(s, find_tc);
    TCase *num_tc = tcase_create("numbers");
    tcase_add_test(num_tc, size_suffixes);
    tcase_add_test(num_tc, size_rejects);
    tcase_add_test(num_tc, u64_values);
    tcase_add_test(num_tc, u64_rejects);
    suite_add_tcase(s, num_tc);
    return s;
}

UNIT_MAIN(cmdline_suite)
