/* SPDX-License-Identifier: MIT */
/*
 * Conformance checks. Each check prints exactly one line,
 *   CHECK <guest>:<check> ok
 *   CHECK <guest>:<check> FAIL got=<..> want=<..>
 * and test_finish() prints "GUEST <guest> DONE passed=<N> failed=<M>" and
 * powers the domain off. tests/integration/ parses these lines.
 */
#ifndef GUEST_TEST_H
#define GUEST_TEST_H
#include <stdbool.h>
#include <stdint.h>

void test_begin(const char *guest_name);
/* Prints the DONE line and powers the domain off. */
__attribute__((noreturn)) void test_finish(void);
/* Prints the DONE line only, for a guest that ends some other way (the
 * attacker ends in a deliberate crash). */
void test_report_done(void);

/* Unsigned equality, shown in hex. */
bool check_hex(const char *check, uint64_t got, uint64_t want);
/* Signed equality, shown in decimal (hypercall results, -errno). */
bool check_int(const char *check, int64_t got, int64_t want);
/* Either of two signed values (e.g. -EINVAL or -EPERM). */
bool check_int2(const char *check, int64_t got, int64_t want1, int64_t want2);
/* got in [lo, hi], unsigned, shown in hex. */
bool check_range(const char *check, uint64_t got, uint64_t lo, uint64_t hi);
/* A condition; `got` and `want` describe it in the failure line. */
bool check_true(const char *check, bool cond, const char *got, const char *want);
/* Like check_true, with got shown as a hex number. */
bool check_cond_hex(const char *check, bool cond, uint64_t got, const char *want);
/* Signed value below zero (an error of any kind); shown in decimal. */
bool check_negative(const char *check, int64_t got);

#endif
