/* SPDX-License-Identifier: MIT */
/*
 * lib/cons_ring.c: the backend's end of a console ring facing a hostile
 * guest (indices anywhere, rewritten behind our back, wrapping at 2^32), and
 * the line logger (prefix, escaping, CSI removal, long lines). The ring page
 * is a malloc block of exactly the interface's size, so ASan catches any
 * access past it.
 */
#include "unit.h"
#include <lamina/cons_ring.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static struct xencons_interface *intf;
static struct cons_back ring;

static void setup(void)
{
    intf = calloc(1, sizeof(*intf));
    ck_assert_ptr_nonnull(intf);
    cons_back_init(&ring, intf);
}

static void teardown(void)
{
    free(intf);
    intf = NULL;
}

/* The guest's side: appends to out[] (no checks: tests set up what they need). */
static void guest_put(const char *s, size_t n)
{
    for (size_t i = 0; i < n; i++)
        intf->out[MASK_XENCONS_IDX(intf->out_prod + (uint32_t)i, XENCONS_OUT_SIZE)] = s[i];
    intf->out_prod += (uint32_t)n;
}

/* The guest's side: takes up to n bytes of input. */
static size_t guest_get(char *dst, size_t n)
{
    size_t got = 0;
    while (got < n && intf->in_cons != intf->in_prod)
        dst[got++] = intf->in[MASK_XENCONS_IDX(intf->in_cons++, XENCONS_IN_SIZE)];
    return got;
}

START_TEST(read_consumes_and_publishes)
{
    char buf[16];
    guest_put("hello", 5);
    ck_assert_int_eq(cons_back_out_pending(&ring), 5);
    ck_assert_int_eq(cons_back_read(&ring, buf, sizeof(buf)), 5);
    ck_assert_mem_eq(buf, "hello", 5);
    ck_assert_uint_eq(intf->out_cons, 0);       /* freed only when published */
    ck_assert_int_eq(cons_back_out_pending(&ring), 0);
    cons_back_publish(&ring);
    ck_assert_uint_eq(intf->out_cons, 5);
    ck_assert_int_eq(cons_back_read(&ring, buf, sizeof(buf)), 0);
    ck_assert_int_eq(cons_back_out_pending(&ring), 0);
}
END_TEST

START_TEST(read_respects_max_and_wraps)
{
    char buf[XENCONS_OUT_SIZE];
    /* Indices just below 2^32 and ring positions across the end of out[]. */
    intf->out_prod = intf->out_cons = 0xfffffffeu - 3;
    cons_back_init(&ring, intf);
    guest_put("0123456789", 10);
    ck_assert_int_eq(cons_back_read(&ring, buf, 4), 4);
    ck_assert_mem_eq(buf, "0123", 4);
    ck_assert_int_eq(cons_back_out_pending(&ring), 6);
    ck_assert_int_eq(cons_back_read(&ring, buf, sizeof(buf)), 6);
    ck_assert_mem_eq(buf, "456789", 6);
    cons_back_publish(&ring);
    ck_assert_uint_eq(intf->out_cons, intf->out_prod);

    /* A completely full ring is legal. */
    char full[XENCONS_OUT_SIZE];
    for (size_t i = 0; i < sizeof(full); i++)
        full[i] = (char)('a' + i % 26);
    guest_put(full, sizeof(full));
    ck_assert_int_eq(cons_back_read(&ring, buf, sizeof(buf)), XENCONS_OUT_SIZE);
    ck_assert_mem_eq(buf, full, sizeof(full));
}
END_TEST

START_TEST(read_rejects_corrupt_indices)
{
    char buf[64];
    guest_put("ok", 2);
    ck_assert_int_eq(cons_back_read(&ring, buf, sizeof(buf)), 2);
    cons_back_publish(&ring);
    const uint32_t bad[] = { 2 + XENCONS_OUT_SIZE + 1, 2 + 0x80000000u, 1, 0, 0xffffffffu };
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        intf->out_prod = bad[i];
        intf->out_cons = 2;
        ck_assert_int_eq(cons_back_out_pending(&ring), CONS_RING_CORRUPT);
        ck_assert_int_eq(cons_back_read(&ring, buf, sizeof(buf)), CONS_RING_CORRUPT);
        cons_back_publish(&ring);
        ck_assert_uint_eq(intf->out_cons, 2);     /* nothing consumed */
        ck_assert_uint_eq(ring.out_cons, 2);
    }
    intf->out_prod = 2 + XENCONS_OUT_SIZE;          /* exactly full: fine */
    ck_assert_int_eq(cons_back_read(&ring, buf, sizeof(buf)), (long)sizeof(buf));
}
END_TEST

START_TEST(our_indices_are_never_read_back)
{
    char buf[16];
    guest_put("abc", 3);
    intf->out_cons = 0x12345678;        /* the guest scribbles on our index */
    ck_assert_int_eq(cons_back_read(&ring, buf, sizeof(buf)), 3);
    ck_assert_mem_eq(buf, "abc", 3);
    cons_back_publish(&ring);
    ck_assert_uint_eq(intf->out_cons, 3);

    intf->in_prod = 0x7777;             /* and on our input index */
    ck_assert_int_eq(cons_back_write(&ring, "xy", 2), 2);
    ck_assert_uint_eq(intf->in_prod, 2);
    ck_assert_uint_eq(ring.in_prod, 2);
}
END_TEST

START_TEST(write_fills_and_waits_for_room)
{
    char src[1500], got[1500];
    for (size_t i = 0; i < sizeof(src); i++)
        src[i] = (char)(i * 7);
    ck_assert_int_eq(cons_back_write(&ring, src, sizeof(src)), XENCONS_IN_SIZE);
    ck_assert_int_eq(cons_back_write(&ring, src, 1), 0);
    ck_assert_uint_eq(guest_get(got, 100), 100);
    ck_assert_mem_eq(got, src, 100);
    ck_assert_int_eq(cons_back_write(&ring, src + XENCONS_IN_SIZE, 200), 100);
    ck_assert_uint_eq(guest_get(got, sizeof(got)), XENCONS_IN_SIZE);
    ck_assert_mem_eq(got, src + 100, XENCONS_IN_SIZE);
    ck_assert_uint_eq(intf->in_prod, XENCONS_IN_SIZE + 100);
}
END_TEST

START_TEST(write_rejects_corrupt_indices)
{
    ck_assert_int_eq(cons_back_write(&ring, "abcd", 4), 4);
    const uint32_t bad[] = { 5, 0x80000000u, 4 - XENCONS_IN_SIZE - 1, 0xfffff000u };
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        intf->in_cons = bad[i];
        ck_assert_int_eq(cons_back_write(&ring, "z", 1), CONS_RING_CORRUPT);
        ck_assert_uint_eq(intf->in_prod, 4);
    }
    intf->in_cons = 4;
    ck_assert_int_eq(cons_back_write(&ring, "z", 1), 1);
}
END_TEST

/* Random hostile indices: the result always agrees with the model, never
 * exceeds the buffer, and the page keeps only what we published. */
START_TEST(hostile_indices_random)
{
    uint64_t x = 0x9e3779b97f4a7c15ULL;
    char buf[XENCONS_OUT_SIZE + 8];
    for (int round = 0; round < 20000; round++) {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        uint32_t cons = ring.out_cons;
        uint32_t prod = (x & 1) ? cons + (uint32_t)(x >> 8) % (2 * XENCONS_OUT_SIZE) : (uint32_t)(x >> 16);
        size_t max = (size_t)(x >> 40) % sizeof(buf);
        intf->out_prod = prod;
        long n = cons_back_read(&ring, buf, max);
        uint32_t used = prod - cons;
        if (used > XENCONS_OUT_SIZE) {
            FAST_ASSERT(n == CONS_RING_CORRUPT && ring.out_cons == cons);
        } else {
            FAST_ASSERT(n == (long)(used < max ? used : max));
            FAST_ASSERT(ring.out_cons == cons + (uint32_t)n);
            cons_back_publish(&ring);
            FAST_ASSERT(intf->out_cons == ring.out_cons);
        }
        uint32_t icons = (x & 2) ? ring.in_prod - (uint32_t)(x >> 20) % (2 * XENCONS_IN_SIZE)
                                 : (uint32_t)(x >> 24);
        intf->in_cons = icons;
        uint32_t iprod = ring.in_prod;
        long w = cons_back_write(&ring, buf, max);
        uint32_t iused = iprod - icons;
        if (iused > XENCONS_IN_SIZE) {
            FAST_ASSERT(w == CONS_RING_CORRUPT && ring.in_prod == iprod);
        } else {
            size_t room = XENCONS_IN_SIZE - iused;
            FAST_ASSERT(w == (long)(max < room ? max : room));
            FAST_ASSERT(ring.in_prod == iprod + (uint32_t)w && intf->in_prod == ring.in_prod);
        }
    }
}
END_TEST

/* ---- the line logger ---------------------------------------------------- */

static char emitted[8192];
static size_t emitted_len;
static unsigned nr_lines;

static void collect(void *ctx, const char *line, size_t len)
{
    ck_assert_ptr_eq(ctx, &nr_lines);
    FAST_ASSERT_MSG(len <= CONS_LOG_LINE_MAX, "line of %zu bytes", len);
    FAST_ASSERT(len > 0 && line[len - 1] == '\n');
    for (size_t i = 0; i + 1 < len; i++)
        FAST_ASSERT_MSG(line[i] >= 0x20 && line[i] <= 0x7e, "byte 0x%02x emitted", (unsigned char)line[i]);
    FAST_ASSERT(emitted_len + len < sizeof(emitted));
    memcpy(emitted + emitted_len, line, len);
    emitted_len += len;
    emitted[emitted_len] = '\0';
    nr_lines++;
}

static struct cons_log lg;

static void log_setup(void)
{
    emitted_len = 0;
    emitted[0] = '\0';
    nr_lines = 0;
    cons_log_init(&lg, "[d1 test] ");
}

static void feed(const char *s)
{
    cons_log_feed(&lg, s, strlen(s), collect, &nr_lines);
}

START_TEST(log_prefixes_whole_lines)
{
    feed("hello\nwor");
    ck_assert_str_eq(emitted, "[d1 test] hello\n");
    ck_assert(cons_log_has_partial(&lg));
    feed("ld\r\n\n");
    ck_assert_str_eq(emitted, "[d1 test] hello\n[d1 test] world\n[d1 test] \n");
    ck_assert(!cons_log_has_partial(&lg));
    cons_log_flush(&lg, collect, &nr_lines);       /* nothing held: nothing emitted */
    ck_assert_uint_eq(nr_lines, 3);
    feed("login: ");
    cons_log_flush(&lg, collect, &nr_lines);
    ck_assert_uint_eq(nr_lines, 4);
    ck_assert_str_eq(emitted + strlen(emitted) - 18, "[d1 test] login: \n");
}
END_TEST

START_TEST(log_escapes_control_bytes)
{
    feed("a\x01" "b\tc\x7f\xff\x1b" "c\x07" "d\rE\n");
    ck_assert_str_eq(emitted, "[d1 test] a\\x01b c\\x7f\\xff\\x1bc\\x07dE\n");
}
END_TEST

START_TEST(log_strips_csi_even_split)
{
    feed("\x1b[1;3");
    feed("2mred\x1b");
    feed("[0m plain\x1b[");
    feed("K\n");
    ck_assert_str_eq(emitted, "[d1 test] red plain\n");
    /* A newline inside a sequence still ends the line; a runaway
     * sequence stops being swallowed. */
    emitted_len = 0;
    feed("x\x1b[12\ny\n");
    ck_assert_str_eq(emitted, "[d1 test] x\n[d1 test] y\n");
    emitted_len = 0;
    char runaway[80] = "\x1b[";
    memset(runaway + 2, '1', 40);
    strcpy(runaway + 42, "Z\n");
    feed(runaway);
    ck_assert_str_eq(emitted, "[d1 test] 11111111Z\n");
}
END_TEST

START_TEST(log_cuts_long_lines)
{
    char big[1000];
    memset(big, 'x', sizeof(big) - 1);
    big[sizeof(big) - 1] = '\0';
    feed(big);
    feed("\n");
    size_t text = 0;
    for (size_t i = 0; i < emitted_len; i++)
        text += emitted[i] == 'x';
    ck_assert_uint_eq(text, sizeof(big) - 1);
    ck_assert_uint_gt(nr_lines, 5);
    /* Escapes are never cut in half. */
    log_setup();
    for (int i = 0; i < 100; i++)
        feed("\x01");
    feed("\n");
    for (char *p = emitted; (p = strchr(p, '\n')); p++)
        ck_assert_msg((p - emitted) < 10 || strncmp(p - 4, "\\x01", 4) == 0, "cut escape");
}
END_TEST

START_TEST(log_prefix_is_sanitised_and_bounded)
{
    cons_log_init(&lg, "[d2 ev\x1bil] ");
    feed("x\n");
    ck_assert_str_eq(emitted, "[d2 ev?il] x\n");
    char longp[200];
    memset(longp, 'p', sizeof(longp) - 1);
    longp[sizeof(longp) - 1] = '\0';
    cons_log_init(&lg, longp);
    ck_assert_uint_eq(lg.prefix_len, CONS_LOG_PREFIX_MAX - 1);
    emitted_len = 0;
    feed("y\n");
    ck_assert_uint_eq(emitted_len, CONS_LOG_PREFIX_MAX - 1 + 2);
}
END_TEST

/* Any bytes at all: only printable lines, each with its prefix. */
START_TEST(log_random_bytes_stay_printable)
{
    uint64_t x = 88172645463325252ULL;
    char chunk[97];
    for (int round = 0; round < 400; round++) {
        size_t n = 0;
        for (; n < sizeof(chunk); n++) {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            chunk[n] = (char)(x >> 24);
        }
        emitted_len = 0;
        cons_log_feed(&lg, chunk, n, collect, &nr_lines);
        for (char *line = emitted; line < emitted + emitted_len; line = strchr(line, '\n') + 1)
            FAST_ASSERT(strncmp(line, "[d1 test] ", 10) == 0);
    }
}
END_TEST

static Suite *cons_ring_suite(void)
{
    Suite *s = suite_create("cons_ring");
    TCase *tc = tcase_create("ring");
    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_add_test(tc, read_consumes_and_publishes);
    tcase_add_test(tc, read_respects_max_and_wraps);
    tcase_add_test(tc, read_rejects_corrupt_indices);
    tcase_add_test(tc, our_indices_are_never_read_back);
    tcase_add_test(tc, write_fills_and_waits_for_room);
    tcase_add_test(tc, write_rejects_corrupt_indices);
    tcase_add_test(tc, hostile_indices_random);
    suite_add_tcase(s, tc);
    TCase *lc = tcase_create("log");
    tcase_add_checked_fixture(lc, log_setup, NULL);
    tcase_add_test(lc, log_prefixes_whole_lines);
    tcase_add_test(lc, log_escapes_control_bytes);
    tcase_add_test(lc, log_strips_csi_even_split);
    tcase_add_test(lc, log_cuts_long_lines);
    tcase_add_test(lc, log_prefix_is_sanitised_and_bounded);
    tcase_add_test(lc, log_random_bytes_stay_printable);
    suite_add_tcase(s, lc);
    return s;
}

UNIT_MAIN(cons_ring_suite)
