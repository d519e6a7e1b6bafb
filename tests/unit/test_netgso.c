/* SPDX-License-Identifier: MIT */
/*
 * lib/netgso.c: TCP packets built by the test (IPv4 with and without
 * options, IPv6, each with and without an 802.1Q tag, TCP options, payloads
 * below, at and above one mss, exact multiples and not, up to 64 KiB) are
 * cut, and every frame is checked against the test's own knowledge of the
 * packet: headers unchanged except the fields GSO sets, IPv4 ids and TCP
 * sequence numbers counted on, FIN/PSH only last and CWR only first, the
 * IPv4 header and TCP checksums verified by an independent one's complement
 * sum, and the payloads put back together equal to the original. Then the
 * packets it must refuse (nothing emitted, -1), and a fuzzer of random and
 * mutated packets under ASan. Every packet handed to netgso_segment sits in
 * a heap block of exactly its length, so any read past it is reported.
 */
#include "unit.h"
#include "ones_sum.h"
#include "rng.h"
#include <lamina/netgso.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#define FIN 0x01
#define PSH 0x08
#define ACK 0x10
#define CWR 0x80

static uint32_t get16(const uint8_t *p) { return (uint32_t)p[0] << 8 | p[1]; }
static uint32_t get32(const uint8_t *p) { return get16(p) << 16 | get16(p + 2); }
static void set16(uint8_t *p, uint32_t v)
{
    p[0] = (uint8_t)(v >> 8);
    p[1] = (uint8_t)v;
}

/* A test packet and where its parts are (known to the test, not parsed). */
struct pkt {
    uint8_t *b;                   /* exactly len bytes, on the heap */
    uint32_t len;
    uint32_t l3, l4, thl, payload; /* IP header, TCP header, its length, payload bytes */
    bool v6;
};

struct spec {
    bool v6, vlan;
    uint32_t ip_opts;             /* IPv4 option bytes (multiple of 4, <= 40) */
    uint32_t tcp_opts;            /* TCP option bytes (multiple of 4, <= 40) */
    uint32_t payload;
    uint8_t flags;
    uint32_t seq;
    uint16_t id;
    uint32_t pad;                 /* Ethernet padding after the IP packet */
};

static struct pkt build(const struct spec *s)
{
    struct pkt p = { .v6 = s->v6, .payload = s->payload, .thl = 20 + s->tcp_opts };
    uint32_t iph = s->v6 ? 40 : 20 + s->ip_opts;
    p.l3 = s->vlan ? 18 : 14;
    p.l4 = p.l3 + iph;
    p.len = p.l4 + p.thl + s->payload + s->pad;
    p.b = malloc(p.len);
    ck_assert_ptr_nonnull(p.b);
    for (uint32_t i = 0; i < p.len; i++)
        p.b[i] = (uint8_t)rnd();
    uint8_t *f = p.b;
    if (s->vlan) {
        set16(f + 12, 0x8100);
        set16(f + 14, 0x0064);
    }
    set16(f + p.l3 - 2, s->v6 ? 0x86dd : 0x0800);
    uint8_t *ip = f + p.l3;
    uint32_t l4_len = p.thl + s->payload;
    ck_assert_uint_le(s->v6 ? l4_len : iph + l4_len, 0xffff);
    if (s->v6) {
        ip[0] = 0x60 | (ip[0] & 0x0f);
        set16(ip + 4, l4_len);
        ip[6] = 6;
    } else {
        ip[0] = (uint8_t)(0x40 | (iph / 4));
        set16(ip + 2, iph + l4_len);
        set16(ip + 4, s->id);
        set16(ip + 6, (ip[6] & 0x40) << 8);     /* DF or not; never a fragment */
        ip[9] = 6;
    }
    uint8_t *tcp = f + p.l4;
    set16(tcp + 4, s->seq >> 16);
    set16(tcp + 6, s->seq);
    tcp[12] = (uint8_t)((p.thl / 4) << 4);
    tcp[13] = s->flags;
    return p;
}

/* What the emit callback checks each frame against. */
struct expect {
    const struct pkt *p;
    uint16_t mss;
    uint32_t frames;
    uint8_t *joined;              /* the payloads, concatenated */
    uint32_t joined_len;
};

static void check_frame(void *arg, const uint8_t *f, uint32_t len)
{
    struct expect *e = arg;
    const struct pkt *p = e->p;
    const uint8_t *o = p->b;
    uint32_t i = e->frames++, off = i * e->mss;
    FAST_ASSERT_MSG(off < p->payload || (off == 0 && p->payload == 0), "frame %u: one too many", i);
    uint32_t seg = p->payload - off < e->mss ? p->payload - off : e->mss;
    bool first = i == 0, last = off + seg == p->payload;
    uint32_t hdrs = p->l4 + p->thl;
    FAST_ASSERT_MSG(len == hdrs + seg, "frame %u: length %u, want %u", i, len, hdrs + seg);
    FAST_ASSERT(len <= NETGSO_MAX_FRAME);
    /* Ethernet (and tag) unchanged. */
    FAST_ASSERT(memcmp(f, o, p->l3) == 0);
    const uint8_t *ip = f + p->l3, *oip = o + p->l3;
    uint32_t l4_len = p->thl + seg;
    if (p->v6) {
        FAST_ASSERT(memcmp(ip, oip, 4) == 0 && memcmp(ip + 6, oip + 6, 34) == 0);
        FAST_ASSERT_MSG(get16(ip + 4) == l4_len, "frame %u: ipv6 payload %u", i, get16(ip + 4));
    } else {
        uint32_t iph = p->l4 - p->l3;
        FAST_ASSERT(memcmp(ip, oip, 2) == 0 && memcmp(ip + 6, oip + 6, 4) == 0);
        FAST_ASSERT(memcmp(ip + 12, oip + 12, iph - 12) == 0);      /* addresses, options */
        FAST_ASSERT_MSG(get16(ip + 2) == iph + l4_len, "frame %u: total %u", i, get16(ip + 2));
        FAST_ASSERT_MSG(get16(ip + 4) == ((get16(oip + 4) + i) & 0xffff), "frame %u: id %u", i, get16(ip + 4));
        FAST_ASSERT_MSG(ones_sum(ip, iph, 0) == 0xffff, "frame %u: ip header sum", i);
    }
    const uint8_t *tcp = f + p->l4, *otcp = o + p->l4;
    FAST_ASSERT(memcmp(tcp, otcp, 4) == 0);                          /* ports */
    FAST_ASSERT_MSG(get32(tcp + 4) == (uint32_t)(get32(otcp + 4) + off), "frame %u: seq", i);
    FAST_ASSERT(memcmp(tcp + 8, otcp + 8, 5) == 0);                  /* ack, data offset */
    uint8_t want = otcp[13];
    if (!last)
        want &= (uint8_t)~(FIN | PSH);
    if (!first)
        want &= (uint8_t)~CWR;
    FAST_ASSERT_MSG(tcp[13] == want, "frame %u: flags 0x%02x, want 0x%02x", i, tcp[13], want);
    FAST_ASSERT(memcmp(tcp + 14, otcp + 14, 2) == 0);                /* window */
    FAST_ASSERT(memcmp(tcp + 18, otcp + 18, p->thl - 18) == 0);      /* urgent pointer, options */
    uint64_t ph = p->v6 ? ones_sum(ip + 8, 32, 0) : ones_sum(ip + 12, 8, 0);
    ph += 6 + l4_len;
    FAST_ASSERT_MSG(ones_sum(tcp, l4_len, ph) == 0xffff, "frame %u: tcp checksum", i);
    memcpy(e->joined + e->joined_len, tcp + p->thl, seg);
    e->joined_len += seg;
}

/* Cuts p at mss and checks every frame, the count and the joined payload. */
static void cut_and_check(const struct pkt *p, uint16_t mss)
{
    struct expect e = { .p = p, .mss = mss, .joined = malloc(p->payload + 1) };
    ck_assert_ptr_nonnull(e.joined);
    uint8_t *orig = malloc(p->len);
    ck_assert_ptr_nonnull(orig);
    memcpy(orig, p->b, p->len);
    int n = netgso_segment(p->b, p->len, mss, check_frame, &e);
    uint32_t want = p->payload ? (p->payload + mss - 1) / mss : 1;
    FAST_ASSERT_MSG(n >= 0 && (uint32_t)n == want, "returned %d, want %u (payload %u, mss %u, v6 %d, l3 %u, l4 %u, thl %u)",
                    n, want, p->payload, mss, p->v6, p->l3, p->l4, p->thl);
    FAST_ASSERT(e.frames == want);
    FAST_ASSERT(e.joined_len == p->payload);
    FAST_ASSERT(memcmp(e.joined, p->b + p->l4 + p->thl, p->payload) == 0);
    FAST_ASSERT(memcmp(orig, p->b, p->len) == 0);                    /* input untouched */
    free(orig);
    free(e.joined);
}

static void cut_spec(const struct spec *s, uint16_t mss)
{
    struct pkt p = build(s);
    cut_and_check(&p, mss);
    free(p.b);
}

START_TEST(test_shapes)
{
    rng = 4242;
    /* Every mix of v4/v6, tag and options, at the mss of a 1500-byte MTU,
     * with payloads around it, multiples of it and up to 64 KiB. */
    unsigned runs = 0;
    for (unsigned kind = 0; kind < 8; kind++) {
        bool v6 = kind & 1, vlan = kind & 2, opts = kind & 4;
        uint32_t ip_opts = opts && !v6 ? 8 : 0, tcp_opts = opts ? 12 : 0;
        uint32_t iph = v6 ? 40 : 20 + ip_opts;
        uint32_t mss = 1500 - iph - 20 - tcp_opts;
        uint32_t room = 0xffff - (v6 ? 0 : iph) - 20 - tcp_opts;  /* the most the IP length allows */
        const uint32_t payloads[] = { 0, 1, mss - 1, mss, mss + 1, 2 * mss, 2 * mss + 1, 3000, 44 * mss, room };
        for (unsigned k = 0; k < sizeof(payloads) / sizeof(payloads[0]); k++) {
            struct spec s = { .v6 = v6, .vlan = vlan, .ip_opts = ip_opts, .tcp_opts = tcp_opts,
                              .payload = payloads[k], .flags = ACK | PSH | FIN | CWR,
                              .seq = (uint32_t)rnd(), .id = (uint16_t)rnd() };
            cut_spec(&s, (uint16_t)mss);
            runs++;
        }
    }
    ck_assert_uint_eq(runs, 80);
}
END_TEST

START_TEST(test_flags)
{
    rng = 99;
    /* Each of FIN, PSH, CWR alone, and with ACK/URG/ECE/SYN/RST kept on every frame. */
    static const uint8_t flag_sets[] = { FIN, PSH, CWR, FIN | PSH | CWR, 0xff, ACK, 0 };
    for (unsigned k = 0; k < sizeof(flag_sets) / sizeof(flag_sets[0]); k++) {
        for (uint32_t payload = 1; payload <= 4 * 500; payload += 499) {
            struct spec s = { .v6 = k & 1, .payload = payload, .flags = flag_sets[k], .seq = (uint32_t)rnd() };
            cut_spec(&s, 500);
        }
    }
    /* 25 bytes at mss 10: exactly 3 frames (10, 10, 5). */
    struct spec s = { .payload = 25, .flags = FIN | PSH | CWR | ACK, .seq = 1000, .id = 7 };
    struct pkt p = build(&s);
    struct expect e = { .p = &p, .mss = 10, .joined = malloc(25) };
    ck_assert_int_eq(netgso_segment(p.b, p.len, 10, check_frame, &e), 3);
    ck_assert_uint_eq(e.frames, 3);
    free(e.joined);
    free(p.b);
}
END_TEST

/* The last frame seen, for the tests that look at one frame. */
struct last {
    uint8_t f[NETGSO_MAX_FRAME];
    uint32_t len, count;
    uint32_t seqs[8], ids[8];
    uint8_t flags[8];
};

static void keep_last(void *arg, const uint8_t *f, uint32_t len)
{
    struct last *l = arg;
    ck_assert_uint_le(len, NETGSO_MAX_FRAME);
    memcpy(l->f, f, len);
    l->len = len;
    if (l->count < 8) {
        l->seqs[l->count] = get32(f + 14 + 20 + 4);
        l->ids[l->count] = get16(f + 14 + 4);
        l->flags[l->count] = f[14 + 20 + 13];
    }
    l->count++;
}

START_TEST(test_wraparound)
{
    rng = 5;
    /* Sequence numbers and IPv4 ids wrap; values written out. */
    struct spec s = { .payload = 30, .flags = ACK | FIN | CWR, .seq = 0xfffffff0u, .id = 0xfffe };
    struct pkt p = build(&s);
    struct last l = { 0 };
    ck_assert_int_eq(netgso_segment(p.b, p.len, 10, keep_last, &l), 3);
    ck_assert_uint_eq(l.count, 3);
    ck_assert_uint_eq(l.seqs[0], 0xfffffff0u);
    ck_assert_uint_eq(l.seqs[1], 0xfffffffau);
    ck_assert_uint_eq(l.seqs[2], 0x00000004u);
    ck_assert_uint_eq(l.ids[0], 0xfffe);
    ck_assert_uint_eq(l.ids[1], 0xffff);
    ck_assert_uint_eq(l.ids[2], 0x0000);
    ck_assert_uint_eq(l.flags[0], ACK | CWR);
    ck_assert_uint_eq(l.flags[1], ACK);
    ck_assert_uint_eq(l.flags[2], ACK | FIN);
    free(p.b);
    cut_spec(&s, 10);
}
END_TEST

/* One frame when the payload fits; the checksum field's old value (a
 * pseudo-header sum, zero, garbage) makes no difference; padding dropped. */
START_TEST(test_single_frame)
{
    rng = 31337;
    for (unsigned t = 0; t < 200; t++) {
        struct spec s = { .v6 = t & 1, .vlan = t & 2, .tcp_opts = 4 * below(11), .payload = below(1400),
                          .flags = (uint8_t)rnd(), .seq = (uint32_t)rnd(), .id = (uint16_t)rnd(),
                          .pad = chance(30) ? below(20) : 0 };
        struct pkt p = build(&s);
        uint32_t mss = p.payload + below(3000);
        if (mss == 0)
            mss = 1;
        if (mss > 0xffff)
            mss = 0xffff;
        cut_and_check(&p, (uint16_t)mss);
        uint8_t first[NETGSO_MAX_FRAME];
        struct last l = { 0 };
        ck_assert_int_eq(netgso_segment(p.b, p.len, (uint16_t)mss, keep_last, &l), 1);
        memcpy(first, l.f, l.len);
        /* Another old checksum value: the same frame. */
        p.b[p.l4 + 16] ^= 0x5a;
        p.b[p.l4 + 17] = (uint8_t)rnd();
        l.count = 0;
        ck_assert_int_eq(netgso_segment(p.b, p.len, (uint16_t)mss, keep_last, &l), 1);
        ck_assert_uint_eq(l.len, p.l4 + p.thl + p.payload);
        ck_assert_mem_eq(first, l.f, l.len);
        free(p.b);
    }
}
END_TEST

START_TEST(test_max_frame)
{
    rng = 8;
    /* Headers 14 + 20 + 20: mss 1464 makes 1518-byte frames; 1465 is refused. */
    struct spec s = { .payload = 5000, .flags = ACK, .seq = 1 };
    struct pkt p = build(&s);
    cut_and_check(&p, 1464);
    struct last l = { 0 };
    ck_assert_int_eq(netgso_segment(p.b, p.len, 1464, keep_last, &l), 4);
    ck_assert_uint_eq(l.len, 54 + 5000 - 3 * 1464);
    ck_assert_int_eq(netgso_segment(p.b, p.len, 1465, keep_last, &l), -1);
    ck_assert_int_eq(netgso_segment(p.b, p.len, 0xffff, keep_last, &l), -1);
    ck_assert_uint_eq(l.count, 4);
    free(p.b);
    /* A tag and the most options: headers 18 + 60 + 60 leave 1380. */
    struct spec t = { .vlan = true, .ip_opts = 40, .tcp_opts = 40, .payload = 4000, .flags = ACK };
    p = build(&t);
    cut_and_check(&p, 1380);
    l.count = 0;
    ck_assert_int_eq(netgso_segment(p.b, p.len, 1381, keep_last, &l), -1);
    ck_assert_uint_eq(l.count, 0);
    free(p.b);
    /* mss 1 on 3000 bytes: 3000 frames of one byte. */
    struct spec u = { .v6 = true, .payload = 3000, .flags = ACK | PSH };
    p = build(&u);
    cut_and_check(&p, 1);
    free(p.b);
}
END_TEST

static void must_not_emit(void *arg, const uint8_t *f, uint32_t len)
{
    (void)arg;
    (void)f;
    ck_abort_msg("emitted a %u-byte frame for a refused packet", len);
}

/* s built, then `mutate`d (it may shorten *len): refused, nothing emitted. */
static void refused(const char *what, const struct spec *s, uint16_t mss, void (*mutate)(struct pkt *p))
{
    struct pkt p = build(s);
    /* The packet before the change is accepted (at mss 100), so the change is what is refused. */
    struct expect e = { .p = &p, .mss = 100, .joined = malloc(p.payload + 1) };
    ck_assert_msg(netgso_segment(p.b, p.len, 100, check_frame, &e) > 0, "%s: base packet refused", what);
    free(e.joined);
    if (mutate)
        mutate(&p);
    /* Copy into a block of the (maybe shorter) length, so ASan sees overreads. */
    uint8_t *b = malloc(p.len ? p.len : 1);
    memcpy(b, p.b, p.len);
    ck_assert_msg(netgso_segment(b, p.len, mss, must_not_emit, NULL) == -1, "%s: accepted", what);
    free(b);
    free(p.b);
}

static void m_udp(struct pkt *p) { p->b[p->l3 + (p->v6 ? 6 : 9)] = 17; }
static void m_icmp(struct pkt *p) { p->b[p->l3 + (p->v6 ? 6 : 9)] = 1; }
static void m_arp(struct pkt *p) { set16(p->b + 12, 0x0806); }
static void m_qinq(struct pkt *p) { set16(p->b + 16, 0x8100); }
static void m_mf(struct pkt *p) { set16(p->b + p->l3 + 6, 0x2000); }
static void m_frag_off(struct pkt *p) { set16(p->b + p->l3 + 6, 0x4001); }
static void m_ihl4(struct pkt *p) { p->b[p->l3] = 0x44; }
static void m_ihl0(struct pkt *p) { p->b[p->l3] = 0x40; }
static void m_version(struct pkt *p) { p->b[p->l3] ^= 0x20; }
static void m_total_beyond(struct pkt *p) { set16(p->b + p->l3 + 2, p->len - p->l3 + 1); }
static void m_total_short(struct pkt *p) { set16(p->b + p->l3 + 2, p->l4 - p->l3 + 19); }
static void m_v6_payload_beyond(struct pkt *p) { set16(p->b + p->l3 + 4, p->len - p->l4 + 1); }
static void m_v6_payload_short(struct pkt *p) { set16(p->b + p->l3 + 4, 19); }
static void m_v6_hop_by_hop(struct pkt *p) { p->b[p->l3 + 6] = 0; }
static void m_doff4(struct pkt *p) { p->b[p->l4 + 12] = 0x40; }
static void m_doff0(struct pkt *p) { p->b[p->l4 + 12] = 0x00; }
static void m_doff_beyond(struct pkt *p)
{
    /* 60 bytes of TCP header, but only 20 + 30 in the IP payload. */
    p->b[p->l4 + 12] = 0xf0;
}
static void m_cut_1(struct pkt *p) { p->len -= 1; }
static void m_cut_tcp(struct pkt *p) { p->len = p->l4 + 10; }
static void m_cut_ip(struct pkt *p) { p->len = p->l3 + 10; }
static void m_cut_eth(struct pkt *p) { p->len = 13; }
static void m_cut_tag(struct pkt *p) { p->len = 17; }
static void m_empty(struct pkt *p) { p->len = 0; }

START_TEST(test_refusals)
{
    rng = 2024;
    const struct spec v4 = { .payload = 3000, .flags = ACK };
    const struct spec v4vlan = { .vlan = true, .ip_opts = 8, .tcp_opts = 8, .payload = 3000, .flags = ACK };
    const struct spec v6 = { .v6 = true, .payload = 3000, .flags = ACK };
    const struct spec v6vlan = { .v6 = true, .vlan = true, .payload = 3000, .flags = ACK };
    const struct spec short_tcp = { .payload = 30, .flags = ACK };
    const struct spec short_tcp6 = { .v6 = true, .payload = 30, .flags = ACK };
    refused("udp", &v4, 1000, m_udp);
    refused("icmp", &v4vlan, 1000, m_icmp);
    refused("ipv6 udp", &v6, 1000, m_udp);
    refused("ipv6 hop-by-hop first", &v6vlan, 1000, m_v6_hop_by_hop);
    refused("arp", &v4, 1000, m_arp);
    refused("two tags", &v4vlan, 1000, m_qinq);
    refused("more fragments", &v4, 1000, m_mf);
    refused("fragment offset", &v4vlan, 1000, m_frag_off);
    refused("ihl 4", &v4, 1000, m_ihl4);
    refused("ihl 0", &v4vlan, 1000, m_ihl0);
    refused("ipv4 version wrong", &v4, 1000, m_version);
    refused("ipv6 version wrong", &v6, 1000, m_version);
    refused("ipv4 total beyond len", &v4, 1000, m_total_beyond);
    refused("ipv4 total beyond len, tagged", &v4vlan, 1000, m_total_beyond);
    refused("ipv4 total below a tcp header", &v4, 1000, m_total_short);
    refused("ipv6 payload beyond len", &v6, 1000, m_v6_payload_beyond);
    refused("ipv6 payload below a tcp header", &v6vlan, 1000, m_v6_payload_short);
    refused("data offset 4", &v4, 1000, m_doff4);
    refused("data offset 0", &v6, 1000, m_doff0);
    refused("data offset beyond the packet", &short_tcp, 10, m_doff_beyond);
    refused("data offset beyond the ipv6 packet", &short_tcp6, 10, m_doff_beyond);
    refused("one byte short", &v4, 1000, m_cut_1);
    refused("ipv6 one byte short", &v6vlan, 1000, m_cut_1);
    refused("cut in tcp", &v4, 1000, m_cut_tcp);
    refused("cut in ipv6 tcp", &v6, 1000, m_cut_tcp);
    refused("cut in ip", &v4vlan, 1000, m_cut_ip);
    refused("cut in ethernet", &v4, 1000, m_cut_eth);
    refused("cut in tag", &v4vlan, 1000, m_cut_tag);
    refused("empty", &v4, 1000, m_empty);
    refused("mss 0", &v4, 0, NULL);
    refused("mss 0, short packet", &short_tcp, 0, NULL);
    refused("mss 1465", &v4, 1465, NULL);
    refused("mss 65535", &v6, 0xffff, NULL);
    refused("ipv6 mss 1445", &v6, 1445, NULL);
    refused("tagged mss 1445 with options", &v4vlan, 1445, NULL);
    /* The base packets themselves are accepted at the largest mss that fits. */
    cut_spec(&v6, 1444);
    cut_spec(&v4vlan, 1444);
}
END_TEST

struct count {
    uint32_t frames;
    uint64_t sum;                 /* of every byte emitted: makes the reads real */
};

static void count_frame(void *arg, const uint8_t *f, uint32_t len)
{
    struct count *c = arg;
    FAST_ASSERT_MSG(len <= NETGSO_MAX_FRAME && len >= 14, "frame of %u bytes", len);
    /* A 64 KiB packet cut at mss 1 is the most frames there can be; more is a loop. */
    FAST_ASSERT_MSG(c->frames < 65536, "more than 65535 frames");
    /* Read every byte, so ASan sees the whole frame is valid memory. */
    for (uint32_t i = 0; i < len; i++)
        c->sum += f[i];
    c->frames++;
}

START_TEST(test_fuzz)
{
    rng = 0x5eed;
    unsigned accepted = 0, multi = 0;
    for (unsigned t = 0; t < 20000; t++) {
        uint8_t *b;
        uint32_t len;
        if (chance(20)) {
            /* Pure noise, sometimes with an IP ethertype. */
            len = below(2000);
            b = malloc(len ? len : 1);
            for (uint32_t i = 0; i < len; i++)
                b[i] = (uint8_t)rnd();
            if (len >= 14 && chance(70))
                set16(b + 12, chance(50) ? 0x0800 : 0x86dd);
        } else {
            /* A good packet with a few bytes of its headers changed, or cut. */
            struct spec s = { .v6 = chance(50), .vlan = chance(30), .ip_opts = 4 * below(11),
                              .tcp_opts = 4 * below(11), .payload = below(chance(10) ? 65000 : 5000),
                              .flags = (uint8_t)rnd(), .seq = (uint32_t)rnd(), .id = (uint16_t)rnd(),
                              .pad = chance(10) ? below(30) : 0 };
            if (s.v6)
                s.ip_opts = 0;
            struct pkt p = build(&s);
            uint32_t limit = p.l4 + p.thl + 4;
            for (unsigned m = below(4); m; m--)
                p.b[below(limit < p.len ? limit : p.len)] = (uint8_t)rnd();
            len = chance(20) ? below(p.len + 1) : p.len;
            b = malloc(len ? len : 1);
            memcpy(b, p.b, len);
            free(p.b);
        }
        uint16_t mss = (uint16_t)(chance(10) ? rnd() : below(1600));
        struct count c = { 0 };
        int n = netgso_segment(b, len, mss, count_frame, &c);
        if (n == -1) {
            FAST_ASSERT_MSG(c.frames == 0, "case %u: -1 after %u frames", t, c.frames);
        } else {
            FAST_ASSERT_MSG(n > 0 && (uint32_t)n == c.frames, "case %u: returned %d, emitted %u", t, n, c.frames);
            accepted++;
            if (n > 1)
                multi++;
        }
        free(b);
    }
    /* The fuzzer reached the cutting, not only the refusals. */
    ck_assert_uint_gt(accepted, 1000);
    ck_assert_uint_gt(multi, 500);
}
END_TEST

static Suite *netgso_suite(void)
{
    Suite *s = suite_create("netgso");
    TCase *tc = tcase_create("netgso");
    tcase_set_timeout(tc, 60);
    tcase_add_test(tc, test_shapes);
    tcase_add_test(tc, test_flags);
    tcase_add_test(tc, test_wraparound);
    tcase_add_test(tc, test_single_frame);
    tcase_add_test(tc, test_max_frame);
    tcase_add_test(tc, test_refusals);
    tcase_add_test(tc, test_fuzz);
    suite_add_tcase(s, tc);
    return s;
}

UNIT_MAIN(netgso_suite)
