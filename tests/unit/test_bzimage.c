/* SPDX-License-Identifier: MIT */
/*
 * lib/bzimage.c. A minimal bzImage is synthesised here: a setup header with
 * the §3.1 fields, and as payload a tiny Xen PV ELF compressed at test time
 * by Debian's xz the way Linux does it (--x86 --lzma2, CRC32, le32 size
 * appended). Images live in exact-size malloc blocks for ASan. With
 * LAMINA_KERNEL=/path/to/vmlinuz set, Debian's real kernel is decompressed
 * and parsed too (skipped otherwise).
 */
#define _POSIX_C_SOURCE 200809L /* mkdtemp, clock_gettime */
#include "unit.h"
#include "test_files.h"
#include <lamina/bzimage.h>
#include <lamina/elf_pv.h>
#include <public/elfnote.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#define SETUP_SECTS 3
#define PAYLOAD_OFFSET 0x123
#define TAIL_BYTES 100   /* what follows the payload in the image */

static _Alignas(8) uint8_t work[BZIMAGE_WORK_SIZE];

static void put16(uint8_t *p, uint16_t v)
{
    p[0] = (uint8_t)v;
    p[1] = (uint8_t)(v >> 8);
}

static void put32(uint8_t *p, uint32_t v)
{
    for (int i = 0; i < 4; i++)
        p[i] = (uint8_t)(v >> (8 * i));
}

static void put64(uint8_t *p, uint64_t v)
{
    for (int i = 0; i < 8; i++)
        p[i] = (uint8_t)(v >> (8 * i));
}

/* ---- A tiny Xen PV ELF --------------------------------------------------- */

#define K_PADDR 0x1000000ull
#define K_VIRT_BASE 0xffffffff80000000ull
#define K_VADDR (K_VIRT_BASE + K_PADDR)
#define K_ENTRY (K_VADDR + 0x40)
#define K_CODE_OFF 0x400
#define K_CODE_SIZE 0x600

static size_t note(uint8_t *p, uint32_t type, const void *desc, uint32_t descsz)
{
    put32(p, 4);
    put32(p + 4, descsz);
    put32(p + 8, type);
    memcpy(p + 12, "Xen", 4);
    memcpy(p + 16, desc, descsz);
    return 16 + ((descsz + 3u) & ~3u);
}

/* ELF header, a PT_LOAD of code-like bytes (E8 calls for the x86 filter)
 * and a PT_NOTE with the notes elf_pv_parse requires. */
static struct buf tiny_elf(void)
{
    struct buf e = buf_new(K_CODE_OFF + K_CODE_SIZE);
    uint8_t *p = e.b, notes[512] = { 0 }, v[8];
    size_t nn = 0;

    nn += note(notes + nn, XEN_ELFNOTE_XEN_VERSION, "xen-3.0", 8);
    nn += note(notes + nn, XEN_ELFNOTE_GUEST_OS, "linux", 6);
    nn += note(notes + nn, XEN_ELFNOTE_LOADER, "generic", 8);
    put64(v, K_VIRT_BASE);
    nn += note(notes + nn, XEN_ELFNOTE_VIRT_BASE, v, 8);
    put64(v, K_ENTRY);
    nn += note(notes + nn, XEN_ELFNOTE_ENTRY, v, 8);

    memcpy(p, "\x7f" "ELF", 4);
    p[4] = 2; /* ELFCLASS64 */
    p[5] = 1; /* little-endian */
    p[6] = 1;
    put16(p + 16, 2);  /* ET_EXEC */
    put16(p + 18, 62); /* EM_X86_64 */
    put32(p + 20, 1);
    put64(p + 24, K_ENTRY);
    put64(p + 32, 64); /* e_phoff */
    put16(p + 52, 64);
    put16(p + 54, 56);
    put16(p + 56, 2);
    uint8_t *ph = p + 64;
    put32(ph, 1); /* PT_LOAD */
    put32(ph + 4, 5);
    put64(ph + 8, K_CODE_OFF);
    put64(ph + 16, K_VADDR);
    put64(ph + 24, K_PADDR);
    put64(ph + 32, K_CODE_SIZE);
    put64(ph + 40, 0x2000);
    put64(ph + 48, 0x1000);
    ph += 56;
    put32(ph, 4); /* PT_NOTE */
    put64(ph + 8, 64 + 2 * 56);
    put64(ph + 32, nn);
    put64(ph + 40, nn);
    put64(ph + 48, 4);
    ck_assert_uint_le(64 + 2 * 56 + nn, K_CODE_OFF);
    memcpy(p + 64 + 2 * 56, notes, nn);
    for (size_t i = 0; i < K_CODE_SIZE; i += 8) {
        uint8_t *c = p + K_CODE_OFF + i;
        c[0] = 0x90;
        c[1] = 0x90;
        c[2] = 0x90;
        c[3] = 0xe8; /* call rel32 */
        put32(c + 4, (uint32_t)(0x100 - i));
    }
    return e;
}

/* ---- bzImage synthesis --------------------------------------------------- */

struct bzspec {
    uint8_t setup_sects;     /* 0 is the boot protocol's "4" */
    uint16_t version;
    uint32_t payload_offset;
    bool no_trailer;         /* leave out Linux's le32 size */
    int32_t trailer_delta;   /* added to the size in the trailer */
    int64_t length_delta;    /* added to payload_length */
};

static const struct bzspec linux_like = { SETUP_SECTS, 0x020f, PAYLOAD_OFFSET, false, 0, 0 };

static struct buf make_bzimage(const struct bzspec *sp, const void *payload, size_t n,
                               size_t decompressed)
{
    size_t sects = sp->setup_sects ? sp->setup_sects : 4;
    size_t start = (sects + 1) * 512 + sp->payload_offset;
    size_t plen = n + (sp->no_trailer ? 0 : 4);
    struct buf im = buf_new(start + plen + TAIL_BYTES);
    for (size_t i = 0; i < im.n; i++)
        im.b[i] = (uint8_t)(i * 13 + 5); /* setup code and kernel tail stand-ins */
    im.b[0x1f1] = sp->setup_sects;
    put16(im.b + 0x1fe, 0xaa55);
    memcpy(im.b + 0x202, "HdrS", 4);
    put16(im.b + 0x206, sp->version);
    put32(im.b + 0x248, sp->payload_offset);
    put32(im.b + 0x24c, (uint32_t)((int64_t)plen + sp->length_delta));
    memcpy(im.b + start, payload, n);
    if (!sp->no_trailer)
        put32(im.b + start + n, (uint32_t)((int64_t)decompressed + sp->trailer_delta));
    return im;
}

static struct buf elf_xz(struct buf *elf)
{
    *elf = tiny_elf();
    return run_xz(elf->b, elf->n, "--check=crc32 --x86 --lzma2=preset=9e,dict=32MiB");
}

static int decompress(const struct buf *im, size_t out_size, struct buf *out, size_t *len)
{
    *out = buf_new(out_size);
    return bzimage_decompress(im->b, im->n, out->b, out_size, len, work, sizeof(work));
}

/* ---- Tests --------------------------------------------------------------- */

START_TEST(synthetic_linux_image)
{
    struct buf elf, xz = elf_xz(&elf), out;
    struct buf im = make_bzimage(&linux_like, xz.b, xz.n, elf.n);
    struct bzimage_info info;
    struct elf_pv_info pv;
    size_t len;

    ck_assert_int_eq(bzimage_parse(im.b, im.n, &info), BZIMAGE_OK);
    ck_assert_uint_eq(info.version, 0x020f);
    ck_assert_uint_eq(info.setup_sects, SETUP_SECTS);
    ck_assert_uint_eq(info.payload_offset, (SETUP_SECTS + 1) * 512 + PAYLOAD_OFFSET);
    ck_assert_uint_eq(info.payload_size, xz.n + 4);
    ck_assert_uint_eq(info.compression, BZIMAGE_COMP_XZ);
    ck_assert_str_eq(bzimage_compression_name(info.compression), "xz");
    ck_assert_uint_eq(info.stream_size, xz.n);
    ck_assert_uint_eq(info.decompressed_size, elf.n);

    ck_assert_int_eq(decompress(&im, info.decompressed_size, &out, &len), BZIMAGE_OK);
    ck_assert_uint_eq(len, elf.n);
    ck_assert_mem_eq(out.b, elf.b, elf.n);
    ck_assert_int_eq(elf_pv_parse(out.b, len, &pv), ELF_PV_OK);
    ck_assert_uint_eq(pv.entry, K_ENTRY);
    ck_assert_str_eq(pv.guest_os, "linux");
    buf_free(&out);

    /* One byte short: the xz error passes through with the size needed. */
    ck_assert_int_eq(decompress(&im, elf.n - 1, &out, &len), BZIMAGE_EXZ_BASE + XZ_ENOSPC);
    ck_assert_uint_eq(len, elf.n);
    ck_assert_str_eq(bzimage_strerror(BZIMAGE_EXZ_BASE + XZ_ENOSPC), xz_strerror(XZ_ENOSPC));
    buf_free(&out);
    buf_free(&im);
    buf_free(&xz);
    buf_free(&elf);
}
END_TEST

START_TEST(header_variants)
{
    struct buf elf, xz = elf_xz(&elf), out;
    struct bzimage_info info;
    size_t len;
    /* No size trailer; setup_sects 0 (means 4); payload_offset 0; protocol 2.08. */
    static const struct bzspec ok[] = {
        { SETUP_SECTS, 0x020f, PAYLOAD_OFFSET, true, 0, 0 },
        { 0, 0x020f, 0, false, 0, 0 },
        { 63, 0x0208, 7, false, 0, 0 },
    };
    for (size_t i = 0; i < sizeof(ok) / sizeof(ok[0]); i++) {
        struct buf im = make_bzimage(&ok[i], xz.b, xz.n, elf.n);
        ck_assert_int_eq(bzimage_parse(im.b, im.n, &info), BZIMAGE_OK);
        ck_assert_uint_eq(info.setup_sects, ok[i].setup_sects ? ok[i].setup_sects : 4);
        ck_assert_int_eq(decompress(&im, elf.n, &out, &len), BZIMAGE_OK);
        ck_assert_mem_eq(out.b, elf.b, elf.n);
        buf_free(&out);
        buf_free(&im);
    }
    buf_free(&xz);
    buf_free(&elf);
}
END_TEST

START_TEST(malformed_headers)
{
    struct buf elf, xz = elf_xz(&elf), out;
    struct bzimage_info info;
    size_t len;
    struct {
        struct bzspec sp;
        int want;
    } cases[] = {
        { { SETUP_SECTS, 0x0207, PAYLOAD_OFFSET, false, 0, 0 }, BZIMAGE_EVERSION },
        { { SETUP_SECTS, 0x0100, PAYLOAD_OFFSET, false, 0, 0 }, BZIMAGE_EVERSION },
        { { SETUP_SECTS, 0x020f, PAYLOAD_OFFSET, false, 1, 0 }, BZIMAGE_ESIZE },
        { { SETUP_SECTS, 0x020f, PAYLOAD_OFFSET, false, 0, TAIL_BYTES + 1 }, BZIMAGE_EPAYLOAD },
        { { SETUP_SECTS, 0x020f, PAYLOAD_OFFSET, false, 0, -(int64_t)xz.n - 4 },
          BZIMAGE_EPAYLOAD },
        /* payload_length cut short: the xz footer is gone. */
        { { SETUP_SECTS, 0x020f, PAYLOAD_OFFSET, false, 0, -8 }, BZIMAGE_EXZ_BASE + XZ_ETRUNC },
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        struct buf im = make_bzimage(&cases[i].sp, xz.b, xz.n, elf.n);
        int got = bzimage_parse(im.b, im.n, &info);
        ck_assert_msg(got == cases[i].want, "case %zu: got %d (%s), want %d", i, got,
                      bzimage_strerror(got), cases[i].want);
        ck_assert_int_eq(decompress(&im, elf.n, &out, &len), cases[i].want);
        ck_assert_uint_eq(len, 0);
        buf_free(&out);
        buf_free(&im);
    }

    /* payload_offset pointing past the end, also with a huge value. */
    struct buf im = make_bzimage(&linux_like, xz.b, xz.n, elf.n);
    put32(im.b + 0x248, (uint32_t)im.n);
    ck_assert_int_eq(bzimage_parse(im.b, im.n, &info), BZIMAGE_EPAYLOAD);
    put32(im.b + 0x248, 0xffffffffu);
    ck_assert_int_eq(bzimage_parse(im.b, im.n, &info), BZIMAGE_EPAYLOAD);
    put32(im.b + 0x248, PAYLOAD_OFFSET);
    put32(im.b + 0x24c, 0xffffffffu);
    ck_assert_int_eq(bzimage_parse(im.b, im.n, &info), BZIMAGE_EPAYLOAD);
    put32(im.b + 0x24c, (uint32_t)xz.n + 4);
    ck_assert_int_eq(bzimage_parse(im.b, im.n, &info), BZIMAGE_OK);
    /* No HdrS; too small; NULL arguments. */
    im.b[0x203] = 'x';
    ck_assert_int_eq(bzimage_parse(im.b, im.n, &info), BZIMAGE_ENOTBZ);
    ck_assert_int_eq(bzimage_parse(im.b, BZIMAGE_HEADER_END - 1, &info), BZIMAGE_ETRUNC);
    ck_assert_int_eq(bzimage_parse(NULL, 0, &info), BZIMAGE_EINVAL);
    ck_assert_int_eq(bzimage_parse(im.b, im.n, NULL), BZIMAGE_EINVAL);
    ck_assert_int_eq(bzimage_decompress(im.b, im.n, NULL, 0, NULL, work, sizeof(work)),
                     BZIMAGE_EINVAL);
    buf_free(&im);
    /* A plain ELF is not a bzImage. */
    ck_assert_int_eq(bzimage_parse(elf.b, elf.n, &info), BZIMAGE_ENOTBZ);
    buf_free(&xz);
    buf_free(&elf);
}
END_TEST

START_TEST(other_compressions)
{
    static const struct {
        const char *magic;
        size_t len;
        unsigned comp;
        const char *name;
    } cases[] = {
        { "\x1f\x8b\x08\x00", 4, BZIMAGE_COMP_GZIP, "gzip" },
        { "BZh91AY", 7, BZIMAGE_COMP_BZIP2, "bzip2" },
        { "\x28\xb5\x2f\xfd\x00", 5, BZIMAGE_COMP_ZSTD, "zstd" },
        { "\x89LZO\x00", 5, BZIMAGE_COMP_LZO, "lzo" },
        { "\x02\x21\x4c\x18", 4, BZIMAGE_COMP_LZ4, "lz4" },
        { "\x5d\x00\x00\x80\x00", 5, BZIMAGE_COMP_LZMA, "lzma" },
        { "\x7f" "ELF", 4, BZIMAGE_COMP_UNKNOWN, "unknown" },
        { "\xfd", 1, BZIMAGE_COMP_UNKNOWN, "unknown" },
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        struct bzspec sp = linux_like;
        struct bzimage_info info;
        struct buf out;
        size_t len;
        sp.no_trailer = true;
        struct buf im = make_bzimage(&sp, cases[i].magic, cases[i].len, 0);
        ck_assert_int_eq(bzimage_parse(im.b, im.n, &info), BZIMAGE_EUNSUPPORTED);
        ck_assert_uint_eq(info.compression, cases[i].comp);
        ck_assert_str_eq(bzimage_compression_name(info.compression), cases[i].name);
        ck_assert_int_eq(decompress(&im, 4096, &out, &len), BZIMAGE_EUNSUPPORTED);
        buf_free(&out);
        buf_free(&im);
    }
}
END_TEST

START_TEST(payload_faults)
{
    struct buf elf, xz = elf_xz(&elf), out;
    struct bzimage_info info;
    size_t len;

    /* Decompresses, but is not an ELF. */
    struct buf txt = run_xz("hello, not an ELF\n", 18, "--check=crc32");
    struct buf im = make_bzimage(&linux_like, txt.b, txt.n, 18);
    ck_assert_int_eq(bzimage_parse(im.b, im.n, &info), BZIMAGE_OK);
    ck_assert_int_eq(decompress(&im, 18, &out, &len), BZIMAGE_ENOTELF);
    ck_assert_uint_eq(len, 0);
    buf_free(&out);
    buf_free(&im);
    buf_free(&txt);

    /* A damaged xz payload: the xz error shows through. */
    im = make_bzimage(&linux_like, xz.b, xz.n, elf.n);
    size_t start = (SETUP_SECTS + 1) * 512 + PAYLOAD_OFFSET;
    im.b[start + xz.n / 2] ^= 0x40;
    int err = decompress(&im, elf.n, &out, &len);
    ck_assert_int_lt(err, BZIMAGE_EXZ_BASE);
    ck_assert_int_gt(err, BZIMAGE_EXZ_BASE - 100);
    ck_assert_str_eq(bzimage_strerror(err), xz_strerror(err - BZIMAGE_EXZ_BASE));
    buf_free(&out);
    buf_free(&im);

    /* Every truncation of the image fails cleanly. */
    im = make_bzimage(&linux_like, xz.b, xz.n, elf.n);
    size_t need = start + xz.n + 4;
    out = buf_new(elf.n);
    for (size_t n = 0; n < need; n++) {
        struct buf cut = buf_dup(im.b, n);
        FAST_ASSERT(bzimage_decompress(cut.b, cut.n, out.b, out.n, &len, work, sizeof(work)) < 0);
        buf_free(&cut);
    }
    buf_free(&out);
    buf_free(&im);
    buf_free(&xz);
    buf_free(&elf);
}
END_TEST

START_TEST(strerror_names)
{
    for (int e = 0; e >= BZIMAGE_ENOTELF; e--)
        ck_assert_str_ne(bzimage_strerror(e), "unknown bzImage error");
    ck_assert_str_eq(bzimage_strerror(-50), "unknown bzImage error");
    ck_assert_str_eq(bzimage_strerror(BZIMAGE_EXZ_BASE + XZ_EDATA), xz_strerror(XZ_EDATA));
}
END_TEST

/* Debian's kernel, if LAMINA_KERNEL names one (e.g. the vmlinuz of
 * linux-image-6.1.0-*-amd64 unpacked with dpkg-deb -x). */
START_TEST(real_kernel)
{
    const char *path = getenv("LAMINA_KERNEL");
    if (!path || !*path) {
        printf("real_kernel: LAMINA_KERNEL not set, skipped\n");
        return;
    }
    struct buf im = read_file(path), out;
    struct bzimage_info info;
    struct elf_pv_info pv;
    struct timespec t0, t1;
    size_t len;

    ck_assert_int_eq(bzimage_parse(im.b, im.n, &info), BZIMAGE_OK);
    ck_assert_uint_eq(info.compression, BZIMAGE_COMP_XZ);
    ck_assert_uint_gt(info.decompressed_size, info.payload_size);
    clock_gettime(CLOCK_MONOTONIC, &t0);
    int err = decompress(&im, info.decompressed_size, &out, &len);
    clock_gettime(CLOCK_MONOTONIC, &t1);
    ck_assert_msg(err == BZIMAGE_OK, "%s: %s", path, bzimage_strerror(err));
    ck_assert_uint_eq(len, info.decompressed_size);
    ck_assert_mem_eq(out.b, "\x7f" "ELF", 4);
    ck_assert_int_eq(elf_pv_parse(out.b, len, &pv), ELF_PV_OK);
    ck_assert_str_eq(pv.guest_os, "linux");
    printf("real_kernel: %s: protocol %x, %zu -> %zu bytes in %.2f s (ASan build)\n", path,
           info.version, info.payload_size, len,
           (double)(t1.tv_sec - t0.tv_sec) + (double)(t1.tv_nsec - t0.tv_nsec) / 1e9);
    buf_free(&out);
    buf_free(&im);
}
END_TEST

static Suite *bzimage_suite(void)
{
    Suite *s = suite_create("bzimage");
    TCase *tc = tcase_create("synthetic");
    tcase_set_timeout(tc, 60);
    tcase_add_test(tc, synthetic_linux_image);
    tcase_add_test(tc, header_variants);
    tcase_add_test(tc, malformed_headers);
    tcase_add_test(tc, other_compressions);
    tcase_add_test(tc, payload_faults);
    tcase_add_test(tc, strerror_names);
    suite_add_tcase(s, tc);
    TCase *real = tcase_create("real");
    tcase_set_timeout(real, 300);
    tcase_add_test(real, real_kernel);
    suite_add_tcase(s, real);
    return s;
}

UNIT_MAIN(bzimage_suite)
