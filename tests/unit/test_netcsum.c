/* SPDX-License-Identifier: MIT */
/*
 * lib/netcsum.c: known-answer frames built by hand (IPv4 UDP with Ethernet
 * padding, IPv4 TCP with options behind a VLAN tag, IPv6 TCP and UDP; the
 * expected checksums were computed apart from this code), random frames of
 * every kind checked by an independent sum (pseudo-header + segment with
 * the filled checksum must add up to 0xffff), UDP's 0 sent as 0xffff, and
 * the frames it must refuse without touching them.
 */
#include "unit.h"
#include "ones_sum.h"
#include "rng.h"
#include <lamina/netcsum.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

static uint32_t unhex(const char *hex, uint8_t *out)
{
    uint32_t n = 0;
    for (; hex[0] && hex[1]; hex += 2) {
        unsigned v;
        ck_assert_int_eq(sscanf(hex, "%2x", &v), 1);
        out[n++] = (uint8_t)v;
    }
    return n;
}

/* Where a test frame's parts are (known to the test, not parsed). */
struct layout {
    uint32_t l3;                   /* IP header */
    bool v6;
    uint32_t l4, l4_len;
    uint8_t proto;
};

static uint32_t csum_off(const struct layout *l)
{
    return l->l4 + (l->proto == 6 ? 16u : 6u);
}

/* The pseudo-header + segment, as the frame now is, sums to 0xffff. */
static void verify(const uint8_t *f, const struct layout *l)
{
    uint64_t ph = 0;
    const uint8_t *ip = f + l->l3;
    if (l->v6)
        ph = ones_sum(ip + 8, 32, 0);
    else
        ph = ones_sum(ip + 12, 8, 0);
    ph += l->proto + (l->l4_len >> 16) + (l->l4_len & 0xffff);
    uint16_t s = ones_sum(f + l->l4, l->l4_len, ph);
    FAST_ASSERT_MSG(s == 0xffff, "sum 0x%04x", s);
}

static uint16_t stored(const uint8_t *f, const struct layout *l)
{
    return (uint16_t)(f[csum_off(l)] << 8 | f[csum_off(l) + 1]);
}

static const struct {
    const char *name, *hex;
    struct layout l;
    uint16_t want;
} known[] = {
    { "ipv4 udp, 17-byte payload, 1 byte of Ethernet padding",
      "52540012345652540065432108004500002d1c46400040119c61c0a80001c0a800c70035c3500019000068656c6c6f2c206c616d69"
      "6e6121212121aa",
      { 14, false, 34, 25, 17 }, 0xe794 },
    { "802.1Q, ipv4 with 4 bytes of options, tcp, 19-byte payload",
      "5254001234565254006543218100006408004600003f1c464000400607700a0000010a00000201010100c0000050010203040a0b0c"
      "0d5018ffff00000000474554202f7820485454502f312e300d0a0d0a",
      { 18, false, 42, 39, 6 }, 0xbc56 },
    { "ipv6 tcp, 7-byte payload",
      "52540012345652540065432186dd60000000001b064020010db800000000000000000000000120010db80000000000000000000000"
      "02d43101bbdeadbeef00000000500272100000000061626364656667",
      { 14, true, 54, 27, 6 }, 0xdd9e },
    { "ipv6 udp, 5-byte payload",
      "52540012345652540065432186dd60000000000d11fffe800000000000000000000000000001ff020000000000000000000000010002"
      "02220223000d000068656c6c6f",
      { 14, true, 54, 13, 17 }, 0xba35 },
};

START_TEST(test_add)
{
    /* RFC 1071 section 3's example: the sum of these words is 0xddf2. */
    static const uint8_t rfc[] = { 0x00, 0x01, 0xf2, 0x03, 0xf4, 0xf5, 0xf6, 0xf7 };
    uint32_t s = netcsum_add(0, rfc, sizeof(rfc));
    while (s >> 16)
        s = (s & 0xffff) + (s >> 16);
    ck_assert_uint_eq(s, 0xddf2);
    /* An odd last byte is the high half of a word. */
    static const uint8_t odd[] = { 0x12, 0x34, 0xab };
    ck_assert_uint_eq(netcsum_add(0, odd, 3), 0x1234 + 0xab00);
    ck_assert_uint_eq(netcsum_add(5, odd, 0), 5);
    /* 64 KiB of 0xff does not overflow. */
    static uint8_t ff[65536];
    memset(ff, 0xff, sizeof(ff));
    s = netcsum_add(0xffffffffu - 0x20000u, ff, sizeof(ff));
    ck_assert_uint_eq(ones_sum((const uint8_t *)"", 0, s), ones_sum(ff, sizeof(ff), 0xffffffffu - 0x20000u));
    /* Against the plain sum on random data. */
    rng = 77;
    for (unsigned t = 0; t < 2000; t++) {
        uint8_t b[300];
        uint32_t n = below(sizeof(b) + 1);
        for (uint32_t i = 0; i < n; i++)
            b[i] = (uint8_t)rnd();
        uint32_t start = below(0x30000);
        FAST_ASSERT(ones_sum((const uint8_t *)"", 0, netcsum_add(start, b, n)) == ones_sum(b, n, start));
    }
}
END_TEST

START_TEST(test_known_answers)
{
    for (unsigned k = 0; k < sizeof(known) / sizeof(known[0]); k++) {
        uint8_t f[128], orig[128];
        uint32_t len = unhex(known[k].hex, f);
        memcpy(orig, f, len);
        const struct layout *l = &known[k].l;
        /* netcsum_parse finds the parts where the test put them. */
        struct netcsum_pkt p;
        ck_assert_msg(netcsum_parse(f, len, &p) == 0, "%s: not parsed", known[k].name);
        ck_assert_uint_eq(p.l3, l->l3);
        ck_assert_uint_eq(p.l4, l->l4);
        ck_assert_uint_eq(p.l4_len, l->l4_len);
        ck_assert_uint_eq(p.proto, l->proto);
        ck_assert_int_eq(p.v6, l->v6);
        ck_assert_uint_eq(ones_sum((const uint8_t *)"", 0, p.addr_sum),
                          ones_sum(f + l->l3 + (l->v6 ? 8 : 12), l->v6 ? 32 : 8, 0));
        ck_assert_msg(netcsum_fill(f, len) == 0, "%s: refused", known[k].name);
        ck_assert_msg(stored(f, l) == known[k].want, "%s: 0x%04x, want 0x%04x", known[k].name, stored(f, l),
                      known[k].want);
        verify(f, l);
        /* Only the two checksum bytes changed. */
        for (uint32_t i = 0; i < len; i++)
            if (i != csum_off(l) && i != csum_off(l) + 1)
                ck_assert_msg(f[i] == orig[i], "%s: byte %u changed", known[k].name, i);
        /* Whatever was in the field before makes no difference. */
        f[csum_off(l)] = 0x5a;
        f[csum_off(l) + 1] = 0xa5;
        ck_assert_int_eq(netcsum_fill(f, len), 0);
        ck_assert_uint_eq(stored(f, l), known[k].want);
    }
    /* The padding of the first frame is not summed. */
    uint8_t f[128];
    uint32_t len = unhex(known[0].hex, f);
    f[len - 1] = 0x55;
    ck_assert_int_eq(netcsum_fill(f, len), 0);
    ck_assert_uint_eq(stored(f, &known[0].l), known[0].want);
}
END_TEST

/* A payload word that makes the computed checksum 0: add the checksum to
 * a payload word (one's complement), so the whole sums to 0xffff. */
START_TEST(test_zero_checksum)
{
    for (unsigned k = 0; k < sizeof(known) / sizeof(known[0]); k++) {
        uint8_t f[128];
        uint32_t len = unhex(known[k].hex, f);
        const struct layout *l = &known[k].l;
        uint32_t w = l->l4 + (l->proto == 6 ? 20u : 8u);     /* first payload word */
        uint32_t v = (uint32_t)(f[w] << 8 | f[w + 1]) + known[k].want;
        v = (v & 0xffff) + (v >> 16);
        f[w] = (uint8_t)(v >> 8);
        f[w + 1] = (uint8_t)v;
        ck_assert_int_eq(netcsum_fill(f, len), 0);
        /* UDP sends 0 as 0xffff (0 means "no checksum"); TCP has no such rule. */
        ck_assert_msg(stored(f, l) == (l->proto == 17 ? 0xffff : 0x0000), "%s: 0x%04x", known[k].name,
                      stored(f, l));
        verify(f, l);
    }
}
END_TEST

/* A random frame of the given kind; returns its length, *l its layout. */
static uint32_t random_frame(uint8_t *f, bool v6, bool vlan, uint8_t proto, struct layout *l)
{
    uint32_t at = 0;
    for (; at < 12; at++)
        f[at] = (uint8_t)rnd();
    if (vlan) {
        f[at++] = 0x81;
        f[at++] = 0x00;
        f[at++] = (uint8_t)(rnd() & 0x0f);
        f[at++] = (uint8_t)rnd();
    }
    f[at++] = v6 ? 0x86 : 0x08;
    f[at++] = v6 ? 0xdd : 0x00;
    l->l3 = at;
    l->v6 = v6;
    l->proto = proto;
    uint32_t hdr = proto == 6 ? 20 + 4 * below(11) : 8;
    uint32_t l4_len = hdr + below(1400 - hdr);
    if (v6) {
        f[at] = 0x60;
        for (unsigned i = 1; i < 4; i++)
            f[at + i] = (uint8_t)rnd();
        f[at + 4] = (uint8_t)(l4_len >> 8);
        f[at + 5] = (uint8_t)l4_len;
        f[at + 6] = proto;
        f[at + 7] = (uint8_t)rnd();
        for (unsigned i = 8; i < 40; i++)
            f[at + i] = (uint8_t)rnd();
        at += 40;
    } else {
        uint32_t ihl = 5 + below(11);
        uint32_t total = ihl * 4 + l4_len;
        f[at] = (uint8_t)(0x40 | ihl);
        f[at + 1] = (uint8_t)rnd();
        f[at + 2] = (uint8_t)(total >> 8);
        f[at + 3] = (uint8_t)total;
        f[at + 4] = (uint8_t)rnd();
        f[at + 5] = (uint8_t)rnd();
        f[at + 6] = chance(50) ? 0x40 : 0x00;      /* DF or nothing: not a fragment */
        f[at + 7] = 0;
        f[at + 8] = (uint8_t)rnd();
        f[at + 9] = proto;
        for (unsigned i = 10; i < ihl * 4; i++)
            f[at + i] = (uint8_t)rnd();
        at += ihl * 4;
    }
    l->l4 = at;
    l->l4_len = l4_len;
    for (uint32_t i = 0; i < l4_len; i++)
        f[at + i] = (uint8_t)rnd();
    if (proto == 17) {
        f[at + 4] = (uint8_t)(l4_len >> 8);
        f[at + 5] = (uint8_t)l4_len;
    } else {
        f[at + 12] = (uint8_t)((hdr / 4) << 4);
    }
    at += l4_len;
    uint32_t pad = chance(30) ? below(20) : 0;   /* Ethernet padding, not summed */
    for (uint32_t i = 0; i < pad; i++)
        f[at++] = (uint8_t)rnd();
    return at;
}

START_TEST(test_random_frames)
{
    rng = 12345;
    unsigned kinds[8] = { 0 };
    for (unsigned t = 0; t < 4000; t++) {
        static uint8_t f[1600], orig[1600];
        struct layout l;
        unsigned kind = below(8);
        bool v6 = kind & 1, vlan = kind & 2;
        uint8_t proto = (kind & 4) ? 17 : 6;
        uint32_t len = random_frame(f, v6, vlan, proto, &l);
        memcpy(orig, f, len);
        FAST_ASSERT_MSG(netcsum_fill(f, len) == 0, "frame %u refused", t);
        verify(f, &l);
        uint32_t c = csum_off(&l);
        FAST_ASSERT(memcmp(f, orig, c) == 0 && memcmp(f + c + 2, orig + c + 2, len - c - 2) == 0);
        if (proto == 17)
            FAST_ASSERT(stored(f, &l) != 0);
        kinds[kind]++;
    }
    for (unsigned k = 0; k < 8; k++)
        ck_assert_uint_gt(kinds[k], 300);
}
END_TEST

/* `mutate` applied to known frame k: refused, frame unchanged. */
static void refused(unsigned k, const char *what, uint32_t cut, void (*mutate)(uint8_t *f, uint32_t *len))
{
    uint8_t f[128], orig[128];
    uint32_t len = unhex(known[k].hex, f);
    if (cut)
        len = cut;
    if (mutate)
        mutate(f, &len);
    memcpy(orig, f, len);
    ck_assert_msg(netcsum_fill(f, len) == -1, "%s: accepted", what);
    ck_assert_msg(memcmp(f, orig, len) == 0, "%s: frame changed", what);
}

static void set16(uint8_t *p, uint32_t v)
{
    p[0] = (uint8_t)(v >> 8);
    p[1] = (uint8_t)v;
}

/* Frame 0 (ipv4 udp at 14), frame 1 (vlan, ipv4 at 18 with ihl 6, tcp),
 * frame 2 (ipv6 tcp), frame 3 (ipv6 udp). */
static void m_arp(uint8_t *f, uint32_t *len) { (void)len; set16(f + 12, 0x0806); }
static void m_qinq(uint8_t *f, uint32_t *len) { (void)len; set16(f + 16, 0x8100); }
static void m_v4_version(uint8_t *f, uint32_t *len) { (void)len; f[14] = 0x65; }
static void m_ihl4(uint8_t *f, uint32_t *len) { (void)len; f[14] = 0x44; }
static void m_ihl_past_total(uint8_t *f, uint32_t *len) { (void)len; f[14] = 0x4f; }  /* 60 > total 45 */
static void m_total_long(uint8_t *f, uint32_t *len) { set16(f + 16, *len - 14 + 1); }
static void m_total_short(uint8_t *f, uint32_t *len) { (void)len; set16(f + 16, 19); }
static void m_mf(uint8_t *f, uint32_t *len) { (void)len; set16(f + 20, 0x2000); }
static void m_frag_off(uint8_t *f, uint32_t *len) { (void)len; set16(f + 20, 0x4001); }
static void m_icmp(uint8_t *f, uint32_t *len) { (void)len; f[23] = 1; }
static void m_udp_short(uint8_t *f, uint32_t *len) { (void)len; set16(f + 16, 20 + 7); }
static void m_tcp_short(uint8_t *f, uint32_t *len) { (void)len; set16(f + 20, 24 + 19); }
static void m_v6_version(uint8_t *f, uint32_t *len) { (void)len; f[14] = 0x40; }
static void m_v6_payload_long(uint8_t *f, uint32_t *len) { set16(f + 18, *len - 54 + 1); }
static void m_v6_hop_by_hop(uint8_t *f, uint32_t *len) { (void)len; f[20] = 0; }
static void m_v6_icmp(uint8_t *f, uint32_t *len) { (void)len; f[20] = 58; }
static void m_v6_tcp_short(uint8_t *f, uint32_t *len) { (void)len; set16(f + 18, 19); }
static void m_v6_udp_short(uint8_t *f, uint32_t *len) { (void)len; set16(f + 18, 7); }

START_TEST(test_refusals)
{
    uint8_t none[1] = { 0 };
    ck_assert_int_eq(netcsum_fill(none, 0), -1);
    refused(0, "13 bytes", 13, NULL);
    refused(1, "vlan tag cut", 17, NULL);
    refused(0, "arp", 0, m_arp);
    refused(1, "two vlan tags", 0, m_qinq);
    refused(0, "ipv4 header cut", 14 + 19, NULL);
    refused(0, "ip version 6 in an ipv4 frame", 0, m_v4_version);
    refused(0, "ihl 4", 0, m_ihl4);
    refused(0, "ihl beyond total length", 0, m_ihl_past_total);
    refused(0, "total length beyond the frame", 59, m_total_long);
    refused(0, "total length below the header", 0, m_total_short);
    refused(0, "more fragments", 0, m_mf);
    refused(0, "fragment offset", 0, m_frag_off);
    refused(0, "icmp", 0, m_icmp);
    refused(0, "udp shorter than its header", 0, m_udp_short);
    refused(1, "tcp shorter than its header", 0, m_tcp_short);
    refused(1, "ipv4 frame cut inside tcp", 70, NULL);
    refused(2, "ipv6 header cut", 14 + 39, NULL);
    refused(2, "ip version 4 in an ipv6 frame", 0, m_v6_version);
    refused(2, "ipv6 payload beyond the frame", 0, m_v6_payload_long);
    refused(2, "ipv6 frame cut", 70, NULL);
    refused(2, "hop-by-hop header first", 0, m_v6_hop_by_hop);
    refused(3, "icmpv6", 0, m_v6_icmp);
    refused(2, "ipv6 tcp shorter than its header", 0, m_v6_tcp_short);
    refused(3, "ipv6 udp shorter than its header", 0, m_v6_udp_short);
}
END_TEST

static Suite *netcsum_suite(void)
{
    Suite *s = suite_create("netcsum");
    TCase *tc = tcase_create("netcsum");
    tcase_add_test(tc, test_add);
    tcase_add_test(tc, test_known_answers);
    tcase_add_test(tc, test_zero_checksum);
    tcase_add_test(tc, test_random_frames);
    tcase_add_test(tc, test_refusals);
    suite_add_tcase(s, tc);
    return s;
}

UNIT_MAIN(netcsum_suite)
