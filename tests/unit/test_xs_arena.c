/* SPDX-License-Identifier: MIT */
/*
 * lib/xs_arena.c: the allocator under xenstored's store. Blocks must not
 * overlap, freeing must merge neighbours (so the whole arena comes back as
 * one block), exhaustion must fail cleanly, and a long random run must keep
 * every invariant (xs_arena_check after each step).
 */
#include "unit.h"
#include <lamina/xs_arena.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

static uint8_t *mem;
static struct xs_arena arena;

static void setup(void)
{
    mem = malloc(1 << 20);
    ck_assert(xs_arena_init(&arena, mem, 1 << 20));
}

static void teardown(void)
{
    free(mem);
}

START_TEST(test_alloc_free_roundtrip)
{
    size_t all = xs_arena_free_bytes(&arena);
    void *a = xs_arena_alloc(&arena, 10);
    void *b = xs_arena_alloc(&arena, 0);
    void *c = xs_arena_alloc(&arena, 5000);
    ck_assert_ptr_nonnull(a);
    ck_assert_ptr_nonnull(b);
    ck_assert_ptr_nonnull(c);
    ck_assert_uint_eq((uintptr_t)a % 8, 0);
    ck_assert_uint_ge(xs_arena_usable(a), 10);
    ck_assert_uint_ge(xs_arena_usable(c), 5000);
    memset(a, 0xaa, 10);
    memset(c, 0xcc, 5000);
    ck_assert(xs_arena_check(&arena));
    ck_assert_uint_eq(arena.nr_allocs, 3);
    xs_arena_free(&arena, b);
    xs_arena_free(&arena, a);
    xs_arena_free(&arena, NULL);
    xs_arena_free(&arena, c);
    ck_assert(xs_arena_check(&arena));
    ck_assert_uint_eq(arena.nr_allocs, 0);
    ck_assert_uint_eq(xs_arena_free_bytes(&arena), all);
    /* Everything merged back: the whole arena is one block again. */
    void *big = xs_arena_alloc(&arena, all - 8);
    ck_assert_ptr_nonnull(big);
    xs_arena_free(&arena, big);
}
END_TEST

START_TEST(test_exhaustion_and_limits)
{
    ck_assert_ptr_null(xs_arena_alloc(&arena, (size_t)XS_ARENA_MAX_ALLOC + 1));
    ck_assert_ptr_null(xs_arena_alloc(&arena, SIZE_MAX));
    ck_assert_ptr_null(xs_arena_alloc(&arena, 2 << 20));
    void *ptrs[4096];
    size_t n = 0;
    while (n < 4096 && (ptrs[n] = xs_arena_alloc(&arena, 1000)))
        n++;
    ck_assert_uint_gt(n, 900);
    ck_assert_uint_lt(n, 4096);
    ck_assert_uint_ge(arena.nr_failed, 4);
    ck_assert(xs_arena_check(&arena));
    /* Free every other one: no merging possible, still no room for 2000. */
    for (size_t i = 0; i < n; i += 2)
        xs_arena_free(&arena, ptrs[i]);
    ck_assert(xs_arena_check(&arena));
    ck_assert_ptr_null(xs_arena_alloc(&arena, 2000));
    for (size_t i = 1; i < n; i += 2)
        xs_arena_free(&arena, ptrs[i]);
    ck_assert(xs_arena_check(&arena));
    ck_assert_ptr_nonnull(xs_arena_alloc(&arena, 500000));
}
END_TEST

START_TEST(test_tiny_arena)
{
    struct xs_arena a;
    uint8_t small[40];
    ck_assert(!xs_arena_init(&a, small, 8));
    ck_assert(xs_arena_init(&a, small, sizeof(small)));
    void *p = xs_arena_alloc(&a, 1);
    ck_assert(xs_arena_check(&a));
    if (p)
        xs_arena_free(&a, p);
    ck_assert_ptr_null(xs_arena_alloc(&a, 100));
    ck_assert(xs_arena_check(&a));
}
END_TEST

static uint64_t rng_state = 0x9e3779b97f4a7c15ull;
static uint64_t rnd(void)
{
    rng_state ^= rng_state << 13;
    rng_state ^= rng_state >> 7;
    rng_state ^= rng_state << 17;
    return rng_state;
}

START_TEST(test_random_run)
{
    enum { SLOTS = 512, STEPS = 40000 };
    static uint8_t *p[SLOTS];
    static size_t sz[SLOTS];
    memset(p, 0, sizeof(p));
    for (unsigned step = 0; step < STEPS; step++) {
        unsigned i = (unsigned)(rnd() % SLOTS);
        if (p[i]) {
            /* Contents survive until freed: catches overlapping blocks. */
            for (size_t k = 0; k < sz[i]; k++)
                FAST_ASSERT_MSG(p[i][k] == (uint8_t)(i + k), "slot %u byte %zu changed", i, k);
            xs_arena_free(&arena, p[i]);
            p[i] = NULL;
        } else {
            size_t n = (rnd() % 8 == 0) ? rnd() % 20000 : rnd() % 300;
            p[i] = xs_arena_alloc(&arena, n);
            if (p[i]) {
                sz[i] = n;
                for (size_t k = 0; k < n; k++)
                    p[i][k] = (uint8_t)(i + k);
            }
        }
        if (step % 1000 == 0)
            FAST_ASSERT(xs_arena_check(&arena));
    }
    for (unsigned i = 0; i < SLOTS; i++)
        xs_arena_free(&arena, p[i]);
    ck_assert(xs_arena_check(&arena));
    ck_assert_uint_eq(arena.used_bytes, 0);
}
END_TEST

static Suite *xs_arena_suite(void)
{
    Suite *s = suite_create("xs_arena");
    TCase *tc = tcase_create("arena");
    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_add_test(tc, test_alloc_free_roundtrip);
    tcase_add_test(tc, test_exhaustion_and_limits);
    tcase_add_test(tc, test_tiny_arena);
    tcase_add_test(tc, test_random_run);
    suite_add_tcase(s, tc);
    return s;
}

UNIT_MAIN(xs_arena_suite)
