/* SPDX-License-Identifier: MIT */
/*
 * blk_hostile: a vbd frontend that attacks dom0's block backend
 * (docs/block.md). It does blkfront's handshake itself (device/vbd/<devid>,
 * a granted ring page, an event channel, states Initialised/Connected),
 * then: (1) well-formed reads and writes, data checked; (2) bogus, revoked,
 * misdirected, read-only and foreign-frame grants: BLKIF_RSP_ERROR and
 * nothing written; (3) bad sectors, segments and operations: errors;
 * (4) a ring full of garbage: every slot answered with an error, the
 * device still serves; (5) a producer index beyond the ring: the backend
 * goes to Closing and serves nothing more; (6) a xenstore flood: quota
 * errors, xenstored still answers. Sectors 0..23 hold the sanity data;
 * every refused write aims at sectors 64..79, which must stay zero (the
 * disk starts zeroed; the integration test checks the image too).
 */
#include <lamina/fmt.h>
#include <lamina/string.h>
#include <public/grant_table.h>
#include <public/io/blkif.h>
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

#define G "blk_hostile"
#define WAIT_NS 5000000000ULL
#define RING_SLOTS 32u                 /* BLKIF_RING_SLOTS(0) */
#define REF_RING 8u                    /* refs below 8 are the toolstack's */
#define REF_DATA 9u                    /* data pages: refs 9..9+NR_DATA-1 */
#define NR_DATA 12u
#define REF_SPARE 40u                  /* refs for the grant attacks */
#define BAD_SECTOR 64u                 /* where refused writes aim */

static uint8_t ring_page[PAGE_SIZE] __attribute__((aligned(PAGE_SIZE)));
static uint8_t data[NR_DATA][PAGE_SIZE] __attribute__((aligned(PAGE_SIZE)));

static volatile struct ring_shared_header *sring;
static volatile union blkif_sring_entry *slots;
static RING_IDX req_prod, rsp_cons;
static unsigned port;
static uint16_t be_id;
static uint64_t sectors;
static char fe[64], be[128];
static uint64_t next_id = 0x1000;

static uint64_t parse_dec(const char *s)
{
    uint64_t v = 0;
    if (!*s)
        return ~0ULL;
    for (; *s; s++) {
        if (*s < '0' || *s > '9')
            return ~0ULL;
        v = v * 10 + (uint64_t)(*s - '0');
    }
    return v;
}

/* The backend's state, or ~0 if unreadable. */
static uint64_t be_state(void)
{
    char v[16];
    return fe_read(be, "state", v, sizeof(v)) > 0 ? parse_dec(v) : ~0ULL;
}

/* Polls the backend's state (every timer tick) until it is `want`. */
static bool wait_be_state(uint64_t want, uint64_t timeout_ns)
{
    uint64_t end = pvclock_now_ns() + timeout_ns;
    while (pvclock_now_ns() < end) {
        if (be_state() == want)
            return true;
        hyp_sched_op(SCHEDOP_block, NULL);
    }
    return be_state() == want;
}

static bool response_ready(void *arg)
{
    (void)arg;
    return sring->rsp_prod != rsp_cons;
}

/* Puts one request into the next slot (not yet published). */
static void queue(const struct blkif_request *rq)
{
    slots[req_prod & (RING_SLOTS - 1)].req = *rq;
    req_prod++;
}

static void publish(void)
{
    __atomic_thread_fence(__ATOMIC_RELEASE);
    sring->req_prod = req_prod;
    evtchn_send(port);
}

/* The next response, or false after WAIT_NS without one. */
static bool take_response(struct blkif_response *out)
{
    sring->rsp_event = rsp_cons + 1;
    __atomic_thread_fence(__ATOMIC_SEQ_CST);
    if (!block_until(response_ready, NULL, WAIT_NS))
        return false;
    __atomic_thread_fence(__ATOMIC_ACQUIRE);
    *out = slots[rsp_cons & (RING_SLOTS - 1)].rsp;
    rsp_cons++;
    return true;
}

/* Sends one request and returns its status; 99 for no answer, 98 for an
 * answer to some other request. */
static int submit(struct blkif_request *rq)
{
    rq->id = next_id++;
    queue(rq);
    publish();
    struct blkif_response rsp;
    if (!take_response(&rsp))
        return 99;
    if (rsp.id != rq->id || rsp.operation != rq->operation)
        return 98;
    return rsp.status;
}

/* A request over whole data pages: page p[i] is segment i, sectors 0..7. */
static int rw(uint8_t op, uint64_t sector, const unsigned *pages, unsigned n)
{
    struct blkif_request rq = { .operation = op, .nr_segments = (uint8_t)n, .sector_number = sector };
    for (unsigned i = 0; i < n; i++)
        rq.seg[i] = (struct blkif_request_segment){ .gref = REF_DATA + pages[i], .first_sect = 0,
                                                    .last_sect = 7 };
    return submit(&rq);
}

static int one_seg(uint8_t op, uint64_t sector, uint32_t gref, uint8_t first, uint8_t last)
{
    struct blkif_request rq = { .operation = op, .nr_segments = 1, .sector_number = sector };
    rq.seg[0] = (struct blkif_request_segment){ .gref = gref, .first_sect = first, .last_sect = last };
    return submit(&rq);
}

static void fill(unsigned page, uint8_t seed)
{
    for (unsigned i = 0; i < PAGE_SIZE; i++)
        data[page][i] = (uint8_t)(seed + i * 7 + (i >> 9));
}

static bool all_zero(const uint8_t *p, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (p[i])
            return false;
    return true;
}

/* ---- handshake ---- */

static bool connect(void)
{
    char v[256];
    long n = xsc_request(XS_DIRECTORY, "device/vbd", sizeof("device/vbd"), v, sizeof(v));
    if (!check_cond_hex("vbd_listed", n > 1, (uint64_t)n, "a device/vbd entry"))
        return false;
    fmt_snprintf(fe, sizeof(fe), "device/vbd/%s", v);   /* the first name */
    n = fe_read(fe, "backend", be, sizeof(be));
    if (!check_cond_hex("backend_path", n > 0 && be[0] == '/', (uint64_t)n, "an absolute path"))
        return false;
    n = fe_read(fe, "backend-id", v, sizeof(v));
    be_id = (uint16_t)(n > 0 ? parse_dec(v) : 0xffff);
    if (!check_int("backend_id_dom0", be_id, 0))
        return false;
    if (!check_true("backend_initwait", wait_be_state(XenbusStateInitWait, WAIT_NS), "other", "InitWait"))
        return false;
    if (!fe_setup_grant_table())
        return false;

    sring = (volatile struct ring_shared_header *)ring_page;
    slots = (volatile union blkif_sring_entry *)(ring_page + RING_HEADER_SIZE);
    sring->req_event = 1;
    sring->rsp_event = 1;
    fe_grant(REF_RING, be_id, va_to_mfn(ring_page), GTF_permit_access);
    for (unsigned i = 0; i < NR_DATA; i++)
        fe_grant(REF_DATA + i, be_id, va_to_mfn(data[i]), GTF_permit_access);
    long p = evtchn_alloc_unbound(DOMID_SELF, be_id);
    if (!check_cond_hex("alloc_unbound_port", p > 0, (uint64_t)p, "a port"))
        return false;
    port = (unsigned)p;
    evtchn_set_handler(port, fe_ignore_event, NULL);
    evtchn_unmask(port);

    fmt_snprintf(v, sizeof(v), "%u", REF_RING);
    long rc = fe_write(fe, "ring-ref", v);
    fmt_snprintf(v, sizeof(v), "%u", port);
    rc = rc ? rc : fe_write(fe, "event-channel", v);
    rc = rc ? rc : fe_write(fe, "protocol", "x86_64-abi");
    rc = rc ? rc : fe_write(fe, "state", "3");
    if (!check_int("publish_ring", rc, 0))
        return false;
    if (!check_true("backend_connected", wait_be_state(XenbusStateConnected, 2 * WAIT_NS), "other", "Connected"))
        return false;
    n = fe_read(be, "sectors", v, sizeof(v));
    sectors = n > 0 ? parse_dec(v) : 0;
    check_range("sectors", sectors, 256, 1ULL << 40);
    check_int("frontend_connected", fe_write(fe, "state", "4"), 0);
    return sectors >= 256 && sectors < (1ULL << 40);
}

/* ---- (1) sanity ---- */

static void test_sanity(void)
{
    fill(0, 0x11);
    fill(1, 0x22);
    fill(2, 0x33);
    check_int("write_one_page", rw(BLKIF_OP_WRITE, 0, (const unsigned[]){ 0 }, 1), BLKIF_RSP_OKAY);
    check_int("write_two_pages", rw(BLKIF_OP_WRITE, 8, (const unsigned[]){ 1, 2 }, 2), BLKIF_RSP_OKAY);
    memset(data[3], 0xee, PAGE_SIZE * 3);
    check_int("read_three_pages", rw(BLKIF_OP_READ, 0, (const unsigned[]){ 3, 4, 5 }, 3), BLKIF_RSP_OKAY);
    check_int("read_back_page0", memcmp(data[3], data[0], PAGE_SIZE), 0);
    check_int("read_back_pages12", memcmp(data[4], data[1], 2 * PAGE_SIZE), 0);
    /* A partial segment: sectors 2..4 of page 6 from disk sectors 9..11. */
    memset(data[6], 0, PAGE_SIZE);
    check_int("read_partial_segment", one_seg(BLKIF_OP_READ, 9, REF_DATA + 6, 2, 4), BLKIF_RSP_OKAY);
    check_int("partial_segment_data", memcmp(data[6] + 1024, data[1] + 512, 3 * 512), 0);
    check_true("partial_segment_rest_untouched", all_zero(data[6], 1024) && all_zero(data[6] + 2560, 1536),
               "written", "zero");
    memset(data[7], 0xee, PAGE_SIZE * 2);
    check_int("read_bad_area_zero", rw(BLKIF_OP_READ, BAD_SECTOR, (const unsigned[]){ 7, 8 }, 2), BLKIF_RSP_OKAY);
    check_true("bad_area_starts_zero", all_zero(data[7], 2 * PAGE_SIZE), "data", "zero");
    struct blkif_request flush = { .operation = BLKIF_OP_FLUSH_DISKCACHE, .nr_segments = 0 };
    check_int("flush_no_segments", submit(&flush), BLKIF_RSP_OKAY);
}

/* ---- (2) grants ---- */

static void test_grants(void)
{
    fill(9, 0xa0);
    fill(10, 0xb0);
    uint32_t r_revoked = REF_SPARE, r_other = REF_SPARE + 1, r_foreign = REF_SPARE + 2,
             r_hv = REF_SPARE + 3, r_ro = REF_SPARE + 4, r_unused = REF_SPARE + 5;
    /* Revoked: granted, then taken back (the granter's compare-exchange). */
    fe_grant(r_revoked, be_id, va_to_mfn(data[9]), GTF_permit_access);
    check_true("revoke_idle_grant", fe_revoke(r_revoked, GTF_permit_access), "busy", "revoked");
    fe_grant(r_other, 0x7fef, va_to_mfn(data[9]), GTF_permit_access);     /* for some other domain */
    fe_grant(r_foreign, be_id, fe_foreign_mfn(), GTF_permit_access);         /* a frame not ours */
    fe_grant(r_hv, be_id, 1, GTF_permit_access);                          /* a hypervisor frame */
    fe_grant(r_ro, be_id, va_to_mfn(data[10]), GTF_permit_access | GTF_readonly);

    check_int("write_gref_beyond_table", one_seg(BLKIF_OP_WRITE, BAD_SECTOR, 5000, 0, 7), BLKIF_RSP_ERROR);
    check_int("write_gref_huge", one_seg(BLKIF_OP_WRITE, BAD_SECTOR, 0xffffffffu, 0, 7), BLKIF_RSP_ERROR);
    check_int("write_gref_never_granted", one_seg(BLKIF_OP_WRITE, BAD_SECTOR, r_unused, 0, 7), BLKIF_RSP_ERROR);
    check_int("write_gref_revoked", one_seg(BLKIF_OP_WRITE, BAD_SECTOR, r_revoked, 0, 7), BLKIF_RSP_ERROR);
    check_int("write_gref_for_other_domain", one_seg(BLKIF_OP_WRITE, BAD_SECTOR, r_other, 0, 7),
              BLKIF_RSP_ERROR);
    check_int("write_gref_foreign_frame", one_seg(BLKIF_OP_WRITE, BAD_SECTOR, r_foreign, 0, 7), BLKIF_RSP_ERROR);
    check_int("write_gref_hypervisor_frame", one_seg(BLKIF_OP_WRITE, BAD_SECTOR, r_hv, 0, 7), BLKIF_RSP_ERROR);
    check_int("write_gref_toolstack_ref", one_seg(BLKIF_OP_WRITE, BAD_SECTOR, 1, 0, 7), BLKIF_RSP_ERROR);
    /* Good segments first, a bad one last: the whole write is refused. */
    struct blkif_request rq = { .operation = BLKIF_OP_WRITE, .nr_segments = 3, .sector_number = BAD_SECTOR };
    rq.seg[0] = (struct blkif_request_segment){ .gref = REF_DATA + 9, .first_sect = 0, .last_sect = 7 };
    rq.seg[1] = (struct blkif_request_segment){ .gref = REF_DATA + 10, .first_sect = 0, .last_sect = 7 };
    rq.seg[2] = (struct blkif_request_segment){ .gref = r_revoked, .first_sect = 0, .last_sect = 7 };
    check_int("write_good_then_revoked", submit(&rq), BLKIF_RSP_ERROR);

    /* Reads into pages the backend may not write. */
    uint8_t before = data[10][0];
    check_int("read_into_readonly_grant", one_seg(BLKIF_OP_READ, 0, r_ro, 0, 7), BLKIF_RSP_ERROR);
    check_hex("readonly_page_unchanged", data[10][0], before);
    check_int("read_into_foreign_frame", one_seg(BLKIF_OP_READ, 0, r_foreign, 0, 7), BLKIF_RSP_ERROR);
    check_int("read_into_hypervisor_frame", one_seg(BLKIF_OP_READ, 0, r_hv, 0, 7), BLKIF_RSP_ERROR);
    check_int("read_into_revoked", one_seg(BLKIF_OP_READ, 0, r_revoked, 0, 7), BLKIF_RSP_ERROR);
    check_int("read_gref_beyond_table", one_seg(BLKIF_OP_READ, 0, 100000, 0, 7), BLKIF_RSP_ERROR);

    /* Nothing reached the disk, and no grant was left in use. */
    memset(data[7], 0xee, PAGE_SIZE * 2);
    check_int("reread_bad_area", rw(BLKIF_OP_READ, BAD_SECTOR, (const unsigned[]){ 7, 8 }, 2), BLKIF_RSP_OKAY);
    check_true("refused_writes_left_disk_zero", all_zero(data[7], 2 * PAGE_SIZE), "data", "zero");
    uint16_t busy = 0;
    for (unsigned i = 0; i < NR_DATA; i++)
        busy |= fe_gt[REF_DATA + i].flags & (GTF_reading | GTF_writing);
    busy |= fe_gt[r_ro].flags & (GTF_reading | GTF_writing);
    check_hex("no_grant_left_in_use", busy, 0);
}

/* ---- (3) bad requests ---- */

static void test_bad_requests(void)
{
    uint32_t g = REF_DATA + 11;
    check_int("read_at_end", one_seg(BLKIF_OP_READ, sectors, g, 0, 0), BLKIF_RSP_ERROR);
    check_int("read_across_end", one_seg(BLKIF_OP_READ, sectors - 4, g, 0, 7), BLKIF_RSP_ERROR);
    check_int("read_last_sector", one_seg(BLKIF_OP_READ, sectors - 1, g, 7, 7), BLKIF_RSP_OKAY);
    check_int("read_sector_wraps", one_seg(BLKIF_OP_READ, ~0ULL - 3, g, 0, 7), BLKIF_RSP_ERROR);
    check_int("write_sector_wraps", one_seg(BLKIF_OP_WRITE, ~0ULL - 3, g, 0, 7), BLKIF_RSP_ERROR);
    check_int("first_after_last", one_seg(BLKIF_OP_READ, 0, g, 5, 2), BLKIF_RSP_ERROR);
    check_int("write_first_after_last", one_seg(BLKIF_OP_WRITE, BAD_SECTOR, g, 5, 2), BLKIF_RSP_ERROR);
    check_int("last_sect_8", one_seg(BLKIF_OP_READ, 0, g, 0, 8), BLKIF_RSP_ERROR);
    check_int("write_last_sect_255", one_seg(BLKIF_OP_WRITE, BAD_SECTOR, g, 0, 255), BLKIF_RSP_ERROR);
    struct blkif_request rq = { .operation = BLKIF_OP_READ, .nr_segments = 0 };
    check_int("read_zero_segments", submit(&rq), BLKIF_RSP_ERROR);
    rq = (struct blkif_request){ .operation = BLKIF_OP_WRITE, .nr_segments = 0, .sector_number = BAD_SECTOR };
    check_int("write_zero_segments", submit(&rq), BLKIF_RSP_ERROR);
    for (unsigned n = 12; n <= 255; n += 243) {
        rq = (struct blkif_request){ .operation = BLKIF_OP_WRITE, .nr_segments = (uint8_t)n,
                                     .sector_number = BAD_SECTOR };
        for (unsigned i = 0; i < BLKIF_MAX_SEGMENTS_PER_REQUEST; i++)
            rq.seg[i] = (struct blkif_request_segment){ .gref = REF_DATA + i, .first_sect = 0, .last_sect = 7 };
        check_int(n == 12 ? "write_12_segments" : "write_255_segments", submit(&rq), BLKIF_RSP_ERROR);
    }
    static const struct {
        const char *name;
        uint8_t op;
    } ops[] = {
        { "op_write_barrier_not_offered", BLKIF_OP_WRITE_BARRIER }, { "op_reserved_1", BLKIF_OP_RESERVED_1 },
        { "op_discard_not_offered", BLKIF_OP_DISCARD }, { "op_indirect_not_offered", BLKIF_OP_INDIRECT },
        { "op_7", 7 }, { "op_255", 255 },
    };
    for (unsigned i = 0; i < ARRAY_SIZE(ops); i++) {
        rq = (struct blkif_request){ .operation = ops[i].op, .nr_segments = 1, .sector_number = BAD_SECTOR };
        rq.seg[0] = (struct blkif_request_segment){ .gref = g, .first_sect = 0, .last_sect = 7 };
        check_int(ops[i].name, submit(&rq), BLKIF_RSP_EOPNOTSUPP);
    }
}

/* ---- (4) garbage ---- */

static uint64_t rng = 0x9e3779b97f4a7c15ULL;

static void test_garbage(void)
{
    uint64_t ids[RING_SLOTS];
    for (unsigned i = 0; i < RING_SLOTS; i++) {
        volatile uint64_t *w = (volatile uint64_t *)&slots[(req_prod + i) & (RING_SLOTS - 1)];
        for (unsigned k = 0; k < BLKIF_SLOT_SIZE / 8; k++)
            w[k] = xorshift64(&rng);
        ids[i] = w[1];
    }
    /* The fields of the header the backend only reads, and the padding. */
    sring->rsp_event = (RING_IDX)xorshift64(&rng);
    for (unsigned k = 0; k < 44; k++)
        sring->pad[k] = (uint8_t)xorshift64(&rng);
    req_prod += RING_SLOTS;
    publish();
    unsigned answered = 0, ids_ok = 0, errors = 0;
    struct blkif_response rsp;
    while (answered < RING_SLOTS && take_response(&rsp)) {
        ids_ok += rsp.id == ids[answered];
        errors += rsp.status == BLKIF_RSP_ERROR || rsp.status == BLKIF_RSP_EOPNOTSUPP;
        answered++;
    }
    check_int("garbage_all_answered", answered, RING_SLOTS);
    check_int("garbage_ids_echoed", ids_ok, RING_SLOTS);
    check_int("garbage_all_refused", errors, RING_SLOTS);
    check_int("garbage_backend_still_connected", (int64_t)be_state(), XenbusStateConnected);
    memset(data[7], 0xee, PAGE_SIZE);
    check_int("after_garbage_read", rw(BLKIF_OP_READ, 0, (const unsigned[]){ 7 }, 1), BLKIF_RSP_OKAY);
    check_int("after_garbage_data", memcmp(data[7], data[0], PAGE_SIZE), 0);
}

/* ---- (5) overrun ---- */

static void test_overrun(void)
{
    RING_IDX base = req_prod;
    /* A valid read in the next slot, but req_prod claims 1000 requests. */
    struct blkif_request rq = { .operation = BLKIF_OP_READ, .nr_segments = 1, .id = 0x5151 };
    rq.seg[0] = (struct blkif_request_segment){ .gref = REF_DATA + 7, .first_sect = 0, .last_sect = 7 };
    queue(&rq);
    req_prod = base + 1000;
    publish();
    RING_IDX rsp_before = sring->rsp_prod;
    uint64_t st = XenbusStateConnected;
    uint64_t end = pvclock_now_ns() + WAIT_NS;
    while (pvclock_now_ns() < end && (st == XenbusStateConnected || st == ~0ULL)) {
        hyp_sched_op(SCHEDOP_block, NULL);
        st = be_state();
    }
    check_true("overrun_backend_closing", st == XenbusStateClosing || st == XenbusStateClosed, "other",
               "Closing or Closed");
    /* It serves nothing more, even a ring made sane again. */
    req_prod = base + 1;
    publish();
    struct blkif_response rsp;
    check_true("overrun_no_more_service", !take_response(&rsp) && sring->rsp_prod == rsp_before, "answered",
               "silence");
    check_int("frontend_closed", fe_write(fe, "state", "6"), 0);
    check_true("backend_closed_after_frontend", wait_be_state(XenbusStateClosed, WAIT_NS), "other", "Closed");
}

/* ---- (6) xenstore flood ---- */

static void test_xenstore_flood(void)
{
    char path[64], val[16];
    long rc = 0;
    unsigned written = 0;
    for (unsigned i = 0; i < 2000; i++) {
        fmt_snprintf(path, sizeof(path), "data/flood/n%u", i);
        fmt_snprintf(val, sizeof(val), "%u", i);
        rc = xsc_write(path, val);
        if (rc)
            break;
        written++;
    }
    check_int("flood_nodes_quota_enospc", rc, -XEN_ENOSPC);
    check_range("flood_nodes_written", written, 500, 1000);
    char payload[3000];
    size_t pl = sizeof("data/big");
    memcpy(payload, "data/big", pl);
    memset(payload + pl, 'v', 2100);
    check_int("value_too_big_enospc", xsc_request(XS_WRITE, payload, pl + 2100, NULL, 0), -XEN_ENOSPC);
    unsigned watches = 0;
    for (unsigned i = 0; i < 300; i++) {
        fmt_snprintf(path, sizeof(path), "data/w%u", i);
        fmt_snprintf(val, sizeof(val), "t%u", i);
        rc = xsc_watch(path, val);
        if (rc)
            break;
        watches++;
    }
    check_int("flood_watches_quota_e2big", rc, -XEN_E2BIG);
    check_range("flood_watches_set", watches, 64, 128);
    check_range("watch_events_received", xsc_events_seen(), watches, ~0ULL);
    check_int("flood_remove", xsc_rm("data/flood"), 0);
    check_int("write_after_flood", xsc_write("data/after", "1"), 0);
    char v[16];
    check_int("read_after_flood", xsc_read("data/after", v, sizeof(v)), 1);
}

void kernel_main(void)
{
    test_begin(G);
    fe_start_of_day();
    if (check_true("store_ring_ours", xsc_init(), "not", "our page") && connect()) {
        test_sanity();
        test_grants();
        test_bad_requests();
        test_garbage();
        test_overrun();
    }
    test_xenstore_flood();
    test_finish();
}
