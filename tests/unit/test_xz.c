/* SPDX-License-Identifier: MIT */
/*
 * lib/xz.c. Test data is made at test time: by Debian's xz (xz-utils) for
 * real LZMA2 streams, and by a small .xz writer below (stored LZMA2 chunks,
 * any filter chain, deliberate faults) for what xz will not produce. Every
 * input and output lives in a malloc block of exactly its size, so ASan sees
 * any byte read or written outside it. Nothing binary is checked in.
 */
#define _POSIX_C_SOURCE 200809L /* mkdtemp */
#include "unit.h"
#include "test_files.h"
#include <lamina/xz.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* ---- Buffers, PRNG, files ----------------------------------------------- */

static _Alignas(8) uint8_t work[XZ_WORK_SIZE];

static uint64_t rng_state;

static uint64_t rng(void)
{
    rng_state ^= rng_state << 13;
    rng_state ^= rng_state >> 7;
    rng_state ^= rng_state << 17;
    return rng_state;
}

/* ---- Inputs -------------------------------------------------------------- */

static struct buf gen_random(size_t n, uint64_t seed)
{
    struct buf r = buf_new(n);
    rng_state = seed;
    for (size_t i = 0; i < n; i++)
        r.b[i] = (uint8_t)(rng() >> 24);
    return r;
}

/* Text-like runs of words, little-endian tables, and random stretches. */
static struct buf gen_mixed(size_t n, uint64_t seed)
{
    static const char *words[] = { "the ", "hypervisor ", "grant ", "table ", "event ",
                                   "channel ", "domain ", "page ", "frame\n", "of ",
                                   "x86_64 ", "0x1000 ", "vcpu ", "\tmov %rax, %rbx\n" };
    struct buf r = buf_new(n);
    size_t i = 0;
    rng_state = seed;
    while (i < n) {
        unsigned kind = (unsigned)(rng() % 8), run = (unsigned)(rng() % 4096) + 1;
        for (unsigned k = 0; k < run && i < n; k++) {
            if (kind < 5) {
                const char *w = words[rng() % (sizeof(words) / sizeof(words[0]))];
                for (; *w && i < n; w++)
                    r.b[i++] = (uint8_t)*w;
            } else if (kind < 7) {
                uint32_t v = (uint32_t)(i / 8) * 0x10;
                for (unsigned j = 0; j < 4 && i < n; j++)
                    r.b[i++] = (uint8_t)(v >> (8 * j));
            } else {
                r.b[i++] = (uint8_t)rng();
            }
        }
    }
    return r;
}

/* Bytes drawn mostly from E8, E9, 00 and FF: every path of the x86 filter. */
static struct buf gen_branchy(size_t n, uint64_t seed)
{
    static const uint8_t alphabet[] = { 0xe8, 0xe9, 0x00, 0xff, 0x12, 0x80, 0xe8, 0x00 };
    struct buf r = buf_new(n);
    rng_state = seed;
    for (size_t i = 0; i < n; i++) {
        uint64_t v = rng();
        r.b[i] = v % 5 ? alphabet[(v >> 8) % sizeof(alphabet)] : (uint8_t)(v >> 16);
    }
    return r;
}

/* ---- Decoding helpers ---------------------------------------------------- */

/* Decodes xz into an exact-size buffer; returns the error, fills *out. */
static int decode(const struct buf *xz, size_t out_size, struct buf *out)
{
    size_t len = 12345;
    *out = buf_new(out_size);
    int err = xz_decode(xz->b, xz->n, out->b, out->n, &len, work, sizeof(work));
    FAST_ASSERT(len <= out_size || err == XZ_ENOSPC);
    if (!err)
        out->n = len;
    return err;
}

/* Decodes and compares with `want`; also checks xz_stream_info and that one
 * byte less of output is XZ_ENOSPC with the right size. */
static void expect_decodes_to(const struct buf *xz, const void *want, size_t want_n)
{
    struct xz_info info;
    struct buf out;
    ck_assert_int_eq(xz_stream_info(xz->b, xz->n, &info), XZ_OK);
    ck_assert_uint_eq(info.uncompressed_size, want_n);
    ck_assert_uint_le(info.stream_size, xz->n);
    int err = decode(xz, want_n, &out);
    ck_assert_msg(err == XZ_OK, "decode: %s", xz_strerror(err));
    ck_assert_uint_eq(out.n, want_n);
    ck_assert_msg(memcmp(out.b, want, want_n) == 0, "decoded bytes differ");
    buf_free(&out);
    if (want_n) {
        size_t len = 0;
        out = buf_new(want_n - 1);
        ck_assert_int_eq(xz_decode(xz->b, xz->n, out.b, out.n, &len, work, sizeof(work)),
                         XZ_ENOSPC);
        ck_assert_uint_eq(len, want_n);
        buf_free(&out);
    }
}

static void roundtrip(const struct buf *data, const char *opts)
{
    struct buf xz = run_xz(data->b, data->n, opts);
    expect_decodes_to(&xz, data->b, data->n);
    buf_free(&xz);
}

/* ---- A small .xz writer: stored LZMA2 chunks, any filters, faults ------- */

static uint32_t crc32_ref(const uint8_t *p, size_t n)
{
    uint32_t c = ~0u;
    for (size_t i = 0; i < n; i++) {
        c ^= p[i];
        for (int k = 0; k < 8; k++)
            c = c >> 1 ^ (c & 1 ? 0xedb88320u : 0);
    }
    return ~c;
}

static size_t put_vli(uint8_t *p, uint64_t v)
{
    size_t n = 0;
    while (v >= 0x80) {
        p[n++] = (uint8_t)(v | 0x80);
        v >>= 7;
    }
    p[n++] = (uint8_t)v;
    return n;
}

static void put_le32(uint8_t *p, uint32_t v)
{
    for (int i = 0; i < 4; i++)
        p[i] = (uint8_t)(v >> (8 * i));
}

struct filter {
    uint64_t id;
    uint8_t props[4];
    unsigned psize;
};

/* One block. Defaults (zero fields): filters = [LZMA2 dict 1 MiB], the
 * LZMA2 data stores `data` in uncompressed chunks. */
struct blockspec {
    const uint8_t *data;
    size_t n;
    unsigned nr_filters;
    struct filter f[4];
    const uint8_t *lzma2; /* if set, used as the compressed data verbatim */
    size_t lzma2_n;
    uint8_t extra_flags;   /* ORed into the block flags */
    bool has_csize, has_usize;
    int64_t csize_delta, usize_delta; /* added to the sizes in the header */
};

struct streamspec {
    unsigned check;           /* 0 or 1 (CRC32 over data), or any ID (check of zeros) */
    unsigned nr_blocks;
    struct blockspec blk[4];
    int index_count_delta;    /* added to the record count in the index */
    bool bad_header_crc;
};

static size_t check_len(unsigned id)
{
    static const uint8_t sizes[16] = { 0, 4, 4, 4, 8, 8, 8, 16, 16, 16, 32, 32, 32, 64, 64, 64 };
    return sizes[id & 15];
}

/* Stored LZMA2 chunks (0x01 first, then 0x02) and the end byte. */
static size_t lzma2_stored(uint8_t *p, const uint8_t *data, size_t n)
{
    size_t at = 0;
    for (size_t off = 0; off < n; off += 65536) {
        size_t c = n - off < 65536 ? n - off : 65536;
        p[at++] = off ? 0x02 : 0x01;
        p[at++] = (uint8_t)((c - 1) >> 8);
        p[at++] = (uint8_t)(c - 1);
        memcpy(p + at, data + off, c);
        at += c;
    }
    p[at++] = 0x00;
    return at;
}

static struct buf build_xz(const struct streamspec *s)
{
    size_t cap = 4096;
    for (unsigned i = 0; i < s->nr_blocks; i++)
        cap += s->blk[i].n + s->blk[i].n / 8 + s->blk[i].lzma2_n + 2048;
    uint8_t *p = calloc(1, cap);
    uint64_t unpadded[4], usize[4];
    size_t at = 0;
    ck_assert_ptr_nonnull(p);

    memcpy(p, "\xfd" "7zXZ\0", 6);
    p[6] = 0;
    p[7] = (uint8_t)s->check;
    put_le32(p + 8, crc32_ref(p + 6, 2) ^ (s->bad_header_crc ? 1 : 0));
    at = 12;
    for (unsigned i = 0; i < s->nr_blocks; i++) {
        const struct blockspec *b = &s->blk[i];
        uint8_t hdr[1024], *data = p + at + 1024; /* data first, header moved in below */
        size_t cn = b->lzma2 ? (memcpy(data, b->lzma2, b->lzma2_n), b->lzma2_n)
                             : lzma2_stored(data, b->data, b->n);
        unsigned nf = b->nr_filters ? b->nr_filters : 1;
        size_t h = 2;
        hdr[1] = (uint8_t)((nf - 1) | b->extra_flags | (b->has_csize ? 0x40 : 0) |
                           (b->has_usize ? 0x80 : 0));
        if (b->has_csize)
            h += put_vli(hdr + h, (uint64_t)((int64_t)cn + b->csize_delta));
        if (b->has_usize)
            h += put_vli(hdr + h, (uint64_t)((int64_t)b->n + b->usize_delta));
        for (unsigned k = 0; k < nf; k++) {
            struct filter lz2 = { 0x21, { 20 }, 1 };
            const struct filter *f = b->nr_filters ? &b->f[k] : &lz2;
            h += put_vli(hdr + h, f->id);
            h += put_vli(hdr + h, f->psize);
            memcpy(hdr + h, f->props, f->psize);
            h += f->psize;
        }
        size_t hsize = (h + 4 + 3) & ~(size_t)3;
        memset(hdr + h, 0, hsize - 4 - h);
        hdr[0] = (uint8_t)(hsize / 4 - 1);
        put_le32(hdr + hsize - 4, crc32_ref(hdr, hsize - 4));
        memmove(p + at + hsize, data, cn);
        memcpy(p + at, hdr, hsize);
        at += hsize + cn;
        unpadded[i] = hsize + cn + check_len(s->check);
        usize[i] = b->n;
        while (at % 4)
            p[at++] = 0;
        if (s->check == 1)
            put_le32(p + at, crc32_ref(b->data, b->n));
        at += check_len(s->check);
    }
    size_t idx = at;
    p[at++] = 0;
    at += put_vli(p + at, (uint64_t)((int)s->nr_blocks + s->index_count_delta));
    for (unsigned i = 0; i < s->nr_blocks; i++) {
        at += put_vli(p + at, unpadded[i]);
        at += put_vli(p + at, usize[i]);
    }
    while (at % 4)
        p[at++] = 0;
    put_le32(p + at, crc32_ref(p + idx, at - idx));
    at += 4;
    put_le32(p + at + 4, (uint32_t)((at - idx) / 4 - 1));
    p[at + 8] = 0;
    p[at + 9] = (uint8_t)s->check;
    put_le32(p + at, crc32_ref(p + at + 4, 6));
    p[at + 10] = 'Y';
    p[at + 11] = 'Z';
    at += 12;
    struct buf r = buf_dup(p, at);
    free(p);
    return r;
}

static struct blockspec x86_block(const struct buf *d, unsigned nr_x86, uint32_t start)
{
    struct blockspec b = { .data = d->b, .n = d->n, .nr_filters = nr_x86 + 1 };
    for (unsigned k = 0; k < nr_x86; k++) {
        b.f[k].id = 0x04;
        if (start) {
            b.f[k].psize = 4;
            put_le32(b.f[k].props, start + k);
        }
    }
    b.f[nr_x86] = (struct filter){ 0x21, { 20 }, 1 };
    return b;
}

/* ---- Round trips through xz --------------------------------------------- */

START_TEST(empty_and_tiny)
{
    struct buf xz = run_xz("", 0, "");
    struct xz_info info;
    size_t len = 99;
    ck_assert_int_eq(xz_stream_info(xz.b, xz.n, &info), XZ_OK);
    ck_assert_uint_eq(info.nr_blocks, 0);
    ck_assert_uint_eq(info.uncompressed_size, 0);
    ck_assert_int_eq(xz_decode(xz.b, xz.n, NULL, 0, &len, work, sizeof(work)), XZ_OK);
    ck_assert_uint_eq(len, 0);
    buf_free(&xz);

    struct buf one = buf_dup("A", 1);
    roundtrip(&one, "");
    roundtrip(&one, "-9e --check=sha256");
    buf_free(&one);
}
END_TEST

START_TEST(random_incompressible)
{
    /* LZMA2 stores incompressible data in uncompressed chunks. */
    struct buf d = gen_random(1 << 20, 1);
    roundtrip(&d, "");
    buf_free(&d);
}
END_TEST

START_TEST(repetitive)
{
    struct buf d = buf_new(4 << 20);
    memset(d.b, 'a', d.n);
    roundtrip(&d, "");
    for (size_t i = 0; i < d.n; i++)
        d.b[i] = (uint8_t)"lamina hv "[i % 10];
    roundtrip(&d, "-0");
    buf_free(&d);
}
END_TEST

START_TEST(mixed_presets)
{
    struct buf d = gen_mixed(3 << 20, 2);
    roundtrip(&d, "");
    roundtrip(&d, "-0");
    roundtrip(&d, "-9e");
    buf_free(&d);
}
END_TEST

START_TEST(lzma_properties)
{
    /* lc/lp/pb corners, and a 4 KiB dictionary so distances hit its limit. */
    static const char *opts[] = {
        "--lzma2=preset=6,lc=0,lp=4,pb=0", "--lzma2=preset=6,lc=4,lp=0,pb=4",
        "--lzma2=preset=6,lc=1,lp=3,pb=2", "--lzma2=preset=6,dict=4KiB",
        "--lzma2=preset=1,mode=fast,nice=273", "--lzma2=preset=9,mf=bt2,depth=1000",
    };
    struct buf d = gen_mixed(600 << 10, 3);
    for (size_t i = 0; i < sizeof(opts) / sizeof(opts[0]); i++)
        roundtrip(&d, opts[i]);
    buf_free(&d);
}
END_TEST

START_TEST(multi_block)
{
    struct buf d = gen_mixed(1 << 20, 4);
    struct xz_info info;
    /* Odd block sizes: LZMA positions restart at every block. */
    struct buf xz = run_xz(d.b, d.n, "--block-size=12345");
    ck_assert_int_eq(xz_stream_info(xz.b, xz.n, &info), XZ_OK);
    ck_assert_uint_eq(info.nr_blocks, (d.n + 12344) / 12345);
    expect_decodes_to(&xz, d.b, d.n);
    buf_free(&xz);
    /* Threaded xz records both sizes in every block header. */
    roundtrip(&d, "-T2 --block-size=100000");
    roundtrip(&d, "--block-list=1,2,3,70000,0 --check=crc64");
    buf_free(&d);
}
END_TEST

START_TEST(check_types)
{
    static const struct {
        const char *opt;
        unsigned id;
    } checks[] = {
        { "--check=none", XZ_CHECK_NONE }, { "--check=crc32", XZ_CHECK_CRC32 },
        { "--check=crc64", XZ_CHECK_CRC64 }, { "--check=sha256", XZ_CHECK_SHA256 },
    };
    struct buf d = gen_mixed(200 << 10, 5);
    for (size_t i = 0; i < sizeof(checks) / sizeof(checks[0]); i++) {
        struct buf xz = run_xz(d.b, d.n, checks[i].opt);
        struct xz_info info;
        ck_assert_int_eq(xz_stream_info(xz.b, xz.n, &info), XZ_OK);
        ck_assert_uint_eq(info.check, checks[i].id);
        expect_decodes_to(&xz, d.b, d.n);
        buf_free(&xz);
    }
    /* SHA-256 padding edges: the length field in the same or the next block. */
    static const size_t sizes[] = { 0, 55, 56, 63, 64, 65, 119, 120, 128 };
    for (size_t i = 0; i < sizeof(sizes) / sizeof(sizes[0]); i++) {
        struct buf s = gen_mixed(sizes[i], 6 + i);
        roundtrip(&s, "--check=sha256");
        buf_free(&s);
    }
    buf_free(&d);
}
END_TEST

START_TEST(x86_filter)
{
    /* Real x86 code: this test binary. */
    struct buf exe = read_file("/proc/self/exe");
    roundtrip(&exe, "--x86 --lzma2");
    roundtrip(&exe, "--x86=start=4096 --lzma2=preset=6 --check=crc32");
    roundtrip(&exe, "--x86 --x86=start=3 --lzma2 --block-size=77777");
    buf_free(&exe);
    struct buf b = gen_branchy(300 << 10, 7);
    roundtrip(&b, "--x86 --lzma2");
    roundtrip(&b, "--x86=start=4294967290 --lzma2");
    buf_free(&b);
}
END_TEST

/* The writer's streams against `xz -dc`: the x86 decoder on arbitrary bytes
 * (not only what an encoder produces), start offsets, filter chains. */
START_TEST(x86_against_xz)
{
    static const uint32_t starts[] = { 0, 1, 255, 256, 0xfffffffbu, 0x12345678u };
    for (unsigned it = 0; it < 48; it++) {
        struct buf d = gen_branchy(it * 97 + it % 5, 100 + it);
        struct streamspec s = { .check = 0, .nr_blocks = 1 };
        s.blk[0] = x86_block(&d, 1 + it % 3, starts[it % 6]);
        struct buf xz = build_xz(&s);
        struct buf want = run_xz(xz.b, xz.n, "-d");
        expect_decodes_to(&xz, want.b, want.n);
        buf_free(&want);
        buf_free(&xz);
        buf_free(&d);
    }
}
END_TEST

/* ---- Container rules ----------------------------------------------------- */

START_TEST(stream_padding_and_trailing_data)
{
    struct buf d = gen_mixed(5000, 8);
    struct buf xz = run_xz(d.b, d.n, "");
    struct buf out;
    struct xz_info info;
    ck_assert_int_eq(xz_stream_info(xz.b, xz.n, &info), XZ_OK);
    ck_assert_uint_eq(info.stream_size, xz.n);
    for (size_t extra = 1; extra <= 12; extra++) {
        struct buf padded = buf_new(xz.n + extra);
        memcpy(padded.b, xz.b, xz.n);
        memset(padded.b + xz.n, 0, extra);
        if (extra % 4 == 0) {
            expect_decodes_to(&padded, d.b, d.n);
        } else {
            ck_assert_int_eq(decode(&padded, d.n, &out), XZ_ETRUNC);
            buf_free(&out);
        }
        padded.b[padded.n - 1] = 1; /* not padding: garbage */
        ck_assert_int_ne(decode(&padded, d.n, &out), XZ_OK);
        buf_free(&out);
        buf_free(&padded);
    }
    /* Two concatenated streams are refused, not half-decoded. */
    struct buf two = buf_new(2 * xz.n);
    memcpy(two.b, xz.b, xz.n);
    memcpy(two.b + xz.n, xz.b, xz.n);
    ck_assert_int_eq(decode(&two, 2 * d.n, &out), XZ_ECORRUPT);
    buf_free(&out);
    buf_free(&two);
    buf_free(&xz);
    buf_free(&d);
}
END_TEST

START_TEST(writer_streams_decode)
{
    /* Sanity of the writer itself: stored chunks, CRC32, several blocks,
     * sizes in the headers. */
    struct buf a = gen_mixed(70000, 9), b = gen_random(3, 10);
    struct streamspec s = { .check = 1, .nr_blocks = 3 };
    s.blk[0] = (struct blockspec){ .data = a.b, .n = a.n, .has_csize = true, .has_usize = true };
    s.blk[1] = (struct blockspec){ .data = b.b, .n = b.n };
    s.blk[2] = (struct blockspec){ .data = a.b, .n = 0 };
    struct buf xz = build_xz(&s);
    struct buf want = buf_new(a.n + b.n);
    memcpy(want.b, a.b, a.n);
    memcpy(want.b + a.n, b.b, b.n);
    expect_decodes_to(&xz, want.b, want.n);
    struct buf ref = run_xz(xz.b, xz.n, "-d");
    ck_assert_uint_eq(ref.n, want.n);
    buf_free(&ref);
    buf_free(&want);
    buf_free(&xz);
    buf_free(&a);
    buf_free(&b);
}
END_TEST

/* Each case: one fault in an otherwise valid stream, and the error it gets. */
START_TEST(container_faults)
{
    static const uint8_t chunk_one[] = { 0x01, 0x00, 0x00, 'x', 0x00 };
    static const uint8_t chunk_no_reset[] = { 0x02, 0x00, 0x00, 'x', 0x00 };
    static const uint8_t chunk_bad_ctl[] = { 0x01, 0x00, 0x00, 'x', 0x03 };
    static const uint8_t chunk_lzma_no_props[] = { 0x01, 0x00, 0x00, 'x', 0x80, 0, 0, 0, 4,
                                                   0, 0, 0, 0, 0, 0x00 };
    static const uint8_t chunk_no_end[] = { 0x01, 0x00, 0x00, 'x' };
    static const uint8_t chunk_bad_props[] = { 0xe0, 0, 0, 0, 4, 225, 0, 0, 0, 0, 0, 0x00 };
    static const uint8_t chunk_lc_lp[] = { 0xe0, 0, 0, 0, 4, 3 + 9 * 2, 0, 0, 0, 0, 0, 0x00 };
    static const uint8_t chunk_rc_first[] = { 0xe0, 0, 0, 0, 4, 93, 1, 0, 0, 0, 0, 0x00 };
    struct blockspec base = { .data = (const uint8_t *)"xyz", .n = 3 };
    struct buf xz, out;
#define EXPECT(want, ...)                                                                          \
    do {                                                                                           \
        struct streamspec s = { .check = 1, .nr_blocks = 1, .blk = { base } };                    \
        __VA_ARGS__;                                                                               \
        xz = build_xz(&s);                                                                         \
        int got = decode(&xz, 64, &out);                                                           \
        ck_assert_msg(got == (want), "%s: got %d (%s), want %d", #__VA_ARGS__, got,               \
                      xz_strerror(got), (want));                                                   \
        buf_free(&out);                                                                            \
        buf_free(&xz);                                                                             \
    } while (0)

    EXPECT(XZ_OK, (void)0);
    EXPECT(XZ_ECORRUPT, s.bad_header_crc = true);
    EXPECT(XZ_ECHECKTYPE, s.check = 2);
    EXPECT(XZ_ECHECKTYPE, s.check = 15);
    EXPECT(XZ_EOPTIONS, s.blk[0].extra_flags = 0x04);
    EXPECT(XZ_EOPTIONS, s.blk[0].extra_flags = 0x20);
    EXPECT(XZ_ECORRUPT, s.blk[0].has_csize = true; s.blk[0].csize_delta = 1);
    EXPECT(XZ_ECORRUPT, s.blk[0].has_usize = true; s.blk[0].usize_delta = -1);
    EXPECT(XZ_OK, s.blk[0].has_csize = true; s.blk[0].has_usize = true);
    EXPECT(XZ_ECORRUPT, s.index_count_delta = 1);
    EXPECT(XZ_ECORRUPT, s.index_count_delta = -1);
    /* Filter chains: delta (unsupported), LZMA2 not last, x86 last, bad props. */
    EXPECT(XZ_EOPTIONS, s.blk[0].nr_filters = 2; s.blk[0].f[0] = (struct filter){ 0x03, { 0 }, 1 };
           s.blk[0].f[1] = (struct filter){ 0x21, { 20 }, 1 });
    EXPECT(XZ_EOPTIONS, s.blk[0].nr_filters = 2; s.blk[0].f[0] = (struct filter){ 0x21, { 20 }, 1 };
           s.blk[0].f[1] = (struct filter){ 0x21, { 20 }, 1 });
    EXPECT(XZ_EOPTIONS, s.blk[0].nr_filters = 1; s.blk[0].f[0] = (struct filter){ 0x04, { 0 }, 0 });
    EXPECT(XZ_EOPTIONS, s.blk[0].nr_filters = 1; s.blk[0].f[0] = (struct filter){ 0x21, { 41 }, 1 });
    EXPECT(XZ_EOPTIONS, s.blk[0].nr_filters = 1; s.blk[0].f[0] = (struct filter){ 0x21, { 0x40 }, 1 });
    EXPECT(XZ_EOPTIONS, s.blk[0].nr_filters = 1; s.blk[0].f[0] = (struct filter){ 0x21, { 1, 2 }, 2 });
    EXPECT(XZ_EOPTIONS, s.blk[0].nr_filters = 2; s.blk[0].f[0] = (struct filter){ 0x04, { 1, 2 }, 2 };
           s.blk[0].f[1] = (struct filter){ 0x21, { 20 }, 1 });
    EXPECT(XZ_OK, s.blk[0].nr_filters = 1; s.blk[0].f[0] = (struct filter){ 0x21, { 40 }, 1 });
    EXPECT(XZ_OK, s.blk[0].nr_filters = 4; s.blk[0].f[0] = (struct filter){ 0x04, { 0 }, 0 };
           s.blk[0].f[1] = s.blk[0].f[0]; s.blk[0].f[2] = s.blk[0].f[0];
           s.blk[0].f[3] = (struct filter){ 0x21, { 0 }, 1 });
    /* LZMA2 chunk rules. The check is over "xyz", so a stream that decodes
     * to anything else fails one way or another; these fail in LZMA2. */
    EXPECT(XZ_EDATA, s.check = 0; s.blk[0].lzma2 = chunk_no_reset;
           s.blk[0].lzma2_n = sizeof(chunk_no_reset); s.blk[0].n = 1);
    EXPECT(XZ_EDATA, s.check = 0; s.blk[0].lzma2 = chunk_bad_ctl;
           s.blk[0].lzma2_n = sizeof(chunk_bad_ctl); s.blk[0].n = 1);
    EXPECT(XZ_EDATA, s.check = 0; s.blk[0].lzma2 = chunk_lzma_no_props;
           s.blk[0].lzma2_n = sizeof(chunk_lzma_no_props); s.blk[0].n = 2);
    EXPECT(XZ_EDATA, s.check = 0; s.blk[0].lzma2 = chunk_no_end;
           s.blk[0].lzma2_n = sizeof(chunk_no_end); s.blk[0].n = 1);
    EXPECT(XZ_EDATA, s.check = 0; s.blk[0].lzma2 = chunk_bad_props;
           s.blk[0].lzma2_n = sizeof(chunk_bad_props); s.blk[0].n = 1);
    EXPECT(XZ_EDATA, s.check = 0; s.blk[0].lzma2 = chunk_lc_lp;
           s.blk[0].lzma2_n = sizeof(chunk_lc_lp); s.blk[0].n = 1);
    EXPECT(XZ_EDATA, s.check = 0; s.blk[0].lzma2 = chunk_rc_first;
           s.blk[0].lzma2_n = sizeof(chunk_rc_first); s.blk[0].n = 1);
    /* LZMA2 data that ends before, or runs on after, the index's size. */
    EXPECT(XZ_EDATA, s.check = 0; s.blk[0].lzma2 = chunk_one;
           s.blk[0].lzma2_n = sizeof(chunk_one); s.blk[0].n = 2);
    EXPECT(XZ_EDATA, s.check = 0; s.blk[0].lzma2 = chunk_one;
           s.blk[0].lzma2_n = sizeof(chunk_one); s.blk[0].n = 0);
    EXPECT(XZ_OK, s.check = 0; s.blk[0].lzma2 = chunk_one;
           s.blk[0].lzma2_n = sizeof(chunk_one); s.blk[0].n = 1);
#undef EXPECT
}
END_TEST

START_TEST(bad_arguments)
{
    struct buf d = gen_mixed(1000, 11);
    struct buf xz = run_xz(d.b, d.n, "");
    struct buf out = buf_new(d.n);
    struct xz_info info;
    size_t len;
    ck_assert_int_eq(xz_decode(xz.b, xz.n, out.b, out.n, NULL, work, sizeof(work)), XZ_EINVAL);
    ck_assert_int_eq(xz_decode(xz.b, xz.n, out.b, out.n, &len, NULL, sizeof(work)), XZ_EINVAL);
    ck_assert_int_eq(xz_decode(xz.b, xz.n, out.b, out.n, &len, work, XZ_WORK_SIZE / 2), XZ_EINVAL);
    ck_assert_int_eq(xz_decode(xz.b, xz.n, out.b, out.n, &len, work + 4, sizeof(work) - 4),
                     XZ_EINVAL);
    ck_assert_int_eq(xz_decode(xz.b, xz.n, NULL, out.n, &len, work, sizeof(work)), XZ_EINVAL);
    ck_assert_int_eq(xz_decode(NULL, 0, out.b, out.n, &len, work, sizeof(work)), XZ_EINVAL);
    ck_assert_int_eq(xz_stream_info(xz.b, xz.n, NULL), XZ_EINVAL);
    ck_assert_int_eq(xz_decode(d.b, d.n, out.b, out.n, &len, work, sizeof(work)), XZ_ENOTXZ);
    ck_assert_int_eq(xz_stream_info("\xfd" "7z", 3, &info), XZ_ETRUNC);
    ck_assert_int_eq(xz_stream_info("", 0, &info), XZ_ETRUNC);
    ck_assert_int_eq(xz_stream_info("PK", 2, &info), XZ_ENOTXZ);
    buf_free(&out);
    buf_free(&xz);
    buf_free(&d);
}
END_TEST

START_TEST(strerror_names)
{
    for (int e = 0; e >= XZ_ENOSPC; e--) {
        ck_assert_ptr_nonnull(xz_strerror(e));
        ck_assert_str_ne(xz_strerror(e), "unknown xz error");
        for (int f = 0; f > e; f--)
            ck_assert_str_ne(xz_strerror(e), xz_strerror(f));
    }
    ck_assert_str_eq(xz_strerror(-77), "unknown xz error");
}
END_TEST

/* ---- Hostile input ------------------------------------------------------- */

START_TEST(truncated_everywhere)
{
    struct buf d = gen_mixed(20000, 12);
    struct buf xz = run_xz(d.b, d.n, "--block-size=7000");
    struct buf out = buf_new(d.n);
    for (size_t n = 0; n < xz.n; n++) {
        struct buf cut = buf_dup(xz.b, n);
        size_t len;
        int err = xz_decode(cut.b, cut.n, out.b, out.n, &len, work, sizeof(work));
        FAST_ASSERT_MSG(err < 0, "prefix of %zu bytes decoded", n);
        buf_free(&cut);
    }
    buf_free(&out);
    buf_free(&xz);
    buf_free(&d);
}
END_TEST

/* Every single-bit flip of a small CRC32- or CRC64-checked file is caught,
 * or leaves a stream that still decodes to the same bytes (flipping lc in a
 * properties byte can do that: xz accepts those too). */
START_TEST(every_bit_flip_detected)
{
    unsigned harmless = 0;
    static const char *opts[] = { "--check=crc32", "--check=crc64 --x86 --lzma2 --block-size=900" };
    struct buf d = gen_mixed(3000, 13);
    for (size_t o = 0; o < 2; o++) {
        struct buf xz = run_xz(d.b, d.n, opts[o]);
        for (size_t bit = 0; bit < xz.n * 8; bit++) {
            struct buf bad = buf_dup(xz.b, xz.n), out;
            bad.b[bit / 8] ^= (uint8_t)(1u << (bit % 8));
            int err = decode(&bad, d.n, &out);
            FAST_ASSERT_MSG(err < 0 || (out.n == d.n && memcmp(out.b, d.b, d.n) == 0),
                            "flip of bit %zu gave wrong data (%s)", bit, opts[o]);
            harmless += err == XZ_OK;
            buf_free(&out);
            buf_free(&bad);
        }
        buf_free(&xz);
    }
    ck_assert_uint_lt(harmless, 8);
    buf_free(&d);
}
END_TEST

/* Random damage to files without a check: garbage out is allowed, crashing,
 * hanging or touching memory outside the buffers is not. */
START_TEST(random_mutations)
{
    static const char *opts[] = { "--check=none -6", "--check=none --x86 --lzma2=preset=2",
                                  "--check=none -0 --lzma2=lc=0,lp=4,pb=4" };
    struct buf d = gen_mixed(40000, 14);
    unsigned ok = 0, total = 0;
    rng_state = 15;
    for (size_t o = 0; o < 3; o++) {
        struct buf xz = run_xz(d.b, d.n, opts[o]);
        for (unsigned it = 0; it < 1500; it++) {
            struct buf bad = buf_dup(xz.b, xz.n), out;
            unsigned flips = 1 + (unsigned)(rng() % 8);
            for (unsigned k = 0; k < flips; k++) {
                size_t at = rng() % bad.n;
                bad.b[at] = it % 2 ? (uint8_t)rng() : (uint8_t)(bad.b[at] ^ (1u << (rng() % 8)));
            }
            /* Sometimes a smaller output buffer than the index asks for. */
            size_t out_size = it % 7 ? d.n : d.n / 2;
            int err = decode(&bad, out_size, &out);
            ok += err == XZ_OK;
            total++;
            buf_free(&out);
            buf_free(&bad);
        }
        buf_free(&xz);
    }
    ck_assert_uint_lt(ok, total);
    buf_free(&d);
}
END_TEST

/* The LZMA decoder on garbage: valid container, compressed data replaced by
 * random bytes after a valid LZMA2 chunk header (check none). */
START_TEST(random_lzma_data)
{
    struct buf d = gen_mixed(100000, 16);
    struct buf xz = run_xz(d.b, d.n, "--check=none -6");
    size_t hsize = ((size_t)xz.b[12] + 1) * 4, data_at = 12 + hsize + 6;
    unsigned errors = 0;
    rng_state = 17;
    for (unsigned it = 0; it < 2000; it++) {
        struct buf bad = buf_dup(xz.b, xz.n), out;
        size_t from = data_at + (it % 3 ? 0 : rng() % 2000);
        size_t to = from + 1 + rng() % 20000;
        if (to > bad.n - 40)
            to = bad.n - 40;
        for (size_t i = from; i < to; i++)
            bad.b[i] = (uint8_t)rng();
        if (it % 2 == 0)
            bad.b[data_at] = 0; /* valid range coder start */
        errors += decode(&bad, d.n, &out) != XZ_OK;
        buf_free(&out);
        buf_free(&bad);
    }
    ck_assert_uint_gt(errors, 1900);
    buf_free(&xz);
    buf_free(&d);
}
END_TEST

static Suite *xz_suite(void)
{
    Suite *s = suite_create("xz");
    TCase *rt = tcase_create("roundtrip");
    tcase_set_timeout(rt, 300);
    tcase_add_test(rt, empty_and_tiny);
    tcase_add_test(rt, random_incompressible);
    tcase_add_test(rt, repetitive);
    tcase_add_test(rt, mixed_presets);
    tcase_add_test(rt, lzma_properties);
    tcase_add_test(rt, multi_block);
    tcase_add_test(rt, check_types);
    tcase_add_test(rt, x86_filter);
    tcase_add_test(rt, x86_against_xz);
    suite_add_tcase(s, rt);

    TCase *fmt = tcase_create("container");
    tcase_add_test(fmt, stream_padding_and_trailing_data);
    tcase_add_test(fmt, writer_streams_decode);
    tcase_add_test(fmt, container_faults);
    tcase_add_test(fmt, bad_arguments);
    tcase_add_test(fmt, strerror_names);
    suite_add_tcase(s, fmt);

    TCase *hostile = tcase_create("hostile");
    tcase_set_timeout(hostile, 300);
    tcase_add_test(hostile, truncated_everywhere);
    tcase_add_test(hostile, every_bit_flip_detected);
    tcase_add_test(hostile, random_mutations);
    tcase_add_test(hostile, random_lzma_data);
    suite_add_tcase(s, hostile);
    return s;
}

UNIT_MAIN(xz_suite)
