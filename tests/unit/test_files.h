/* SPDX-License-Identifier: MIT */
/*
 * Helpers for unit tests that make their data with host tools at test time:
 * growable byte buffers, a private temporary directory (removed at exit),
 * reading and writing files, and running Debian's xz. Shared by test_xz.c
 * and test_bzimage.c. Every failure fails the running Check test.
 */
#ifndef LAMINA_TEST_FILES_H
#define LAMINA_TEST_FILES_H
#include <check.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

struct buf {
    uint8_t *b;
    size_t n;
};

/* n zeroed bytes (never a NULL buffer, even for n == 0). */
static inline struct buf buf_new(size_t n)
{
    struct buf r = { calloc(1, n ? n : 1), n };
    ck_assert_ptr_nonnull(r.b);
    return r;
}

static inline struct buf buf_dup(const void *p, size_t n)
{
    struct buf r = buf_new(n);
    memcpy(r.b, p, n);
    return r;
}

static inline void buf_free(struct buf *b)
{
    free(b->b);
    b->b = NULL;
    b->n = 0;
}

static char test_tmpdir[64];

static inline void test_tmpdir_cleanup(void)
{
    if (test_tmpdir[0]) {
        char cmd[128];
        snprintf(cmd, sizeof(cmd), "rm -rf '%s'", test_tmpdir);
        if (system(cmd) != 0)
            fprintf(stderr, "could not remove %s\n", test_tmpdir);
    }
}

/* Creates this process's temporary directory on first use. */
static inline const char *test_tmpdir_path(void)
{
    if (!test_tmpdir[0]) {
        strcpy(test_tmpdir, "/tmp/lamina-test-XXXXXX");
        ck_assert_ptr_nonnull(mkdtemp(test_tmpdir));
        atexit(test_tmpdir_cleanup);
    }
    return test_tmpdir;
}

static inline void write_file(const char *path, const void *p, size_t n)
{
    FILE *f = fopen(path, "wb");
    ck_assert_ptr_nonnull(f);
    ck_assert_uint_eq(fwrite(p, 1, n, f), n);
    ck_assert_int_eq(fclose(f), 0);
}

static inline struct buf read_file(const char *path)
{
    FILE *f = fopen(path, "rb");
    ck_assert_msg(f != NULL, "cannot open %s", path);
    ck_assert_int_eq(fseek(f, 0, SEEK_END), 0);
    long n = ftell(f);
    ck_assert_int_ge(n, 0);
    rewind(f);
    struct buf r = buf_new((size_t)n);
    ck_assert_uint_eq(fread(r.b, 1, r.n, f), r.n);
    fclose(f);
    return r;
}

/* Runs `xz <opts>` on data (e.g. opts "-9e", or "-dc" on an .xz) and returns
 * what xz wrote; fails the test if xz fails. */
static inline struct buf run_xz(const void *data, size_t n, const char *opts)
{
    char in[96], out[96], cmd[512];
    const char *dir = test_tmpdir_path();
    snprintf(in, sizeof(in), "%s/in", dir);
    snprintf(out, sizeof(out), "%s/out", dir);
    write_file(in, data, n);
    snprintf(cmd, sizeof(cmd), "xz -q -c %s '%s' > '%s'", opts, in, out);
    ck_assert_msg(system(cmd) == 0, "failed: %s (is xz-utils installed?)", cmd);
    struct buf r = read_file(out);
    unlink(in);
    unlink(out);
    return r;
}

#endif
