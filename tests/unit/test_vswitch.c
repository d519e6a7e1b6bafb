/* SPDX-License-Identifier: MIT */
/*
 * lib/vswitch.c: learning, ageing, the table bound, flooding, and the
 * anti-spoofing rules (a vif sends only from its own MAC and no port can
 * take a vif's MAC), then a fuzz of random frames on random ports against
 * the switch's invariants and a reference model of where each frame goes.
 */
#include "unit.h"
#include "rng.h"
#include <lamina/vswitch.h>
#include <public/errno.h>
#include <stdint.h>
#include <string.h>

static struct vswitch sw;
static uint8_t frame[64];

static const uint8_t mac_a[6] = { 0x00, 0x16, 0x3e, 0, 0, 0xa };
static const uint8_t mac_b[6] = { 0x00, 0x16, 0x3e, 0, 0, 0xb };
static const uint8_t mac_x[6] = { 0x52, 0x54, 0, 0, 0, 0x1 };    /* beyond the uplink */
static const uint8_t mac_y[6] = { 0x52, 0x54, 0, 0, 0, 0x2 };
static const uint8_t bcast[6] = { 0xff, 0xff, 0xff, 0xff, 0xff, 0xff };
static const uint8_t mcast[6] = { 0x01, 0x00, 0x5e, 0, 0, 1 };

static uint32_t send(unsigned port, const uint8_t *dst, const uint8_t *src, uint64_t now)
{
    memcpy(frame, dst, 6);
    memcpy(frame + 6, src, 6);
    frame[12] = 0x08;
    frame[13] = 0x00;
    return vsw_forward(&sw, port, frame, sizeof(frame), now);
}

/* uplink 0, vif a 1, vif b 2 */
static void setup(uint64_t age)
{
    vsw_init(&sw, age);
    ck_assert_int_eq(vsw_add_port(&sw, true, NULL), 0);
    ck_assert_int_eq(vsw_add_port(&sw, false, mac_a), 1);
    ck_assert_int_eq(vsw_add_port(&sw, false, mac_b), 2);
}

START_TEST(test_ports)
{
    setup(100);
    ck_assert_int_eq(vsw_add_port(&sw, false, mac_a), -XEN_EEXIST);
    ck_assert_int_eq(vsw_add_port(&sw, false, bcast), -XEN_EINVAL);
    ck_assert_int_eq(vsw_add_port(&sw, false, mcast), -XEN_EINVAL);
    static const uint8_t zero[6];
    ck_assert_int_eq(vsw_add_port(&sw, false, zero), -XEN_EINVAL);
    ck_assert_int_eq(vsw_add_port(&sw, false, NULL), -XEN_EINVAL);
    for (int p = 3; p < VSW_MAX_PORTS; p++)
        ck_assert_int_eq(vsw_add_port(&sw, true, NULL), p);
    ck_assert_int_eq(vsw_add_port(&sw, true, NULL), -XEN_ENOSPC);
    ck_assert_int_eq(vsw_del_port(&sw, 5), 0);
    ck_assert_int_eq(vsw_del_port(&sw, 5), -XEN_EINVAL);
    ck_assert_int_eq(vsw_del_port(&sw, VSW_MAX_PORTS), -XEN_EINVAL);
    ck_assert_int_eq(vsw_add_port(&sw, true, NULL), 5);
}
END_TEST

START_TEST(test_forwarding)
{
    setup(100);
    /* vif to vif: known at once */
    ck_assert_uint_eq(send(1, mac_b, mac_a, 1), 1u << 2);
    /* broadcast, multicast, unknown unicast: everyone but the ingress */
    ck_assert_uint_eq(send(1, bcast, mac_a, 1), (1u << 0) | (1u << 2));
    ck_assert_uint_eq(send(1, mcast, mac_a, 1), (1u << 0) | (1u << 2));
    ck_assert_uint_eq(send(1, mac_x, mac_a, 1), (1u << 0) | (1u << 2));
    /* x speaks on the uplink: learned */
    ck_assert_uint_eq(send(0, mac_a, mac_x, 2), 1u << 1);
    ck_assert_int_eq(vsw_lookup(&sw, mac_x, 2), 0);
    ck_assert_uint_eq(send(2, mac_x, mac_b, 3), 1u << 0);
    /* to itself on the uplink: dropped, not reflected */
    ck_assert_uint_eq(send(0, mac_y, mac_x, 3), (1u << 1) | (1u << 2));
    ck_assert_uint_eq(send(0, mac_x, mac_y, 3), 0);
    ck_assert_uint_eq(sw.hairpin, 1);
    /* a vif to itself */
    ck_assert_uint_eq(send(1, mac_a, mac_a, 3), 0);
    ck_assert_uint_eq(sw.hairpin, 2);
    /* ageing: x is forgotten after 100, then flooded again */
    ck_assert_uint_eq(send(1, mac_x, mac_a, 103), 1u << 0);     /* last seen at 3 */
    ck_assert_uint_eq(send(1, mac_x, mac_a, 104), (1u << 0) | (1u << 2));
    ck_assert_int_eq(vsw_lookup(&sw, mac_x, 104), -1);
    /* runts and bad ports */
    ck_assert_uint_eq(vsw_forward(&sw, 1, frame, 13, 5), 0);
    ck_assert_uint_eq(vsw_forward(&sw, 7, frame, 64, 5), 0);
    ck_assert_uint_eq(vsw_forward(&sw, 1000, frame, 64, 5), 0);
    ck_assert_uint_eq(sw.runts, 3);
    /* deleting the uplink forgets what was learned there */
    send(0, mac_a, mac_x, 200);
    ck_assert_int_eq(vsw_del_port(&sw, 0), 0);
    ck_assert_int_eq(vsw_lookup(&sw, mac_x, 200), -1);
    ck_assert_uint_eq(send(1, mac_x, mac_a, 200), 1u << 2);
}
END_TEST

START_TEST(test_spoofing)
{
    setup(100);
    /* a vif sending as another vif, as a stranger, from a group address */
    ck_assert_uint_eq(send(1, mac_x, mac_b, 1), 0);
    ck_assert_uint_eq(send(1, bcast, mac_x, 1), 0);
    ck_assert_uint_eq(send(1, bcast, bcast, 1), 0);
    ck_assert_uint_eq(sw.port[1].spoofed, 3);
    ck_assert_uint_eq(sw.port[1].rx_frames, 0);
    /* ... and nothing was learned from it */
    ck_assert_int_eq(vsw_lookup(&sw, mac_x, 1), -1);
    ck_assert_int_eq(vsw_lookup(&sw, mac_b, 1), 2);
    /* the uplink sending as a vif: dropped, the vif keeps its MAC */
    ck_assert_uint_eq(send(0, mac_b, mac_a, 2), 0);
    ck_assert_uint_eq(send(0, bcast, mcast, 2), 0);
    ck_assert_uint_eq(sw.port[0].spoofed, 2);
    ck_assert_int_eq(vsw_lookup(&sw, mac_a, 2), 1);
    /* a MAC learned on the uplink then configured on a new vif moves there */
    ck_assert_uint_eq(send(0, bcast, mac_y, 3), (1u << 1) | (1u << 2));
    ck_assert_int_eq(vsw_lookup(&sw, mac_y, 3), 0);
    ck_assert_int_eq(vsw_add_port(&sw, false, mac_y), 3);
    ck_assert_int_eq(vsw_lookup(&sw, mac_y, 3), 3);
    ck_assert_uint_eq(send(0, bcast, mac_y, 4), 0);
    ck_assert_uint_eq(send(3, mac_a, mac_y, 4), 1u << 1);
}
END_TEST

START_TEST(test_table_bound)
{
    setup(1000);
    uint8_t m[6] = { 0x02, 0, 0, 0, 0, 0 };
    for (unsigned i = 0; i < VSW_TABLE_SIZE + 10; i++) {
        m[4] = (uint8_t)(i >> 8);
        m[5] = (uint8_t)i;
        send(0, bcast, m, 10 + i);
    }
    ck_assert_uint_eq(sw.evicted, 10);
    m[4] = 0;
    m[5] = 0;                                   /* the oldest went first */
    ck_assert_int_eq(vsw_lookup(&sw, m, 300), -1);
    m[5] = 10;
    ck_assert_int_eq(vsw_lookup(&sw, m, 300), 0);
    /* stale entries are reused before anything fresh is evicted */
    m[4] = 0x7f;
    send(0, bcast, m, 10 + 1000 + 20);
    ck_assert_uint_eq(sw.evicted, 10);
    ck_assert_int_eq(vsw_lookup(&sw, m, 1030), 0);
}
END_TEST

/* Random frames on random ports (two uplinks, some vifs; ports come and
 * go). Invariants: never back to the ingress; a spoofed frame goes nowhere;
 * a frame reaches a vif whose MAC is not its destination only when it is
 * flooded (group or unknown destination) and then reaches all other ports. */
START_TEST(test_fuzz)
{
    static const uint8_t pool[8][6] = {
        { 0x00, 0x16, 0x3e, 0, 0, 1 }, { 0x00, 0x16, 0x3e, 0, 0, 2 }, { 0x00, 0x16, 0x3e, 0, 0, 3 },
        { 0x52, 0x54, 0, 0, 0, 4 },   { 0x52, 0x54, 0, 0, 0, 5 },   { 0xff, 0xff, 0xff, 0xff, 0xff, 0xff },
        { 0x33, 0x33, 0, 0, 0, 1 },   { 0x00, 0x16, 0x3e, 0, 0, 9 },
    };
    unsigned delivered = 0, spoofs = 0, floods = 0;
    for (uint64_t seed = 1; seed <= 50; seed++) {
        rng = seed * 0x9e3779b97f4a7c15ull;
        vsw_init(&sw, 50);
        vsw_add_port(&sw, true, NULL);
        vsw_add_port(&sw, true, NULL);
        for (unsigned v = 0; v < 3; v++)
            vsw_add_port(&sw, false, pool[v]);
        for (uint64_t now = 0; now < 2000; now++) {
            if (chance(2)) {
                unsigned p = below(6);
                if (sw.port[p].used)
                    vsw_del_port(&sw, p);
                else
                    vsw_add_port(&sw, chance(50), pool[below(8)]);
            }
            unsigned in = below(VSW_MAX_PORTS + 1);
            uint8_t f[20];
            for (unsigned b = 0; b < sizeof(f); b++)
                f[b] = (uint8_t)rnd();
            if (chance(90))
                memcpy(f, pool[below(8)], 6);
            if (chance(90))
                memcpy(f + 6, pool[below(8)], 6);
            uint32_t len = chance(5) ? below(14) : sizeof(f);
            /* the model, before the frame is seen */
            bool used = in < VSW_MAX_PORTS && sw.port[in].used;
            bool vif_in = used && !sw.port[in].uplink;
            bool spoof = vif_in && memcmp(f + 6, sw.port[in].mac, 6) != 0;
            if (used && !vif_in) {
                static const uint8_t zero[6];
                spoof = (f[6] & 1) || !memcmp(f + 6, zero, 6);
                for (unsigned p = 0; p < VSW_MAX_PORTS; p++)
                    spoof |= sw.port[p].used && !sw.port[p].uplink && !memcmp(sw.port[p].mac, f + 6, 6);
            }
            bool group = f[0] & 1;
            uint32_t others = 0;
            for (unsigned p = 0; p < VSW_MAX_PORTS; p++)
                if (sw.port[p].used && p != in)
                    others |= 1u << p;
            uint32_t out = vsw_forward(&sw, in, f, len, now);
            FAST_ASSERT(!(used && in < 32 && (out & (1u << in))));
            FAST_ASSERT(!(spoof && out));
            FAST_ASSERT(used && len >= 14 ? 1 : out == 0);
            if (group && out)
                FAST_ASSERT(out == others);
            int known = vsw_lookup(&sw, f, now);
            for (unsigned p = 0; p < VSW_MAX_PORTS; p++) {
                if (!(out & (1u << p)))
                    continue;
                FAST_ASSERT(sw.port[p].used);
                if (!sw.port[p].uplink && memcmp(sw.port[p].mac, f, 6) != 0)
                    FAST_ASSERT_MSG(out == others && (group || known < 0 || known == (int)in),
                                    "seed %llu t %llu: leaked to vif %u", (unsigned long long)seed,
                                    (unsigned long long)now, p);
            }
            /* a vif's own frames to a present vif's MAC reach exactly it */
            if (used && !spoof && len >= 14 && !group) {
                for (unsigned p = 0; p < VSW_MAX_PORTS; p++)
                    if (p != in && sw.port[p].used && !sw.port[p].uplink && !memcmp(sw.port[p].mac, f, 6))
                        FAST_ASSERT(out == 1u << p);
            }
            delivered += out != 0;
            spoofs += spoof;
            floods += out == others && out;
            /* no vif MAC is ever learned on an uplink */
            for (unsigned i = 0; i < VSW_TABLE_SIZE; i++)
                if (sw.table[i].used)
                    for (unsigned p = 0; p < VSW_MAX_PORTS; p++)
                        FAST_ASSERT(!(sw.port[p].used && !sw.port[p].uplink &&
                                      !memcmp(sw.port[p].mac, sw.table[i].mac, 6)));
        }
    }
    ck_assert_uint_gt(delivered, 1000);
    ck_assert_uint_gt(spoofs, 1000);
    ck_assert_uint_gt(floods, 1000);
}
END_TEST

START_TEST(test_flood_limit)
{
    setup(1000);
    const unsigned up = 0, a = 1, b = 2;
    /* 2 floods per time unit, 5 back to back. */
    vsw_set_flood_limit(&sw, 2, 5);
    for (unsigned i = 0; i < 5; i++)
        ck_assert_uint_eq(send(a, bcast, mac_a, 100), (1u << b) | (1u << up));
    ck_assert_uint_eq(send(a, bcast, mac_a, 100), 0);
    ck_assert_uint_eq(send(a, mcast, mac_a, 100), 0);
    ck_assert_uint_eq(sw.port[a].throttled, 2);
    ck_assert_uint_eq(sw.port[a].rx_frames, 5);
    /* Known unicast is never throttled; another port has its own budget. */
    ck_assert_uint_eq(send(a, mac_b, mac_a, 100), 1u << b);
    ck_assert_uint_eq(send(b, bcast, mac_b, 100), (1u << a) | (1u << up));
    /* An unknown unicast address is a flood too. */
    ck_assert_uint_eq(send(a, mac_y, mac_a, 100), 0);
    ck_assert_uint_eq(sw.port[a].throttled, 3);
    /* One unit later: two more, then none. */
    ck_assert_uint_ne(send(a, bcast, mac_a, 101), 0);
    ck_assert_uint_ne(send(a, bcast, mac_a, 101), 0);
    ck_assert_uint_eq(send(a, bcast, mac_a, 101), 0);
    /* A long quiet spell refills the burst, no more. */
    for (unsigned i = 0; i < 5; i++)
        ck_assert_uint_ne(send(a, bcast, mac_a, 1000000), 0);
    ck_assert_uint_eq(send(a, bcast, mac_a, 1000000), 0);
    /* Rate 0: no limit. */
    vsw_set_flood_limit(&sw, 0, 1);
    for (unsigned i = 0; i < 100; i++)
        ck_assert_uint_ne(send(a, bcast, mac_a, 1000000), 0);
}
END_TEST

static Suite *vswitch_suite(void)
{
    Suite *s = suite_create("vswitch");
    TCase *tc = tcase_create("core");
    tcase_add_test(tc, test_ports);
    tcase_add_test(tc, test_forwarding);
    tcase_add_test(tc, test_spoofing);
    tcase_add_test(tc, test_table_bound);
    tcase_add_test(tc, test_flood_limit);
    tcase_add_test(tc, test_fuzz);
    tcase_set_timeout(tc, 60);
    suite_add_tcase(s, tc);
    return s;
}

UNIT_MAIN(vswitch_suite)
