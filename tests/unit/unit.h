/* SPDX-License-Identifier: MIT */
/*
 * What every host unit-test binary shares: Check, and a main() that runs one
 * suite and exits non-zero if any test failed. Each test_<name>.c ends with
 * UNIT_MAIN(<name>_suite).
 */
#ifndef LAMINA_TESTS_UNIT_H
#define LAMINA_TESTS_UNIT_H
#include <check.h>
#include <stdlib.h>

/* Check's ck_assert* log a "last point reached" mark on every call, even a
 * passing one, which costs a write to Check's log; loops that assert per
 * byte or per iteration use these, which only act on failure. */
#define FAST_ASSERT(expr)                                                                          \
    do {                                                                                           \
        if (!(expr))                                                                               \
            ck_abort_msg("Assertion '%s' failed", #expr);                                          \
    } while (0)
#define FAST_ASSERT_MSG(expr, ...)                                                                 \
    do {                                                                                           \
        if (!(expr))                                                                               \
            ck_abort_msg(__VA_ARGS__);                                                             \
    } while (0)

#define UNIT_MAIN(make_suite)                                                                      \
    int main(void)                                                                                 \
    {                                                                                              \
        SRunner *sr = srunner_create(make_suite());                                                \
        srunner_run_all(sr, CK_NORMAL);                                                            \
        int failed = srunner_ntests_failed(sr);                                                    \
        srunner_free(sr);                                                                          \
        return failed ? EXIT_FAILURE : EXIT_SUCCESS;                                               \
    }

#endif
