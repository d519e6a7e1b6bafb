/* SPDX-License-Identifier: MIT */
/*
 * lib/xs_wire.c: headers, payload splitting, error and type names, path
 * syntax and canonical form, permission strings and numbers, including
 * hostile inputs (no NUL, traversal attempts, overlong paths, overflowing
 * numbers). Buffers are exact-size mallocs so ASan sees any overread.
 */
#include "unit.h"
#include <lamina/xs_wire.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

/* An exact-size copy of n bytes. */
static char *exact(const void *src, size_t n)
{
    char *p = malloc(n ? n : 1);
    ck_assert_ptr_nonnull(p);
    memcpy(p, src, n);
    return p;
}

START_TEST(test_header_roundtrip)
{
    struct xsd_sockmsg h = { .type = XS_WRITE, .req_id = 0x01020304, .tx_id = 7, .len = 4096 }, back;
    uint8_t raw[16];
    xs_hdr_encode(&h, raw);
    ck_assert_uint_eq(raw[0], XS_WRITE);
    ck_assert_uint_eq(raw[4], 0x04);
    ck_assert_uint_eq(raw[7], 0x01);
    xs_hdr_decode(raw, &back);
    ck_assert_mem_eq(&h, &back, sizeof(h));
    ck_assert(xs_hdr_valid(&back));
    back.len = 4097;
    ck_assert(!xs_hdr_valid(&back));
    back.len = UINT32_MAX;
    ck_assert(!xs_hdr_valid(&back));

    uint8_t buf[64];
    size_t n = xs_msg_build(buf, sizeof(buf), XS_READ, 9, 0, "a/b", 4);
    ck_assert_uint_eq(n, 20);
    ck_assert_mem_eq(buf + 16, "a/b", 4);
    ck_assert_uint_eq(xs_msg_build(buf, 19, XS_READ, 9, 0, "a/b", 4), 0);
    ck_assert_uint_eq(xs_msg_build(buf, sizeof(buf), XS_READ, 9, 0, NULL, 4097), 0);
}
END_TEST

START_TEST(test_names)
{
    ck_assert_str_eq(xs_type_name(XS_READ), "READ");
    ck_assert_str_eq(xs_type_name(XS_DIRECTORY_PART), "DIRECTORY_PART");
    ck_assert_str_eq(xs_type_name(20), "?");
    ck_assert_str_eq(xs_type_name(XS_INVALID), "?");
    ck_assert_str_eq(xs_errno_name(XEN_ENOENT), "ENOENT");
    ck_assert_str_eq(xs_errno_name(XEN_EACCES), "EACCES");
    ck_assert_str_eq(xs_errno_name(XEN_E2BIG), "E2BIG");
    ck_assert_str_eq(xs_errno_name(XEN_EISCONN), "EISCONN");
    ck_assert_str_eq(xs_errno_name(XEN_EFAULT), "EINVAL");
    ck_assert_str_eq(xs_errno_name(0), "EINVAL");
    ck_assert_int_eq(xs_errno_from_name("EAGAIN"), XEN_EAGAIN);
    ck_assert_int_eq(xs_errno_from_name("EQUOTA"), 0);
}
END_TEST

START_TEST(test_args)
{
    const char *argv[XS_MAX_ARGS], *rest;
    size_t rest_len;
    char *p = exact("path\0token\0", 11);
    ck_assert(xs_args_split(p, 11, 2, argv, &rest, &rest_len));
    ck_assert_str_eq(argv[0], "path");
    ck_assert_str_eq(argv[1], "token");
    ck_assert_uint_eq(rest_len, 0);
    ck_assert_int_eq(xs_args_count(p, 11), 2);
    ck_assert(!xs_args_split(p, 11, 3, argv, &rest, &rest_len));
    free(p);

    /* WRITE: path, then a value that may hold NULs and has no terminator. */
    p = exact("a\0v\0x", 5);
    ck_assert(xs_args_split(p, 5, 1, argv, &rest, &rest_len));
    ck_assert_uint_eq(rest_len, 3);
    ck_assert_mem_eq(rest, "v\0x", 3);
    ck_assert_int_eq(xs_args_count(p, 5), -1);
    free(p);

    /* No NUL at all: nothing may be read past the end. */
    p = exact("unterminated", 12);
    ck_assert(!xs_args_split(p, 12, 1, argv, &rest, &rest_len));
    ck_assert_int_eq(xs_args_count(p, 12), -1);
    free(p);
    ck_assert_int_eq(xs_args_count("", 0), 0);
    ck_assert(!xs_args_split("", 0, 1, argv, NULL, NULL));
    ck_assert(!xs_args_split("a\0", 2, XS_MAX_ARGS + 1, argv, NULL, NULL));
}
END_TEST

START_TEST(test_path_syntax)
{
    static const char *const good[] = { "/", "/a", "/local/domain/1", "/a-b_c@d/E9", "/@x" };
    static const char *const bad[] = { "", "a", "//", "/a/", "/a//b", "/a/../b", "/a/./b", "/a b", "/a\tb",
                                       "/ä", "/a:b", "/a.b", "/a\\b", "/a%2e" };
    for (size_t i = 0; i < sizeof(good) / sizeof(good[0]); i++)
        ck_assert_msg(xs_path_valid(good[i], strlen(good[i])), "%s", good[i]);
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
        ck_assert_msg(!xs_path_valid(bad[i], strlen(bad[i])), "%s", bad[i]);

    char *longp = malloc(XENSTORE_ABS_PATH_MAX + 2);
    longp[0] = '/';
    memset(longp + 1, 'x', XENSTORE_ABS_PATH_MAX);
    longp[XENSTORE_ABS_PATH_MAX + 1] = 0;
    ck_assert(!xs_path_valid(longp, XENSTORE_ABS_PATH_MAX + 1));
    ck_assert(xs_path_valid(longp, XENSTORE_ABS_PATH_MAX));
    free(longp);
}
END_TEST

START_TEST(test_path_canonical)
{
    char out[XS_PATH_BUF];
    bool rel;
    ck_assert_int_eq(xs_path_canonical("device/vbd", 7, out, &rel), 0);
    ck_assert_str_eq(out, "/local/domain/7/device/vbd");
    ck_assert(rel);
    ck_assert_int_eq(xs_path_canonical("/local/domain/0/x", 7, out, &rel), 0);
    ck_assert_str_eq(out, "/local/domain/0/x");
    ck_assert(!rel);
    ck_assert_int_eq(xs_path_canonical("../3/secret", 7, out, &rel), XEN_EINVAL);
    ck_assert_int_eq(xs_path_canonical("a//b", 7, out, &rel), XEN_EINVAL);
    ck_assert_int_eq(xs_path_canonical("a/", 7, out, &rel), XEN_EINVAL);
    ck_assert_int_eq(xs_path_canonical("", 7, out, &rel), XEN_EINVAL);

    /* Relative paths up to 2048 bytes, absolute up to 3072. */
    char *p = malloc(XENSTORE_ABS_PATH_MAX + 10);
    memset(p, 'r', XENSTORE_REL_PATH_MAX);
    p[XENSTORE_REL_PATH_MAX] = 0;
    ck_assert_int_eq(xs_path_canonical(p, 65535, out, &rel), 0);
    p[XENSTORE_REL_PATH_MAX] = 'r';
    p[XENSTORE_REL_PATH_MAX + 1] = 0;
    ck_assert_int_eq(xs_path_canonical(p, 1, out, &rel), XEN_EINVAL);
    p[0] = '/';
    memset(p + 1, 'a', XENSTORE_ABS_PATH_MAX + 5);
    p[XENSTORE_ABS_PATH_MAX + 6] = 0;
    ck_assert_int_eq(xs_path_canonical(p, 1, out, &rel), XEN_EINVAL);
    p[XENSTORE_ABS_PATH_MAX] = 0;
    ck_assert_int_eq(xs_path_canonical(p, 1, out, &rel), 0);
    free(p);

    char home[32];
    ck_assert_uint_eq(xs_domain_path(12, home, sizeof(home)), strlen("/local/domain/12"));
    ck_assert_str_eq(home, "/local/domain/12");
}
END_TEST

START_TEST(test_path_relations)
{
    ck_assert(xs_path_is_child("/a/b", 4, "/a", 2));
    ck_assert(xs_path_is_child("/a", 2, "/a", 2));
    ck_assert(xs_path_is_child("/a", 2, "/", 1));
    ck_assert(!xs_path_is_child("/ab", 3, "/a", 2));
    ck_assert(!xs_path_is_child("/a", 2, "/a/b", 4));
    ck_assert_uint_eq(xs_path_parent_len("/a/b/c", 6), 4);
    ck_assert_uint_eq(xs_path_parent_len("/a", 2), 1);
    ck_assert_uint_eq(xs_path_parent_len("/", 1), 1);
}
END_TEST

START_TEST(test_perms_and_numbers)
{
    struct xs_perm p;
    ck_assert(xs_perm_parse("r5", &p));
    ck_assert_uint_eq(p.domid, 5);
    ck_assert_uint_eq(p.perm, XS_PERM_READ);
    ck_assert(xs_perm_parse("b65535", &p));
    ck_assert_uint_eq(p.perm, XS_PERM_BOTH);
    ck_assert(xs_perm_parse("n0", &p));
    ck_assert(xs_perm_parse("w12", &p));
    static const char *const bad[] = { "", "r", "x1", "r-1", "r+1", "r 1", "r65536", "r1a", "R1",
                                       "r99999999999999999999999" };
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
        ck_assert_msg(!xs_perm_parse(bad[i], &p), "%s", bad[i]);
    char buf[8];
    p = (struct xs_perm){ .domid = 65535, .perm = XS_PERM_BOTH };
    ck_assert_uint_eq(xs_perm_format(&p, buf), 6);
    ck_assert_str_eq(buf, "b65535");

    uint64_t v;
    ck_assert(xs_parse_u64("18446744073709551615", UINT64_MAX, &v));
    ck_assert(v == UINT64_MAX);
    ck_assert(!xs_parse_u64("18446744073709551616", UINT64_MAX, &v));
    ck_assert(!xs_parse_u64("000000000000000000001", UINT64_MAX, &v));
    ck_assert(!xs_parse_u64("", 10, &v));
    ck_assert(!xs_parse_u64("11", 10, &v));
    ck_assert(!xs_parse_u64("-1", 10, &v));
}
END_TEST

static Suite *xs_wire_suite(void)
{
    Suite *s = suite_create("xs_wire");
    TCase *tc = tcase_create("wire");
    tcase_add_test(tc, test_header_roundtrip);
    tcase_add_test(tc, test_names);
    tcase_add_test(tc, test_args);
    tcase_add_test(tc, test_path_syntax);
    tcase_add_test(tc, test_path_canonical);
    tcase_add_test(tc, test_path_relations);
    tcase_add_test(tc, test_perms_and_numbers);
    suite_add_tcase(s, tc);
    return s;
}

UNIT_MAIN(xs_wire_suite)
