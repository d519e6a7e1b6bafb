/* SPDX-License-Identifier: MIT */
/*
 * lib/netif.c: the backend's side of a vif's tx and rx rings against a
 * simulated frontend: layouts, single- and multi-slot packets, extra-info
 * slots, the packets that are only refused (ERROR) and the ring breakages
 * that cut the frontend off; rx responses in their request's slot. Then a
 * random well-behaved frontend against a reference model, and a hostile
 * one that scribbles over the ring (the backend must never read outside
 * the page, never answer more slots than it took, and stay broken).
 */
#include "unit.h"
#include "rng.h"
#include <lamina/netif.h>
#include <public/errno.h>
#include <stdint.h>
#include <string.h>

static _Alignas(4096) uint8_t page[4096];
static struct netif_back_ring ring;
static const struct netif_tx_limits gso_all = { true, true }, gso_none = { false, false };

static struct ring_shared_header *hdr(void)
{
    return (struct ring_shared_header *)page;
}

static union netif_tx_sring_entry *txs(RING_IDX i)
{
    return (union netif_tx_sring_entry *)(page + RING_HEADER_SIZE) + (i & 255);
}

static union netif_rx_sring_entry *rxs(RING_IDX i)
{
    return (union netif_rx_sring_entry *)(page + RING_HEADER_SIZE) + (i & 255);
}

static void fresh_tx(void)
{
    memset(page, 0, sizeof(page));
    netif_ring_attach(&ring, page, NETIF_TX_SLOT_SIZE);
}

static void fresh_rx(void)
{
    memset(page, 0, sizeof(page));
    netif_ring_attach(&ring, page, NETIF_RX_SLOT_SIZE);
}

/* The frontend writes a tx data slot at `i`. */
static void put_tx(RING_IDX i, uint32_t gref, uint16_t off, uint16_t flags, uint16_t id, uint16_t size)
{
    union netif_tx_sring_entry *e = txs(i);
    memset(e, 0, sizeof(*e));
    e->req = (struct netif_tx_request){ gref, off, flags, id, size };
}

static void put_extra(RING_IDX i, uint8_t type, uint8_t flags, uint16_t gso_size, uint8_t gso_type)
{
    union netif_tx_sring_entry *e = txs(i);
    memset(e, 0, sizeof(*e));
    e->extra.type = type;
    e->extra.flags = flags;
    e->extra.u.gso.size = gso_size;
    e->extra.u.gso.type = gso_type;
}

START_TEST(test_layout)
{
    ck_assert_uint_eq(NETIF_TX_RING_SLOTS, 256);
    ck_assert_uint_eq(NETIF_RX_RING_SLOTS, 256);
    fresh_tx();
    ck_assert_uint_eq(ring.core.size, 256);
    fresh_rx();
    ck_assert_uint_eq(ring.core.size, 256);
    ck_assert_uint_eq(NETTXF_more_data, 4);
    ck_assert_uint_eq(NETRXF_extra_info, 8);
}
END_TEST

START_TEST(test_tx_one_slot)
{
    struct netif_tx_packet p;
    fresh_tx();
    ck_assert_int_eq(netif_tx_next(&ring, &gso_none, &p), NETIF_RING_EMPTY);
    put_tx(0, 77, 100, NETTXF_csum_blank, 5, 60);
    ck_assert_int_eq(netif_tx_next(&ring, &gso_none, &p), NETIF_RING_EMPTY);   /* not published */
    hdr()->req_prod = 1;
    ck_assert_int_eq(netif_tx_next(&ring, &gso_none, &p), NETIF_RING_GOT);
    ck_assert_uint_eq(p.len, 60);
    ck_assert_uint_eq(p.nr_frags, 1);
    ck_assert_uint_eq(p.frag[0].gref, 77);
    ck_assert_uint_eq(p.frag[0].offset, 100);
    ck_assert_uint_eq(p.frag[0].len, 60);
    ck_assert_uint_eq(p.flags, NETTXF_csum_blank);
    ck_assert_uint_eq(p.nr_slots, 1);
    ck_assert_int_eq(netif_tx_next(&ring, &gso_none, &p), NETIF_RING_EMPTY);
    /* p was cleared by the empty call: take the packet again from a copy */
    hdr()->rsp_event = 1;
    struct netif_tx_packet q = { .nr_slots = 1 };
    q.slot_id[0] = 5;
    netif_tx_respond(&ring, &q, NETIF_RSP_OKAY);
    ck_assert_uint_eq(hdr()->rsp_prod, 0);
    ck_assert(ring_back_push(&ring.core));
    ck_assert_uint_eq(hdr()->rsp_prod, 1);
    ck_assert_uint_eq(txs(0)->rsp.id, 5);
    ck_assert_int_eq(txs(0)->rsp.status, NETIF_RSP_OKAY);
    /* a second answer with no slot taken is not written */
    netif_tx_respond(&ring, &q, NETIF_RSP_OKAY);
    ck_assert_uint_eq(ring.core.rsp_prod_pvt, 1);
    ck_assert(!ring_back_final_check(&ring.core));
    ck_assert_uint_eq(hdr()->req_event, 2);
}
END_TEST

START_TEST(test_tx_multi_slot_gso)
{
    struct netif_tx_packet p;
    fresh_tx();
    /* 3000 bytes: 1000 in slot 0, extra GSO, then 1500 + 500 */
    put_tx(0, 10, 3000, NETTXF_extra_info | NETTXF_more_data, 1, 3000);
    put_extra(1, XEN_NETIF_EXTRA_TYPE_GSO, 0, 1448, XEN_NETIF_GSO_TYPE_TCPV4);
    put_tx(2, 11, 0, NETTXF_more_data, 2, 1500);
    put_tx(3, 12, 2048, 0, 3, 500);
    hdr()->req_prod = 4;
    ck_assert_int_eq(netif_tx_next(&ring, &gso_all, &p), NETIF_RING_GOT);
    ck_assert_uint_eq(p.len, 3000);
    ck_assert_uint_eq(p.nr_frags, 3);
    ck_assert_uint_eq(p.frag[0].len, 1000);
    ck_assert_uint_eq(p.frag[0].offset, 3000);
    ck_assert_uint_eq(p.frag[1].gref, 11);
    ck_assert_uint_eq(p.frag[1].len, 1500);
    ck_assert_uint_eq(p.frag[2].offset, 2048);
    ck_assert_uint_eq(p.gso_type, XEN_NETIF_GSO_TYPE_TCPV4);
    ck_assert_uint_eq(p.gso_size, 1448);
    ck_assert_uint_eq(p.nr_slots, 4);
    netif_tx_respond(&ring, &p, NETIF_RSP_OKAY);
    ring_back_push(&ring.core);
    ck_assert_uint_eq(hdr()->rsp_prod, 4);
    ck_assert_uint_eq(txs(0)->rsp.id, 1);
    ck_assert_int_eq(txs(1)->rsp.status, NETIF_RSP_NULL);
    ck_assert_uint_eq(txs(2)->rsp.id, 2);
    ck_assert_uint_eq(txs(3)->rsp.id, 3);
    ck_assert_int_eq(txs(3)->rsp.status, NETIF_RSP_OKAY);

    /* the same with GSO not offered: consumed, refused */
    fresh_tx();
    put_tx(0, 10, 0, NETTXF_extra_info, 1, 100);
    put_extra(1, XEN_NETIF_EXTRA_TYPE_GSO, 0, 1448, XEN_NETIF_GSO_TYPE_TCPV6);
    put_tx(2, 10, 0, 0, 9, 100);
    hdr()->req_prod = 3;
    ck_assert_int_eq(netif_tx_next(&ring, &gso_none, &p), NETIF_RING_BAD);
    ck_assert_uint_eq(p.nr_slots, 2);
    ck_assert_uint_eq(p.nr_frags, 0);
    ck_assert_int_eq(netif_tx_next(&ring, &gso_none, &p), NETIF_RING_GOT);   /* the next one is fine */
    ck_assert_uint_eq(p.slot_id[0], 9);
}
END_TEST

/* Packets Linux's netback refuses but survives. */
START_TEST(test_tx_bad)
{
    struct netif_tx_packet p;
    fresh_tx();
    put_tx(0, 1, 0, 0, 1, 13);                                     /* runt */
    put_tx(1, 1, 0, NETTXF_more_data, 2, 100);                     /* fragments > size */
    put_tx(2, 1, 0, 0, 3, 101);
    put_tx(3, 1, 0, NETTXF_extra_info, 4, 100);                    /* multicast extra */
    put_extra(4, XEN_NETIF_EXTRA_TYPE_MCAST_ADD, 0, 0, 0);
    RING_IDX i = 5;
    put_tx(i++, 1, 0, NETTXF_more_data, 5, 19 * 10);               /* 19 data slots */
    for (unsigned s = 1; s < 19; s++)
        put_tx(i++, 1, 0, s < 18 ? NETTXF_more_data : 0, (uint16_t)(5 + s), 10);
    put_tx(i++, 1, 4000, 0, 99, 96);                               /* exactly to the page end */
    hdr()->req_prod = i;
    ck_assert_int_eq(netif_tx_next(&ring, &gso_all, &p), NETIF_RING_BAD);
    ck_assert_uint_eq(p.nr_slots, 1);
    ck_assert_int_eq(netif_tx_next(&ring, &gso_all, &p), NETIF_RING_BAD);
    ck_assert_uint_eq(p.nr_slots, 2);
    ck_assert_int_eq(netif_tx_next(&ring, &gso_all, &p), NETIF_RING_BAD);
    ck_assert_uint_eq(p.nr_slots, 2);
    ck_assert(p.slot_extra[1]);
    ck_assert_int_eq(netif_tx_next(&ring, &gso_all, &p), NETIF_RING_BAD);
    ck_assert_uint_eq(p.nr_slots, 19);
    ck_assert_uint_eq(p.slot_id[18], 23);
    netif_tx_respond(&ring, &p, NETIF_RSP_ERROR);
    ck_assert_int_eq(netif_tx_next(&ring, &gso_all, &p), NETIF_RING_GOT);
    ck_assert_uint_eq(p.frag[0].len, 96);
    ck_assert_int_eq(netif_tx_next(&ring, &gso_all, &p), NETIF_RING_EMPTY);
}
END_TEST

/* Each of these cuts the frontend off for good. */
static unsigned fuzz_seen[4];

static void expect_broken(RING_IDX prod)
{
    struct netif_tx_packet p;
    hdr()->req_prod = prod;
    ck_assert_int_eq(netif_tx_next(&ring, &gso_all, &p), NETIF_RING_BROKEN);
    ck_assert(ring.core.broken);
    ck_assert_uint_eq(ring.core.req_cons, 0);
    put_tx(0, 1, 0, 0, 1, 60);
    hdr()->req_prod = 1;
    ck_assert_int_eq(netif_tx_next(&ring, &gso_all, &p), NETIF_RING_BROKEN);
    ck_assert(!ring_back_final_check(&ring.core));
}

START_TEST(test_tx_broken)
{
    fresh_tx();
    put_tx(0, 1, 4000, 0, 1, 97);                          /* past the page */
    expect_broken(1);
    fresh_tx();
    put_tx(0, 1, 4096, 0, 1, 0 + 14);                      /* offset outside */
    expect_broken(1);
    fresh_tx();
    put_tx(0, 1, 0, NETTXF_more_data, 1, 200);
    put_tx(1, 1, 4090, 0, 2, 100);                         /* later slot past the page */
    expect_broken(2);
    fresh_tx();
    put_tx(0, 1, 0, NETTXF_more_data, 1, 200);             /* runs past req_prod */
    expect_broken(1);
    fresh_tx();
    put_tx(0, 1, 0, NETTXF_extra_info, 1, 200);            /* extra past req_prod */
    expect_broken(1);
    fresh_tx();
    put_tx(0, 1, 0, NETTXF_extra_info, 1, 200);
    put_extra(1, XEN_NETIF_EXTRA_TYPE_NONE, 0, 0, 0);      /* bad extra type */
    expect_broken(2);
    fresh_tx();
    put_tx(0, 1, 0, NETTXF_extra_info, 1, 200);
    put_extra(1, XEN_NETIF_EXTRA_TYPE_MAX, 0, 0, 0);
    expect_broken(2);
    fresh_tx();
    put_tx(0, 1, 0, NETTXF_extra_info, 1, 200);
    put_extra(1, XEN_NETIF_EXTRA_TYPE_GSO, 0, 0, XEN_NETIF_GSO_TYPE_TCPV4);   /* MSS 0 */
    expect_broken(2);
    fresh_tx();
    put_tx(0, 1, 0, NETTXF_extra_info, 1, 200);
    for (RING_IDX i = 1; i <= NETIF_TX_MAX_EXTRAS + 1; i++)              /* endless extras */
        put_extra(i, XEN_NETIF_EXTRA_TYPE_GSO, XEN_NETIF_EXTRA_FLAG_MORE, 1, 1);
    expect_broken(NETIF_TX_MAX_EXTRAS + 2);
    fresh_tx();
    for (RING_IDX i = 0; i < 30; i++)                                      /* 21+ data slots */
        put_tx(i, 1, 0, NETTXF_more_data, (uint16_t)i, 10);
    expect_broken(30);
    fresh_tx();
    expect_broken(257);                                                    /* overrun */
    fresh_tx();
    expect_broken(0xffffffffu);                                            /* backwards */
}
END_TEST

START_TEST(test_rx)
{
    struct netif_rx_request rq;
    fresh_rx();
    ck_assert_int_eq(netif_rx_next(&ring, &rq), NETIF_RING_EMPTY);
    ck_assert_int_eq(netif_rx_respond(&ring, 1, 0, 0, 60), -XEN_ENOSPC);
    for (uint16_t i = 0; i < 3; i++) {
        rxs(i)->req.id = (uint16_t)(100 + i);
        rxs(i)->req.gref = 500u + i;
    }
    hdr()->req_prod = 3;
    ck_assert_int_eq(netif_rx_next(&ring, &rq), NETIF_RING_GOT);
    ck_assert_uint_eq(rq.id, 100);
    ck_assert_uint_eq(rq.gref, 500);
    ck_assert_int_eq(netif_rx_next(&ring, &rq), NETIF_RING_GOT);
    ck_assert_int_eq(netif_rx_respond(&ring, 100, 0, 0, 0), -XEN_EINVAL);
    ck_assert_int_eq(netif_rx_respond(&ring, 100, 4000, 0, 97), -XEN_EINVAL);
    ck_assert_int_eq(netif_rx_respond(&ring, 100, 0, NETRXF_gso_prefix, 60), -XEN_EINVAL);
    ck_assert_int_eq(netif_rx_respond(&ring, 100, 0, 0, -3), -XEN_EINVAL);
    ck_assert_int_eq(netif_rx_respond_gso(&ring, 3, 1000), -XEN_EINVAL);
    ck_assert_int_eq(netif_rx_respond(&ring, 100, 10, NETRXF_extra_info | NETRXF_data_validated, 1500), 0);
    ck_assert_int_eq(netif_rx_respond_gso(&ring, XEN_NETIF_GSO_TYPE_TCPV6, 1440), 0);
    ck_assert_int_eq(netif_rx_respond(&ring, 102, 0, 0, NETIF_RSP_DROPPED), -XEN_ENOSPC);
    hdr()->rsp_event = 1;
    ck_assert(ring_back_push(&ring.core));
    ck_assert_uint_eq(rxs(0)->rsp.id, 100);
    ck_assert_uint_eq(rxs(0)->rsp.offset, 10);
    ck_assert_int_eq(rxs(0)->rsp.status, 1500);
    ck_assert_uint_eq(rxs(0)->rsp.flags, NETRXF_extra_info | NETRXF_data_validated);
    ck_assert_uint_eq(rxs(1)->extra.type, XEN_NETIF_EXTRA_TYPE_GSO);
    ck_assert_uint_eq(rxs(1)->extra.u.gso.size, 1440);
    ck_assert_uint_eq(rxs(1)->extra.u.gso.type, XEN_NETIF_GSO_TYPE_TCPV6);
    ck_assert_int_eq(netif_rx_next(&ring, &rq), NETIF_RING_GOT);
    ck_assert_int_eq(netif_rx_respond(&ring, rq.id, 0, 0, NETIF_RSP_DROPPED), 0);
    ck_assert_int_eq(rxs(2)->rsp.status, NETIF_RSP_DROPPED);
    ck_assert_int_eq(netif_rx_next(&ring, &rq), NETIF_RING_EMPTY);
    hdr()->req_prod = 3 + 257;   /* overrun */
    ck_assert_int_eq(netif_rx_next(&ring, &rq), NETIF_RING_BROKEN);
}
END_TEST

/* A well-behaved random frontend: packets of 1..18 data slots, some with a
 * GSO extra, published in batches as ring space allows; the backend must
 * hand back exactly what was queued, and every id must come back once. */
START_TEST(test_tx_random_frontend)
{
    for (uint64_t seed = 1; seed <= 40; seed++) {
        rng = seed * 0x9e3779b97f4a7c15ull;
        fresh_tx();
        struct model { uint16_t len, nfr, gso; uint16_t fl[NETIF_TX_MAX_SLOTS]; uint16_t off[NETIF_TX_MAX_SLOTS]; uint16_t ids[NETIF_TX_MAX_SLOTS]; } q[256];
        unsigned qh = 0, qt = 0;                   /* packets queued, taken */
        RING_IDX prod = 0, rsp_seen = 0;
        static uint8_t answered[65536];
        memset(answered, 0, sizeof(answered));
        uint16_t next_id = 0;
        unsigned sent = 0;
        for (unsigned step = 0; step < 400; step++) {
            /* queue a packet if it fits */
            unsigned nfr = 1 + below(chance(70) ? 1 : 18);
            bool gso = chance(30);
            unsigned need = nfr + gso;
            if ((RING_IDX)(prod + need - rsp_seen) <= 256 && qh - qt < 256) {
                struct model *m = &q[qh % 256];
                m->nfr = (uint16_t)nfr;
                m->gso = gso ? (uint16_t)(1 + below(9000)) : 0;
                uint32_t total = 0;
                for (unsigned f = 0; f < nfr; f++) {
                    m->off[f] = (uint16_t)below(4096);
                    unsigned room = 4096u - m->off[f] < 3600u ? 4096u - m->off[f] : 3600u;   /* 18 * 3600 < 65536 */
                    m->fl[f] = (uint16_t)(f == 0 && nfr == 1 ? 14 + below(4096 - 14) : below(room + 1));
                    if (f == 0 && m->fl[0] + m->off[0] > 4096)
                        m->off[0] = (uint16_t)(4096 - m->fl[0]);
                    m->ids[f] = next_id++;
                    total += m->fl[f];
                }
                if (total < 14) {
                    m->fl[0] = (uint16_t)(m->fl[0] + 14);
                    if (m->off[0] + m->fl[0] > 4096)
                        m->off[0] = (uint16_t)(4096 - m->fl[0]);
                    total += 14;
                }
                m->len = (uint16_t)total;
                for (unsigned f = 0; f < nfr; f++) {
                    uint16_t flags = (uint16_t)(f + 1 < nfr ? NETTXF_more_data : 0);
                    if (f == 0 && gso)
                        flags |= NETTXF_extra_info;
                    put_tx(prod++, 1000 + f, m->off[f], flags, m->ids[f], f == 0 ? m->len : m->fl[f]);
                    if (f == 0 && gso)
                        put_extra(prod++, XEN_NETIF_EXTRA_TYPE_GSO, 0, m->gso, XEN_NETIF_GSO_TYPE_TCPV4);
                }
                qh++;
            }
            if (chance(50))
                hdr()->req_prod = prod;
            /* the backend takes and answers a few */
            unsigned take = below(4);
            for (unsigned t = 0; t < take; t++) {
                struct netif_tx_packet p;
                int res = netif_tx_next(&ring, &gso_all, &p);
                FAST_ASSERT(res == NETIF_RING_GOT || res == NETIF_RING_EMPTY);
                if (res == NETIF_RING_EMPTY)
                    break;
                struct model *m = &q[qt++ % 256];
                FAST_ASSERT(p.len == m->len && p.nr_frags == m->nfr);
                FAST_ASSERT(p.gso_size == m->gso);
                FAST_ASSERT(p.nr_slots == m->nfr + (m->gso != 0));
                for (unsigned f = 0; f < m->nfr; f++)
                    FAST_ASSERT_MSG(p.frag[f].offset == m->off[f] && p.frag[f].len == m->fl[f] &&
                                    p.frag[f].gref == 1000 + f, "seed %llu step %u frag %u",
                                    (unsigned long long)seed, step, f);
                netif_tx_respond(&ring, &p, NETIF_RSP_OKAY);
                sent++;
            }
            ring_back_push(&ring.core);
            /* the frontend collects responses */
            for (; rsp_seen != hdr()->rsp_prod; rsp_seen++) {
                struct netif_tx_response r = txs(rsp_seen)->rsp;
                if (r.status == NETIF_RSP_NULL)
                    continue;
                FAST_ASSERT(r.status == NETIF_RSP_OKAY);
                FAST_ASSERT(!answered[r.id]);
                answered[r.id] = 1;
            }
        }
        ck_assert_uint_gt(sent, 20);
        ck_assert(!ring.core.broken);
    }
}
END_TEST

/* A hostile frontend: random bytes in slots, random indices. The backend
 * must not crash, must keep its own indices consistent, must answer no more
 * slots than it took, and once broken must stay broken. */
START_TEST(test_tx_hostile_fuzz)
{
    for (uint64_t seed = 1; seed <= 300; seed++) {
        rng = seed * 0x2545f4914f6cdd1dull;
        fresh_tx();
        bool was_broken = false;
        for (unsigned step = 0; step < 200; step++) {
            unsigned n = below(8);
            for (unsigned k = 0; k < n; k++) {
                union netif_tx_sring_entry *e = txs(below(256));
                uint8_t *b = (uint8_t *)e;
                for (unsigned j = 0; j < sizeof(*e); j++)
                    b[j] = (uint8_t)rnd();
                if (chance(60))
                    e->req.flags &= 0xf;
                if (chance(50))
                    e->req.offset &= 0xfff;
                if (chance(50))
                    e->req.size &= 0x7ff;
            }
            if (chance(30))
                hdr()->req_prod = chance(10) ? (RING_IDX)rnd() : ring.core.req_cons + below(40);
            struct netif_tx_packet p;
            int res = netif_tx_next(&ring, chance(50) ? &gso_all : &gso_none, &p);
            fuzz_seen[res]++;
            FAST_ASSERT(!was_broken || res == NETIF_RING_BROKEN);
            was_broken = ring.core.broken;
            FAST_ASSERT((RING_IDX)(ring.core.req_cons - ring.core.rsp_prod_pvt) <= 256);
            if (res == NETIF_RING_GOT) {
                FAST_ASSERT(p.len >= 14 && p.nr_frags >= 1 && p.nr_frags <= NETIF_TX_MAX_SLOTS);
                uint32_t sum = 0;
                for (unsigned f = 0; f < p.nr_frags; f++) {
                    FAST_ASSERT(p.frag[f].offset + p.frag[f].len <= 4096);
                    sum += p.frag[f].len;
                }
                FAST_ASSERT(sum == p.len);
            }
            if (res == NETIF_RING_GOT || res == NETIF_RING_BAD) {
                FAST_ASSERT(p.nr_slots >= 1 && p.nr_slots <= NETIF_TX_FATAL_SLOTS + NETIF_TX_MAX_EXTRAS);
                RING_IDX before = ring.core.rsp_prod_pvt;
                netif_tx_respond(&ring, &p, res == NETIF_RING_GOT ? NETIF_RSP_OKAY : NETIF_RSP_ERROR);
                FAST_ASSERT(ring.core.rsp_prod_pvt - before == p.nr_slots);
                FAST_ASSERT(ring.core.rsp_prod_pvt == ring.core.req_cons);
            }
            if (chance(30))
                ring_back_push(&ring.core);
        }
    }
    /* the fuzz reached every outcome */
    for (unsigned k = 0; k < 4; k++)
        ck_assert_uint_gt(fuzz_seen[k], 10);
}
END_TEST

static Suite *netif_suite(void)
{
    Suite *s = suite_create("netif");
    TCase *tc = tcase_create("core");
    tcase_add_test(tc, test_layout);
    tcase_add_test(tc, test_tx_one_slot);
    tcase_add_test(tc, test_tx_multi_slot_gso);
    tcase_add_test(tc, test_tx_bad);
    tcase_add_test(tc, test_tx_broken);
    tcase_add_test(tc, test_rx);
    tcase_add_test(tc, test_tx_random_frontend);
    tcase_add_test(tc, test_tx_hostile_fuzz);
    tcase_set_timeout(tc, 60);
    suite_add_tcase(s, tc);
    return s;
}

UNIT_MAIN(netif_suite)
