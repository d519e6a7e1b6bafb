/* SPDX-License-Identifier: MIT */
/*
 * lib/netback.c against a simulated world (backend_world.h: a small
 * xenstore, a grant table with Xen's checks; here also two mappable ring
 * pages and an event channel that counts notifications). A simulated
 * xen-netfront does the handshake as Linux does, sends packets of one or
 * more slots from its granted pages and posts rx pages; hostile variants
 * give bad details, bad grants or break the rings. Then a random
 * well-behaved frontend driven only by notifications against a model, and
 * a fuzzer writing random ring contents and indices.
 */
#define DOMID 7
#define DEVID 0
/* 8, 9: the rings; 16 + slot: the tx data page of tx slot `slot`; 272 +
 * slot: the page posted in rx slot `slot`; up to 559 for tests. */
#define NR_GRANTS 560
#include "backend_world.h"
#include "rng.h"
#include <lamina/netback.h>

#define TX_REF 8
#define RX_REF 9
#define TXD(i) (16u + ((i) & 255u))
#define RXD(i) (272u + ((i) & 255u))
#define FE_PORT 17
#define LOCAL_PORT 40
#define MAC "00:16:3e:01:02:03"

/* ---- the simulated hypervisor ---- */

static struct netback nb;
static _Alignas(4096) struct netback_frame rxq[NETBACK_RXQ_LEN];
static _Alignas(4096) struct netback_scratch scratch;
static bool mapped[2];
static grant_ref_t mapped_ref[2];
static unsigned bound_port, notifies, copies, copies_failed;
static uint32_t fe_port;

static volatile void *w_map_ring(void *ctx, struct netback *b, unsigned which, grant_ref_t ref, long *rc)
{
    (void)ctx;
    ck_assert_uint_lt(which, 2);
    ck_assert(!mapped[which]);
    struct grant *g = grant_check(ref, b->xb.domid, true);
    if (!g) {
        *rc = GNTST_bad_gntref;
        return NULL;
    }
    mapped[which] = true;
    mapped_ref[which] = ref;
    return g->page;
}

static void w_unmap_ring(void *ctx, struct netback *b, unsigned which)
{
    (void)ctx;
    (void)b;
    ck_assert_uint_lt(which, 2);
    ck_assert(mapped[which]);
    mapped[which] = false;
    /* Any later use of the old address is a use-after-free for ASan. */
    grant_page_move(mapped_ref[which]);
}

static long w_bind(void *ctx, struct netback *b, uint32_t remote)
{
    (void)ctx;
    (void)b;
    ck_assert_uint_eq(bound_port, 0);
    if (remote != fe_port)
        return -XEN_EINVAL;
    bound_port = LOCAL_PORT;
    return LOCAL_PORT;
}

static void w_unbind(void *ctx, struct netback *b, unsigned port)
{
    (void)ctx;
    (void)b;
    ck_assert_uint_eq(port, bound_port);
    ck_assert_uint_ne(port, 0);
    bound_port = 0;
}

static bool fe_kicked;      /* the frontend's event channel fired */
static void w_notify(void *ctx, struct netback *b, unsigned port)
{
    (void)ctx;
    (void)b;
    FAST_ASSERT(port == bound_port && port != 0);
    notifies++;
    fe_kicked = true;
}

static bool inside(const void *p, uint32_t len, const void *base, size_t size)
{
    uintptr_t a = (uintptr_t)p, b = (uintptr_t)base;
    return a >= b && a + len <= b + size;
}

static void w_copy(void *ctx, struct netback *b, struct netback_copy *c, unsigned n, bool to_guest)
{
    (void)ctx;
    /* Only while connected, and only the backend's own buffers. */
    FAST_ASSERT(mapped[0] && mapped[1] && bound_port);
    FAST_ASSERT(n >= 1 && n <= (to_guest ? NETBACK_RX_COPIES : NETBACK_TX_COPIES));
    for (unsigned i = 0; i < n; i++) {
        copies++;
        /* What GNTTABOP_copy insists on: inside one page on both sides. */
        FAST_ASSERT((uint32_t)c[i].offset + c[i].len <= 4096);
        FAST_ASSERT(((uintptr_t)c[i].buf & 4095) + c[i].len <= 4096);
        FAST_ASSERT(inside(c[i].buf, c[i].len, scratch.arena, sizeof(scratch.arena)) ||
                    (to_guest && inside(c[i].buf, c[i].len, rxq, sizeof(rxq))));
        struct grant *g = grant_check(c[i].gref, b->xb.domid, to_guest);
        if (!g) {
            copies_failed++;
            c[i].status = GNTST_bad_gntref;
            continue;
        }
        if (to_guest)
            memcpy(g->page + c[i].offset, c[i].buf, c[i].len);
        else
            memcpy(c[i].buf, g->page + c[i].offset, c[i].len);
        c[i].status = GNTST_okay;
    }
}

static const struct netback_ops ops = {
    .store = { .read = w_read, .write = w_write, .rm = w_rm, .log = w_log },
    .map_ring = w_map_ring, .unmap_ring = w_unmap_ring, .bind = w_bind, .unbind = w_unbind,
    .notify = w_notify, .copy = w_copy,
};

/* What the deliver callback was handed. */
#define OUT_MAX 320
static struct netback_frame out[OUT_MAX];
static unsigned nout;

static void deliver(void *arg, struct netback *b, const struct netback_packet *p)
{
    (void)arg;
    ck_assert_ptr_eq(b, &nb);
    ck_assert(inside(p->data, p->len, scratch.arena, sizeof(scratch.arena)));
    ck_assert_uint_ge(p->len, 14);
    ck_assert_uint_le(p->len, NETBACK_MAX_FRAME);
    ck_assert_uint_eq(p->gso_type, XEN_NETIF_GSO_TYPE_NONE);
    ck_assert_uint_lt(nout, OUT_MAX);
    out[nout].len = (uint16_t)p->len;
    out[nout].flags = p->flags;
    memcpy(out[nout].data, p->data, p->len);
    nout++;
}

/* ---- the simulated netfront ---- */

static RING_IDX tx_prod, tx_rsp_cons, rx_prod, rx_rsp_cons;

static struct ring_shared_header *txh(void) { return (struct ring_shared_header *)guest_pages[TX_REF]; }
static struct ring_shared_header *rxh(void) { return (struct ring_shared_header *)guest_pages[RX_REF]; }

static union netif_tx_sring_entry *txs(RING_IDX i)
{
    return (union netif_tx_sring_entry *)(guest_pages[TX_REF] + RING_HEADER_SIZE) + (i & 255);
}

static union netif_rx_sring_entry *rxs(RING_IDX i)
{
    return (union netif_rx_sring_entry *)(guest_pages[RX_REF] + RING_HEADER_SIZE) + (i & 255);
}

static void world_reset(void)
{
    world_store_reset("vif", DEVID);
    mapped[0] = mapped[1] = false;
    bound_port = notifies = copies = copies_failed = 0;
    nout = 0;
    fe_kicked = false;
    fe_port = FE_PORT;
    char p[128];
    snprintf(p, sizeof(p), "%s/mac", be_path);
    set(p, MAC);
    snprintf(p, sizeof(p), "%s/frontend", be_path);
    set(p, fe_path);
    fe_set("state", "1");
    fe_set("backend", be_path);
    fe_set("mac", MAC);
}

static void probe(void)
{
    ck_assert_int_eq(netback_probe(&nb, &ops, NULL, DOMID, DEVID, rxq), 0);
}

/* Fresh rings and grants, the keys xen-netfront's talk_to_netback writes
 * (one queue, one event channel, rx copy), except those in `skip`. */
static void frontend_details(const char *skip)
{
    grant(TX_REF, false);
    grant(RX_REF, false);
    memset(guest_pages[TX_REF], 0, 4096);
    memset(guest_pages[RX_REF], 0, 4096);
    txh()->req_event = txh()->rsp_event = 1;
    rxh()->req_event = rxh()->rsp_event = 1;
    tx_prod = tx_rsp_cons = rx_prod = rx_rsp_cons = 0;
    static const char *const keys[][2] = {
        { "tx-ring-ref", "8" },  { "rx-ring-ref", "9" },       { "event-channel", "17" },
        { "request-rx-copy", "1" }, { "feature-rx-notify", "1" }, { "feature-sg", "1" },
        { "feature-gso-tcpv4", "1" },
    };
    for (unsigned i = 0; i < sizeof(keys) / sizeof(keys[0]); i++)
        if (!skip || strcmp(skip, keys[i][0]) != 0)
            fe_set(keys[i][0], keys[i][1]);
}

/* netfront sees InitWait, connects and says Connected (4). */
static void frontend_connect(void)
{
    ck_assert_int_eq(be_state(), XenbusStateInitWait);
    frontend_details(NULL);
    fe_set("state", "4");
    netback_changed(&nb);
}

static void connected(void)
{
    world_reset();
    probe();
    frontend_connect();
    ck_assert_int_eq(be_state(), XenbusStateConnected);
    ck_assert(netback_connected(&nb));
    notifies = 0;
    fe_kicked = false;
}

/* Writes one tx slot (not published). */
static void put_tx(RING_IDX i, grant_ref_t gref, uint16_t off, uint16_t flags, uint16_t id, uint16_t size)
{
    union netif_tx_sring_entry *e = txs(i);
    memset(e, 0, sizeof(*e));
    e->req = (struct netif_tx_request){ .gref = gref, .offset = off, .flags = flags, .id = id, .size = size };
}

/* Queues a `len`-byte packet over `nfr` slots, each fragment in the page
 * of its slot (granted read-only, as netfront does) at offset `off`; the
 * slots' ids are id, id + 1, .... Not published. */
static void send(const uint8_t *data, uint32_t len, unsigned nfr, uint16_t flags, uint16_t id, uint16_t off)
{
    uint32_t at = 0;
    for (unsigned k = 0; k < nfr; k++) {
        uint32_t part = k + 1 < nfr ? len / nfr : len - at;
        grant_ref_t ref = TXD(tx_prod);
        grant(ref, true);
        if (part)
            memcpy(guest_pages[ref] + off, data + at, part);
        uint16_t f = (uint16_t)((k == 0 ? flags : 0) | (k + 1 < nfr ? NETTXF_more_data : 0));
        put_tx(tx_prod++, ref, off, f, (uint16_t)(id + k), (uint16_t)(k == 0 ? len : part));
        at += part;
    }
}

static void tx_publish(void) { txh()->req_prod = tx_prod; }

static struct netif_tx_response tx_rsp(void)
{
    ck_assert_uint_ne(txh()->rsp_prod, tx_rsp_cons);
    struct netif_tx_response r = txs(tx_rsp_cons)->rsp;
    tx_rsp_cons++;
    txh()->rsp_event = tx_rsp_cons + 1;
    return r;
}

/* Posts an rx page (granted writable) in the next rx slot. */
static void post_rx(uint16_t id)
{
    grant(RXD(rx_prod), false);
    union netif_rx_sring_entry *e = rxs(rx_prod);
    memset(e, 0, sizeof(*e));
    e->req.id = id;
    e->req.gref = RXD(rx_prod);
    rx_prod++;
    rxh()->req_prod = rx_prod;
}

/* The next rx response and the page it describes. */
static struct netif_rx_response rx_rsp(const uint8_t **page)
{
    ck_assert_uint_ne(rxh()->rsp_prod, rx_rsp_cons);
    struct netif_rx_response r = rxs(rx_rsp_cons)->rsp;
    *page = guest_pages[RXD(rx_rsp_cons)];
    rx_rsp_cons++;
    rxh()->rsp_event = rx_rsp_cons + 1;
    return r;
}

static void pattern(uint8_t *p, uint32_t len, unsigned seed)
{
    for (uint32_t i = 0; i < len; i++)
        p[i] = (uint8_t)(i * 31 + seed * 7 + (i >> 8));
}

static unsigned serve(unsigned budget)
{
    return netback_tx_serve(&nb, budget, &scratch, deliver, NULL);
}

/* ---- the handshake ---- */

START_TEST(test_handshake)
{
    world_reset();
    probe();
    ck_assert_int_eq(be_state(), XenbusStateInitWait);
    ck_assert_str_eq(be_get("feature-rx-copy"), "1");
    ck_assert_str_eq(be_get("feature-sg"), "1");
    ck_assert_str_eq(be_get("feature-gso-tcpv4"), "1");
    ck_assert_str_eq(be_get("feature-gso-tcpv6"), "0");
    ck_assert_str_eq(be_get("feature-split-event-channels"), "0");
    ck_assert_str_eq(be_get("feature-rx-flip"), "0");
    ck_assert_ptr_null(be_get("multi-queue-max-queues"));
    ck_assert(!netback_connected(&nb));
    ck_assert_uint_eq(nb.mac[0], 0x00);
    ck_assert_uint_eq(nb.mac[5], 0x03);
    /* Keys written but state still Initialising: nothing yet. */
    frontend_details(NULL);
    netback_changed(&nb);
    ck_assert_int_eq(be_state(), XenbusStateInitWait);
    ck_assert(!mapped[0] && !mapped[1]);
    fe_set("state", "4");
    netback_changed(&nb);
    ck_assert_int_eq(be_state(), XenbusStateConnected);
    ck_assert(mapped[0] && mapped[1]);
    ck_assert_uint_eq(mapped_ref[0], TX_REF);
    ck_assert_uint_eq(mapped_ref[1], RX_REF);
    ck_assert_uint_eq(bound_port, LOCAL_PORT);
    ck_assert_uint_eq(nb.local_port, LOCAL_PORT);
    ck_assert_uint_eq(notifies, 1);              /* look at your rings */
    ck_assert(netback_connected(&nb));
    /* Seen again: nothing changes. */
    netback_changed(&nb);
    ck_assert_int_eq(be_state(), XenbusStateConnected);
    ck_assert(mapped[0] && mapped[1]);
    /* Initialised (3) works as well as Connected. */
    world_reset();
    probe();
    frontend_details(NULL);
    fe_set("state", "3");
    netback_changed(&nb);
    ck_assert_int_eq(be_state(), XenbusStateConnected);
    /* One queue spelled out is fine. */
    world_reset();
    probe();
    frontend_details(NULL);
    fe_set("multi-queue-num-queues", "1");
    fe_set("state", "4");
    netback_changed(&nb);
    ck_assert_int_eq(be_state(), XenbusStateConnected);
}
END_TEST

/* The frontend's details with `key` set to `value` (NULL: missing) and
 * `drop` not written: refused with a log line containing `want_log`,
 * nothing left mapped or bound. */
static void refusal_check(const char *key, const char *value, const char *want_log);

static void refused(const char *drop, const char *key, const char *value, const char *want_log)
{
    world_reset();
    probe();
    frontend_details(drop);
    if (value)
        fe_set(key, value);
    else
        fe_rm(key);
    refusal_check(key, value, want_log);
}

static void refusal_check(const char *key, const char *value, const char *want_log)
{
    fe_set("state", "4");
    netback_changed(&nb);
    ck_assert_msg(be_state() == XenbusStateClosing, "%s=%s: state %d", key, value ? value : "(none)", be_state());
    ck_assert_msg(!mapped[0] && !mapped[1] && bound_port == 0, "%s: left mapped or bound", key);
    ck_assert_msg(strstr(last_log, want_log) && strstr(last_log, "netback: d7 vif 0"), "log '%s' lacks '%s'",
                  last_log, want_log);
    ck_assert(!netback_connected(&nb));
    ck_assert_uint_eq(serve(64), 0);
    ck_assert(!netback_rx_queue(&nb, "0123456789abcdef", 16, 0));
    /* Saying Connected again changes nothing: Closing until it closes. */
    netback_changed(&nb);
    ck_assert_int_eq(be_state(), XenbusStateClosing);
    ck_assert(!mapped[0] && !mapped[1]);
    fe_set("state", "6");
    netback_changed(&nb);
    ck_assert_int_eq(be_state(), XenbusStateClosed);
}

START_TEST(test_refusals)
{
    refused(NULL, "request-rx-copy", NULL, "request-rx-copy");
    refused(NULL, "request-rx-copy", "0", "request-rx-copy");
    refused(NULL, "request-rx-copy", "01", "request-rx-copy");
    refused(NULL, "multi-queue-num-queues", "2", "2 queues were not offered");
    refused(NULL, "multi-queue-num-queues", "0", "0 queues were not offered");
    /* Split event channels: only event-channel-tx and -rx. */
    world_reset();
    probe();
    frontend_details("event-channel");
    fe_set("event-channel-tx", "17");
    fe_set("event-channel-rx", "18");
    refusal_check("event-channel-tx", "17", "split channels are not offered");
    refused(NULL, "event-channel", "0", "event-channel");
    refused(NULL, "event-channel", "x", "event-channel");
    refused(NULL, "event-channel", "18", "cannot bind event-channel 18");
    refused(NULL, "event-channel", "4294967296", "event-channel");
    refused(NULL, "tx-ring-ref", "555", "cannot map tx-ring-ref 555");    /* not granted */
    refused(NULL, "rx-ring-ref", "100000", "cannot map rx-ring-ref 100000");
    refused(NULL, "rx-ring-ref", "-1", "rx-ring-ref");
    refused(NULL, "tx-ring-ref", NULL, "no valid tx-ring-ref");
    refused(NULL, "rx-ring-ref", "", "no valid rx-ring-ref");
    /* A read-only grant cannot be a ring; nor can another domain's grant. */
    world_reset();
    probe();
    frontend_details(NULL);
    grants[RX_REF].readonly = true;
    fe_set("state", "4");
    netback_changed(&nb);
    ck_assert_int_eq(be_state(), XenbusStateClosing);
    ck_assert(!mapped[0] && !mapped[1]);
    ck_assert(strstr(last_log, "cannot map rx-ring-ref 9"));
    world_reset();
    probe();
    frontend_details(NULL);
    grants[TX_REF].domid = 3;
    fe_set("state", "4");
    netback_changed(&nb);
    ck_assert_int_eq(be_state(), XenbusStateClosing);
    ck_assert(strstr(last_log, "cannot map tx-ring-ref 8"));
}
END_TEST

START_TEST(test_bad_mac)
{
    static const char *const bad[] = { "01:00:5e:00:00:01", "ff:ff:ff:ff:ff:ff", "00:16:3e:01:02",
                                       "00:16:3e:01:02:03:04", "0016.3e01.0203", "zz:16:3e:01:02:03", "" };
    for (unsigned i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        world_reset();
        char p[128];
        snprintf(p, sizeof(p), "%s/mac", be_path);
        set(p, bad[i]);
        ck_assert_msg(netback_probe(&nb, &ops, NULL, DOMID, DEVID, rxq) == -XEN_EINVAL, "mac '%s'", bad[i]);
        ck_assert_int_eq(be_state(), -1);          /* never announced */
    }
    world_reset();
    w_rm(NULL, be_path);
    ck_assert_int_eq(netback_probe(&nb, &ops, NULL, DOMID, DEVID, rxq), -XEN_EINVAL);
    ck_assert_int_eq(be_state(), -1);
}
END_TEST

START_TEST(test_close_reconnect)
{
    connected();
    /* netfront going away: Closing, then Closed. */
    fe_set("state", "5");
    netback_changed(&nb);
    ck_assert_int_eq(be_state(), XenbusStateClosing);
    fe_set("state", "6");
    netback_changed(&nb);
    ck_assert_int_eq(be_state(), XenbusStateClosed);
    ck_assert(!mapped[0] && !mapped[1]);
    ck_assert_uint_eq(bound_port, 0);
    ck_assert(!netback_connected(&nb));
    ck_assert_uint_eq(serve(64), 0);
    ck_assert_uint_eq(netback_rx_flush(&nb, &scratch), 0);
    /* And back (module reloaded, or resume). */
    fe_set("state", "1");
    netback_changed(&nb);
    ck_assert_int_eq(be_state(), XenbusStateInitWait);
    frontend_connect();
    ck_assert_int_eq(be_state(), XenbusStateConnected);
    uint8_t data[100];
    pattern(data, sizeof(data), 1);
    send(data, sizeof(data), 1, 0, 3, 0);
    tx_publish();
    ck_assert_uint_eq(serve(64), 0);
    ck_assert_uint_eq(nout, 1);
    ck_assert_mem_eq(out[0].data, data, sizeof(data));
    ck_assert_int_eq(tx_rsp().status, NETIF_RSP_OKAY);
    /* The frontend vanishes (its directory removed): Closed. */
    w_rm(NULL, fe_path);
    netback_changed(&nb);
    ck_assert_int_eq(be_state(), XenbusStateClosed);
    ck_assert(!mapped[0] && !mapped[1] && !bound_port);
}
END_TEST

START_TEST(test_detach_remove)
{
    /* Connected: Closing, removed once the frontend has closed. */
    connected();
    netback_detach(&nb);
    ck_assert_str_eq(be_get("online"), "0");
    ck_assert_int_eq(be_state(), XenbusStateClosing);
    ck_assert(!nb.xb.removed);
    fe_set("state", "5");
    netback_changed(&nb);
    ck_assert(!nb.xb.removed);
    fe_set("state", "6");
    netback_changed(&nb);
    ck_assert(nb.xb.removed);
    ck_assert(!mapped[0] && !mapped[1] && !bound_port);
    ck_assert_ptr_null(be_get("state"));
    ck_assert_ptr_null(get("/local/domain/7/device/vif/0/state"));
    /* Not connected: at once. */
    world_reset();
    probe();
    netback_detach(&nb);
    ck_assert(nb.xb.removed);
    ck_assert_ptr_null(be_get("mac"));
    /* Forced removal while connected (the domain destroyed). */
    connected();
    ck_assert(netback_rx_queue(&nb, "0123456789abcdef", 16, 0));
    netback_remove(&nb);
    ck_assert(nb.xb.removed);
    ck_assert(!mapped[0] && !mapped[1] && !bound_port);
    ck_assert_ptr_null(be_get("state"));
    ck_assert_uint_eq(nb.stats.rx_dropped, 1);
    netback_changed(&nb);                         /* harmless afterwards */
    netback_detach(&nb);
    ck_assert_uint_eq(serve(64), 0);
    ck_assert(!netback_rx_queue(&nb, "0123456789abcdef", 16, 0));
}
END_TEST

/* ---- tx ---- */

START_TEST(test_tx_single_and_multi)
{
    connected();
    uint8_t a[60], b[1518], c[1514];
    pattern(a, sizeof(a), 1);
    pattern(b, sizeof(b), 2);
    pattern(c, sizeof(c), 3);
    send(a, sizeof(a), 1, NETTXF_csum_blank, 100, 100);
    send(b, sizeof(b), 3, NETTXF_data_validated, 200, 2000);
    send(c, sizeof(c), 18, 0, 300, 4096 - 1514 / 18 - 10);
    tx_publish();
    txh()->rsp_event = 1;
    ck_assert_uint_eq(serve(64), 0);
    ck_assert_uint_eq(nout, 3);
    ck_assert_uint_eq(out[0].len, 60);
    ck_assert_mem_eq(out[0].data, a, sizeof(a));
    ck_assert_uint_eq(out[0].flags, NETRXF_csum_blank | NETRXF_data_validated);
    ck_assert_uint_eq(out[1].len, 1518);
    ck_assert_mem_eq(out[1].data, b, sizeof(b));
    ck_assert_uint_eq(out[1].flags, NETRXF_data_validated);
    ck_assert_uint_eq(out[2].len, 1514);
    ck_assert_mem_eq(out[2].data, c, sizeof(c));
    ck_assert_uint_eq(out[2].flags, 0);
    /* Every slot answered OKAY with its id, in ring order. */
    ck_assert_uint_eq(txh()->rsp_prod, 22);
    static const uint16_t ids[] = { 100, 200, 201, 202 };
    for (unsigned i = 0; i < 4; i++) {
        struct netif_tx_response r = tx_rsp();
        ck_assert_uint_eq(r.id, ids[i]);
        ck_assert_int_eq(r.status, NETIF_RSP_OKAY);
    }
    for (unsigned i = 0; i < 18; i++) {
        struct netif_tx_response r = tx_rsp();
        ck_assert_uint_eq(r.id, 300 + i);
        ck_assert_int_eq(r.status, NETIF_RSP_OKAY);
    }
    ck_assert_uint_eq(notifies, 1);
    ck_assert_uint_eq(nb.stats.tx_packets, 3);
    ck_assert_uint_eq(nb.stats.tx_bytes, 60 + 1518 + 1514);
    ck_assert_uint_eq(nb.stats.tx_errors, 0);
    /* Idle: asks to hear of the next request. */
    ck_assert_uint_eq(txh()->req_event, 23);
    /* The frame buffer was not touched beyond len: the guest's page data
     * past the packet never reaches us. */
    ck_assert_uint_eq(copies, 1 + 3 + 18);
}
END_TEST

START_TEST(test_tx_errors)
{
    connected();
    uint8_t big[1600], ok[64];
    pattern(big, sizeof(big), 4);
    pattern(ok, sizeof(ok), 5);
    send(big, 1519, 1, 0, 1, 0);                   /* one byte too long */
    send(ok, sizeof(ok), 1, 0, 2, 0);
    send(big, 1600, 2, 0, 3, 0);                   /* too long over two slots */
    send(ok, 13, 1, 0, 5, 0);                      /* a runt */
    send(ok, sizeof(ok), 1, 0, 6, 0);
    grants[TXD(tx_prod - 1)].valid = false;        /* not granted */
    send(ok, sizeof(ok), 1, 0, 7, 0);
    grants[TXD(tx_prod - 1)].domid = 4;            /* granted to someone else */
    send(ok, sizeof(ok), 1, 0, 8, 0);
    txs(tx_prod - 1)->req.gref = 99999;            /* an unknown reference */
    send(ok, sizeof(ok), 3, 0, 9, 0);
    grants[TXD(tx_prod - 2)].valid = false;        /* the middle fragment only */
    send(ok, sizeof(ok), 2, NETTXF_csum_blank, 12, 0);
    tx_publish();
    ck_assert_uint_eq(serve(64), 0);
    /* Only the two good ones were handed on. */
    ck_assert_uint_eq(nout, 2);
    ck_assert_mem_eq(out[0].data, ok, sizeof(ok));
    ck_assert_mem_eq(out[1].data, ok, sizeof(ok));
    ck_assert_uint_eq(out[1].flags, NETRXF_csum_blank | NETRXF_data_validated);
    static const struct { uint16_t id; int16_t st; } want[] = {
        { 1, NETIF_RSP_ERROR }, { 2, NETIF_RSP_OKAY }, { 3, NETIF_RSP_ERROR }, { 4, NETIF_RSP_ERROR },
        { 5, NETIF_RSP_ERROR }, { 6, NETIF_RSP_ERROR }, { 7, NETIF_RSP_ERROR }, { 8, NETIF_RSP_ERROR },
        { 9, NETIF_RSP_ERROR }, { 10, NETIF_RSP_ERROR }, { 11, NETIF_RSP_ERROR }, { 12, NETIF_RSP_OKAY },
        { 13, NETIF_RSP_OKAY },
    };
    ck_assert_uint_eq(txh()->rsp_prod, 13);
    for (unsigned i = 0; i < sizeof(want) / sizeof(want[0]); i++) {
        struct netif_tx_response r = tx_rsp();
        ck_assert_uint_eq(r.id, want[i].id);
        ck_assert_msg(r.status == want[i].st, "id %u: status %d", want[i].id, r.status);
    }
    ck_assert_uint_eq(nb.stats.tx_errors, 7);
    ck_assert_uint_eq(nb.stats.tx_packets, 2);
    ck_assert_uint_eq(copies_failed, 4);
    ck_assert_int_eq(be_state(), XenbusStateConnected);   /* errors do not disconnect */
}
END_TEST

START_TEST(test_tx_batches_and_budget)
{
    connected();
    enum { N = 3 * NETBACK_TX_BATCH + 5 };
    uint8_t d[200];
    for (unsigned i = 0; i < N; i++) {
        pattern(d, sizeof(d), i);
        send(d, 60 + i, 1 + i % 3, 0, (uint16_t)(i * 3), (uint16_t)(i * 8));
    }
    tx_publish();
    /* The whole lot in one call, batch after batch. */
    ck_assert_uint_eq(serve(1000), 0);
    ck_assert_uint_eq(nout, N);
    for (unsigned i = 0; i < N; i++) {
        pattern(d, sizeof(d), i);
        ck_assert_uint_eq(out[i].len, 60 + i);
        ck_assert_mem_eq(out[i].data, d, 60 + i);
    }
    RING_IDX slots = 0;
    for (unsigned i = 0; i < N; i++) {
        for (unsigned k = 0; k < 1 + i % 3; k++, slots++) {
            struct netif_tx_response r = tx_rsp();
            ck_assert_uint_eq(r.id, i * 3 + k);
            ck_assert_int_eq(r.status, NETIF_RSP_OKAY);
        }
    }
    ck_assert_uint_eq(txh()->rsp_prod, slots);
    /* Now with a budget: AGAIN while packets are left. */
    nout = 0;
    for (unsigned i = 0; i < 25; i++) {
        pattern(d, sizeof(d), i);
        send(d, 100, 2, 0, (uint16_t)i, 0);
    }
    tx_publish();
    ck_assert_uint_eq(serve(10), NETBACK_AGAIN);
    ck_assert_uint_eq(nout, 10);
    ck_assert_uint_eq(txh()->rsp_prod, slots + 20);  /* answered before returning */
    ck_assert_uint_eq(serve(10), NETBACK_AGAIN);
    ck_assert_uint_eq(nout, 20);
    ck_assert_uint_eq(serve(10), 0);
    ck_assert_uint_eq(nout, 25);
    ck_assert_uint_eq(txh()->rsp_prod, slots + 50);
    ck_assert_uint_eq(serve(10), 0);
    ck_assert_uint_eq(nout, 25);
    for (unsigned i = 0; i < 25; i++) {
        pattern(d, sizeof(d), i);
        ck_assert_mem_eq(out[i].data, d, 100);
    }
    /* Exactly the budget's worth: all done, nothing left, so no AGAIN,
     * and it asks to hear of the next request as when idle. */
    while (tx_rsp_cons != txh()->rsp_prod)
        ck_assert_int_eq(tx_rsp().status, NETIF_RSP_OKAY);
    ck_assert_uint_eq(tx_rsp_cons, slots + 50);
    nout = 0;
    for (unsigned i = 0; i < 8; i++)
        send(d, 100, 1, 0, (uint16_t)i, 0);
    tx_publish();
    ck_assert_uint_eq(serve(8), 0);
    ck_assert_uint_eq(nout, 8);
    ck_assert_uint_eq(txh()->req_event, tx_prod + 1);
}
END_TEST

START_TEST(test_tx_notify_rule)
{
    connected();
    uint8_t d[64];
    pattern(d, sizeof(d), 9);
    /* The frontend asked for the first response: one notification. */
    send(d, sizeof(d), 1, 0, 1, 0);
    tx_publish();
    serve(64);
    ck_assert_uint_eq(notifies, 1);
    /* It has not looked yet (rsp_event still 1): no more. */
    send(d, sizeof(d), 1, 0, 2, 0);
    tx_publish();
    serve(64);
    ck_assert_uint_eq(notifies, 1);
    /* It asks for the one after the next 3 (as netfront's tx does when
     * its ring fills): only the third response notifies. */
    tx_rsp();
    tx_rsp();
    txh()->rsp_event = tx_rsp_cons + 3;
    send(d, sizeof(d), 1, 0, 3, 0);
    send(d, sizeof(d), 1, 0, 4, 0);
    tx_publish();
    serve(64);
    ck_assert_uint_eq(notifies, 1);
    send(d, sizeof(d), 1, 0, 5, 0);
    tx_publish();
    serve(64);
    ck_assert_uint_eq(notifies, 2);
    /* Nothing to answer: no notification. */
    serve(64);
    ck_assert_uint_eq(notifies, 2);
    ck_assert_uint_eq(nout, 5);
}
END_TEST

START_TEST(test_tx_broken)
{
    /* req_prod beyond a ring's worth. */
    connected();
    txh()->req_prod = 1000;
    ck_assert_uint_eq(serve(64), NETBACK_BROKEN);
    ck_assert_int_eq(be_state(), XenbusStateClosing);
    ck_assert(!mapped[0] && !mapped[1] && !bound_port);
    ck_assert(strstr(last_log, "broke its tx ring"));
    unsigned c = copies, n = notifies;
    ck_assert_uint_eq(serve(64), 0);
    ck_assert_uint_eq(netback_rx_flush(&nb, &scratch), 0);
    ck_assert(!netback_rx_queue(&nb, "0123456789abcdef", 16, 0));
    ck_assert_uint_eq(copies, c);
    ck_assert_uint_eq(notifies, n);
    fe_set("state", "4");                          /* insisting changes nothing */
    netback_changed(&nb);
    ck_assert_int_eq(be_state(), XenbusStateClosing);
    ck_assert(!netback_connected(&nb));
    /* Closed and back: served again. */
    fe_set("state", "6");
    netback_changed(&nb);
    fe_set("state", "1");
    netback_changed(&nb);
    frontend_connect();
    ck_assert(netback_connected(&nb));

    /* Good packets, then one running past its page: the good ones are
     * handed on and answered before the cut. */
    connected();
    uint8_t d[100];
    pattern(d, sizeof(d), 1);
    send(d, sizeof(d), 1, 0, 1, 0);
    send(d, sizeof(d), 2, 0, 2, 0);
    put_tx(tx_prod++, TXD(0), 4090, 0, 9, 100);
    tx_publish();
    ck_assert_uint_eq(serve(64), NETBACK_BROKEN);
    ck_assert_uint_eq(nout, 2);
    ck_assert_uint_eq(nb.stats.tx_packets, 2);
    ck_assert_int_eq(be_state(), XenbusStateClosing);
    /* The old ring page moved when it was unmapped: what the backend
     * published is in the moved copy. */
    ck_assert_uint_eq(txh()->rsp_prod, 3);
    ck_assert_int_eq(tx_rsp().id, 1);
    ck_assert_int_eq(tx_rsp().id, 2);
    ck_assert_int_eq(tx_rsp().id, 3);

    /* A more_data chain running past req_prod. */
    connected();
    put_tx(tx_prod++, TXD(0), 0, NETTXF_more_data, 1, 100);
    tx_publish();
    ck_assert_uint_eq(serve(64), NETBACK_BROKEN);
    ck_assert_int_eq(be_state(), XenbusStateClosing);
    ck_assert_uint_eq(nout, 0);
}
END_TEST

/* ---- rx ---- */

START_TEST(test_rx)
{
    connected();
    uint8_t f[3][1518];
    static const uint16_t lens[3] = { 14, 1518, 777 };
    static const uint16_t flags[3] = { 0, NETRXF_csum_blank | NETRXF_data_validated,
                                       NETRXF_data_validated | NETRXF_more_data | NETRXF_extra_info };
    for (unsigned i = 0; i < 3; i++) {
        pattern(f[i], lens[i], 20 + i);
        ck_assert(netback_rx_queue(&nb, f[i], lens[i], flags[i]));
    }
    ck_assert_uint_eq(nb.rxq_count, 3);
    for (unsigned i = 0; i < 4; i++)
        post_rx((uint16_t)(500 + i));
    memset(guest_pages[RXD(0)], 0xee, 4096);
    ck_assert_uint_eq(netback_rx_flush(&nb, &scratch), 0);
    ck_assert_uint_eq(nb.rxq_count, 0);
    ck_assert_uint_eq(rxh()->rsp_prod, 3);
    ck_assert_uint_eq(notifies, 1);
    for (unsigned i = 0; i < 3; i++) {
        const uint8_t *page;
        struct netif_rx_response r = rx_rsp(&page);
        ck_assert_uint_eq(r.id, 500 + i);
        ck_assert_uint_eq(r.offset, 0);
        ck_assert_int_eq(r.status, lens[i]);
        ck_assert_uint_eq(r.flags, flags[i] & (NETRXF_csum_blank | NETRXF_data_validated));
        ck_assert_mem_eq(page, f[i], lens[i]);
    }
    ck_assert_uint_eq(guest_pages[RXD(0)][14], 0xee);   /* nothing past the frame */
    ck_assert_uint_eq(nb.stats.rx_packets, 3);
    ck_assert_uint_eq(nb.stats.rx_bytes, 14 + 1518 + 777);
    /* Lengths outside 14..1518 are refused and counted. */
    ck_assert(!netback_rx_queue(&nb, f[0], 13, 0));
    ck_assert(!netback_rx_queue(&nb, f[1], 1519, 0));
    ck_assert_uint_eq(nb.stats.rx_dropped, 2);
    ck_assert_uint_eq(nb.rxq_count, 0);
    /* One page is left posted: the next frame goes there at once. */
    ck_assert(netback_rx_queue(&nb, f[2], 100, 0));
    ck_assert_uint_eq(netback_rx_flush(&nb, &scratch), 0);
    const uint8_t *page;
    struct netif_rx_response r = rx_rsp(&page);
    ck_assert_uint_eq(r.id, 503);
    ck_assert_int_eq(r.status, 100);
    ck_assert_mem_eq(page, f[2], 100);
}
END_TEST

START_TEST(test_rx_waits_for_pages)
{
    connected();
    uint8_t f[200];
    for (unsigned i = 0; i < 5; i++) {
        pattern(f, sizeof(f), i);
        ck_assert(netback_rx_queue(&nb, f, 60 + i, 0));
    }
    rxh()->req_event = 999;
    ck_assert_uint_eq(netback_rx_flush(&nb, &scratch), 0);
    ck_assert_uint_eq(nb.rxq_count, 5);
    ck_assert_uint_eq(notifies, 0);
    ck_assert_uint_eq(copies, 0);
    /* It asked to hear of the next posted page. */
    ck_assert_uint_eq(rxh()->req_event, 1);
    RING_IDX old = rxh()->req_prod;
    post_rx(1);
    post_rx(2);
    /* netfront's push: notify if req_event was crossed. */
    RING_IDX np = rxh()->req_prod;
    ck_assert((RING_IDX)(np - rxh()->req_event) < (RING_IDX)(np - old));
    ck_assert_uint_eq(netback_rx_flush(&nb, &scratch), 0);
    ck_assert_uint_eq(nb.rxq_count, 3);
    ck_assert_uint_eq(rxh()->req_event, 3);
    for (unsigned i = 0; i < 2; i++) {
        const uint8_t *page;
        struct netif_rx_response r = rx_rsp(&page);
        pattern(f, sizeof(f), i);
        ck_assert_uint_eq(r.id, 1 + i);
        ck_assert_int_eq(r.status, 60 + i);
        ck_assert_mem_eq(page, f, 60 + i);
    }
    for (unsigned i = 0; i < 40; i++)
        post_rx((uint16_t)(10 + i));
    ck_assert_uint_eq(netback_rx_flush(&nb, &scratch), 0);
    ck_assert_uint_eq(nb.rxq_count, 0);
    for (unsigned i = 2; i < 5; i++) {
        const uint8_t *page;
        struct netif_rx_response r = rx_rsp(&page);
        pattern(f, sizeof(f), i);
        ck_assert_uint_eq(r.id, 10 + i - 2);
        ck_assert_int_eq(r.status, 60 + i);
        ck_assert_mem_eq(page, f, 60 + i);
    }
    ck_assert_uint_eq(nb.stats.rx_packets, 5);
}
END_TEST

START_TEST(test_rx_queue_limit_and_errors)
{
    connected();
    uint8_t f[64];
    for (unsigned i = 0; i < NETBACK_RXQ_LEN; i++) {
        pattern(f, sizeof(f), i);
        ck_assert(netback_rx_queue(&nb, f, sizeof(f), 0));
    }
    ck_assert(!netback_rx_queue(&nb, f, sizeof(f), 0));
    ck_assert(!netback_rx_queue(&nb, f, sizeof(f), 0));
    ck_assert_uint_eq(nb.stats.rx_dropped, 2);
    ck_assert_uint_eq(nb.rxq_count, NETBACK_RXQ_LEN);
    /* Pages for all; three of them bad. */
    for (unsigned i = 0; i < NETBACK_RXQ_LEN; i++)
        post_rx((uint16_t)i);
    grants[RXD(3)].valid = false;
    grants[RXD(4)].readonly = true;                /* we must write it */
    rxs(5)->req.gref = 77777;
    ck_assert_uint_eq(netback_rx_flush(&nb, &scratch), 0);
    ck_assert_uint_eq(nb.rxq_count, 0);
    for (unsigned i = 0; i < NETBACK_RXQ_LEN; i++) {
        const uint8_t *page;
        struct netif_rx_response r = rx_rsp(&page);
        ck_assert_uint_eq(r.id, i);
        if (i >= 3 && i <= 5) {
            ck_assert_int_eq(r.status, NETIF_RSP_ERROR);
            ck_assert_uint_eq(r.flags, 0);
        } else {
            pattern(f, sizeof(f), i);
            ck_assert_int_eq(r.status, sizeof(f));
            ck_assert_mem_eq(page, f, sizeof(f));
        }
    }
    ck_assert_uint_eq(nb.stats.rx_errors, 3);
    ck_assert_uint_eq(nb.stats.rx_packets, NETBACK_RXQ_LEN - 3);
    /* Room again. */
    ck_assert(netback_rx_queue(&nb, f, sizeof(f), 0));
    /* A disconnect drops what is queued. */
    for (unsigned i = 0; i < 4; i++)
        ck_assert(netback_rx_queue(&nb, f, sizeof(f), 0));
    fe_set("state", "6");
    netback_changed(&nb);
    ck_assert_uint_eq(nb.rxq_count, 0);
    ck_assert_uint_eq(nb.stats.rx_dropped, 2 + 5);
    ck_assert(!netback_rx_queue(&nb, f, sizeof(f), 0));
    ck_assert_uint_eq(nb.stats.rx_dropped, 2 + 6);
    /* Reconnected: an empty queue, frames flow again. */
    fe_set("state", "1");
    netback_changed(&nb);
    frontend_connect();
    ck_assert_uint_eq(nb.rxq_count, 0);
    ck_assert(netback_rx_queue(&nb, f, sizeof(f), 0));
    post_rx(9);
    netback_rx_flush(&nb, &scratch);
    const uint8_t *page;
    struct netif_rx_response r = rx_rsp(&page);
    ck_assert_uint_eq(r.id, 9);
    ck_assert_mem_eq(page, f, sizeof(f));
}
END_TEST

START_TEST(test_rx_broken)
{
    connected();
    ck_assert(netback_rx_queue(&nb, "0123456789abcdef", 16, 0));
    rxh()->req_prod = 300;
    ck_assert_uint_eq(netback_rx_flush(&nb, &scratch), NETBACK_BROKEN);
    ck_assert_int_eq(be_state(), XenbusStateClosing);
    ck_assert(strstr(last_log, "broke its rx ring"));
    ck_assert(!mapped[0] && !mapped[1] && !bound_port);
    ck_assert_uint_eq(nb.rxq_count, 0);
    ck_assert_uint_eq(nb.stats.rx_dropped, 1);
    ck_assert_uint_eq(netback_rx_flush(&nb, &scratch), 0);
    ck_assert_uint_eq(serve(64), 0);
}
END_TEST

/* ---- a random well-behaved frontend against a model ---- */

/* What the frontend sent, per tx slot id (ids are the slot numbers mod
 * 256, so an id is reused only after its answer came back). */
struct tx_model {
    bool good;                     /* should be delivered */
    bool first;                    /* the packet's first slot */
    uint16_t len;
    uint16_t flags;                /* NETRXF_ expected */
    uint8_t data[NETBACK_MAX_FRAME + 64];
};
static struct tx_model txm[256];
static RING_IDX txm_next_deliver;  /* the slot of the next packet to be delivered */
static unsigned delivered_ok;

static void deliver_model(void *arg, struct netback *b, const struct netback_packet *f)
{
    (void)arg;
    (void)b;
    /* Skip the packets that must be refused. */
    while (!txm[txm_next_deliver & 255].first || !txm[txm_next_deliver & 255].good) {
        FAST_ASSERT(txm_next_deliver != tx_prod);
        txm_next_deliver++;
    }
    const struct tx_model *m = &txm[txm_next_deliver & 255];
    FAST_ASSERT_MSG(f->len == m->len && f->flags == m->flags, "slot %u: len %u/%u flags %u/%u",
                    txm_next_deliver, f->len, m->len, f->flags, m->flags);
    FAST_ASSERT(memcmp(f->data, m->data, m->len) == 0);
    txm_next_deliver++;
    delivered_ok++;
}

/* Frames queued for the guest, in order. */
struct rx_model {
    uint16_t len, flags;
    uint8_t data[NETBACK_MAX_FRAME];
};
static struct rx_model rxm[NETBACK_RXQ_LEN + 256];
static unsigned rxm_head, rxm_count;

START_TEST(test_random_frontend)
{
    for (uint64_t seed = 1; seed <= 25; seed++) {
        rng = seed * 0x9e3779b97f4a7c15ull;
        connected();
        memset(txm, 0, sizeof(txm));
        txm_next_deliver = 0;
        delivered_ok = 0;
        rxm_head = rxm_count = 0;
        unsigned sent_good = 0, sent_bad = 0, rx_sent = 0, rx_got = 0, rx_full = 0;
        bool be_kick = false, again = false;
        fe_kicked = false;
        uint16_t next_rx_id = 0;
        uint16_t rx_ids[256];
        /* The frontend: sends (queued in the ring, published later),
         * posts rx pages, and looks at responses only when notified. */
        for (unsigned step = 0; step < 3000; step++) {
            bool draining = step >= 2500;
            unsigned act = below(10);
            if (!draining && act < 3) {
                unsigned nfr = chance(60) ? 1 : 1 + below(18);
                if ((RING_IDX)(tx_prod + nfr - tx_rsp_cons) > 256)
                    continue;
                bool bad = chance(8);
                uint32_t len = bad ? (chance(50) ? 1 + below(13) : 1519 + below(2000)) : 14 + below(1505);
                if (len < nfr)
                    nfr = 1;
                uint16_t txf = (uint16_t)below(4);
                struct tx_model *m = &txm[tx_prod & 255];
                m->first = true;
                m->good = !bad;
                m->len = (uint16_t)len;
                m->flags = (uint16_t)(((txf & NETTXF_csum_blank) ? NETRXF_csum_blank | NETRXF_data_validated : 0) |
                                      ((txf & NETTXF_data_validated) ? NETRXF_data_validated : 0));
                static uint8_t buf[4096];
                for (uint32_t i = 0; i < len; i++)
                    buf[i] = (uint8_t)rnd();
                memcpy(m->data, buf, len < sizeof(m->data) ? len : sizeof(m->data));
                uint32_t at = 0;
                for (unsigned k = 0; k < nfr; k++) {
                    uint32_t left = len - at;
                    uint32_t part = k + 1 < nfr ? below(left / (nfr - k) * 2 + 1) : left;
                    if (part > left)
                        part = left;
                    if (part > 4096)
                        part = 4096;
                    uint16_t off = (uint16_t)below(4096 - part + 1);
                    grant_ref_t ref = TXD(tx_prod);
                    grant(ref, true);
                    memcpy(guest_pages[ref] + off, buf + at, part);
                    struct tx_model *s = &txm[tx_prod & 255];
                    if (k) {
                        s->first = false;
                        s->good = !bad;
                    }
                    uint16_t fl = (uint16_t)((k ? 0 : txf) | (k + 1 < nfr ? NETTXF_more_data : 0));
                    put_tx(tx_prod, ref, off, fl, (uint16_t)(tx_prod & 255), (uint16_t)(k ? part : len));
                    tx_prod++;
                    at += part;
                }
                ck_assert_uint_eq(at, len);
                if (bad)
                    sent_bad++;
                else
                    sent_good++;
            } else if (act < 5 || draining) {
                /* Publish tx requests and posted rx pages; notify as
                 * netfront's RING_PUSH_REQUESTS_AND_CHECK_NOTIFY. */
                RING_IDX old = txh()->req_prod;
                txh()->req_prod = tx_prod;
                if ((RING_IDX)(tx_prod - txh()->req_event) < (RING_IDX)(tx_prod - old))
                    be_kick = true;
                unsigned post = draining ? 20 : below(chance(20) ? 20 : 3);
                old = rxh()->req_prod;
                for (unsigned i = 0; i < post && (RING_IDX)(rx_prod - rx_rsp_cons) < 256; i++) {
                    rx_ids[rx_prod & 255] = next_rx_id;
                    grant(RXD(rx_prod), false);
                    union netif_rx_sring_entry *e = rxs(rx_prod);
                    e->req.id = next_rx_id++;
                    e->req.gref = RXD(rx_prod);
                    rx_prod++;
                }
                rxh()->req_prod = rx_prod;
                if ((RING_IDX)(rx_prod - rxh()->req_event) < (RING_IDX)(rx_prod - old))
                    be_kick = true;
            } else if (act < 7) {
                /* The switch hands frames to this vif. */
                unsigned n = 1 + below(8);
                for (unsigned i = 0; i < n && !draining; i++) {
                    struct rx_model *m = &rxm[(rxm_head + rxm_count) % (sizeof(rxm) / sizeof(rxm[0]))];
                    m->len = (uint16_t)(14 + below(1505));
                    m->flags = (uint16_t)below(4);
                    for (unsigned b = 0; b < m->len; b++)
                        m->data[b] = (uint8_t)rnd();
                    bool room = nb.rxq_count < NETBACK_RXQ_LEN;
                    bool took = netback_rx_queue(&nb, m->data, m->len, m->flags);
                    FAST_ASSERT(took == room);
                    if (took) {
                        m->flags &= NETRXF_csum_blank | NETRXF_data_validated;
                        rxm_count++;
                        rx_sent++;
                    } else {
                        rx_full++;
                    }
                }
            }
            /* dom0's loop: on an event (or work left), serve tx; flush rx
             * whenever frames wait. */
            if (be_kick || again) {
                be_kick = false;
                unsigned r = netback_tx_serve(&nb, 1 + below(40), &scratch, deliver_model, NULL);
                FAST_ASSERT(!(r & NETBACK_BROKEN));
                again = (r & NETBACK_AGAIN) != 0;
            }
            if (nb.rxq_count)
                FAST_ASSERT(netback_rx_flush(&nb, &scratch) == 0);
            FAST_ASSERT(nb.rxq_count <= NETBACK_RXQ_LEN);
            /* The frontend: on its event, takes every response, then asks
             * to hear of the next one and looks once more. */
            while (fe_kicked) {
                fe_kicked = false;
                for (;;) {
                    while (tx_rsp_cons != txh()->rsp_prod) {
                        struct netif_tx_response r = txs(tx_rsp_cons)->rsp;
                        const struct tx_model *m = &txm[tx_rsp_cons & 255];
                        FAST_ASSERT_MSG(r.id == (tx_rsp_cons & 255), "tx rsp %u id %u", tx_rsp_cons, r.id);
                        FAST_ASSERT_MSG(r.status == (m->good ? NETIF_RSP_OKAY : NETIF_RSP_ERROR),
                                        "seed %llu tx slot %u status %d", (unsigned long long)seed, tx_rsp_cons,
                                        r.status);
                        tx_rsp_cons++;
                    }
                    while (rx_rsp_cons != rxh()->rsp_prod) {
                        struct netif_rx_response r = rxs(rx_rsp_cons)->rsp;
                        FAST_ASSERT(rxm_count > 0);
                        const struct rx_model *m = &rxm[rxm_head];
                        FAST_ASSERT(r.id == rx_ids[rx_rsp_cons & 255]);
                        FAST_ASSERT_MSG(r.status == m->len && r.offset == 0 && r.flags == m->flags,
                                        "rx %u: status %d len %u", rx_rsp_cons, r.status, m->len);
                        FAST_ASSERT(memcmp(guest_pages[RXD(rx_rsp_cons)], m->data, m->len) == 0);
                        rxm_head = (rxm_head + 1) % (sizeof(rxm) / sizeof(rxm[0]));
                        rxm_count--;
                        rx_rsp_cons++;
                        rx_got++;
                    }
                    txh()->rsp_event = tx_rsp_cons + 1;
                    rxh()->rsp_event = rx_rsp_cons + 1;
                    if (tx_rsp_cons == txh()->rsp_prod && rx_rsp_cons == rxh()->rsp_prod)
                        break;
                }
            }
        }
        /* Drained, through notifications alone. */
        ck_assert_msg(tx_rsp_cons == tx_prod, "seed %llu: %u tx slots unanswered", (unsigned long long)seed,
                      tx_prod - tx_rsp_cons);
        ck_assert_uint_eq(delivered_ok, sent_good);
        ck_assert_uint_eq(nb.stats.tx_packets, sent_good);
        ck_assert_uint_eq(nb.stats.tx_errors, sent_bad);
        ck_assert_uint_eq(rxm_count, nb.rxq_count);
        ck_assert_uint_eq(rx_got + rxm_count, rx_sent);
        ck_assert_uint_eq(nb.stats.rx_dropped, rx_full);
        ck_assert_uint_gt(sent_good, 100);
        ck_assert_uint_gt(rx_got, 100);
        ck_assert_uint_gt(rx_full, 10);           /* the queue limit was reached */
        ck_assert_int_eq(be_state(), XenbusStateConnected);
    }
}
END_TEST

/* ---- a hostile frontend ---- */

static void scribble(uint8_t *slot, unsigned size)
{
    for (unsigned j = 0; j < size; j++)
        slot[j] = (uint8_t)rnd();
}

static RING_IDX forward(RING_IDX prod, RING_IDX rsp)
{
    prod += below(30);
    return (RING_IDX)(prod - rsp) > 256 ? rsp + 256 : prod;
}

START_TEST(test_hostile_fuzz)
{
    unsigned broken_seeds = 0, delivered = 0, errors = 0, rx_done = 0;
    for (uint64_t seed = 1; seed <= 300; seed++) {
        rng = seed * 0x2545f4914f6cdd1dull;
        connected();
        for (unsigned i = 0; i < 256; i++) {
            grant(TXD(i), chance(50));
            grant(RXD(i), chance(10));
        }
        /* A third of the seeds write random but never ring-breaking
         * slots and indices: they must never be cut off. */
        bool tame = seed % 3 == 0;
        bool cut = false;
        for (unsigned step = 0; step < 300; step++) {
            /* Random slots, often almost sensible. */
            unsigned n = below(6);
            for (unsigned k = 0; k < n; k++) {
                union netif_tx_sring_entry *e = txs(below(256));
                scribble((uint8_t *)e, sizeof(*e));
                if (tame)
                    e->req.flags &= NETTXF_csum_blank | NETTXF_data_validated;
                else if (chance(70))
                    e->req.flags &= NETTXF_csum_blank | NETTXF_data_validated | NETTXF_more_data;
                if (tame || chance(60))
                    e->req.offset &= 0x7ff;
                if (tame || chance(60))
                    e->req.size &= 0x7ff;
                if (chance(60))
                    e->req.gref = TXD(below(300));
            }
            n = below(4);
            for (unsigned k = 0; k < n; k++) {
                union netif_rx_sring_entry *e = rxs(below(256));
                scribble((uint8_t *)e, sizeof(*e));
                if (chance(70))
                    e->req.gref = RXD(below(300));
            }
            if (tame) {
                /* Indices only forward, never more than a ring ahead. */
                if (chance(25))
                    txh()->req_prod = forward(txh()->req_prod, nb.tx.core.rsp_prod_pvt);
                if (chance(15))
                    rxh()->req_prod = forward(rxh()->req_prod, nb.rx.core.rsp_prod_pvt);
            } else {
                if (chance(25))
                    txh()->req_prod = chance(10) ? (RING_IDX)rnd() : nb.tx.core.req_cons + below(30);
                if (chance(15))
                    rxh()->req_prod = chance(10) ? (RING_IDX)rnd() : nb.rx.core.req_cons + below(30);
            }
            if (chance(10))
                txh()->rsp_event = (RING_IDX)rnd();
            if (chance(10))
                rxh()->rsp_event = (RING_IDX)rnd();
            if (chance(5))
                txh()->rsp_prod = (RING_IDX)rnd();   /* ours, but it may write it */
            if (chance(20)) {
                uint8_t f[1518];
                uint32_t len = below(1600);
                scribble(f, sizeof(f));
                bool took = netback_rx_queue(&nb, f, len, (uint16_t)rnd());
                FAST_ASSERT(!took || (!cut && len >= 14 && len <= 1518));
            }
            unsigned tx_cons = nb.tx.core.req_cons, tx_rsp = nb.tx.core.rsp_prod_pvt;
            unsigned rx_cons = nb.rx.core.req_cons, rx_rsp = nb.rx.core.rsp_prod_pvt;
            unsigned c0 = copies, n0 = notifies;
            nout = 0;
            unsigned rt = serve(1 + below(300));
            unsigned rr = netback_rx_flush(&nb, &scratch);
            delivered += nout;
            if (cut) {
                /* Once cut off, nothing: no copies, no notifications, no answers. */
                FAST_ASSERT(rt == 0 && rr == 0 && copies == c0 && notifies == n0 && nout == 0);
                FAST_ASSERT(be_state() == XenbusStateClosing && !netback_connected(&nb));
                FAST_ASSERT(!mapped[0] && !mapped[1] && !bound_port);
                if (chance(10)) {
                    fe_set("state", "4");
                    netback_changed(&nb);
                    FAST_ASSERT(be_state() == XenbusStateClosing && !mapped[0]);
                }
                continue;
            }
            /* Never more answers than slots taken; every tx slot taken
             * answered. */
            FAST_ASSERT((RING_IDX)(nb.tx.core.rsp_prod_pvt - tx_rsp) <= (RING_IDX)(nb.tx.core.req_cons - tx_rsp));
            FAST_ASSERT((RING_IDX)(nb.rx.core.rsp_prod_pvt - rx_rsp) <= (RING_IDX)(nb.rx.core.req_cons - rx_rsp));
            FAST_ASSERT((RING_IDX)(nb.tx.core.req_cons - tx_cons) <= 256 * 2);
            FAST_ASSERT((RING_IDX)(nb.rx.core.req_cons - rx_cons) <= 256);
            FAST_ASSERT((RING_IDX)(nb.rx.core.req_cons - nb.rx.core.rsp_prod_pvt) <= 256);
            if ((rt | rr) & NETBACK_BROKEN) {
                FAST_ASSERT_MSG(!tame, "seed %llu step %u: a tame frontend was cut off: %s",
                                (unsigned long long)seed, step, last_log);
                cut = true;
                broken_seeds++;
                FAST_ASSERT(be_state() == XenbusStateClosing && !mapped[0] && !mapped[1] && !bound_port);
                FAST_ASSERT(nb.rxq_count == 0);
                continue;
            }
            FAST_ASSERT(nb.tx.core.rsp_prod_pvt == nb.tx.core.req_cons);
            FAST_ASSERT(nb.tx.core.rsp_prod_pub == nb.tx.core.rsp_prod_pvt);
            FAST_ASSERT(nb.rx.core.rsp_prod_pub == nb.rx.core.rsp_prod_pvt);
            FAST_ASSERT(be_state() == XenbusStateConnected);
        }
        errors += (unsigned)nb.stats.tx_errors;
        rx_done += (unsigned)(nb.stats.rx_packets + nb.stats.rx_errors);
        /* The frontend closes: Closed, nothing held. */
        fe_set("state", "6");
        netback_changed(&nb);
        ck_assert_int_eq(be_state(), XenbusStateClosed);
        ck_assert(!mapped[0] && !mapped[1] && !bound_port);
    }
    /* The fuzz reached every outcome. */
    ck_assert_uint_gt(broken_seeds, 20);
    ck_assert_uint_le(broken_seeds, 200);
    ck_assert_uint_gt(delivered, 100);
    ck_assert_uint_gt(errors, 100);
    ck_assert_uint_gt(rx_done, 100);
}
END_TEST


/* ---- GSO ---- */

static uint8_t gso_out[NETBACK_MAX_PACKET];
static struct netback_packet gso_got;
static unsigned gso_delivered;

static void deliver_gso(void *arg, struct netback *b, const struct netback_packet *p)
{
    (void)arg;
    ck_assert_ptr_eq(b, &nb);
    ck_assert(inside(p->data, p->len, scratch.arena, sizeof(scratch.arena)));
    memcpy(gso_out, p->data, p->len);
    gso_got = *p;
    gso_delivered++;
}

/* A `len`-byte packet in `nfr` slots of one page each (offset 0), with a
 * GSO extra after the first slot. Not published. */
static void send_gso(const uint8_t *data, uint32_t len, unsigned nfr, uint16_t flags, uint8_t type, uint16_t mss)
{
    uint32_t at = 0;
    for (unsigned k = 0; k < nfr; k++) {
        uint32_t part = k + 1 < nfr ? len / nfr : len - at;
        ck_assert_uint_le(part, 4096);
        grant_ref_t ref = TXD(tx_prod);
        grant(ref, true);
        memcpy(guest_pages[ref], data + at, part);
        uint16_t f = (uint16_t)((k == 0 ? flags | NETTXF_extra_info : 0) | (k + 1 < nfr ? NETTXF_more_data : 0));
        put_tx(tx_prod++, ref, 0, f, (uint16_t)(100 + k), (uint16_t)(k == 0 ? len : part));
        at += part;
        if (k == 0) {
            union netif_tx_sring_entry *e = txs(tx_prod++);
            memset(e, 0, sizeof(*e));
            e->extra.type = XEN_NETIF_EXTRA_TYPE_GSO;
            e->extra.u.gso.size = mss;
            e->extra.u.gso.type = type;
        }
    }
}

START_TEST(test_tx_gso)
{
    static uint8_t data[20000];
    connected();
    pattern(data, sizeof(data), 9);
    /* A TCPv4 GSO packet with its checksum left blank: handed on whole. */
    send_gso(data, 10000, 3, NETTXF_csum_blank | NETTXF_data_validated, XEN_NETIF_GSO_TYPE_TCPV4, 1448);
    /* The same without csum_blank (we could not segment it): ERROR. */
    send_gso(data, 9000, 3, 0, XEN_NETIF_GSO_TYPE_TCPV4, 1448);
    /* TCPv6 is not offered: ERROR. */
    send_gso(data, 9000, 3, NETTXF_csum_blank, XEN_NETIF_GSO_TYPE_TCPV6, 1428);
    /* An MSS that would make 257 segments: ERROR; 256 segments: taken. */
    send_gso(data, 257 * 30, 2, NETTXF_csum_blank, XEN_NETIF_GSO_TYPE_TCPV4, 30);
    send_gso(data, 256 * 30, 2, NETTXF_csum_blank, XEN_NETIF_GSO_TYPE_TCPV4, 30);
    /* 16 pages of a 64 KiB packet. */
    send_gso(data, 16 * 1250, 16, NETTXF_csum_blank, XEN_NETIF_GSO_TYPE_TCPV4, 1448);
    tx_publish();
    gso_delivered = 0;
    ck_assert_uint_eq(netback_tx_serve(&nb, 64, &scratch, deliver_gso, NULL), 0);
    ck_assert_uint_eq(gso_delivered, 3);
    ck_assert_uint_eq(gso_got.len, 20000);
    ck_assert_uint_eq(gso_got.gso_type, XEN_NETIF_GSO_TYPE_TCPV4);
    ck_assert_uint_eq(gso_got.gso_size, 1448);
    ck_assert_uint_eq(gso_got.flags, NETRXF_csum_blank | NETRXF_data_validated);
    ck_assert_mem_eq(gso_out, data, 20000);
    ck_assert_uint_eq(nb.stats.tx_packets, 3);
    ck_assert_uint_eq(nb.stats.tx_errors, 3);
    /* Every slot answered: data slots OKAY/ERROR, extras NULL. */
    const int16_t want[] = { 0, 1, 0, 0, -1, 1, -1, -1, -1, 1, -1, -1, -1, 1, -1, 0, 1, 0 };
    for (unsigned i = 0; i < sizeof(want) / sizeof(want[0]); i++)
        ck_assert_int_eq(tx_rsp().status, want[i]);
    for (unsigned i = 0; i < 17; i++)
        ck_assert_int_eq(tx_rsp().status, i == 1 ? NETIF_RSP_NULL : NETIF_RSP_OKAY);
    ck_assert_uint_eq(txh()->rsp_prod, tx_rsp_cons);
}
END_TEST

START_TEST(test_rx_gso)
{
    static uint8_t data[NETBACK_MAX_PACKET];
    connected();
    ck_assert(nb.fe_gso);
    pattern(data, sizeof(data), 3);
    struct netback_packet p = { .data = scratch.arena + 64, .len = 9000, .gso_type = XEN_NETIF_GSO_TYPE_TCPV4,
                                .gso_size = 1448, .flags = NETRXF_csum_blank | NETRXF_data_validated };
    memcpy(scratch.arena + 64, data, 9000);
    /* Three pages and a slot for the extra are needed: three are not enough. */
    for (unsigned i = 0; i < 3; i++)
        post_rx((uint16_t)(700 + i));
    ck_assert(!netback_rx_gso(&nb, &p, &scratch));
    ck_assert_uint_eq(rxh()->rsp_prod, 0);
    post_rx(703);
    /* A queued frame goes first. */
    uint8_t small[60];
    pattern(small, sizeof(small), 1);
    ck_assert(netback_rx_queue(&nb, small, sizeof(small), 0));
    ck_assert(!netback_rx_gso(&nb, &p, &scratch));      /* the frame took a page: 3 left */
    post_rx(704);
    ck_assert(netback_rx_gso(&nb, &p, &scratch));
    const uint8_t *page;
    struct netif_rx_response r = rx_rsp(&page);
    ck_assert_int_eq(r.status, 60);
    ck_assert_mem_eq(page, small, 60);
    /* First page: 4096 bytes, more data, extra info, checksum flags. */
    r = rx_rsp(&page);
    ck_assert_uint_eq(r.id, 701);
    ck_assert_int_eq(r.status, 4096);
    ck_assert_uint_eq(r.offset, 0);
    ck_assert_uint_eq(r.flags, NETRXF_more_data | NETRXF_extra_info | NETRXF_csum_blank | NETRXF_data_validated);
    ck_assert_mem_eq(page, data, 4096);
    /* The GSO extra in the next slot. */
    ck_assert_uint_ne(rxh()->rsp_prod, rx_rsp_cons);
    const struct netif_extra_info x = rxs(rx_rsp_cons)->extra;
    rx_rsp_cons++;
    ck_assert_uint_eq(x.type, XEN_NETIF_EXTRA_TYPE_GSO);
    ck_assert_uint_eq(x.flags, 0);
    ck_assert_uint_eq(x.u.gso.size, 1448);
    ck_assert_uint_eq(x.u.gso.type, XEN_NETIF_GSO_TYPE_TCPV4);
    r = rx_rsp(&page);
    ck_assert_uint_eq(r.id, 703);
    ck_assert_int_eq(r.status, 4096);
    ck_assert_uint_eq(r.flags, NETRXF_more_data);
    ck_assert_mem_eq(page, data + 4096, 4096);
    r = rx_rsp(&page);
    ck_assert_uint_eq(r.id, 704);
    ck_assert_int_eq(r.status, 808);
    ck_assert_uint_eq(r.flags, 0);
    ck_assert_mem_eq(page, data + 8192, 808);
    ck_assert_uint_eq(rxh()->rsp_prod, rx_rsp_cons);
    ck_assert_uint_eq(nb.stats.rx_packets, 2);
    /* A bad page: every slot taken answered ERROR, nothing else. */
    for (unsigned i = 0; i < 4; i++)
        post_rx((uint16_t)(710 + i));
    grants[RXD(rx_prod - 2)].valid = false;
    ck_assert(netback_rx_gso(&nb, &p, &scratch));
    for (unsigned i = 0; i < 4; i++)
        ck_assert_int_eq(rx_rsp(&page).status, NETIF_RSP_ERROR);
    ck_assert_uint_eq(nb.stats.rx_errors, 1);
    /* Not GSO, or a frontend that did not ask for it: refused. */
    p.gso_type = XEN_NETIF_GSO_TYPE_TCPV6;
    ck_assert(!netback_rx_gso(&nb, &p, &scratch));
    p.gso_type = XEN_NETIF_GSO_TYPE_TCPV4;
    nb.fe_gso = false;
    ck_assert(!netback_rx_gso(&nb, &p, &scratch));
}
END_TEST

static Suite *netback_suite(void)
{
    Suite *s = suite_create("netback");
    TCase *tc = tcase_create("netback");
    tcase_add_test(tc, test_handshake);
    tcase_add_test(tc, test_refusals);
    tcase_add_test(tc, test_bad_mac);
    tcase_add_test(tc, test_close_reconnect);
    tcase_add_test(tc, test_detach_remove);
    tcase_add_test(tc, test_tx_single_and_multi);
    tcase_add_test(tc, test_tx_errors);
    tcase_add_test(tc, test_tx_batches_and_budget);
    tcase_add_test(tc, test_tx_notify_rule);
    tcase_add_test(tc, test_tx_broken);
    tcase_add_test(tc, test_rx);
    tcase_add_test(tc, test_rx_waits_for_pages);
    tcase_add_test(tc, test_rx_queue_limit_and_errors);
    tcase_add_test(tc, test_rx_broken);
    tcase_add_test(tc, test_tx_gso);
    tcase_add_test(tc, test_rx_gso);
    tcase_add_test(tc, test_random_frontend);
    tcase_add_test(tc, test_hostile_fuzz);
    tcase_set_timeout(tc, 120);
    suite_add_tcase(s, tc);
    return s;
}

UNIT_MAIN(netback_suite)
