/* SPDX-License-Identifier: MIT */
/*
 * lib/arp.c: the request's bytes against RFC 826's layout, a genuine reply
 * recognised, and every field of a reply that does not fit refused
 * (truncated frames included); dotted-quad parsing.
 */
#include "unit.h"
#include <lamina/arp.h>
#include <string.h>

static const uint8_t our_mac[6] = { 0x52, 0x54, 0x00, 0x12, 0x34, 0x56 };
static const uint8_t gw_mac[6] = { 0x52, 0x55, 0x0a, 0x00, 0x02, 0x02 };
#define OUR_IP 0x0a00020fu     /* 10.0.2.15 */
#define GW_IP 0x0a000202u      /* 10.0.2.2 */

START_TEST(request_layout)
{
    uint8_t f[64];
    memset(f, 0xaa, sizeof(f));
    ck_assert_uint_eq(arp_build_request(f, our_mac, OUR_IP, GW_IP), 42);
    static const uint8_t want[42] = {
        0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x52, 0x54, 0x00, 0x12, 0x34, 0x56, 0x08, 0x06,
        0x00, 0x01, 0x08, 0x00, 6, 4, 0x00, 0x01,
        0x52, 0x54, 0x00, 0x12, 0x34, 0x56, 10, 0, 2, 15,
        0, 0, 0, 0, 0, 0, 10, 0, 2, 2,
    };
    ck_assert_mem_eq(f, want, sizeof(want));
    ck_assert_uint_eq(f[42], 0xaa);     /* nothing written past the frame */
}
END_TEST

/* The reply the gateway sends to our request. */
static size_t make_reply(uint8_t *f)
{
    static const uint8_t r[60] = {
        0x52, 0x54, 0x00, 0x12, 0x34, 0x56, 0x52, 0x55, 0x0a, 0x00, 0x02, 0x02, 0x08, 0x06,
        0x00, 0x01, 0x08, 0x00, 6, 4, 0x00, 0x02,
        0x52, 0x55, 0x0a, 0x00, 0x02, 0x02, 10, 0, 2, 2,
        0x52, 0x54, 0x00, 0x12, 0x34, 0x56, 10, 0, 2, 15,
    };
    memcpy(f, r, sizeof(r));
    return sizeof(r);
}

START_TEST(reply_accepted)
{
    uint8_t f[60], mac[6] = { 0 };
    size_t len = make_reply(f);
    ck_assert(arp_parse_reply(f, len, GW_IP, OUR_IP, mac));
    ck_assert_mem_eq(mac, gw_mac, 6);
    memset(mac, 0, sizeof(mac));
    ck_assert(arp_parse_reply(f, 42, GW_IP, OUR_IP, mac));   /* unpadded */
    ck_assert_mem_eq(mac, gw_mac, 6);
}
END_TEST

START_TEST(reply_refused)
{
    uint8_t f[60], mac[6] = { 0x11, 0x11, 0x11, 0x11, 0x11, 0x11 }, untouched[6];
    memcpy(untouched, mac, 6);
    size_t len = make_reply(f);
    for (size_t l = 0; l < 42; l++)
        ck_assert(!arp_parse_reply(f, l, GW_IP, OUR_IP, mac));
    ck_assert(!arp_parse_reply(f, len, GW_IP + 1, OUR_IP, mac));    /* another sender */
    ck_assert(!arp_parse_reply(f, len, GW_IP, OUR_IP + 1, mac));    /* for someone else */
    /* Each header field changed in turn: ethertype, htype, ptype, hlen, plen, op. */
    static const unsigned fields[] = { 12, 13, 15, 16, 17, 18, 19, 21 };
    for (unsigned i = 0; i < sizeof(fields) / sizeof(fields[0]); i++) {
        make_reply(f);
        f[fields[i]] ^= 0x04;
        ck_assert_msg(!arp_parse_reply(f, len, GW_IP, OUR_IP, mac), "byte %u", fields[i]);
    }
    /* A request is not a reply, even from the right address. */
    arp_build_request(f, gw_mac, GW_IP, OUR_IP);
    ck_assert(!arp_parse_reply(f, 42, GW_IP, OUR_IP, mac));
    ck_assert_mem_eq(mac, untouched, 6);
}
END_TEST

START_TEST(ipv4_addresses)
{
    uint32_t ip = 0;
    ck_assert(ipv4_parse("10.0.2.15", &ip));
    ck_assert_uint_eq(ip, OUR_IP);
    ck_assert(ipv4_parse("255.255.255.255", &ip));
    ck_assert_uint_eq(ip, 0xffffffffu);
    ck_assert(ipv4_parse("0.0.0.0", &ip));
    ck_assert_uint_eq(ip, 0);
    ip = 0x12345678;
    static const char *const bad[] = { "", "10", "10.0.2", "10.0.2.", "10.0.2.15.", "10.0.2.256", "1000.0.0.1",
                                       "0010.0.0.1", "10..2.15", "10.0.2.15x", " 10.0.2.15", "+1.2.3.4",
                                       "1.2.3.-4", "a.b.c.d" };
    for (unsigned i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
        ck_assert_msg(!ipv4_parse(bad[i], &ip), "'%s' accepted", bad[i]);
    ck_assert_uint_eq(ip, 0x12345678);
}
END_TEST

static Suite *arp_suite(void)
{
    Suite *s = suite_create("arp");
    TCase *tc = tcase_create("arp");
    tcase_add_test(tc, request_layout);
    tcase_add_test(tc, reply_accepted);
    tcase_add_test(tc, reply_refused);
    tcase_add_test(tc, ipv4_addresses);
    suite_add_tcase(s, tc);
    return s;
}

UNIT_MAIN(arp_suite)
