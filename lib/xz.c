/* SPDX-License-Identifier: MIT */
/*
 * .xz decoder; see lamina/xz.h. The container follows "The .xz File Format"
 * 1.1.0 (§2 stream, §3 block, §4 index, §5 filters); LZMA2 chunks and the
 * LZMA range decoder follow liblzma's documentation and Igor Pavlov's
 * lzma-specification. Everything is in memory, so the stream is read from
 * both ends: the footer locates the index, and the index gives every block's
 * exact compressed and uncompressed size before its data is touched. Every
 * loop below is therefore bounded by a size already checked against the
 * buffers. Only one stream is decoded; concatenated streams are refused.
 */
#include <lamina/xz.h>
#include <lamina/string.h>
#include <stdbool.h>

#define ALWAYS_INLINE inline __attribute__((always_inline))

/* ---- Container constants (format §2-§5) --------------------------------- */

#define STREAM_HEADER_SIZE 12
#define STREAM_FOOTER_SIZE 12
#define MAGIC_SIZE 6
#define VLI_BYTES_MAX 9     /* 9 x 7 bits: values below 2^63 */
#define UNPADDED_MIN 5
#define FILTERS_MAX 4
#define FILTER_X86 0x04
#define FILTER_LZMA2 0x21
#define BLOCK_FLAG_NR_FILTERS 0x03
#define BLOCK_FLAG_RESERVED 0x3c
#define BLOCK_FLAG_CSIZE 0x40
#define BLOCK_FLAG_USIZE 0x80
#define LZMA2_DICT_MAX_CODE 40

static const uint8_t stream_magic[MAGIC_SIZE] = { 0xfd, '7', 'z', 'X', 'Z', 0x00 };
static const uint8_t footer_magic[2] = { 'Y', 'Z' };

/* ---- LZMA constants (lzma-specification) -------------------------------- */

#define LZMA_STATES 12
#define LIT_STATES 7        /* states below this follow a literal */
#define POS_STATES_MAX 16   /* 1 << pb, pb <= 4 */
#define LEN_LOW_BITS 3
#define LEN_MID_BITS 3
#define LEN_HIGH_BITS 8
#define LEN_MID_BASE 8
#define LEN_HIGH_BASE 16
#define MATCH_LEN_MIN 2
#define DIST_STATES 4
#define DIST_SLOT_BITS 6
#define DIST_MODEL_START 4
#define DIST_MODEL_END 14
#define FULL_DISTANCES 128
#define ALIGN_BITS 4
#define LIT_CODERS_MAX 16   /* 1 << (lc + lp); LZMA2 requires lc + lp <= 4 */
#define LIT_PROBS 0x300
#define PROB_BITS 11
#define PROB_INIT (1u << (PROB_BITS - 1))
#define MOVE_BITS 5
#define RC_TOP (1u << 24)
#define RC_INIT_BYTES 5
#define END_MARKER 0xffffffffu

struct len_probs {
    uint16_t choice;
    uint16_t choice2;
    uint16_t low[POS_STATES_MAX][1 << LEN_LOW_BITS];
    uint16_t mid[POS_STATES_MAX][1 << LEN_MID_BITS];
    uint16_t high[1 << LEN_HIGH_BITS];
};

/* All uint16_t, so a reset can walk it as one array; literal comes last so
 * that only the 1 << (lc + lp) coders in use need resetting. */
struct lzma_probs {
    uint16_t is_match[LZMA_STATES][POS_STATES_MAX];
    uint16_t is_rep[LZMA_STATES];
    uint16_t is_rep0[LZMA_STATES];
    uint16_t is_rep1[LZMA_STATES];
    uint16_t is_rep2[LZMA_STATES];
    uint16_t is_rep0_long[LZMA_STATES][POS_STATES_MAX];
    uint16_t dist_slot[DIST_STATES][1 << DIST_SLOT_BITS];
    uint16_t dist_special[FULL_DISTANCES - DIST_MODEL_END];
    uint16_t dist_align[1 << ALIGN_BITS];
    struct len_probs match_len;
    struct len_probs rep_len;
    uint16_t literal[LIT_CODERS_MAX][LIT_PROBS];
};

/* LZMA state that carries over from one LZMA2 chunk to the next. */
struct lzma_state {
    unsigned lc, lp, pb;
    unsigned state;
    uint32_t rep0, rep1, rep2, rep3;
    struct lzma_probs probs;
};

/* The caller's workspace. crc32[k] are the slicing-by-8 tables: crc32[0]
 * is the usual byte table, crc32[k][i] is i's CRC advanced by k zero bytes. */
struct work {
    uint32_t crc32[8][256];
    uint64_t crc64[256];
    struct lzma_state lz;
};
_Static_assert(sizeof(struct work) <= XZ_WORK_SIZE, "XZ_WORK_SIZE too small");

/* ---- Small helpers ------------------------------------------------------ */

static ALWAYS_INLINE uint32_t get_le32(const uint8_t *p)
{
    return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

static uint64_t get_le64(const uint8_t *p)
{
    return get_le32(p) | (uint64_t)get_le32(p + 4) << 32;
}

static uint32_t get_be16(const uint8_t *p)
{
    return (uint32_t)p[0] << 8 | p[1];
}

static uint64_t round_up4(uint64_t v)
{
    return (v + 3) & ~(uint64_t)3;
}

/* Reads a variable-length integer (§1.2) from p[*pos, end): at most 9
 * bytes, the last without the continuation bit, no redundant 0x00 byte. */
static int read_vli(const uint8_t *p, size_t end, size_t *pos, uint64_t *out)
{
    uint64_t v = 0;
    for (unsigned i = 0; i < VLI_BYTES_MAX; i++) {
        if (*pos >= end)
            return XZ_ECORRUPT;
        uint8_t b = p[(*pos)++];
        v |= (uint64_t)(b & 0x7f) << (7 * i);
        if (!(b & 0x80)) {
            if (b == 0 && i > 0)
                return XZ_ECORRUPT;
            *out = v;
            return XZ_OK;
        }
    }
    return XZ_ECORRUPT;
}

/* ---- Integrity checks: CRC32, CRC64 (reflected, §6), SHA-256 (FIPS 180-4) */

#define CRC32_POLY 0xedb88320u
#define CRC64_POLY 0xc96c5795d7870f42ull

static void crc32_init(uint32_t *table)
{
    for (uint32_t i = 0; i < 256; i++) {
        uint32_t c = i;
        for (unsigned k = 0; k < 8; k++)
            c = (c >> 1) ^ (c & 1 ? CRC32_POLY : 0);
        table[i] = c;
    }
}

static void crc64_init(uint64_t *table)
{
    for (uint32_t i = 0; i < 256; i++) {
        uint64_t c = i;
        for (unsigned k = 0; k < 8; k++)
            c = (c >> 1) ^ (c & 1 ? CRC64_POLY : 0);
        table[i] = c;
    }
}

/* Byte at a time: headers and the index. */
static uint32_t crc32(const uint32_t *table, const uint8_t *p, size_t n)
{
    uint32_t c = ~0u;
    for (size_t i = 0; i < n; i++)
        c = table[(c ^ p[i]) & 0xff] ^ (c >> 8);
    return ~c;
}

static void crc32_init_sliced(uint32_t t[8][256])
{
    crc32_init(t[0]);
    for (unsigned k = 1; k < 8; k++)
        for (unsigned i = 0; i < 256; i++)
            t[k][i] = (t[k - 1][i] >> 8) ^ t[0][t[k - 1][i] & 0xff];
}

/* Eight bytes at a time, for block data (Linux's payloads use CRC32). The
 * 8-byte load is little-endian, as x86-64 is. */
static uint32_t crc32_sliced(const uint32_t t[8][256], const uint8_t *p, size_t n)
{
    uint32_t c = ~0u;
    size_t i = 0;
    for (; n - i >= 8; i += 8) {
        uint64_t v;
        __builtin_memcpy(&v, p + i, 8);
        uint32_t a = c ^ (uint32_t)v, b = (uint32_t)(v >> 32);
        c = t[7][a & 0xff] ^ t[6][(a >> 8) & 0xff] ^ t[5][(a >> 16) & 0xff] ^ t[4][a >> 24] ^
            t[3][b & 0xff] ^ t[2][(b >> 8) & 0xff] ^ t[1][(b >> 16) & 0xff] ^ t[0][b >> 24];
    }
    for (; i < n; i++)
        c = t[0][(c ^ p[i]) & 0xff] ^ (c >> 8);
    return ~c;
}

static uint64_t crc64(const uint64_t *table, const uint8_t *p, size_t n)
{
    uint64_t c = ~0ull;
    for (size_t i = 0; i < n; i++)
        c = table[(c ^ p[i]) & 0xff] ^ (c >> 8);
    return ~c;
}

static const uint32_t sha256_k[64] = {
    0x428a2f98, 0x71374491, 0xb5c0fbcf, 0xe9b5dba5, 0x3956c25b, 0x59f111f1, 0x923f82a4, 0xab1c5ed5,
    0xd807aa98, 0x12835b01, 0x243185be, 0x550c7dc3, 0x72be5d74, 0x80deb1fe, 0x9bdc06a7, 0xc19bf174,
    0xe49b69c1, 0xefbe4786, 0x0fc19dc6, 0x240ca1cc, 0x2de92c6f, 0x4a7484aa, 0x5cb0a9dc, 0x76f988da,
    0x983e5152, 0xa831c66d, 0xb00327c8, 0xbf597fc7, 0xc6e00bf3, 0xd5a79147, 0x06ca6351, 0x14292967,
    0x27b70a85, 0x2e1b2138, 0x4d2c6dfc, 0x53380d13, 0x650a7354, 0x766a0abb, 0x81c2c92e, 0x92722c85,
    0xa2bfe8a1, 0xa81a664b, 0xc24b8b70, 0xc76c51a3, 0xd192e819, 0xd6990624, 0xf40e3585, 0x106aa070,
    0x19a4c116, 0x1e376c08, 0x2748774c, 0x34b0bcb5, 0x391c0cb3, 0x4ed8aa4a, 0x5b9cca4f, 0x682e6ff3,
    0x748f82ee, 0x78a5636f, 0x84c87814, 0x8cc70208, 0x90befffa, 0xa4506ceb, 0xbef9a3f7, 0xc67178f2,
};

static uint32_t ror32(uint32_t x, unsigned n)
{
    return x >> n | x << (32 - n);
}

static void sha256_block(uint32_t h[8], const uint8_t *p)
{
    uint32_t m[64], v[8];
    for (unsigned i = 0; i < 16; i++)
        m[i] = (uint32_t)p[4 * i] << 24 | (uint32_t)p[4 * i + 1] << 16 |
               (uint32_t)p[4 * i + 2] << 8 | p[4 * i + 3];
    for (unsigned i = 16; i < 64; i++) {
        uint32_t s0 = ror32(m[i - 15], 7) ^ ror32(m[i - 15], 18) ^ m[i - 15] >> 3;
        uint32_t s1 = ror32(m[i - 2], 17) ^ ror32(m[i - 2], 19) ^ m[i - 2] >> 10;
        m[i] = m[i - 16] + s0 + m[i - 7] + s1;
    }
    memcpy(v, h, sizeof(v));
    for (unsigned i = 0; i < 64; i++) {
        uint32_t a = v[0], e = v[4];
        uint32_t t1 = v[7] + (ror32(e, 6) ^ ror32(e, 11) ^ ror32(e, 25)) +
                      ((e & v[5]) ^ (~e & v[6])) + sha256_k[i] + m[i];
        uint32_t t2 = (ror32(a, 2) ^ ror32(a, 13) ^ ror32(a, 22)) +
                      ((a & v[1]) ^ (a & v[2]) ^ (v[1] & v[2]));
        for (unsigned k = 7; k > 0; k--)
            v[k] = v[k - 1];
        v[4] += t1;
        v[0] = t1 + t2;
    }
    for (unsigned i = 0; i < 8; i++)
        h[i] += v[i];
}

static void sha256(const uint8_t *p, size_t n, uint8_t digest[32])
{
    uint32_t h[8] = { 0x6a09e667, 0xbb67ae85, 0x3c6ef372, 0xa54ff53a,
                      0x510e527f, 0x9b05688c, 0x1f83d9ab, 0x5be0cd19 };
    uint8_t tail[128];
    size_t full = n & ~(size_t)63, rest = n - full;
    uint64_t bits = (uint64_t)n * 8;

    for (size_t off = 0; off < full; off += 64)
        sha256_block(h, p + off);
    /* The last bytes, 0x80, zeros, and the length in bits (big-endian). */
    size_t tail_len = rest + 9 <= 64 ? 64 : 128;
    memset(tail, 0, sizeof(tail));
    memcpy(tail, p + full, rest);
    tail[rest] = 0x80;
    for (unsigned i = 0; i < 8; i++)
        tail[tail_len - 1 - i] = (uint8_t)(bits >> (8 * i));
    for (size_t off = 0; off < tail_len; off += 64)
        sha256_block(h, tail + off);
    for (unsigned i = 0; i < 32; i++)
        digest[i] = (uint8_t)(h[i / 4] >> (24 - 8 * (i % 4)));
}

/* Size of the check field for a supported check ID, or -1. */
static int check_size(unsigned id)
{
    switch (id) {
    case XZ_CHECK_NONE:
        return 0;
    case XZ_CHECK_CRC32:
        return 4;
    case XZ_CHECK_CRC64:
        return 8;
    case XZ_CHECK_SHA256:
        return 32;
    default:
        return -1;
    }
}

/* Whether `stored` is the check of data[0, n) under check type id. */
static bool check_matches(const struct work *w, unsigned id, const uint8_t *data, size_t n,
                          const uint8_t *stored)
{
    uint8_t digest[32];
    switch (id) {
    case XZ_CHECK_CRC32:
        return get_le32(stored) == crc32_sliced(w->crc32, data, n);
    case XZ_CHECK_CRC64:
        return get_le64(stored) == crc64(w->crc64, data, n);
    case XZ_CHECK_SHA256:
        sha256(data, n, digest);
        return memcmp(digest, stored, sizeof(digest)) == 0;
    default:
        return id == XZ_CHECK_NONE;
    }
}

/* ---- Range decoder ------------------------------------------------------ */

/*
 * The range decoder of one LZMA chunk lives in four locals of lzma_chunk:
 * `in`/`in_size` (the chunk), `ip` (next byte), `range` and `code`. These
 * macros work on them directly, so they stay in registers at every
 * optimisation level (the hypervisor and dom0 build with -Og by default,
 * which keeps a struct passed by pointer in memory). ip may run past
 * in_size: bytes read there count as 0 and the chunk is refused at its end
 * (ip != in_size), so the hot path needs no error exit. ip grows by at most
 * one per bit decoded.
 */
#define RC_NORMALIZE()                                                                             \
    do {                                                                                           \
        if (range < RC_TOP) {                                                                      \
            range <<= 8;                                                                           \
            code = code << 8 | (ip < in_size ? in[ip] : 0u);                                       \
            ip++;                                                                                  \
        }                                                                                          \
    } while (0)

/* Decodes one bit with the adaptive probability *(prob) into `bit`. */
#define RC_BIT(prob, bit)                                                                          \
    do {                                                                                           \
        uint16_t *p_ = (prob);                                                                     \
        uint32_t pv_ = *p_;                                                                        \
        RC_NORMALIZE();                                                                            \
        uint32_t bound_ = (range >> PROB_BITS) * pv_;                                              \
        if (code < bound_) {                                                                       \
            range = bound_;                                                                        \
            *p_ = (uint16_t)(pv_ + (((1u << PROB_BITS) - pv_) >> MOVE_BITS));                      \
            (bit) = 0;                                                                             \
        } else {                                                                                   \
            range -= bound_;                                                                       \
            code -= bound_;                                                                        \
            *p_ = (uint16_t)(pv_ - (pv_ >> MOVE_BITS));                                            \
            (bit) = 1;                                                                             \
        }                                                                                          \
    } while (0)

/* A bit tree of `bits` levels, most significant bit first, on
 * probs[1 .. 2^bits); the value goes to `out`. */
#define RC_TREE(probs, bits, out)                                                                  \
    do {                                                                                           \
        uint16_t *t_ = (probs);                                                                    \
        unsigned m_ = 1, b_;                                                                       \
        for (unsigned i_ = 0; i_ < (bits); i_++) {                                                 \
            RC_BIT(&t_[m_], b_);                                                                   \
            m_ = m_ << 1 | b_;                                                                     \
        }                                                                                          \
        (out) = m_ - (1u << (bits));                                                               \
    } while (0)

/* A bit tree read least significant bit first, on probs[0 .. 2^bits - 1);
 * the value is added to `out`. */
#define RC_TREE_REV_ADD(probs, bits, out)                                                          \
    do {                                                                                           \
        uint16_t *t_ = (probs);                                                                    \
        unsigned m_ = 1, b_;                                                                       \
        for (unsigned i_ = 0; i_ < (bits); i_++) {                                                 \
            RC_BIT(&t_[m_ - 1], b_);                                                               \
            m_ = m_ << 1 | b_;                                                                     \
            (out) += (uint32_t)b_ << i_;                                                           \
        }                                                                                          \
    } while (0)

/* `bits` bits with fixed probability 1/2, added to `out` << bits. */
#define RC_DIRECT(bits, out)                                                                       \
    do {                                                                                           \
        for (unsigned i_ = 0; i_ < (bits); i_++) {                                                 \
            RC_NORMALIZE();                                                                        \
            range >>= 1;                                                                           \
            uint32_t b_ = code >= range;                                                           \
            code -= range & (0u - b_);                                                             \
            (out) = (out) << 1 | b_;                                                               \
        }                                                                                          \
    } while (0)

/* A match or rep length minus MATCH_LEN_MIN (0-271) into `out`. */
#define LEN_DECODE(lp, ps, out)                                                                    \
    do {                                                                                           \
        struct len_probs *l_ = (lp);                                                               \
        unsigned c_;                                                                               \
        RC_BIT(&l_->choice, c_);                                                                   \
        if (!c_) {                                                                                 \
            RC_TREE(l_->low[ps], LEN_LOW_BITS, out);                                               \
        } else {                                                                                   \
            RC_BIT(&l_->choice2, c_);                                                              \
            if (!c_) {                                                                             \
                RC_TREE(l_->mid[ps], LEN_MID_BITS, out);                                           \
                (out) += LEN_MID_BASE;                                                             \
            } else {                                                                               \
                RC_TREE(l_->high, LEN_HIGH_BITS, out);                                             \
                (out) += LEN_HIGH_BASE;                                                            \
            }                                                                                      \
        }                                                                                          \
    } while (0)

/* ---- LZMA --------------------------------------------------------------- */

static void lzma_reset_state(struct lzma_state *lz)
{
    uint16_t *p = (uint16_t *)&lz->probs;
    size_t n = (offsetof(struct lzma_probs, literal) +
                sizeof(lz->probs.literal[0]) * (1u << (lz->lc + lz->lp))) / sizeof(uint16_t);
    for (size_t i = 0; i < n; i++)
        p[i] = PROB_INIT;
    lz->state = 0;
    lz->rep0 = lz->rep1 = lz->rep2 = lz->rep3 = 0;
}

/* LZMA2's properties byte: (pb * 5 + lp) * 9 + lc with lc + lp <= 4, pb <= 4. */
static bool lzma_set_props(struct lzma_state *lz, unsigned props)
{
    if (props >= 9 * 5 * 5)
        return false;
    lz->lc = props % 9;
    lz->lp = props / 9 % 5;
    lz->pb = props / 45;
    if (lz->lc + lz->lp > 4)
        return false;
    lzma_reset_state(lz);
    return true;
}

/* Copies a match of len bytes from src = dst - distance. Whole 8-byte words
 * when the distance allows (each word then reads only bytes already final),
 * bytes otherwise: fewer memory operations matters most under emulation. */
static ALWAYS_INLINE void copy_match(uint8_t *dst, const uint8_t *src, unsigned len)
{
    unsigned i = 0;
    if (dst - src >= 8) {
        for (; len - i >= 8; i += 8) {
            uint64_t v;
            __builtin_memcpy(&v, src + i, 8);
            __builtin_memcpy(dst + i, &v, 8);
        }
    }
    for (; i < len; i++)
        dst[i] = src[i];
}

/*
 * Decodes one LZMA chunk: exactly in_size bytes of range-coded data into
 * exactly out[o, o_end). The dictionary is out[dict_start, o): a distance
 * must stay inside it and below dict_size, a match must end inside the
 * chunk, and the range decoder must finish (code 0) on the chunk's last
 * byte. Each pass of the loop writes at least one byte, so it runs at most
 * o_end - o times.
 */
static int lzma_chunk(struct lzma_state *lz, const uint8_t *in, size_t in_size, uint8_t *out,
                      size_t dict_start, size_t o, size_t o_end, uint32_t dict_size)
{
    struct lzma_probs *p = &lz->probs;
    const unsigned pb_mask = (1u << lz->pb) - 1, lp_mask = (1u << lz->lp) - 1, lc = lz->lc;
    unsigned state = lz->state, bit;
    uint32_t rep0 = lz->rep0, rep1 = lz->rep1, rep2 = lz->rep2, rep3 = lz->rep3;
    uint32_t range = 0xffffffffu, code;
    size_t ip = RC_INIT_BYTES;

    if (in_size < RC_INIT_BYTES || in[0] != 0)
        return XZ_EDATA;
    code = (uint32_t)in[1] << 24 | (uint32_t)in[2] << 16 | (uint32_t)in[3] << 8 | in[4];

    while (o < o_end) {
        size_t pos = o - dict_start;
        unsigned ps = (unsigned)pos & pb_mask;
        unsigned len;

        RC_BIT(&p->is_match[state][ps], bit);
        if (!bit) {
            unsigned prev = pos ? out[o - 1] : 0;
            uint16_t *lit = p->literal[(((unsigned)pos & lp_mask) << lc) + (prev >> (8 - lc))];
            unsigned sym = 1;
            if (state >= LIT_STATES) {
                /* After a match: rep0 was checked against the dictionary. */
                if (rep0 >= pos)
                    return XZ_EDATA;
                unsigned match = out[o - rep0 - 1];
                do {
                    unsigned mbit = (match >> 7) & 1;
                    match <<= 1;
                    RC_BIT(&lit[((1 + mbit) << 8) + sym], bit);
                    sym = sym << 1 | bit;
                    if (bit != mbit)
                        break;
                } while (sym < 0x100);
            }
            while (sym < 0x100) {
                RC_BIT(&lit[sym], bit);
                sym = sym << 1 | bit;
            }
            out[o++] = (uint8_t)sym;
            state = state < 4 ? 0 : state < 10 ? state - 3 : state - 6;
            continue;
        }
        RC_BIT(&p->is_rep[state], bit);
        if (!bit) {
            /* A new distance: slot, then reverse-tree or direct + align bits. */
            unsigned slot;
            LEN_DECODE(&p->match_len, ps, len);
            state = state < LIT_STATES ? 7 : 10;
            rep3 = rep2;
            rep2 = rep1;
            rep1 = rep0;
            RC_TREE(p->dist_slot[len < DIST_STATES ? len : DIST_STATES - 1], DIST_SLOT_BITS,
                    slot);
            if (slot < DIST_MODEL_START) {
                rep0 = slot;
            } else {
                unsigned nbits = (slot >> 1) - 1;
                rep0 = (2u | (slot & 1)) << nbits;
                if (slot < DIST_MODEL_END) {
                    RC_TREE_REV_ADD(&p->dist_special[rep0 - slot], nbits, rep0);
                } else {
                    uint32_t mid = 0;
                    RC_DIRECT(nbits - ALIGN_BITS, mid);
                    rep0 += mid << ALIGN_BITS;
                    RC_TREE_REV_ADD(p->dist_align, ALIGN_BITS, rep0);
                }
                if (rep0 == END_MARKER) /* LZMA2 chunks have no end marker */
                    return XZ_EDATA;
            }
        } else {
            RC_BIT(&p->is_rep0[state], bit);
            if (!bit) {
                RC_BIT(&p->is_rep0_long[state][ps], bit);
                if (!bit) {
                    /* Short rep: one byte from distance rep0. */
                    if (rep0 >= pos || rep0 >= dict_size)
                        return XZ_EDATA;
                    state = state < LIT_STATES ? 9 : 11;
                    out[o] = out[o - rep0 - 1];
                    o++;
                    continue;
                }
            } else {
                uint32_t dist;
                RC_BIT(&p->is_rep1[state], bit);
                if (!bit) {
                    dist = rep1;
                } else {
                    RC_BIT(&p->is_rep2[state], bit);
                    if (!bit) {
                        dist = rep2;
                    } else {
                        dist = rep3;
                        rep3 = rep2;
                    }
                    rep2 = rep1;
                }
                rep1 = rep0;
                rep0 = dist;
            }
            LEN_DECODE(&p->rep_len, ps, len);
            state = state < LIT_STATES ? 8 : 11;
        }

        len += MATCH_LEN_MIN;
        if (rep0 >= pos || rep0 >= dict_size || len > o_end - o)
            return XZ_EDATA;
        copy_match(out + o, out + (o - rep0 - 1), len);
        o += len;
    }
    RC_NORMALIZE();
    if (ip != in_size || code != 0)
        return XZ_EDATA;
    lz->state = state;
    lz->rep0 = rep0;
    lz->rep1 = rep1;
    lz->rep2 = rep2;
    lz->rep3 = rep3;
    return XZ_OK;
}

/*
 * Decodes an LZMA2 stream: exactly in_size bytes, ending with the 0x00
 * control byte, into exactly out[o, o_end). Chunk control bytes: 0x00 end,
 * 0x01 uncompressed with dictionary reset, 0x02 uncompressed, 0x80-0xff LZMA
 * where bits 5-6 say what is reset (1 state, 2 state and properties, 3 all
 * and the dictionary) and bits 0-4 are bits 16-20 of the uncompressed size
 * minus 1. The first chunk must reset the dictionary and an LZMA chunk after
 * a dictionary reset must bring properties. Each chunk consumes at least one
 * input byte, which bounds the loop.
 */
static int lzma2_decode(struct lzma_state *lz, const uint8_t *in, size_t in_size, uint8_t *out,
                        size_t o, size_t o_end, uint32_t dict_size)
{
    size_t ip = 0, dict_start = o;
    bool need_dict_reset = true, need_props = true;

    for (;;) {
        if (ip >= in_size)
            return XZ_EDATA;
        unsigned ctl = in[ip++];
        if (ctl == 0x00)
            break;
        if (ctl == 0x01 || ctl >= 0xe0) {
            dict_start = o;
            need_dict_reset = false;
            need_props = true;
        } else if (need_dict_reset) {
            return XZ_EDATA;
        }
        if (ctl >= 0x80) {
            size_t hdr = ctl >= 0xc0 ? 5 : 4;
            if (in_size - ip < hdr)
                return XZ_EDATA;
            size_t usize = ((size_t)(ctl & 0x1f) << 16 | get_be16(in + ip)) + 1;
            size_t csize = (size_t)get_be16(in + ip + 2) + 1;
            if (ctl >= 0xc0) {
                if (!lzma_set_props(lz, in[ip + 4]))
                    return XZ_EDATA;
                need_props = false;
            } else if (need_props) {
                return XZ_EDATA;
            } else if (ctl >= 0xa0) {
                lzma_reset_state(lz);
            }
            ip += hdr;
            if (csize > in_size - ip || usize > o_end - o)
                return XZ_EDATA;
            int err = lzma_chunk(lz, in + ip, csize, out, dict_start, o, o + usize, dict_size);
            if (err)
                return err;
            ip += csize;
            o += usize;
        } else if (ctl <= 0x02) {
            if (in_size - ip < 2)
                return XZ_EDATA;
            size_t n = (size_t)get_be16(in + ip) + 1;
            ip += 2;
            if (n > in_size - ip || n > o_end - o)
                return XZ_EDATA;
            memcpy(out + o, in + ip, n);
            ip += n;
            o += n;
        } else {
            return XZ_EDATA;
        }
    }
    return ip == in_size && o == o_end ? XZ_OK : XZ_EDATA;
}

/* ---- x86 BCJ filter (format §5.3.3) ------------------------------------- */

static bool is_00_or_ff(uint8_t b)
{
    return b == 0x00 || b == 0xff;
}

/* The first i' >= i below end with buf[i'] E8 or E9, else some value >= end
 * (i itself may start past end, after a conversion skipped 5). Eight bytes
 * at a time (x86-64 is little-endian: the lowest flagged byte comes first;
 * the zero-byte trick can only over-flag bytes above a real hit). */
static ALWAYS_INLINE size_t next_branch(const uint8_t *buf, size_t i, size_t end)
{
    const uint64_t ones = 0x0101010101010101ull;
    while (i + 8 <= end) { /* i may already be past end */
        uint64_t v;
        __builtin_memcpy(&v, buf + i, 8);
        uint64_t x = (v & (0xfe * ones)) ^ (0xe8 * ones); /* 0x00 where E8/E9 */
        uint64_t hit = (x - ones) & ~x & (0x80 * ones);
        if (hit)
            return i + ((unsigned)__builtin_ctzll(hit) >> 3);
        i += 8;
    }
    while (i < end && (buf[i] & 0xfe) != 0xe8)
        i++;
    return i;
}

/*
 * Undoes the x86 branch converter on buf[0, size), which sits at stream
 * position `start`: the encoder rewrote the 32-bit operand of E8 (call) and
 * E9 (jmp) opcodes from relative to absolute when its top byte was 00 or FF,
 * unless a recent unconverted E8/E9 made the opcode unlikely to be real.
 * `recent` remembers those: bit k (1-3) for one k bytes back; bit 4 for one
 * whose own top operand byte was 00/FF, which blocks until it shifts out.
 * Bits 0 and 4 are always clear when recent is tested (every test follows at
 * least one shift), so a value below 0x10 indexes the tables directly. With
 * exactly one such opcode n = 1-3 bytes back, the operand's low 32 - 8n bits
 * are complemented once more if their top byte came out 00/FF. The result's
 * top byte is then the complement of the earlier opcode's top operand byte,
 * which was not 00/FF, so one round is all the encoder's loop can take. The
 * last four bytes are never converted.
 */
static void bcj_x86_decode(uint8_t *buf, size_t size, uint32_t start)
{
    static const bool allowed[8] = { true, true, true, false, true, false, false, false };
    static const uint8_t back[8] = { 0, 1, 2, 2, 3, 3, 3, 3 };
    unsigned recent = 0;
    size_t last = 0, i = 0;

    if (size < 5)
        return;
    for (;;) {
        i = next_branch(buf, i, size - 4);
        if (i >= size - 4)
            break;
        size_t gap = i - last;
        last = i;
        if (gap > 5) {
            recent = 0;
        } else {
            for (; gap; gap--)
                recent = (recent & 0x77) << 1;
        }
        uint8_t top = buf[i + 4];
        if (is_00_or_ff(top) && recent < 0x10 && allowed[recent >> 1]) {
            uint32_t here = start + (uint32_t)i + 5;
            uint32_t dest = get_le32(buf + i + 1) - here;
            if (recent) {
                unsigned n = back[recent >> 1]; /* 1-3 bytes back */
                if (is_00_or_ff((uint8_t)(dest >> (24 - 8 * n))))
                    dest = (dest ^ (0xffffffffu >> (8 * n))) - here;
            }
            buf[i + 1] = (uint8_t)dest;
            buf[i + 2] = (uint8_t)(dest >> 8);
            buf[i + 3] = (uint8_t)(dest >> 16);
            buf[i + 4] = (dest >> 24) & 1 ? 0xff : 0x00;
            i += 5;
            recent = 0;
        } else {
            i++;
            recent |= 1;
            if (is_00_or_ff(top))
                recent |= 0x10;
        }
    }
}

/* ---- Stream header, footer, index (format §2, §4) ----------------------- */

struct stream {
    unsigned check;
    size_t check_size;
    size_t index_start;   /* the blocks are in [STREAM_HEADER_SIZE, index_start) */
    size_t records;       /* offset of the first index record */
    size_t footer;        /* offset of the stream footer */
    uint64_t nr_blocks;
    uint64_t uncompressed;
    size_t stream_size;
};

/* Reads one index record; unpadded is checked to be >= UNPADDED_MIN. */
static int index_record(const uint8_t *in, size_t end, size_t *pos, uint64_t *unpadded,
                        uint64_t *usize)
{
    int err = read_vli(in, end, pos, unpadded);
    if (!err)
        err = read_vli(in, end, pos, usize);
    if (!err && *unpadded < UNPADDED_MIN)
        err = XZ_ECORRUPT;
    return err;
}

static int parse_stream(const uint32_t *crc_table, const uint8_t *in, size_t in_size,
                        struct stream *s)
{
    if (!in)
        return XZ_EINVAL;
    size_t n = in_size < MAGIC_SIZE ? in_size : MAGIC_SIZE;
    if (memcmp(in, stream_magic, n) != 0)
        return XZ_ENOTXZ;
    /* A stream and its padding are whole multiples of four bytes. */
    if (in_size < STREAM_HEADER_SIZE + STREAM_FOOTER_SIZE || in_size % 4)
        return XZ_ETRUNC;

    /* Stream header: magic, flags (0x00, check ID), CRC32 of the flags. */
    if (get_le32(in + 8) != crc32(crc_table, in + 6, 2) || in[6] != 0 || (in[7] & 0xf0))
        return XZ_ECORRUPT;
    s->check = in[7];
    int csize = check_size(s->check);
    if (csize < 0)
        return XZ_ECHECKTYPE;
    s->check_size = (size_t)csize;

    /* Stream padding: zero groups of four; a footer never ends in zeros. */
    size_t end = in_size;
    while (end > STREAM_HEADER_SIZE && get_le32(in + end - 4) == 0)
        end -= 4;
    if (end < STREAM_HEADER_SIZE + STREAM_FOOTER_SIZE)
        return XZ_ETRUNC;
    const uint8_t *f = in + end - STREAM_FOOTER_SIZE;
    if (memcmp(f + 10, footer_magic, sizeof(footer_magic)) != 0)
        return XZ_ETRUNC;
    if (get_le32(f) != crc32(crc_table, f + 4, 6) || memcmp(f + 8, in + 6, 2) != 0)
        return XZ_ECORRUPT;
    uint64_t index_size = ((uint64_t)get_le32(f + 4) + 1) * 4;
    size_t footer = end - STREAM_FOOTER_SIZE;
    if (index_size > footer - STREAM_HEADER_SIZE)
        return XZ_ECORRUPT;
    s->index_start = footer - (size_t)index_size;
    s->footer = footer;
    s->stream_size = end;

    /* Index: 0x00, record count, (unpadded, uncompressed) records, zero
     * padding to four, CRC32 of all that. Each record takes two bytes or
     * more, which bounds the count before the loop. */
    size_t pos = s->index_start;
    if (in[pos++] != 0x00)
        return XZ_ECORRUPT;
    int err = read_vli(in, footer, &pos, &s->nr_blocks);
    if (err)
        return err;
    if (s->nr_blocks > (footer - pos) / 2)
        return XZ_ECORRUPT;
    s->records = pos;
    const uint64_t area = s->index_start - STREAM_HEADER_SIZE;
    uint64_t blocks = 0, total = 0;
    for (uint64_t k = 0; k < s->nr_blocks; k++) {
        uint64_t unpadded, usize;
        err = index_record(in, footer, &pos, &unpadded, &usize);
        if (err)
            return err;
        if (unpadded > area || round_up4(unpadded) > area - blocks ||
            usize > UINT64_MAX / 2 - total)
            return XZ_ECORRUPT;
        blocks += round_up4(unpadded);
        total += usize;
    }
    while ((pos - s->index_start) % 4) {
        if (pos >= footer || in[pos] != 0)
            return XZ_ECORRUPT;
        pos++;
    }
    if (footer - pos != 4 || get_le32(in + pos) != crc32(crc_table, in + s->index_start,
                                                                pos - s->index_start))
        return XZ_ECORRUPT;
    if (blocks != area)
        return XZ_ECORRUPT;
    s->uncompressed = total;
    return XZ_OK;
}

/* ---- Blocks (format §3) ------------------------------------------------- */

/*
 * Decodes the block at in[bp] whose index record says (unpadded, usize)
 * into out[o, o + usize). The caller has checked that round_up4(unpadded)
 * bytes from bp lie before the index and that out has usize bytes at o.
 */
static int decode_block(struct work *w, const struct stream *s, const uint8_t *in, size_t bp,
                        uint64_t unpadded, uint8_t *out, size_t o, size_t usize)
{
    uint32_t x86_start[FILTERS_MAX];
    uint32_t dict_size = 0;

    /* Block header: size byte ((n + 1) * 4 bytes), flags, optional sizes,
     * filter flags, zero padding, CRC32. */
    size_t hsize = ((size_t)in[bp] + 1) * 4;
    if (in[bp] == 0 || hsize + s->check_size >= unpadded)
        return XZ_ECORRUPT;
    const uint64_t csize = unpadded - hsize - s->check_size;
    size_t hend = bp + hsize - 4;
    if (get_le32(in + hend) != crc32(w->crc32[0], in + bp, hsize - 4))
        return XZ_ECORRUPT;
    uint8_t flags = in[bp + 1];
    if (flags & BLOCK_FLAG_RESERVED)
        return XZ_EOPTIONS;
    size_t pos = bp + 2;
    uint64_t v;
    int err;
    if (flags & BLOCK_FLAG_CSIZE) {
        err = read_vli(in, hend, &pos, &v);
        if (err || v != csize)
            return XZ_ECORRUPT;
    }
    if (flags & BLOCK_FLAG_USIZE) {
        err = read_vli(in, hend, &pos, &v);
        if (err || v != usize)
            return XZ_ECORRUPT;
    }
    unsigned nr_filters = (flags & BLOCK_FLAG_NR_FILTERS) + 1u;
    for (unsigned k = 0; k < nr_filters; k++) {
        uint64_t id, psize;
        if (read_vli(in, hend, &pos, &id) || read_vli(in, hend, &pos, &psize) ||
            psize > hend - pos)
            return XZ_ECORRUPT;
        const uint8_t *props = in + pos;
        pos += (size_t)psize;
        if (k == nr_filters - 1) {
            /* LZMA2, last: dictionary size 2^(n/2+12) or 3*2^(n/2+11). */
            if (id != FILTER_LZMA2 || psize != 1 || props[0] > LZMA2_DICT_MAX_CODE)
                return XZ_EOPTIONS;
            unsigned d = props[0];
            dict_size = d == LZMA2_DICT_MAX_CODE ? 0xffffffffu
                                                 : (2u | (d & 1)) << (d / 2 + 11);
        } else {
            /* x86 BCJ: no properties, or a 32-bit start offset. */
            if (id != FILTER_X86 || (psize != 0 && psize != 4))
                return XZ_EOPTIONS;
            x86_start[k] = psize ? get_le32(props) : 0;
        }
    }
    for (; pos < hend; pos++)
        if (in[pos] != 0)
            return XZ_ECORRUPT;

    /* Compressed data, zero padding to four, check. */
    size_t cstart = bp + hsize;
    err = lzma2_decode(&w->lz, in + cstart, (size_t)csize, out, o, o + usize, dict_size);
    if (err)
        return err;
    for (unsigned k = nr_filters - 1; k-- > 0;)
        bcj_x86_decode(out + o, usize, x86_start[k]);
    size_t cend = cstart + (size_t)csize;
    size_t check_at = cstart + (size_t)round_up4(csize);
    for (size_t k = cend; k < check_at; k++)
        if (in[k] != 0)
            return XZ_ECORRUPT;
    if (!check_matches(w, s->check, out + o, usize, in + check_at))
        return XZ_ECHECK;
    return XZ_OK;
}

/* ---- Entry points ------------------------------------------------------- */

static struct work *work_get(void *work, size_t work_size)
{
    if (!work || work_size < sizeof(struct work) || (uintptr_t)work % 8)
        return NULL;
    struct work *w = work;
    crc32_init_sliced(w->crc32);
    crc64_init(w->crc64);
    return w;
}

int xz_stream_info(const void *in, size_t in_size, struct xz_info *info)
{
    uint32_t crc_table[256]; /* 1 KiB of stack: no workspace needed here */
    struct stream s;

    if (!info)
        return XZ_EINVAL;
    memset(info, 0, sizeof(*info));
    crc32_init(crc_table);
    int err = parse_stream(crc_table, in, in_size, &s);
    if (err)
        return err;
    info->uncompressed_size = s.uncompressed;
    info->nr_blocks = s.nr_blocks;
    info->stream_size = s.stream_size;
    info->check = s.check;
    return XZ_OK;
}

int xz_decode(const void *in, size_t in_size, void *out, size_t out_size, size_t *out_len,
              void *work, size_t work_size)
{
    struct work *w = work_get(work, work_size);
    const uint8_t *src = in;
    struct stream s;

    if (!out_len)
        return XZ_EINVAL;
    *out_len = 0;
    if (!w || (!out && out_size))
        return XZ_EINVAL;
    int err = parse_stream(w->crc32[0], src, in_size, &s);
    if (err)
        return err;
    if (s.uncompressed > out_size) {
        *out_len = s.uncompressed > SIZE_MAX ? SIZE_MAX : (size_t)s.uncompressed;
        return XZ_ENOSPC;
    }

    /* Walk the blocks and the index records side by side; parse_stream
     * checked that the records' padded sizes tile the blocks area exactly
     * and that their uncompressed sizes sum to at most out_size. */
    size_t bp = STREAM_HEADER_SIZE, rp = s.records, o = 0;
    for (uint64_t k = 0; k < s.nr_blocks; k++) {
        uint64_t unpadded, usize;
        err = index_record(src, s.footer, &rp, &unpadded, &usize);
        if (err)
            return err;
        err = decode_block(w, &s, src, bp, unpadded, out, o, (size_t)usize);
        if (err)
            return err;
        bp += (size_t)round_up4(unpadded);
        o += (size_t)usize;
    }
    *out_len = o;
    return XZ_OK;
}

const char *xz_strerror(int err)
{
    switch (err) {
    case XZ_OK:
        return "no error";
    case XZ_EINVAL:
        return "invalid argument (workspace too small or misaligned?)";
    case XZ_ENOTXZ:
        return "not an .xz stream";
    case XZ_ETRUNC:
        return "truncated, or not one whole .xz stream";
    case XZ_ECORRUPT:
        return "corrupt .xz header, index or footer";
    case XZ_EOPTIONS:
        return "unsupported .xz filter or option";
    case XZ_ECHECKTYPE:
        return "unsupported .xz integrity check type";
    case XZ_EDATA:
        return "corrupt compressed data";
    case XZ_ECHECK:
        return "integrity check mismatch";
    case XZ_ENOSPC:
        return "output buffer too small";
    default:
        return "unknown xz error";
    }
}
