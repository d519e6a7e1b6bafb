/* SPDX-License-Identifier: MIT */
/*
 * lib/xs_ring.c: xenstored's side of a domain's ring page, against a
 * simulated guest: round trips, indices wrapping at 2^32, messages bigger
 * than the ring, a guest that stops reading, and a hostile guest writing
 * impossible indices, scribbling over ours, or sending an oversized
 * message (each must end in XS_RING_BROKEN with the reason in the page's
 * error field, and nothing read or written out of bounds).
 */
#include "test_xs.h"
#include <lamina/xs_ring.h>
#include <stdio.h>

static struct xs_core core;
static uint8_t *mem;
static struct xs_conn *conn;
static struct xenstore_domain_interface *page;
static struct xs_ring ring;

static void setup(void)
{
    struct xs_limits lim;
    xs_limits_default(&lim);
    mem = malloc(2 << 20);
    ck_assert_int_eq(xs_core_init(&core, mem, 2 << 20, &lim, NULL), 0);
    ck_assert_int_eq(xs_core_mkdir(&core, "/local/domain/1"), 0);
    ck_assert_int_eq(xs_core_set_perms_text(&core, "/local/domain/1", "n1"), 0);
    ck_assert_int_eq(xs_core_introduce(&core, 1, 1, 1), 0);
    conn = xs_conn_find(&core, 1);
    page = aligned_alloc(4096, 4096);
    memset(page, 0, 4096);
}

static void teardown(void)
{
    ck_assert(xs_store_check(&core.store));
    free(page);
    free(mem);
}

/* ---- the guest's side ---- */

static size_t guest_send(const void *data, size_t len)
{
    const uint8_t *p = data;
    size_t done = 0;
    while (done < len && page->req_prod - page->req_cons < XENSTORE_RING_SIZE) {
        page->req[MASK_XENSTORE_IDX(page->req_prod)] = (char)p[done++];
        page->req_prod++;
    }
    return done;
}

static size_t guest_recv(void *buf, size_t cap)
{
    uint8_t *p = buf;
    size_t done = 0;
    while (done < cap && page->rsp_cons != page->rsp_prod) {
        p[done++] = (uint8_t)page->rsp[MASK_XENSTORE_IDX(page->rsp_cons)];
        page->rsp_cons++;
    }
    return done;
}

/* A request as bytes: args with '|' for NUL. */
static size_t build(uint8_t *out, uint32_t type, uint32_t req_id, const char *args)
{
    char payload[XENSTORE_PAYLOAD_MAX];
    size_t n = strlen(args);
    memcpy(payload, args, n);
    for (size_t i = 0; i < n; i++)
        if (payload[i] == '|')
            payload[i] = 0;
    return xs_msg_build(out, XS_HDR_SIZE + XENSTORE_PAYLOAD_MAX, type, req_id, 0, payload, n);
}

/* Sends a whole request, servicing as the ring fills, and returns the
 * service results ORed. */
static unsigned send_all(const uint8_t *msg, size_t len)
{
    unsigned res = 0;
    size_t off = 0;
    for (int spins = 0; off < len; spins++) {
        ck_assert_int_lt(spins, 100);
        off += guest_send(msg + off, len - off);
        res |= xs_ring_service(&ring, &core, conn);
        ck_assert(!(res & XS_RING_BROKEN));
    }
    return res;
}

/* Receives one message (servicing while waiting). */
static void recv_msg(struct xs_msg *m)
{
    uint8_t hdr[XS_HDR_SIZE];
    size_t got = 0;
    for (int spins = 0; got < XS_HDR_SIZE; spins++) {
        ck_assert_int_lt(spins, 100);
        got += guest_recv(hdr + got, XS_HDR_SIZE - got);
        if (got < XS_HDR_SIZE)
            ck_assert(!(xs_ring_service(&ring, &core, conn) & XS_RING_BROKEN));
    }
    xs_hdr_decode(hdr, &m->hdr);
    ck_assert_uint_le(m->hdr.len, XENSTORE_PAYLOAD_MAX);
    got = 0;
    for (int spins = 0; got < m->hdr.len; spins++) {
        ck_assert_int_lt(spins, 100);
        got += guest_recv(m->payload + got, m->hdr.len - got);
        if (got < m->hdr.len)
            ck_assert(!(xs_ring_service(&ring, &core, conn) & XS_RING_BROKEN));
    }
    m->payload[m->hdr.len] = 0;
}

static void round_trips(unsigned count)
{
    static uint8_t msg[XS_HDR_SIZE + XENSTORE_PAYLOAD_MAX];
    struct xs_msg m;
    for (unsigned i = 0; i < count; i++) {
        char args[64];
        snprintf(args, sizeof(args), "data/k%u|value-%u", i % 7, i);
        size_t n = build(msg, XS_WRITE, i + 1, args);
        ck_assert(send_all(msg, n) & XS_RING_NOTIFY);
        recv_msg(&m);
        ck_assert_uint_eq(m.hdr.req_id, i + 1);
        ck_assert_str_eq(m.payload, "OK");
        snprintf(args, sizeof(args), "data/k%u|", i % 7);
        n = build(msg, XS_READ, 1000 + i, args);
        send_all(msg, n);
        recv_msg(&m);
        ck_assert_uint_eq(m.hdr.req_id, 1000 + i);
        char want[32];
        snprintf(want, sizeof(want), "value-%u", i);
        ck_assert_str_eq(m.payload, want);
    }
    ck_assert_uint_eq(page->req_cons, page->req_prod);
    ck_assert_uint_eq(page->rsp_cons, page->rsp_prod);
}

START_TEST(test_round_trip)
{
    xs_ring_attach(&ring, page);
    /* Attaching writes nothing: a guest may check its page is zero. */
    static const uint8_t zero[4096];
    ck_assert_mem_eq(page, zero, 4096);
    /* Nothing to do: nothing happens. */
    ck_assert_uint_eq(xs_ring_service(&ring, &core, conn), 0);
    round_trips(200);
    ck_assert_uint_eq(page->error, XENSTORE_ERROR_NONE);
}
END_TEST

START_TEST(test_index_wrap)
{
    page->req_prod = page->req_cons = 0xffffff00u;
    page->rsp_prod = page->rsp_cons = 0xfffffff0u;
    xs_ring_attach(&ring, page);
    round_trips(100);
    ck_assert_uint_lt(page->req_prod, 0x10000u);
    ck_assert_uint_lt(page->rsp_prod, 0x10000u);
}
END_TEST

START_TEST(test_message_bigger_than_ring)
{
    xs_ring_attach(&ring, page);
    core.store.lim.value_max = XENSTORE_PAYLOAD_MAX;
    /* A request of the maximum size, taken in pieces... */
    static uint8_t msg[XS_HDR_SIZE + XENSTORE_PAYLOAD_MAX];
    static char payload[XENSTORE_PAYLOAD_MAX];
    memset(payload, 'c', sizeof(payload));
    memcpy(payload, "big", 4);
    size_t n = xs_msg_build(msg, sizeof(msg), XS_WRITE, 10, 0, payload, sizeof(payload));
    ck_assert_uint_eq(n, sizeof(msg));
    send_all(msg, n);
    struct xs_msg m;
    recv_msg(&m);
    ck_assert_uint_eq(m.hdr.req_id, 10);
    ck_assert_str_eq(m.payload, "OK");
    /* ... and a reply of almost that size, given out in pieces. */
    n = build(msg, XS_READ, 11, "big|");
    send_all(msg, n);
    recv_msg(&m);
    ck_assert_uint_eq(m.hdr.req_id, 11);
    ck_assert_uint_eq(m.hdr.len, XENSTORE_PAYLOAD_MAX - 4);
    ck_assert_int_eq(m.payload[XENSTORE_PAYLOAD_MAX - 5], 'c');
}
END_TEST

START_TEST(test_guest_stops_reading)
{
    /* The guest keeps sending and never reads: the response ring fills,
     * then the connection's queue, then requests wait in the ring. Nothing
     * breaks, and once it reads, every reply arrives, in order. */
    xs_ring_attach(&ring, page);
    uint8_t msg[64];
    size_t n = build(msg, XS_WRITE, 0, "data/x|1");
    unsigned sent = 0;
    for (int i = 0; i < 5000; i++) {
        struct xsd_sockmsg h;
        xs_hdr_decode(msg, &h);
        h.req_id = sent + 1;
        xs_hdr_encode(&h, msg);
        if (XENSTORE_RING_SIZE - (page->req_prod - page->req_cons) < n) {
            unsigned res = xs_ring_service(&ring, &core, conn);
            ck_assert(!(res & XS_RING_BROKEN));
            if (XENSTORE_RING_SIZE - (page->req_prod - page->req_cons) < n)
                break;   /* xenstored stopped taking requests */
        }
        ck_assert_uint_eq(guest_send(msg, n), n);
        sent++;
    }
    ck_assert_uint_lt(sent, 5000);
    ck_assert_uint_eq(page->rsp_prod - page->rsp_cons, XENSTORE_RING_SIZE);
    struct xs_msg m;
    for (unsigned i = 0; i < sent; i++) {
        recv_msg(&m);
        ck_assert_uint_eq(m.hdr.req_id, i + 1);
        ck_assert_str_eq(m.payload, "OK");
    }
    xs_ring_service(&ring, &core, conn);
    ck_assert_uint_eq(page->rsp_prod, page->rsp_cons);
}
END_TEST

START_TEST(test_garbage_req_prod)
{
    static const uint32_t bad[] = { XENSTORE_RING_SIZE + 1, 0x80000000u, 0xffffffffu, 5000 };
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        memset(page, 0, 4096);
        xs_ring_attach(&ring, page);
        page->req_prod = bad[i];
        ck_assert_uint_eq(xs_ring_service(&ring, &core, conn) & XS_RING_BROKEN, XS_RING_BROKEN);
        ck_assert_uint_eq(page->error, XENSTORE_ERROR_RINGIDX);
        ck_assert_uint_eq(page->req_cons, 0);   /* nothing taken */
    }
    /* Exactly a full ring is legal. */
    memset(page, 0, 4096);
    xs_ring_attach(&ring, page);
    page->req_prod = XENSTORE_RING_SIZE;
    unsigned res = xs_ring_service(&ring, &core, conn);
    ck_assert_uint_eq(res & XS_RING_BROKEN, 0);
}
END_TEST

START_TEST(test_garbage_rsp_cons)
{
    xs_ring_attach(&ring, page);
    uint8_t msg[64];
    size_t n = build(msg, XS_READ, 1, "nothere|");
    guest_send(msg, n);
    /* The guest claims to have read replies that were never written. */
    page->rsp_cons = 100;
    ck_assert_uint_eq(xs_ring_service(&ring, &core, conn) & XS_RING_BROKEN, XS_RING_BROKEN);
    ck_assert_uint_eq(page->error, XENSTORE_ERROR_RINGIDX);
}
END_TEST

START_TEST(test_scribbled_indices_ignored)
{
    /* Our own indices in the page are never trusted: the guest overwrites
     * them and the next pass puts them right. */
    xs_ring_attach(&ring, page);
    round_trips(3);
    uint8_t msg[64];
    size_t n = build(msg, XS_READ, 77, "data/k0|");
    guest_send(msg, n);
    page->req_cons = 4242;
    uint32_t rsp_before = page->rsp_prod;
    page->rsp_prod = page->rsp_cons + 500;
    page->server_features = 0xffffffffu;
    unsigned res = xs_ring_service(&ring, &core, conn);
    ck_assert_uint_eq(res & XS_RING_BROKEN, 0);
    ck_assert_uint_eq(page->req_cons, page->req_prod);
    ck_assert_uint_eq(page->rsp_prod - rsp_before, XS_HDR_SIZE + strlen("value-0"));
    struct xs_msg m;
    recv_msg(&m);
    ck_assert_uint_eq(m.hdr.req_id, 77);
}
END_TEST

START_TEST(test_oversized_message_breaks)
{
    xs_ring_attach(&ring, page);
    uint8_t hdr[XS_HDR_SIZE];
    struct xsd_sockmsg h = { .type = XS_WRITE, .req_id = 1, .len = XENSTORE_PAYLOAD_MAX + 1 };
    xs_hdr_encode(&h, hdr);
    guest_send(hdr, sizeof(hdr));
    ck_assert_uint_eq(xs_ring_service(&ring, &core, conn) & XS_RING_BROKEN, XS_RING_BROKEN);
    ck_assert_uint_eq(page->error, XENSTORE_ERROR_PROTO);
}
END_TEST

START_TEST(test_random_garbage_never_overruns)
{
    /* Random bytes and random indices: whatever happens, nothing is read or
     * written outside the page (ASan watches it) and a broken verdict is
     * final. */
    uint64_t x = 0xfeedfacecafebeefull;
    for (int round = 0; round < 3000; round++) {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        uint8_t *p = (uint8_t *)page;
        for (int i = 0; i < 64; i++)
            p[(x >> (i % 32)) % 4096] = (uint8_t)(x >> (i % 56));
        if (round % 50 == 0) {
            xs_conn_close(&core, conn);
            conn = xs_conn_open(&core, 1);
            memset(page, 0, 4096);
            xs_ring_attach(&ring, page);
        }
        unsigned res = xs_ring_service(&ring, &core, conn);
        if (res & XS_RING_BROKEN) {
            FAST_ASSERT(page->error == XENSTORE_ERROR_RINGIDX || page->error == XENSTORE_ERROR_PROTO);
            xs_conn_close(&core, conn);
            conn = xs_conn_open(&core, 1);
            memset(page, 0, 4096);
            xs_ring_attach(&ring, page);
        }
    }
}
END_TEST

static Suite *xs_ring_suite(void)
{
    Suite *s = suite_create("xs_ring");
    TCase *tc = tcase_create("ring");
    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_add_test(tc, test_round_trip);
    tcase_add_test(tc, test_index_wrap);
    tcase_add_test(tc, test_message_bigger_than_ring);
    tcase_add_test(tc, test_guest_stops_reading);
    tcase_add_test(tc, test_garbage_req_prod);
    tcase_add_test(tc, test_garbage_rsp_cons);
    tcase_add_test(tc, test_scribbled_indices_ignored);
    tcase_add_test(tc, test_oversized_message_breaks);
    tcase_add_test(tc, test_random_garbage_never_overruns);
    suite_add_tcase(s, tc);
    return s;
}

UNIT_MAIN(xs_ring_suite)
