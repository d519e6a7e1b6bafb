/* SPDX-License-Identifier: MIT */
/*
 * lib/cpio.c: archives are written here, in memory, in the layout
 * `cpio -o -H newc` produces, then read back whole, truncated at every
 * length, with single fields corrupted, and through a seeded mutation run.
 * Every archive handed to the reader lives in a malloc block of exactly its
 * size, so ASan catches any read past the end.
 */
#include "unit.h"
#include <lamina/cpio.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define MAX_ARCHIVE (64 * 1024)
/* Offsets inside a member header. */
#define H_FIELD(i) (6 + 8 * (i))
#define H_FILESIZE H_FIELD(6)
#define H_NAMESIZE H_FIELD(11)
#define H_CHECK H_FIELD(12)

struct writer {
    uint8_t buf[MAX_ARCHIVE];
    size_t len;
    uint32_t ino;
};

static void pad(struct writer *w)
{
    while (w->len % 4)
        w->buf[w->len++] = 0;
}

/* Appends one member; returns its header's offset. */
static size_t add_raw(struct writer *w, const char *magic, const char *name, uint32_t mode,
                      const void *data, size_t size)
{
    size_t at = w->len;
    size_t namesize = strlen(name) + 1;
    uint32_t sum = 0;
    for (size_t i = 0; i < size; i++)
        sum += ((const uint8_t *)data)[i];
    ck_assert_uint_lt(w->len + 110 + namesize + size + 8, sizeof(w->buf));
    char hdr[111];
    snprintf(hdr, sizeof(hdr), "%s%08X%08X%08X%08X%08X%08X%08X%08X%08X%08X%08X%08X%08X", magic,
             ++w->ino, mode, 0u, 0u, 1u, 1700000000u, (unsigned)size, 8u, 1u, 0u, 0u,
             (unsigned)namesize, strcmp(magic, "070702") == 0 ? sum : 0u);
    ck_assert_uint_eq(strlen(hdr), 110);
    memcpy(w->buf + w->len, hdr, 110);
    w->len += 110;
    memcpy(w->buf + w->len, name, namesize);
    w->len += namesize;
    pad(w);
    if (size)
        memcpy(w->buf + w->len, data, size);
    w->len += size;
    pad(w);
    return at;
}

static size_t add_file(struct writer *w, const char *name, const char *text)
{
    return add_raw(w, "070701", name, CPIO_MODE_REG | 0644, text, strlen(text));
}

static size_t add_dir(struct writer *w, const char *name)
{
    return add_raw(w, "070701", name, CPIO_MODE_DIR | 0755, NULL, 0);
}

/* The trailer, then zeros to a 512-byte block as GNU cpio writes. */
static void finish(struct writer *w)
{
    add_raw(w, "070701", "TRAILER!!!", 0, NULL, 0);
    while (w->len % 512)
        w->buf[w->len++] = 0;
}

/* A malloc copy of exactly `len` bytes (ASan red zones right after it). */
static uint8_t *exact_copy(const void *src, size_t len)
{
    uint8_t *p = malloc(len ? len : 1);
    ck_assert_ptr_nonnull(p);
    if (len)
        memcpy(p, src, len);
    return p;
}

static void put_field(uint8_t *hdr, size_t field_off, uint32_t value)
{
    char tmp[9];
    snprintf(tmp, sizeof(tmp), "%08X", value);
    memcpy(hdr + field_off, tmp, 8);
}

/* Iterates to the end; checks every entry lies inside the buffer and
 * returns the final status. */
static int walk(const uint8_t *a, size_t len, unsigned *count)
{
    struct cpio_iter it;
    struct cpio_entry e;
    int rc;
    unsigned n = 0;

    cpio_iter_init(&it, a, len);
    while ((rc = cpio_next(&it, &e)) == 1) {
        n++;
        const uint8_t *name = (const uint8_t *)e.name;
        FAST_ASSERT(name >= a && name + e.name_len < a + len);
        FAST_ASSERT(e.name[e.name_len] == '\0' && strlen(e.name) == e.name_len);
        FAST_ASSERT((const uint8_t *)e.data >= a && (const uint8_t *)e.data <= a + len);
        FAST_ASSERT(e.size <= (size_t)(a + len - (const uint8_t *)e.data));
        FAST_ASSERT(n < 100000);
    }
    /* A finished iterator keeps answering the same. */
    FAST_ASSERT(cpio_next(&it, &e) == rc);
    if (count)
        *count = n;
    return rc;
}

static struct writer w;

static void sample(void)
{
    memset(&w, 0, sizeof(w));
    add_dir(&w, ".");
    add_dir(&w, "etc");
    add_dir(&w, "etc/xen");
    add_file(&w, "etc/xen/victim.cfg", "name = 'victim'\nmemory = 16\n");
    add_dir(&w, "usr");
    add_file(&w, "usr/lib/lamina/guests/victim.elf", "\177ELF....");
    add_file(&w, "empty", "");
    add_file(&w, "odd", "abc");     /* data needs padding */
    finish(&w);
}

START_TEST(iterate_sample)
{
    sample();
    uint8_t *a = exact_copy(w.buf, w.len);
    struct cpio_iter it;
    struct cpio_entry e;
    static const char *const names[] = { ".", "etc", "etc/xen", "etc/xen/victim.cfg", "usr",
                                         "usr/lib/lamina/guests/victim.elf", "empty", "odd" };
    cpio_iter_init(&it, a, w.len);
    for (unsigned i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
        ck_assert_int_eq(cpio_next(&it, &e), 1);
        ck_assert_str_eq(e.name, names[i]);
        ck_assert_uint_eq(e.name_len, strlen(names[i]));
        ck_assert_uint_eq(e.ino, i + 1);
        ck_assert_uint_eq(e.mtime, 1700000000u);
        ck_assert_uint_eq(e.dev_major, 8);
        ck_assert_uint_eq(e.dev_minor, 1);
    }
    ck_assert_int_eq(cpio_next(&it, &e), 0);
    ck_assert_int_eq(cpio_next(&it, &e), 0);
    free(a);
}
END_TEST

START_TEST(find_paths)
{
    sample();
    uint8_t *a = exact_copy(w.buf, w.len);
    struct cpio_entry e;
    ck_assert_int_eq(cpio_find(a, w.len, "/etc/xen/victim.cfg", &e), 0);
    ck_assert_uint_eq(e.size, strlen("name = 'victim'\nmemory = 16\n"));
    ck_assert_int_eq(memcmp(e.data, "name = 'victim'\n", 16), 0);
    ck_assert(cpio_is_regular(&e));
    ck_assert_int_eq(cpio_find(a, w.len, "etc/xen/victim.cfg", &e), 0);
    ck_assert_int_eq(cpio_find(a, w.len, ".//etc/xen/victim.cfg", &e), 0);
    ck_assert_int_eq(cpio_find(a, w.len, "/etc/xen", &e), 0);
    ck_assert(!cpio_is_regular(&e));
    ck_assert_uint_eq(e.mode & CPIO_MODE_TYPE, CPIO_MODE_DIR);
    ck_assert_int_eq(cpio_find(a, w.len, "/odd", &e), 0);
    ck_assert_uint_eq(e.size, 3);
    ck_assert_int_eq(memcmp(e.data, "abc", 3), 0);
    ck_assert_int_eq(cpio_find(a, w.len, "/empty", &e), 0);
    ck_assert_uint_eq(e.size, 0);
    /* Not prefixes, not suffixes, not case-insensitive. */
    memset(&e, 0x5a, sizeof(e));
    struct cpio_entry before = e;
    ck_assert_int_eq(cpio_find(a, w.len, "/etc/xen/victim", &e), CPIO_ENOENT);
    ck_assert_int_eq(cpio_find(a, w.len, "/etc/xen/victim.cfgx", &e), CPIO_ENOENT);
    ck_assert_int_eq(cpio_find(a, w.len, "/ETC/xen/victim.cfg", &e), CPIO_ENOENT);
    ck_assert_int_eq(cpio_find(a, w.len, "xen/victim.cfg", &e), CPIO_ENOENT);
    ck_assert_int_eq(cpio_find(a, w.len, "TRAILER!!!", &e), CPIO_ENOENT);
    ck_assert_int_eq(memcmp(&e, &before, sizeof(e)), 0);   /* untouched on failure */
    free(a);
}
END_TEST

START_TEST(dot_slash_names_and_last_wins)
{
    memset(&w, 0, sizeof(w));
    add_file(&w, "./etc/a.cfg", "first");
    add_file(&w, "/etc/a.cfg", "second");
    add_file(&w, "etc/b.cfg", "b");
    add_file(&w, "etc/a.cfg", "third");
    finish(&w);
    uint8_t *a = exact_copy(w.buf, w.len);
    struct cpio_entry e;
    ck_assert_int_eq(cpio_find(a, w.len, "/etc/a.cfg", &e), 0);
    ck_assert_uint_eq(e.size, 5);
    ck_assert_int_eq(memcmp(e.data, "third", 5), 0);
    ck_assert_int_eq(cpio_find(a, w.len, "./etc/b.cfg", &e), 0);
    ck_assert_int_eq(memcmp(e.data, "b", 1), 0);
    free(a);
}
END_TEST

START_TEST(only_trailer_and_empty)
{
    memset(&w, 0, sizeof(w));
    finish(&w);
    uint8_t *a = exact_copy(w.buf, w.len);
    unsigned n = 99;
    ck_assert_int_eq(walk(a, w.len, &n), 0);
    ck_assert_uint_eq(n, 0);
    struct cpio_entry e;
    ck_assert_int_eq(cpio_find(a, w.len, "x", &e), CPIO_ENOENT);
    free(a);
    /* Nothing at all, or a NULL buffer: truncated, not "empty archive". */
    ck_assert_int_eq(walk((const uint8_t *)"", 0, NULL), CPIO_ETRUNC);
    struct cpio_iter it;
    cpio_iter_init(&it, NULL, 1000);
    ck_assert_int_eq(cpio_next(&it, &e), CPIO_ETRUNC);
    ck_assert_int_eq(cpio_find(NULL, 0, "x", &e), CPIO_ETRUNC);
    /* A size no buffer can have. */
    cpio_iter_init(&it, "", SIZE_MAX);
    ck_assert_int_eq(cpio_next(&it, &e), CPIO_ETRUNC);
}
END_TEST

START_TEST(trailer_without_padding)
{
    /* The trailer's name may end the buffer with no padding after it. */
    memset(&w, 0, sizeof(w));
    add_file(&w, "a", "x");
    add_raw(&w, "070701", "TRAILER!!!", 0, NULL, 0);
    size_t exact = w.len - 3;   /* 110 + 11 bytes of name, padding dropped */
    uint8_t *a = exact_copy(w.buf, exact);
    ck_assert_int_eq(walk(a, exact, NULL), 0);
    free(a);
}
END_TEST

START_TEST(missing_trailer)
{
    memset(&w, 0, sizeof(w));
    add_file(&w, "a", "hello");
    uint8_t *a = exact_copy(w.buf, w.len);
    unsigned n = 0;
    ck_assert_int_eq(walk(a, w.len, &n), CPIO_ETRUNC);
    ck_assert_uint_eq(n, 1);
    struct cpio_entry e;
    /* The member is there, but the archive is broken: say so. */
    ck_assert_int_eq(cpio_find(a, w.len, "a", &e), CPIO_ETRUNC);
    free(a);
}
END_TEST

START_TEST(truncated_everywhere)
{
    sample();
    /* Every prefix: never a read past the end; truncated unless the prefix
     * still holds the whole trailer name. */
    size_t trailer_name_end = w.len;
    while (trailer_name_end > 0 && w.buf[trailer_name_end - 1] == 0)
        trailer_name_end--;
    trailer_name_end++;     /* the NUL of "TRAILER!!!" */
    for (size_t len = 0; len < w.len; len++) {
        uint8_t *a = exact_copy(w.buf, len);
        int rc = walk(a, len, NULL);
        if (len >= trailer_name_end)
            FAST_ASSERT_MSG(rc == 0, "len %zu: %d", len, rc);
        else
            FAST_ASSERT_MSG(rc == CPIO_ETRUNC, "len %zu: %d", len, rc);
        struct cpio_entry e;
        int frc = cpio_find(a, len, "/odd", &e);
        FAST_ASSERT(frc == (len >= trailer_name_end ? 0 : CPIO_ETRUNC));
        free(a);
    }
}
END_TEST

/* One member "name" with data "data", with a field of its header replaced. */
static int corrupt_field(size_t field_off, const char *value)
{
    memset(&w, 0, sizeof(w));
    size_t at = add_file(&w, "name", "data");
    finish(&w);
    memcpy(w.buf + at + field_off, value, strlen(value));
    uint8_t *a = exact_copy(w.buf, w.len);
    int rc = walk(a, w.len, NULL);
    free(a);
    return rc;
}

START_TEST(bad_headers)
{
    ck_assert_int_eq(corrupt_field(0, "070707"), CPIO_EMAGIC);     /* odc, not newc */
    ck_assert_int_eq(corrupt_field(0, "17070"), CPIO_EMAGIC);
    ck_assert_int_eq(corrupt_field(5, "3"), CPIO_EMAGIC);
    ck_assert_int_eq(corrupt_field(H_FIELD(0), "0000000g"), CPIO_EHEX);
    ck_assert_int_eq(corrupt_field(H_FIELD(3), " 0000000"), CPIO_EHEX);
    ck_assert_int_eq(corrupt_field(H_FILESIZE, "+0000004"), CPIO_EHEX);
    ck_assert_int_eq(corrupt_field(H_FILESIZE, "0x000004"), CPIO_EHEX);
    ck_assert_int_eq(corrupt_field(H_CHECK, "0000000-"), CPIO_EHEX);
    /* Lower-case hex is fine. */
    ck_assert_int_eq(corrupt_field(H_FIELD(1), "000081a4"), 0);
    /* Name sizes: zero, too short (no NUL at the end), too long (the NUL
     * inside), past the end of the archive, the largest value. */
    ck_assert_int_eq(corrupt_field(H_NAMESIZE, "00000000"), CPIO_ENAME);
    ck_assert_int_eq(corrupt_field(H_NAMESIZE, "00000004"), CPIO_ENAME);
    ck_assert_int_eq(corrupt_field(H_NAMESIZE, "00000006"), CPIO_ENAME);
    ck_assert_int_eq(corrupt_field(H_NAMESIZE, "00010000"), CPIO_ETRUNC);
    ck_assert_int_eq(corrupt_field(H_NAMESIZE, "FFFFFFFF"), CPIO_ETRUNC);
    /* File sizes: past the end, the largest value; a smaller one then lands
     * the next header in the middle of the data. */
    ck_assert_int_eq(corrupt_field(H_FILESIZE, "00100000"), CPIO_ETRUNC);
    ck_assert_int_eq(corrupt_field(H_FILESIZE, "FFFFFFFF"), CPIO_ETRUNC);
    ck_assert_int_eq(corrupt_field(H_FILESIZE, "00000008"), CPIO_EMAGIC);
}
END_TEST

START_TEST(nul_inside_name)
{
    memset(&w, 0, sizeof(w));
    size_t at = add_file(&w, "ab/cd", "x");
    finish(&w);
    w.buf[at + 110 + 2] = '\0';
    uint8_t *a = exact_copy(w.buf, w.len);
    ck_assert_int_eq(walk(a, w.len, NULL), CPIO_ENAME);
    struct cpio_entry e;
    ck_assert_int_eq(cpio_find(a, w.len, "ab", &e), CPIO_ENAME);
    free(a);
}
END_TEST

START_TEST(crc_variant)
{
    static const char data[] = "\x01\x02\xff checksummed";
    memset(&w, 0, sizeof(w));
    size_t at = add_raw(&w, "070702", "c", CPIO_MODE_REG | 0600, data, sizeof(data) - 1);
    finish(&w);
    uint8_t *a = exact_copy(w.buf, w.len);
    struct cpio_entry e;
    ck_assert_int_eq(cpio_find(a, w.len, "c", &e), 0);
    ck_assert_uint_eq(e.size, sizeof(data) - 1);
    free(a);
    /* A wrong sum is refused; 070701 ignores the field. */
    put_field(w.buf + at, H_CHECK, 12345);
    a = exact_copy(w.buf, w.len);
    ck_assert_int_eq(cpio_find(a, w.len, "c", &e), CPIO_ECRC);
    memcpy(a + at, "070701", 6);
    ck_assert_int_eq(cpio_find(a, w.len, "c", &e), 0);
    free(a);
}
END_TEST

START_TEST(misaligned_next_header)
{
    /* Shrink the first member's data by one: the reader must look for the
     * next header at the padded offset, where it finds data bytes. */
    memset(&w, 0, sizeof(w));
    size_t at = add_file(&w, "a", "12345678");
    add_file(&w, "b", "x");
    finish(&w);
    put_field(w.buf + at, H_FILESIZE, 3);
    uint8_t *a = exact_copy(w.buf, w.len);
    ck_assert_int_eq(walk(a, w.len, NULL), CPIO_EMAGIC);
    free(a);
}
END_TEST

START_TEST(strerror_names)
{
    for (int e = 0; e >= CPIO_ENOENT; e--)
        ck_assert_str_ne(cpio_strerror(e), "unknown cpio error");
    ck_assert_str_eq(cpio_strerror(-99), "unknown cpio error");
    ck_assert_str_eq(cpio_strerror(CPIO_ENOENT), "no such file");
}
END_TEST

static uint64_t rng_state;
static uint64_t rnd(void)
{
    rng_state ^= rng_state >> 12;
    rng_state ^= rng_state << 25;
    rng_state ^= rng_state >> 27;
    return rng_state * 0x2545f4914f6cdd1dULL;
}

START_TEST(mutation)
{
    static const char hex[] = "0123456789abcdefABCDEF";
    uint8_t buf[MAX_ARCHIVE];
    unsigned ok = 0, errors = 0;

    sample();
    rng_state = 0x6370696f6e657763ULL;
    for (unsigned round = 0; round < 20000; round++) {
        size_t len = w.len;
        memcpy(buf, w.buf, len);
        unsigned nr = 1 + (unsigned)(rnd() % 4);
        for (unsigned i = 0; i < nr; i++) {
            size_t at = (size_t)(rnd() % len);
            switch (rnd() % 5) {
            case 0: /* any byte */
                buf[at] = (uint8_t)rnd();
                break;
            case 1: /* a plausible hex digit, so sizes change but parse */
                buf[at] = (uint8_t)hex[rnd() % (sizeof(hex) - 1)];
                break;
            case 2: /* a whole size field of a random member-looking spot */
                if (at + 8 <= len)
                    put_field(buf + at, 0, (uint32_t)rnd());
                break;
            case 3: /* truncate */
                len = at;
                break;
            default: /* NUL somewhere */
                buf[at] = 0;
                break;
            }
            if (len == 0)
                break;
        }
        uint8_t *a = exact_copy(buf, len);
        int rc = walk(a, len, NULL);
        FAST_ASSERT_MSG(rc <= 0 && rc >= CPIO_ECRC, "round %u: rc %d", round, rc);
        struct cpio_entry e;
        int frc = cpio_find(a, len, "/etc/xen/victim.cfg", &e);
        FAST_ASSERT(frc <= 0 && frc >= CPIO_ENOENT);
        if (frc == 0) {
            FAST_ASSERT((const uint8_t *)e.data >= a && e.size <= len &&
                        (const uint8_t *)e.data + e.size <= a + len);
            ok++;
        } else {
            errors++;
        }
        free(a);
    }
    /* The run must exercise both outcomes to mean anything. */
    ck_assert_uint_gt(ok, 100);
    ck_assert_uint_gt(errors, 100);
}
END_TEST

static Suite *cpio_suite(void)
{
    Suite *s = suite_create("cpio");
    TCase *read = tcase_create("read");
    tcase_add_test(read, iterate_sample);
    tcase_add_test(read, find_paths);
    tcase_add_test(read, dot_slash_names_and_last_wins);
    tcase_add_test(read, only_trailer_and_empty);
    tcase_add_test(read, trailer_without_padding);
    tcase_add_test(read, crc_variant);
    tcase_add_test(read, strerror_names);
    suite_add_tcase(s, read);

    TCase *hostile = tcase_create("hostile");
    tcase_add_test(hostile, missing_trailer);
    tcase_add_test(hostile, truncated_everywhere);
    tcase_add_test(hostile, bad_headers);
    tcase_add_test(hostile, nul_inside_name);
    tcase_add_test(hostile, misaligned_next_header);
    suite_add_tcase(s, hostile);

    TCase *fuzz = tcase_create("mutation");
    tcase_set_timeout(fuzz, 300);
    tcase_add_test(fuzz, mutation);
    suite_add_tcase(s, fuzz);
    return s;
}

UNIT_MAIN(cpio_suite)
