/* SPDX-License-Identifier: MIT */
/*
 * net_hostile: a netfront that attacks dom0's network backend and switch
 * (docs/network.md, docs/netif.md). The domain has two vifs (devids 0 and
 * 1, /etc/xen/net-hostile.cfg); it does netfront's part of the handshake
 * for both itself (tx and rx ring pages granted, one unbound port per vif,
 * tx-ring-ref, rx-ring-ref, event-channel, request-rx-copy=1, state) and
 * uses vif 1 as its own listener: a broadcast sent on vif 0 reaches vif 1
 * through the switch, so what was forwarded can be seen. Then, one CHECK
 * line each:
 *  (1) sanity: a broadcast ARP request and test frames of 14 and 1518
 *      bytes, one and several slots, are answered OKAY and arrive on vif 1
 *      byte for byte;
 *  (2) bogus grants in tx slots (never granted, revoked, ref 0, beyond the
 *      table, for another domain, a frame not ours, a good slot then a bad
 *      one): every slot ERROR, nothing forwarded, the ring goes on;
 *  (3) bad packets: shorter than 14, longer than 1518 (one slot, several
 *      slots, 65535 bytes), fragments larger than the whole, 19 and 20
 *      slots, GSO without csum_blank, of TCPv6 or with a tiny MSS, multicast extras: ERROR, nothing
 *      forwarded; a csum_blank frame with a bogus IP header is answered;
 *  (4) spoofing: frames from the victim's MAC (victim= on the command
 *      line), from vif 1's, group and zero sources: answered OKAY, never
 *      delivered; then for listen_s seconds it keeps spoofing and counts
 *      frames addressed to the victim that reach it (must be none);
 *  (5) a flood of broadcast frames as fast as the ring allows: `flood`
 *      of them (default 5000), and for flood_ms at least;
 *  (6) rx: bogus rx grefs posted on vif 1 (never granted, revoked, ref 0,
 *      beyond the table, read-only): those responses ERROR, then rx works;
 *  (7) on vif 1, each after a (re)connect: a ring of garbage, req_prod far
 *      beyond the ring, req_prod going backwards, 21 data slots, data past
 *      the end of its page, an rx req_prod far beyond its ring: the
 *      backend goes Closing and serves nothing more; vif 0 still works;
 *  (8) on vif 1, each from Closed through Initialising: frontend details
 *      netback must refuse (no or a 0 request-rx-copy, ring refs beyond the
 *      table, never granted, not a number or read-only, event channels
 *      bogus, 0, already bound or split, two queues): Closing each time;
 *      then good details are served again.
 * With pause=1 it stops after (4) and prints "net_hostile: paused <name>"
 * until dom0 writes /local/domain/<id>/data/go-<name> (the integration test
 * reads `vswitch` there).
 */
#include <lamina/cmdline.h>
#include <lamina/fmt.h>
#include <lamina/string.h>
#include <lamina/xl_vif.h>
#include <public/grant_table.h>
#include <public/io/netif.h>
#include <public/io/xenbus.h>
#include <public/io/xs_wire.h>
#include <guest/xorshift.h>
#include <guest/events.h>
#include <guest/frontend.h>
#include <guest/hypercall.h>
#include <guest/pvclock.h>
#include <guest/runtime.h>
#include <guest/test.h>
#include <guest/traps.h>
#include <guest/xenstore.h>

#define G "net_hostile"
#define MS 1000000ULL
#define WAIT_NS (5000 * MS)
#define STATE_WAIT_NS (30000 * MS)
#define TX_SLOTS 256u
#define RX_SLOTS 256u
#define NR_VIFS 2u
#define NR_TXBUF 24u                   /* tx data pages */
#define NR_RXBUF 32u                   /* rx pages per vif (ids 0..31) */
#define REF_RING 8u                    /* vif v: tx 8 + 2v, rx 9 + 2v */
#define REF_TXBUF 16u                  /* 16..39 */
#define REF_RXBUF 64u                  /* vif v: 64 + 32v .. */
#define REF_SPARE 200u                 /* refs for the grant attacks */
#define ETHERTYPE_TEST 0x88b5u         /* IEEE local experimental */
#define TEST_MAGIC 0x4c4e4831u         /* "LNH1" */
#define TAG_BAD 0x80000000u            /* a frame that must never be delivered */
#define TEST_FRAME 60u

struct vif {
    unsigned devid;
    char fe[64], be[128];
    uint8_t mac[6];
    volatile struct ring_shared_header *txs, *rxs;
    volatile union netif_tx_sring_entry *tx;
    volatile union netif_rx_sring_entry *rx;
    RING_IDX tx_prod, tx_cons, rx_prod, rx_cons;
    unsigned port;
    bool rx_posted[NR_RXBUF];
    bool rx_repost;                    /* put a page back once it was answered */
    bool rx_manual;                    /* the test takes the rx answers itself */
};

static uint8_t ring_pages[NR_VIFS][2][PAGE_SIZE] __attribute__((aligned(PAGE_SIZE)));
static uint8_t txbuf[NR_TXBUF][PAGE_SIZE] __attribute__((aligned(PAGE_SIZE)));
static uint8_t rxbuf[NR_VIFS][NR_RXBUF][PAGE_SIZE] __attribute__((aligned(PAGE_SIZE)));

static struct vif vifs[NR_VIFS];
static uint16_t be_id;
static uint8_t victim[6];
static bool pause_points;
static const uint8_t bcast[6] = { 0xff, 0xff, 0xff, 0xff, 0xff, 0xff };

/* What vif 1 has received (rx_note). */
static struct {
    uint64_t frames;                   /* every frame */
    uint64_t to_victim;                /* addressed to the victim's MAC */
    uint64_t bad_delivered;            /* our frames tagged TAG_BAD */
    uint64_t flood;                    /* our flood frames */
    uint64_t errors;                   /* responses with a negative status */
    uint32_t awaited;                  /* a tag rx_note looks for */
    bool awaited_seen;
    bool awaited_exact;                /* it matched the bytes sent */
    const uint8_t *expect;             /* the awaited frame's bytes */
    unsigned expect_len;
} seen;

static uint32_t next_tag = 1;

/* ---- small helpers ---- */

static long write_num(const char *dir, const char *key, uint64_t n)
{
    char v[24];
    fmt_snprintf(v, sizeof(v), "%llu", (unsigned long long)n);
    return fe_write(dir, key, v);
}

static uint64_t rng = 0x2545f4914f6cdd1dULL;

static void wait_ms(uint64_t ms)
{
    uint64_t end = pvclock_now_ns() + ms * MS;
    while (pvclock_now_ns() < end)
        hyp_sched_op(SCHEDOP_block, NULL);
}

/* ---- xenbus ---- */

static uint64_t be_state(const struct vif *v)
{
    char s[16];
    uint64_t n;
    return fe_read(v->be, "state", s, sizeof(s)) > 0 && !parse_u64(s, &n) ? n : ~0ULL;
}

static bool wait_be_state(const struct vif *v, uint64_t want)
{
    uint64_t end = pvclock_now_ns() + STATE_WAIT_NS;
    while (pvclock_now_ns() < end) {
        if (be_state(v) == want)
            return true;
        hyp_sched_op(SCHEDOP_block, NULL);
    }
    return be_state(v) == want;
}

/* The backend leaves Connected (cut us off): Closing, or Closed. */
static bool wait_cut_off(const struct vif *v)
{
    uint64_t end = pvclock_now_ns() + STATE_WAIT_NS, st = be_state(v);
    while (pvclock_now_ns() < end && st != XenbusStateClosing && st != XenbusStateClosed) {
        hyp_sched_op(SCHEDOP_block, NULL);
        st = be_state(v);
    }
    return st == XenbusStateClosing || st == XenbusStateClosed;
}

/* With pause=1: stops until dom0 writes data/go-<name>. */
static void pause_point(const char *name)
{
    if (!pause_points)
        return;
    char path[64], v[8];
    fmt_snprintf(path, sizeof(path), "data/go-%s", name);
    printf(G ": paused %s\n", name);
    uint64_t end = pvclock_now_ns() + 300000 * MS;
    while (xsc_read(path, v, sizeof(v)) < 0 && pvclock_now_ns() < end)
        wait_ms(100);
}

/* ---- rings ---- */

static void rx_post(struct vif *v, uint16_t id, uint32_t gref)
{
    volatile struct netif_rx_request *r = &v->rx[v->rx_prod & (RX_SLOTS - 1)].req;
    r->id = id;
    r->gref = gref;
    v->rx_prod++;
}

static void rx_publish(struct vif *v)
{
    __atomic_thread_fence(__ATOMIC_RELEASE);
    v->rxs->req_prod = v->rx_prod;
    evtchn_send(v->port);
}

static unsigned vif_index(const struct vif *v)
{
    return (unsigned)(v - vifs);
}

/* Posts every good rx page not posted yet. */
static void rx_fill(struct vif *v)
{
    unsigned vi = vif_index(v);
    for (unsigned i = 0; i < NR_RXBUF; i++) {
        if (!v->rx_posted[i]) {
            v->rx_posted[i] = true;
            rx_post(v, (uint16_t)i, REF_RXBUF + NR_RXBUF * vi + i);
        }
    }
    rx_publish(v);
}

static uint32_t get_be32(const uint8_t *p)
{
    return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

static void put_be32(uint8_t *p, uint32_t x)
{
    p[0] = (uint8_t)(x >> 24);
    p[1] = (uint8_t)(x >> 16);
    p[2] = (uint8_t)(x >> 8);
    p[3] = (uint8_t)x;
}

static void rx_note(const uint8_t *f, unsigned len)
{
    seen.frames++;
    if (len >= 6 && !memcmp(f, victim, 6))
        seen.to_victim++;
    if (len < 22 || f[12] != ETHERTYPE_TEST >> 8 || f[13] != (ETHERTYPE_TEST & 0xff) ||
        get_be32(f + 14) != TEST_MAGIC)
        return;
    uint32_t tag = get_be32(f + 18);
    if (tag & TAG_BAD)
        seen.bad_delivered++;
    else if (tag >> 24 == 0x40)
        seen.flood++;
    if (seen.awaited && tag == seen.awaited) {
        seen.awaited_seen = true;
        seen.awaited_exact = len == seen.expect_len && !memcmp(f, seen.expect, len);
    }
}

/* Every frame vif 1 gets: counted, and compared with the awaited one. */
static void rx_frame(const uint8_t *f, unsigned len)
{
    if (!seen.awaited && seen.expect_len && len == seen.expect_len && !memcmp(f, seen.expect, len))
        seen.awaited_seen = seen.awaited_exact = true;
    rx_note(f, len);
}

/* Takes every rx response there is (vif 1 listens; vif 0's are dropped). */
static unsigned rx_poll(struct vif *v)
{
    unsigned n = 0, vi = vif_index(v);
    while (!v->rx_manual && v->rxs->rsp_prod != v->rx_cons) {
        __atomic_thread_fence(__ATOMIC_ACQUIRE);
        struct netif_rx_response r = v->rx[v->rx_cons & (RX_SLOTS - 1)].rsp;
        v->rx_cons++;
        n++;
        if (r.status < 0)
            seen.errors++;
        if (r.id >= NR_RXBUF)
            continue;
        if (r.status > 0 && vi == 1 && r.offset < PAGE_SIZE && r.status <= (int)(PAGE_SIZE - r.offset))
            rx_frame(rxbuf[vi][r.id] + r.offset, (unsigned)r.status);
        v->rx_posted[r.id] = false;
    }
    v->rxs->rsp_event = v->rx_cons + 1;
    if (n && v->rx_repost)
        rx_fill(v);
    return n;
}

static void tx_publish(struct vif *v)
{
    __atomic_thread_fence(__ATOMIC_RELEASE);
    v->txs->req_prod = v->tx_prod;
    evtchn_send(v->port);
}

struct tx_wait_arg {
    struct vif *v;
    RING_IDX upto;
};

static bool tx_answered(void *arg)
{
    const struct tx_wait_arg *a = arg;
    return (RING_IDX)(a->v->txs->rsp_prod - a->v->tx_cons) >= (RING_IDX)(a->upto - a->v->tx_cons);
}

/* Waits until the responses reach `upto` (both vifs' rx answers are taken
 * meanwhile, so the listener never starves the switch). */
static bool tx_wait(struct vif *v, RING_IDX upto, uint64_t timeout_ns)
{
    struct tx_wait_arg a = { v, upto };
    uint64_t end = pvclock_now_ns() + timeout_ns;
    v->txs->rsp_event = upto;
    __atomic_thread_fence(__ATOMIC_SEQ_CST);
    while (!tx_answered(&a)) {
        for (unsigned i = 0; i < NR_VIFS; i++)
            if (vifs[i].rxs)
                rx_poll(&vifs[i]);
        uint64_t now = pvclock_now_ns();
        if (now >= end)
            return false;
        block_until(tx_answered, &a, end - now < 10 * MS ? end - now : 10 * MS);
    }
    __atomic_thread_fence(__ATOMIC_ACQUIRE);
    return true;
}

/* One tx slot, data or extra. */
struct slot {
    bool extra;
    union {
        struct netif_tx_request req;
        struct netif_extra_info ext;
    } u;
};

/* Packets answered NETIF_RSP_ERROR on every data slot (vswitch's
 * `errors` for vif 0 must say the same). */
static uint64_t tx_refused;

#define TX_NO_ANSWER 99
#define TX_WRONG_ID 98
#define TX_MIXED 97

/*
 * Sends one packet of n slots and waits for its n answers. Returns the
 * status every data slot got (extras must get NULL), or TX_NO_ANSWER /
 * TX_WRONG_ID / TX_MIXED.
 */
static int xmit(struct vif *v, const struct slot *s, unsigned n)
{
    RING_IDX first = v->tx_prod;
    uint16_t ids[32];
    for (unsigned i = 0; i < n; i++) {
        volatile union netif_tx_sring_entry *e = &v->tx[v->tx_prod & (TX_SLOTS - 1)];
        if (s[i].extra) {
            e->extra = s[i].u.ext;
        } else {
            struct netif_tx_request r = s[i].u.req;
            r.id = (uint16_t)(v->tx_prod & 0xffff);
            ids[i < 32 ? i : 31] = r.id;
            e->req = r;
        }
        v->tx_prod++;
    }
    tx_publish(v);
    if (!tx_wait(v, v->tx_prod, WAIT_NS))
        return TX_NO_ANSWER;
    int status = TX_MIXED, result = 0;
    bool first_data = true;
    for (unsigned i = 0; i < n; i++) {
        struct netif_tx_response r = v->tx[(first + i) & (TX_SLOTS - 1)].rsp;
        if (s[i].extra) {
            if (r.status != NETIF_RSP_NULL)
                result = TX_MIXED;
            continue;
        }
        if (i < 32 && r.id != ids[i] && !result)
            result = TX_WRONG_ID;
        if (first_data)
            status = r.status;
        else if (r.status != status)
            result = TX_MIXED;
        first_data = false;
    }
    v->tx_cons = v->tx_prod;
    if (!result && status == NETIF_RSP_ERROR)
        tx_refused++;
    return result ? result : status;
}

static struct slot data_slot(uint32_t gref, uint16_t offset, uint16_t flags, uint16_t size)
{
    return (struct slot){ .u.req = { .gref = gref, .offset = offset, .flags = flags, .size = size } };
}

/* A test frame in tx page `page`: dst, src, our ethertype, magic, tag,
 * then a pattern up to len bytes. */
static void build_frame(unsigned page, const uint8_t *dst, const uint8_t *src, uint32_t tag, unsigned len)
{
    uint8_t *f = txbuf[page];
    memcpy(f, dst, 6);
    memcpy(f + 6, src, 6);
    f[12] = ETHERTYPE_TEST >> 8;
    f[13] = ETHERTYPE_TEST & 0xff;
    if (len >= 22) {
        put_be32(f + 14, TEST_MAGIC);
        put_be32(f + 18, tag);
    }
    for (unsigned i = 22; i < len && i < PAGE_SIZE; i++)
        f[i] = (uint8_t)(tag + i * 13);
}

/* Sends a one-slot frame from tx page `page`. */
static int send_page(struct vif *v, unsigned page, unsigned len)
{
    struct slot s = data_slot(REF_TXBUF + page, 0, 0, (uint16_t)len);
    return xmit(v, &s, 1);
}

static bool awaited_ready(void *arg)
{
    (void)arg;
    return vifs[1].rxs->rsp_prod != vifs[1].rx_cons;
}

/* Waits (up to WAIT_NS) for the awaited tag on vif 1. */
static bool rx_wait_awaited(void)
{
    uint64_t end = pvclock_now_ns() + WAIT_NS;
    while (!seen.awaited_seen) {
        rx_poll(&vifs[1]);
        uint64_t now = pvclock_now_ns();
        if (seen.awaited_seen || now >= end)
            break;
        vifs[1].rxs->rsp_event = vifs[1].rx_cons + 1;
        __atomic_thread_fence(__ATOMIC_SEQ_CST);
        block_until(awaited_ready, NULL, end - now < 10 * MS ? end - now : 10 * MS);
    }
    return seen.awaited_seen;
}

/*
 * Sends a well-formed broadcast test frame of len bytes on vif 0 (one slot,
 * or `frags` slots over consecutive pages) and checks it is answered OKAY
 * and arrives on vif 1 unchanged. The check names are prefix_sent and
 * prefix_received.
 */
static void good_frame(const char *prefix, unsigned len, unsigned frags)
{
    char name[64];
    uint32_t tag = next_tag++;
    build_frame(0, bcast, vifs[0].mac, tag, len);
    seen.awaited = tag;
    seen.awaited_seen = seen.awaited_exact = false;
    seen.expect = txbuf[0];
    seen.expect_len = len;
    int st;
    if (frags <= 1) {
        st = send_page(&vifs[0], 0, len);
    } else {
        /* Fragment i holds bytes [i*step, ...) of the frame, copied to
         * offset 100 of page i+1; the first slot names the whole length. */
        struct slot s[20];
        unsigned step = len / frags;
        for (unsigned i = 0; i < frags; i++) {
            unsigned from = i * step, n = i + 1 == frags ? len - from : step;
            memcpy(txbuf[i + 1] + 100, txbuf[0] + from, n);
            s[i] = data_slot(REF_TXBUF + i + 1, 100, i + 1 < frags ? NETTXF_more_data : 0,
                             (uint16_t)(i ? n : len));
        }
        st = xmit(&vifs[0], s, frags);
    }
    fmt_snprintf(name, sizeof(name), "%s_sent", prefix);
    check_int(name, st, NETIF_RSP_OKAY);
    fmt_snprintf(name, sizeof(name), "%s_received", prefix);
    bool got = rx_wait_awaited();
    check_true(name, got && seen.awaited_exact, got ? "different bytes" : "nothing", "the frame sent");
    seen.awaited = 0;
}

/* Nothing tagged bad reached vif 1, and the ring still carries a frame. */
static void ring_goes_on(const char *phase)
{
    char name[64];
    fmt_snprintf(name, sizeof(name), "%s_ring_goes_on", phase);
    good_frame(name, TEST_FRAME, 1);
    fmt_snprintf(name, sizeof(name), "%s_nothing_forwarded", phase);
    check_int(name, (int64_t)seen.bad_delivered, 0);
}

/* ---- connecting ---- */

/* Reads device/vif/<devid>: backend path, backend id, MAC. */
static bool find_vif(struct vif *v, unsigned devid)
{
    char name[48], val[64];
    v->devid = devid;
    fmt_snprintf(v->fe, sizeof(v->fe), "device/vif/%u", devid);
    long n = fe_read(v->fe, "backend", v->be, sizeof(v->be));
    fmt_snprintf(name, sizeof(name), "vif%u_backend_path", devid);
    if (!check_cond_hex(name, n > 0 && v->be[0] == '/', (uint64_t)n, "an absolute path"))
        return false;
    n = fe_read(v->fe, "backend-id", val, sizeof(val));
    uint64_t id = ~0ULL;
    if (n > 0 && parse_u64(val, &id))
        id = ~0ULL;
    fmt_snprintf(name, sizeof(name), "vif%u_backend_id_dom0", devid);
    if (!check_int(name, (int64_t)id, 0))
        return false;
    n = fe_read(v->fe, "mac", val, sizeof(val));
    fmt_snprintf(name, sizeof(name), "vif%u_mac", devid);
    return check_true(name, n > 0 && !xl_mac_parse(val, v->mac), val, "aa:bb:cc:dd:ee:ff");
}

/* The frontend details netfront publishes, and the ways (8) spoils them. */
enum detail {
    D_GOOD, D_NO_RX_COPY, D_RX_COPY_0, D_TX_REF_BEYOND, D_TX_REF_UNGRANTED, D_TX_REF_JUNK, D_RX_REF_READONLY,
    D_PORT_BOGUS, D_PORT_ZERO, D_PORT_TAKEN, D_MULTI_QUEUE, D_SPLIT_CHANNELS,
};

/* Writes tx-ring-ref, rx-ring-ref, event-channel, request-rx-copy (as
 * `d` says), then state; 0 or the first error. */
static long publish_details(struct vif *v, enum detail d, unsigned state)
{
    char path[96];
    unsigned vi = vif_index(v);
    uint64_t txref = REF_RING + 2 * vi, rxref = txref + 1, port = v->port;
    if (d == D_TX_REF_BEYOND)
        txref = 5000;
    if (d == D_TX_REF_UNGRANTED)
        txref = REF_SPARE + 20;
    if (d == D_RX_REF_READONLY)
        rxref = REF_TXBUF;             /* granted, but read-only */
    if (d == D_PORT_BOGUS)
        port = 4000;
    if (d == D_PORT_ZERO)
        port = 0;
    if (d == D_PORT_TAKEN)
        port = vifs[0].port;           /* the backend has it bound already */
    long rc = d == D_TX_REF_JUNK ? fe_write(v->fe, "tx-ring-ref", "12abc") : write_num(v->fe, "tx-ring-ref", txref);
    rc = rc ? rc : write_num(v->fe, "rx-ring-ref", rxref);
    if (d == D_SPLIT_CHANNELS) {
        fmt_snprintf(path, sizeof(path), "%s/event-channel", v->fe);
        (void)xsc_rm(path);
        rc = rc ? rc : write_num(v->fe, "event-channel-tx", port);
        rc = rc ? rc : write_num(v->fe, "event-channel-rx", port);
    } else {
        rc = rc ? rc : write_num(v->fe, "event-channel", port);
    }
    if (d == D_NO_RX_COPY) {
        fmt_snprintf(path, sizeof(path), "%s/request-rx-copy", v->fe);
        (void)xsc_rm(path);
    } else {
        rc = rc ? rc : fe_write(v->fe, "request-rx-copy", d == D_RX_COPY_0 ? "0" : "1");
    }
    if (d == D_MULTI_QUEUE)
        rc = rc ? rc : fe_write(v->fe, "multi-queue-num-queues", "2");
    return rc ? rc : write_num(v->fe, "state", state);
}

/* Takes back what publish_details() wrote for one attack. */
static void unpublish_extras(const struct vif *v)
{
    static const char *const keys[] = { "event-channel-tx", "event-channel-rx", "multi-queue-num-queues" };
    char path[96];
    for (unsigned i = 0; i < ARRAY_SIZE(keys); i++) {
        fmt_snprintf(path, sizeof(path), "%s/%s", v->fe, keys[i]);
        (void)xsc_rm(path);
    }
}

/*
 * netfront's part of the handshake on a vif whose backend is in InitWait:
 * fresh ring pages granted, a new port, the keys, then `state`. With
 * `checks`, each step is a CHECK line prefixed vif<devid>_. A spoiled
 * `detail` stops after publishing (true if it was written).
 */
static bool connect_vif(struct vif *v, unsigned state, bool checks, enum detail detail)
{
    char name[64];
    unsigned vi = vif_index(v);
#define STEP(what, cond, got, want)                                                    \
    do {                                                                               \
        bool ok_ = (cond);                                                             \
        fmt_snprintf(name, sizeof(name), "vif%u_%s", v->devid, what);                  \
        if (checks ? !check_true(name, ok_, got, want) : !ok_) {                       \
            if (!checks)                                                               \
                printf(G ": vif%u: %s failed\n", v->devid, what);                      \
            return false;                                                              \
        }                                                                              \
    } while (0)
    STEP("backend_initwait", wait_be_state(v, XenbusStateInitWait), "other", "InitWait");
    char val[16];
    long n = fe_read(v->be, "feature-rx-copy", val, sizeof(val));
    STEP("backend_offers_rx_copy", n == 1 && val[0] == '1', "no", "feature-rx-copy=1");

    memset(ring_pages[vi], 0, sizeof(ring_pages[vi]));
    v->txs = (volatile struct ring_shared_header *)ring_pages[vi][0];
    v->rxs = (volatile struct ring_shared_header *)ring_pages[vi][1];
    v->tx = (volatile union netif_tx_sring_entry *)(ring_pages[vi][0] + RING_HEADER_SIZE);
    v->rx = (volatile union netif_rx_sring_entry *)(ring_pages[vi][1] + RING_HEADER_SIZE);
    v->tx_prod = v->tx_cons = v->rx_prod = v->rx_cons = 0;
    v->txs->rsp_event = v->rxs->rsp_event = 1;
    memset(v->rx_posted, 0, sizeof(v->rx_posted));
    fe_grant(REF_RING + 2 * vi, be_id, va_to_mfn(ring_pages[vi][0]), GTF_permit_access);
    fe_grant(REF_RING + 2 * vi + 1, be_id, va_to_mfn(ring_pages[vi][1]), GTF_permit_access);
    long p = evtchn_alloc_unbound(DOMID_SELF, be_id);
    STEP("alloc_unbound_port", p > 0, "an error", "a port");
    v->port = (unsigned)p;
    evtchn_set_handler(v->port, fe_ignore_event, NULL);
    evtchn_unmask(v->port);

    if (detail != D_GOOD)
        return publish_details(v, detail, state) == 0;
    STEP("publish_rings", publish_details(v, D_GOOD, state) == 0, "an error", "written");
    STEP("backend_connected", wait_be_state(v, XenbusStateConnected), "other", "Connected");
    if (state != XenbusStateConnected)
        write_num(v->fe, "state", XenbusStateConnected);
    v->rx_repost = true;
    rx_fill(v);
    return true;
#undef STEP
}

/* After a cut-off: frontend Closed (backend Closed), then Initialising
 * (backend InitWait), and connect again. */
static bool reconnect_vif(struct vif *v)
{
    v->rx_repost = false;
    if (write_num(v->fe, "state", XenbusStateClosed) || !wait_be_state(v, XenbusStateClosed))
        return false;
    evtchn_close(v->port);
    if (write_num(v->fe, "state", XenbusStateInitialising))
        return false;
    return connect_vif(v, XenbusStateConnected, false, D_GOOD);
}

static bool connect_all(void)
{
    char list[64];
    long n = xsc_request(XS_DIRECTORY, "device/vif", sizeof("device/vif"), list, sizeof(list));
    /* "0\0" "1\0": two entries at least. */
    if (!check_cond_hex("two_vifs_listed", n >= 4, (uint64_t)n, "device/vif/0 and 1"))
        return false;
    if (!find_vif(&vifs[0], 0) || !find_vif(&vifs[1], 1))
        return false;
    if (!fe_setup_grant_table())
        return false;
    be_id = 0;
    for (unsigned i = 0; i < NR_TXBUF; i++)
        fe_grant(REF_TXBUF + i, be_id, va_to_mfn(txbuf[i]), GTF_permit_access | GTF_readonly);
    for (unsigned v = 0; v < NR_VIFS; v++)
        for (unsigned i = 0; i < NR_RXBUF; i++)
            fe_grant(REF_RXBUF + NR_RXBUF * v + i, be_id, va_to_mfn(rxbuf[v][i]), GTF_permit_access);
    /* vif 0 goes straight to Connected as Linux's netfront does; vif 1 to
     * Initialised first. */
    return connect_vif(&vifs[0], XenbusStateConnected, true, D_GOOD) &&
           connect_vif(&vifs[1], XenbusStateInitialised, true, D_GOOD);
}

/* ---- (1) sanity ---- */

static void test_sanity(void)
{
    /* A broadcast ARP request from our own MAC: who has 10.0.0.250? */
    static const uint8_t arp_tail[] = { 0x08, 0x06, 0, 1, 0x08, 0, 6, 4, 0, 1 };
    uint8_t *f = txbuf[0];
    memcpy(f, bcast, 6);
    memcpy(f + 6, vifs[0].mac, 6);
    memcpy(f + 12, arp_tail, sizeof(arp_tail));
    memcpy(f + 22, vifs[0].mac, 6);
    static const uint8_t ips[] = { 10, 0, 0, 66, 0, 0, 0, 0, 0, 0, 10, 0, 0, 250 };
    memcpy(f + 28, ips, sizeof(ips));
    memset(f + 42, 0, 18);
    seen.awaited = 0;
    seen.awaited_seen = seen.awaited_exact = false;
    seen.expect = txbuf[0];
    seen.expect_len = 60;
    check_int("arp_broadcast_okay", send_page(&vifs[0], 0, 60), NETIF_RSP_OKAY);
    check_true("arp_broadcast_received", rx_wait_awaited(), "nothing", "the ARP request on vif 1");
    seen.expect_len = 0;
    good_frame("frame_60", TEST_FRAME, 1);
    good_frame("frame_22", 22, 1);       /* the smallest frame with our tag */
    /* Exactly 14 bytes: a bare header is a frame. */
    build_frame(2, bcast, vifs[0].mac, 0, 14);
    check_int("frame_header_only_okay", send_page(&vifs[0], 2, 14), NETIF_RSP_OKAY);
    good_frame("frame_1518", 1518, 1);
    good_frame("frame_1518_in_3_slots", 1518, 3);
    good_frame("frame_1000_in_18_slots", 1000, 18);
    check_int("no_rx_errors", (int64_t)seen.errors, 0);
}

/* ---- (2) bogus tx grants ---- */

static int bad_gref_frame(uint32_t gref)
{
    struct slot s = data_slot(gref, 0, 0, TEST_FRAME);
    return xmit(&vifs[0], &s, 1);
}

static void test_bad_grants(void)
{
    /* Every page a bad gref could name holds a frame tagged bad. */
    build_frame(5, bcast, vifs[0].mac, TAG_BAD | 2, TEST_FRAME);
    build_frame(6, bcast, vifs[0].mac, TAG_BAD | 2, TEST_FRAME);
    uint32_t r_revoked = REF_SPARE, r_other = REF_SPARE + 1, r_foreign = REF_SPARE + 2, r_hv = REF_SPARE + 3,
             r_unused = REF_SPARE + 4;
    fe_grant(r_revoked, be_id, va_to_mfn(txbuf[5]), GTF_permit_access | GTF_readonly);
    check_true("revoke_idle_grant", fe_revoke(r_revoked, GTF_permit_access | GTF_readonly), "busy", "revoked");
    fe_grant(r_other, 0x7fef, va_to_mfn(txbuf[6]), GTF_permit_access);   /* for some other domain */
    fe_grant(r_foreign, be_id, fe_foreign_mfn(), GTF_permit_access);        /* a frame not ours */
    fe_grant(r_hv, be_id, 1, GTF_permit_access);                         /* a hypervisor frame */

    check_int("tx_gref_never_granted", bad_gref_frame(r_unused), NETIF_RSP_ERROR);
    check_int("tx_gref_revoked", bad_gref_frame(r_revoked), NETIF_RSP_ERROR);
    check_int("tx_gref_0", bad_gref_frame(0), NETIF_RSP_ERROR);
    check_int("tx_gref_beyond_table", bad_gref_frame(5000), NETIF_RSP_ERROR);
    check_int("tx_gref_huge", bad_gref_frame(0xffffffffu), NETIF_RSP_ERROR);
    check_int("tx_gref_for_other_domain", bad_gref_frame(r_other), NETIF_RSP_ERROR);
    check_int("tx_gref_foreign_frame", bad_gref_frame(r_foreign), NETIF_RSP_ERROR);
    check_int("tx_gref_hypervisor_frame", bad_gref_frame(r_hv), NETIF_RSP_ERROR);
    /* Two good fragments, then a revoked one: the whole packet is refused. */
    build_frame(7, bcast, vifs[0].mac, TAG_BAD | 2, TEST_FRAME);
    struct slot s[3] = {
        data_slot(REF_TXBUF + 7, 0, NETTXF_more_data, 3 * TEST_FRAME),
        data_slot(REF_TXBUF + 8, 0, NETTXF_more_data, TEST_FRAME),
        data_slot(r_revoked, 0, 0, TEST_FRAME),
    };
    check_int("tx_good_then_revoked", xmit(&vifs[0], s, 3), NETIF_RSP_ERROR);
    uint16_t busy = 0;
    for (unsigned i = 0; i < NR_TXBUF; i++)
        busy |= fe_gt[REF_TXBUF + i].flags & (GTF_reading | GTF_writing);
    check_hex("no_tx_grant_left_in_use", busy, 0);
    ring_goes_on("grants");
}

/* ---- (3) bad packets ---- */

static void test_bad_packets(void)
{
    for (unsigned p = 1; p < NR_TXBUF; p++)
        build_frame(p, bcast, vifs[0].mac, TAG_BAD | 3, PAGE_SIZE);
    struct slot s[21];
    check_int("size_0", xmit(&vifs[0], (struct slot[]){ data_slot(REF_TXBUF + 1, 0, 0, 0) }, 1), NETIF_RSP_ERROR);
    check_int("size_1", xmit(&vifs[0], (struct slot[]){ data_slot(REF_TXBUF + 1, 0, 0, 1) }, 1), NETIF_RSP_ERROR);
    check_int("size_13", xmit(&vifs[0], (struct slot[]){ data_slot(REF_TXBUF + 1, 0, 0, 13) }, 1), NETIF_RSP_ERROR);
    check_int("size_1519", xmit(&vifs[0], (struct slot[]){ data_slot(REF_TXBUF + 1, 0, 0, 1519) }, 1),
              NETIF_RSP_ERROR);
    check_int("size_4096", xmit(&vifs[0], (struct slot[]){ data_slot(REF_TXBUF + 1, 0, 0, 4096) }, 1),
              NETIF_RSP_ERROR);
    /* 2000 bytes in two slots. */
    s[0] = data_slot(REF_TXBUF + 1, 0, NETTXF_more_data, 2000);
    s[1] = data_slot(REF_TXBUF + 2, 0, 0, 1000);
    check_int("size_2000_in_2_slots", xmit(&vifs[0], s, 2), NETIF_RSP_ERROR);
    /* 65535 bytes in 16 slots: 4095 + 15 x 4096. */
    for (unsigned i = 0; i < 16; i++)
        s[i] = data_slot(REF_TXBUF + 1 + i, 0, i < 15 ? NETTXF_more_data : 0, i ? 4096 : 65535);
    check_int("size_65535_in_16_slots", xmit(&vifs[0], s, 16), NETIF_RSP_ERROR);
    /* Fragments larger than the whole. */
    s[0] = data_slot(REF_TXBUF + 1, 0, NETTXF_more_data, 100);
    s[1] = data_slot(REF_TXBUF + 2, 0, 0, 200);
    check_int("fragments_exceed_size", xmit(&vifs[0], s, 2), NETIF_RSP_ERROR);
    s[0] = data_slot(REF_TXBUF + 1, 0, NETTXF_more_data, 100);
    s[1] = data_slot(REF_TXBUF + 2, 0, NETTXF_more_data, 60);
    s[2] = data_slot(REF_TXBUF + 3, 0, 0, 60);
    check_int("fragments_exceed_size_3", xmit(&vifs[0], s, 3), NETIF_RSP_ERROR);
    /* 19 and 20 slots of 60 bytes: a legal length, too many slots. */
    for (unsigned n = 19; n <= 20; n++) {
        for (unsigned i = 0; i < n; i++)
            s[i] = data_slot(REF_TXBUF + 1 + (i % 20), 0, i + 1 < n ? NETTXF_more_data : 0,
                             (uint16_t)(i ? 60 : 60 * n));
        check_int(n == 19 ? "slots_19" : "slots_20", xmit(&vifs[0], s, n), NETIF_RSP_ERROR);
    }
    /* GSO: TCPv4 is offered but only with the checksum left to the
     * backend (it must segment); TCPv6 is not offered; nor is multicast. */
    s[0] = data_slot(REF_TXBUF + 1, 0, NETTXF_extra_info, 1500);
    s[1] = (struct slot){ .extra = true,
                          .u.ext = { .type = XEN_NETIF_EXTRA_TYPE_GSO,
                                     .u.gso = { .size = 1400, .type = XEN_NETIF_GSO_TYPE_TCPV4 } } };
    check_int("gso_tcpv4_checksum_not_blank", xmit(&vifs[0], s, 2), NETIF_RSP_ERROR);
    s[1].u.ext.u.gso.type = XEN_NETIF_GSO_TYPE_TCPV6;
    s[0] = data_slot(REF_TXBUF + 1, 0, NETTXF_extra_info | NETTXF_csum_blank, 1500);
    check_int("gso_tcpv6_not_offered", xmit(&vifs[0], s, 2), NETIF_RSP_ERROR);
    /* A TCPv4 GSO packet whose headers are not TCP at all: taken (the
     * backend cannot know before it looks), then dropped where it would
     * have to be segmented; the ring goes on. */
    s[1].u.ext.u.gso.type = XEN_NETIF_GSO_TYPE_TCPV4;
    check_int("gso_tcpv4_bogus_headers_answered", xmit(&vifs[0], s, 2), NETIF_RSP_OKAY);
    /* An MSS of 1: 1500 segments from one packet, more than netback cuts. */
    s[1].u.ext.u.gso.size = 1;
    check_int("gso_tiny_mss", xmit(&vifs[0], s, 2), NETIF_RSP_ERROR);
    s[1] = (struct slot){ .extra = true,
                          .u.ext = { .type = XEN_NETIF_EXTRA_TYPE_MCAST_ADD,
                                     .u.mcast = { .addr = { 0x01, 0, 0x5e, 0, 0, 1 } } } };
    check_int("mcast_extra_not_offered", xmit(&vifs[0], s, 2), NETIF_RSP_ERROR);
    ring_goes_on("packets");

    /* csum_blank on an IPv4 header that lies (ihl 15, protocol TCP, total
     * length past the frame): answered, whatever it is, and the ring goes on. */
    uint8_t *f = txbuf[9];
    memcpy(f, bcast, 6);
    memcpy(f + 6, vifs[0].mac, 6);
    f[12] = 0x08;
    f[13] = 0x00;
    f[14] = 0x4f;
    f[16] = 0xff;
    f[17] = 0xff;
    f[23] = 6;
    check_int2("csum_blank_bogus_ip_answered",
               xmit(&vifs[0], (struct slot[]){ data_slot(REF_TXBUF + 9, 0, NETTXF_csum_blank, 40) }, 1),
               NETIF_RSP_OKAY, NETIF_RSP_ERROR);
    ring_goes_on("csum_blank");
}

/* ---- (4) spoofing ---- */

static uint64_t spoofed_sent;

static int spoof(const uint8_t *dst, const uint8_t *src)
{
    build_frame(10, dst, src, TAG_BAD | 4, TEST_FRAME);
    int st = send_page(&vifs[0], 10, TEST_FRAME);
    spoofed_sent += st == NETIF_RSP_OKAY;
    return st;
}

static void test_spoofing(uint64_t listen_s)
{
    static const uint8_t zero[6], group[6] = { 0x01, 0x00, 0x5e, 0x00, 0x00, 0x01 };
    uint64_t before = seen.to_victim;
    check_int("spoof_victim_broadcast_okay", spoof(bcast, victim), NETIF_RSP_OKAY);
    check_int("spoof_victim_to_vif1_okay", spoof(vifs[1].mac, victim), NETIF_RSP_OKAY);
    check_int("spoof_victim_to_itself_okay", spoof(victim, victim), NETIF_RSP_OKAY);
    check_int("spoof_vif1_broadcast_okay", spoof(bcast, vifs[1].mac), NETIF_RSP_OKAY);
    check_int("spoof_broadcast_source_okay", spoof(vifs[1].mac, bcast), NETIF_RSP_OKAY);
    check_int("spoof_group_source_okay", spoof(bcast, group), NETIF_RSP_OKAY);
    check_int("spoof_zero_source_okay", spoof(bcast, zero), NETIF_RSP_OKAY);
    ring_goes_on("spoof");

    /* The window: spoof the victim every 100 ms (as a learning switch
     * would be fooled into sending its traffic here), and a good frame
     * every 500 ms to show vif 1 still receives. */
    printf(G ": listening %llu s\n", (unsigned long long)listen_s);
    uint64_t end = pvclock_now_ns() + listen_s * 1000 * MS;
    unsigned good = 0, good_seen = 0;
    for (unsigned round = 0; pvclock_now_ns() < end; round++) {
        spoof(bcast, victim);
        if (round % 5 == 0) {
            uint32_t tag = next_tag++;
            build_frame(0, bcast, vifs[0].mac, tag, TEST_FRAME);
            seen.awaited = tag;
            seen.awaited_seen = false;
            seen.expect = txbuf[0];
            seen.expect_len = TEST_FRAME;
            good += send_page(&vifs[0], 0, TEST_FRAME) == NETIF_RSP_OKAY;
        }
        wait_ms(100);
        rx_poll(&vifs[1]);
        rx_poll(&vifs[0]);
        good_seen += seen.awaited_seen;
        seen.awaited_seen = false;
    }
    seen.awaited = 0;
    check_range("listen_good_frames_received", good_seen, good ? good - 1 : 1, good ? good : 1);
    check_int("victim_frames_received", (int64_t)(seen.to_victim - before), 0);
    check_int("spoofed_frames_delivered", (int64_t)seen.bad_delivered, 0);
    printf(G ": spoofed %llu frames, %llu packets refused\n", (unsigned long long)spoofed_sent,
           (unsigned long long)tx_refused);
    pause_point("spoofed");
}

/* ---- (5) flood ---- */

static void test_flood(uint64_t count, uint64_t min_ms)
{
    struct vif *v = &vifs[0];
    build_frame(11, bcast, v->mac, 0x40000000u, TEST_FRAME);
    uint64_t sent = 0, okay = 0, other = 0, flood0 = seen.flood, t0 = pvclock_now_ns();
    bool stalled = false;
    uint64_t until = t0 + min_ms * MS;
    printf(G ": flood started (%llu frames, %llu ms at least)\n", (unsigned long long)count,
           (unsigned long long)min_ms);
    /* Until `count` frames were sent and `min_ms` passed, then every
     * answer is in. */
    bool more = true;
    while ((more || okay + other < sent) && !stalled) {
        /* Fill every free slot. */
        while (more && (RING_IDX)(v->tx_prod - v->tx_cons) < TX_SLOTS) {
            volatile struct netif_tx_request *r = &v->tx[v->tx_prod & (TX_SLOTS - 1)].req;
            r->gref = REF_TXBUF + 11;
            r->offset = 0;
            r->flags = 0;
            r->id = (uint16_t)v->tx_prod;
            r->size = TEST_FRAME;
            v->tx_prod++;
            sent++;
            more = sent < count || pvclock_now_ns() < until;
        }
        tx_publish(v);
        /* At least one answer, then whatever there is. */
        stalled = !tx_wait(v, v->tx_cons + 1, WAIT_NS);
        RING_IDX prod = v->txs->rsp_prod;
        __atomic_thread_fence(__ATOMIC_ACQUIRE);
        for (; v->tx_cons != prod && (RING_IDX)(v->tx_prod - v->tx_cons) > 0; v->tx_cons++) {
            if (v->tx[v->tx_cons & (TX_SLOTS - 1)].rsp.status == NETIF_RSP_OKAY)
                okay++;
            else
                other++;
        }
    }
    uint64_t ms = (pvclock_now_ns() - t0) / MS;
    uint64_t answered = okay + other;
    printf(G ": flood done: %llu frames answered in %llu ms\n", (unsigned long long)answered,
           (unsigned long long)ms);
    check_true("flood_not_stalled", !stalled, "no answer for 5 s", "answers");
    check_range("flood_frames_sent", sent, count, ~0ULL);
    check_int("flood_all_okay", (int64_t)okay, (int64_t)sent);
    check_int("flood_no_errors", (int64_t)other, 0);
    /* vif 1 had 32 pages and a 64-frame queue: some flood frames arrived,
     * the rest were dropped. Take what is still queued for it (a frame
     * sent to a full queue is dropped, as it should be) before the next
     * frame that must arrive. */
    uint64_t quiet_since = pvclock_now_ns(), end = quiet_since + WAIT_NS;
    while (pvclock_now_ns() < end && pvclock_now_ns() - quiet_since < 300 * MS) {
        if (rx_poll(&vifs[1]))
            quiet_since = pvclock_now_ns();
        wait_ms(10);
    }
    check_range("flood_frames_on_vif1", seen.flood - flood0, 1, sent);
    ring_goes_on("flood");
}

/* ---- (6) bogus rx grefs ---- */

static void test_rx_grants(void)
{
    struct vif *l = &vifs[1];
    /* Use up vif 1's good pages: stop reposting, send until all are answered. */
    l->rx_repost = false;
    uint64_t end = pvclock_now_ns() + WAIT_NS;
    unsigned posted = 0;
    for (unsigned i = 0; i < NR_RXBUF; i++)
        posted += l->rx_posted[i];
    while (posted && pvclock_now_ns() < end) {
        build_frame(12, bcast, vifs[0].mac, next_tag++, TEST_FRAME);
        send_page(&vifs[0], 12, TEST_FRAME);
        rx_poll(l);
        posted = 0;
        for (unsigned i = 0; i < NR_RXBUF; i++)
            posted += l->rx_posted[i];
    }
    check_int("rx_good_pages_used_up", posted, 0);

    uint32_t r_revoked = REF_SPARE + 10, r_ro = REF_SPARE + 11, r_unused = REF_SPARE + 12,
             r_other = REF_SPARE + 13;
    fe_grant(r_revoked, be_id, va_to_mfn(rxbuf[1][0]), GTF_permit_access);
    fe_revoke(r_revoked, GTF_permit_access);
    memset(rxbuf[1][1], 0x5a, PAGE_SIZE);
    fe_grant(r_ro, be_id, va_to_mfn(rxbuf[1][1]), GTF_permit_access | GTF_readonly);
    fe_grant(r_other, 0x7fef, va_to_mfn(rxbuf[1][2]), GTF_permit_access);
    static const uint32_t bogus[] = { 0, 0, 0, 0, 5000, 0xffffffffu };
    uint32_t refs[ARRAY_SIZE(bogus)];
    memcpy(refs, bogus, sizeof(refs));
    refs[0] = r_unused;
    refs[1] = r_revoked;
    refs[2] = r_ro;
    refs[3] = r_other;
    /* ids 100.. mark the bogus requests; ref 0 as well. */
    RING_IDX first = l->rx_prod;
    for (unsigned i = 0; i < ARRAY_SIZE(refs); i++)
        rx_post(l, (uint16_t)(100 + i), refs[i]);
    rx_post(l, 100 + ARRAY_SIZE(refs), 0);
    unsigned nbogus = ARRAY_SIZE(refs) + 1;
    l->rx_manual = true;
    rx_publish(l);
    l->rxs->rsp_event = l->rx_cons + 1;
    /* One frame per bogus page (others' broadcasts may take some too). */
    for (unsigned i = 0; i < nbogus; i++) {
        build_frame(12, bcast, vifs[0].mac, next_tag++, TEST_FRAME);
        send_page(&vifs[0], 12, TEST_FRAME);
    }
    end = pvclock_now_ns() + WAIT_NS;
    while ((RING_IDX)(l->rxs->rsp_prod - first) < nbogus && pvclock_now_ns() < end)
        wait_ms(5);
    unsigned answered = 0, errors = 0, ids_ok = 0;
    __atomic_thread_fence(__ATOMIC_ACQUIRE);
    for (unsigned i = 0; i < nbogus && (RING_IDX)(l->rxs->rsp_prod - first) > i; i++) {
        struct netif_rx_response r = l->rx[(first + i) & (RX_SLOTS - 1)].rsp;
        answered++;
        errors += r.status == NETIF_RSP_ERROR;
        ids_ok += r.id == 100 + i;
    }
    l->rx_cons = first + answered;
    l->rx_manual = false;
    check_int("rx_bogus_all_answered", answered, nbogus);
    check_int("rx_bogus_all_error", errors, nbogus);
    check_int("rx_bogus_ids_echoed", ids_ok, nbogus);
    check_hex("rx_readonly_page_unchanged", rxbuf[1][1][0] | (uint64_t)rxbuf[1][1][PAGE_SIZE - 1] << 8, 0x5a5a);
    check_hex("rx_grants_not_in_use", fe_gt[r_ro].flags & (GTF_reading | GTF_writing), 0);
    check_int("rx_backend_still_connected", (int64_t)be_state(l), XenbusStateConnected);
    l->rx_repost = true;
    rx_fill(l);
    ring_goes_on("rx");
}

/* ---- (7) cut-offs ---- */

static void garbage_ring(struct vif *v)
{
    for (unsigned i = 0; i < TX_SLOTS; i++) {
        volatile uint32_t *w = (volatile uint32_t *)&v->tx[i];
        for (unsigned k = 0; k < NETIF_TX_SLOT_SIZE / 4; k++)
            w[k] = (uint32_t)xorshift64(&rng);
    }
    v->tx_prod += TX_SLOTS;
    tx_publish(v);
}

static void overrun(struct vif *v)
{
    build_frame(13, bcast, v->mac, TAG_BAD | 7, TEST_FRAME);
    v->tx[v->tx_prod & (TX_SLOTS - 1)].req =
        (struct netif_tx_request){ .gref = REF_TXBUF + 13, .size = TEST_FRAME, .id = 1 };
    v->tx_prod += 1000;
    tx_publish(v);
}

static void backwards(struct vif *v)
{
    v->tx_prod -= 5;
    tx_publish(v);
}

static void slots_21(struct vif *v)
{
    for (unsigned i = 0; i < 21; i++)
        v->tx[(v->tx_prod + i) & (TX_SLOTS - 1)].req =
            (struct netif_tx_request){ .gref = REF_TXBUF + 14, .size = (uint16_t)(i ? 60 : 21 * 60),
                                       .flags = i < 20 ? NETTXF_more_data : 0, .id = (uint16_t)i };
    v->tx_prod += 21;
    tx_publish(v);
}

static void past_page(struct vif *v)
{
    v->tx[v->tx_prod & (TX_SLOTS - 1)].req =
        (struct netif_tx_request){ .gref = REF_TXBUF + 14, .offset = 4000, .size = 200, .id = 7 };
    v->tx_prod++;
    tx_publish(v);
}

/* rx: req_prod 1000 pages ahead; a frame for vif 1 makes netback look. */
static void rx_overrun(struct vif *v)
{
    v->rx_repost = false;
    v->rxs->req_prod = v->rx_prod + 1000;
    evtchn_send(v->port);
    build_frame(13, bcast, vifs[0].mac, next_tag++, TEST_FRAME);
    send_page(&vifs[0], 13, TEST_FRAME);
}

static void test_cut_offs(void)
{
    static const struct {
        const char *name;
        void (*attack)(struct vif *v);
    } cases[] = {
        { "garbage", garbage_ring }, { "overrun", overrun }, { "backwards", backwards },
        { "slots_21", slots_21 },    { "past_page", past_page }, { "rx_overrun", rx_overrun },
    };
    struct vif *v = &vifs[1];
    build_frame(14, bcast, v->mac, TAG_BAD | 7, PAGE_SIZE);
    char name[64];
    for (unsigned c = 0; c < ARRAY_SIZE(cases); c++) {
        if (c) {
            fmt_snprintf(name, sizeof(name), "%s_reconnected", cases[c].name);
            if (!check_true(name, reconnect_vif(v), "failed", "Connected again"))
                return;
        }
        /* The vif works before the attack. */
        build_frame(15, bcast, v->mac, next_tag++, TEST_FRAME);
        fmt_snprintf(name, sizeof(name), "%s_before_okay", cases[c].name);
        check_int(name, send_page(v, 15, TEST_FRAME), NETIF_RSP_OKAY);
        printf(G ": cutting off vif1: %s\n", cases[c].name);
        cases[c].attack(v);
        fmt_snprintf(name, sizeof(name), "%s_backend_closing", cases[c].name);
        check_true(name, wait_cut_off(v), "still connected", "Closing");
        /* Nothing more is served, even a sane ring. */
        RING_IDX rsp_after = v->txs->rsp_prod;
        v->tx_prod = v->tx_cons = rsp_after;
        build_frame(15, bcast, v->mac, TAG_BAD | 7, TEST_FRAME);
        v->tx[v->tx_prod & (TX_SLOTS - 1)].req =
            (struct netif_tx_request){ .gref = REF_TXBUF + 15, .size = TEST_FRAME, .id = 9 };
        v->tx_prod++;
        tx_publish(v);
        wait_ms(500);
        fmt_snprintf(name, sizeof(name), "%s_no_more_service", cases[c].name);
        check_true(name, v->txs->rsp_prod == rsp_after, "answered", "silence");
    }
    /* vif 0 was never touched by any of it. */
    check_int("vif0_still_connected", (int64_t)be_state(&vifs[0]), XenbusStateConnected);
    build_frame(16, bcast, vifs[0].mac, next_tag++, TEST_FRAME);
    check_int("vif0_still_sends", send_page(&vifs[0], 16, TEST_FRAME), NETIF_RSP_OKAY);
    check_int("spoofed_never_delivered", (int64_t)seen.bad_delivered, 0);
}

/* ---- (8) bad handshakes ---- */

static void test_bad_handshakes(void)
{
    static const struct {
        const char *name;
        enum detail d;
    } cases[] = {
        { "no_request_rx_copy", D_NO_RX_COPY },   { "request_rx_copy_0", D_RX_COPY_0 },
        { "tx_ring_ref_beyond", D_TX_REF_BEYOND }, { "tx_ring_ref_ungranted", D_TX_REF_UNGRANTED },
        { "tx_ring_ref_junk", D_TX_REF_JUNK },     { "rx_ring_ref_readonly", D_RX_REF_READONLY },
        { "port_bogus", D_PORT_BOGUS },           { "port_zero", D_PORT_ZERO },
        { "port_taken", D_PORT_TAKEN },           { "multi_queue", D_MULTI_QUEUE },
        { "split_channels", D_SPLIT_CHANNELS },
    };
    struct vif *v = &vifs[1];
    char name[64];
    v->rx_repost = false;
    for (unsigned c = 0; c < ARRAY_SIZE(cases); c++) {
        /* From Closing (the last cut-off, or the last refusal): Closed,
         * then Initialising, then the spoiled details. */
        bool ok = !write_num(v->fe, "state", XenbusStateClosed) && wait_be_state(v, XenbusStateClosed);
        evtchn_close(v->port);
        ok = ok && !write_num(v->fe, "state", XenbusStateInitialising) &&
             connect_vif(v, XenbusStateConnected, false, cases[c].d);
        fmt_snprintf(name, sizeof(name), "handshake_%s_published", cases[c].name);
        if (!check_true(name, ok, "failed", "InitWait, then the details written"))
            return;
        printf(G ": bad handshake on vif1: %s\n", cases[c].name);
        fmt_snprintf(name, sizeof(name), "handshake_%s_refused", cases[c].name);
        check_true(name, wait_cut_off(v), "connected", "Closing");
        unpublish_extras(v);
    }
    /* Good details after all that: served again. */
    check_true("handshake_good_after_refusals", reconnect_vif(v), "failed", "Connected");
    build_frame(15, bcast, v->mac, next_tag++, TEST_FRAME);
    check_int("handshake_good_sends", send_page(v, 15, TEST_FRAME), NETIF_RSP_OKAY);
    check_int("vif0_connected_throughout", (int64_t)be_state(&vifs[0]), XenbusStateConnected);
    check_int("frontend_closed", write_num(v->fe, "state", XenbusStateClosed), 0);
    check_true("backend_closed_after_frontend", wait_be_state(v, XenbusStateClosed), "other", "Closed");
}

void kernel_main(void)
{
    test_begin(G);
    fe_start_of_day();
    char val[24] = "";
    cmdline_find(start_info->cmd_line, "victim", val, sizeof(val));
    check_true("victim_mac_given", !xl_mac_parse(val, victim), val, "victim=aa:bb:cc:dd:ee:ff");
    pause_points = cmdline_number("pause", 0, 1) == 1;
    uint64_t listen_s = cmdline_number("listen_s", 2, 600), flood = cmdline_number("flood", 5000, 10000000);
    uint64_t flood_ms = cmdline_number("flood_ms", 0, 600000);
    if (check_true("store_ring_ours", xsc_init(), "not", "our page") && connect_all()) {
        test_sanity();
        test_bad_grants();
        test_bad_packets();
        test_spoofing(listen_s);
        test_flood(flood, flood_ms);
        test_rx_grants();
        test_cut_offs();
        test_bad_handshakes();
    }
    test_finish();
}
