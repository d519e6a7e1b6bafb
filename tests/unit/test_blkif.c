/* SPDX-License-Identifier: MIT */
/*
 * lib/blkif.c: the backend's side of a blkif ring against a simulated
 * frontend (well-behaved, then hostile: indices that overrun, run
 * backwards or wrap at 2^32, slots rewritten after they were taken), and
 * the request checks. The fuzz test runs a random frontend that mixes good
 * requests with garbage and scribbles over the page, against a reference
 * model of what each request deserves.
 */
#include "unit.h"
#include <lamina/blkif.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

static _Alignas(4096) uint8_t page[4096 * 4];
static struct blkif_back_ring ring;

static struct ring_shared_header *hdr(void)
{
    return (struct ring_shared_header *)page;
}

static union blkif_sring_entry *slot(RING_IDX i, uint32_t size)
{
    return (union blkif_sring_entry *)(page + RING_HEADER_SIZE) + (i & (size - 1));
}

/* The frontend puts a request in slot `i` (not yet published). */
static void put_req(RING_IDX i, uint8_t op, uint64_t id, uint64_t sector, unsigned nsegs)
{
    union blkif_sring_entry *e = slot(i, ring.core.size);
    memset(e, 0, sizeof(*e));
    e->req.operation = op;
    e->req.nr_segments = (uint8_t)nsegs;
    e->req.id = id;
    e->req.sector_number = sector;
    for (unsigned s = 0; s < nsegs && s < BLKIF_MAX_SEGMENTS_PER_REQUEST; s++) {
        e->req.seg[s].gref = 100 + s;
        e->req.seg[s].first_sect = 0;
        e->req.seg[s].last_sect = 7;
    }
}

static void fresh(unsigned order)
{
    memset(page, 0, sizeof(page));
    blkif_ring_attach(&ring, page, order);
}

START_TEST(test_sizes)
{
    ck_assert_uint_eq(BLKIF_RING_SLOTS(0), 32);
    ck_assert_uint_eq(BLKIF_RING_SLOTS(1), 64);
    ck_assert_uint_eq(BLKIF_RING_SLOTS(2), 128);
    ck_assert_uint_eq(ring_slot_count(64, 112), 0);
    ck_assert_uint_eq(ring_slot_count(64 + 111, 112), 0);
    ck_assert_uint_eq(ring_slot_count(64 + 112 * 3, 112), 2);
    fresh(0);
    ck_assert_uint_eq(ring.core.size, 32);
    ck_assert((uintptr_t)ring.slots == (uintptr_t)(page + 64));
}
END_TEST

START_TEST(test_notify_rule)
{
    /* event in (old, new] */
    ck_assert(ring_needs_notify(0, 1, 1));
    ck_assert(!ring_needs_notify(1, 2, 1));
    ck_assert(ring_needs_notify(0, 5, 3));
    ck_assert(!ring_needs_notify(0, 5, 6));
    ck_assert(ring_needs_notify(0xfffffffeu, 2, 0));
    ck_assert(!ring_needs_notify(0xfffffffeu, 2, 3));
}
END_TEST

START_TEST(test_empty_and_one)
{
    union blkif_sring_entry e;
    fresh(0);
    ck_assert_int_eq(blkif_ring_next(&ring, &e), BLKIF_RING_EMPTY);
    put_req(0, BLKIF_OP_READ, 42, 8, 2);
    ck_assert_int_eq(blkif_ring_next(&ring, &e), BLKIF_RING_EMPTY);   /* not published */
    hdr()->req_prod = 1;
    ck_assert_int_eq(blkif_ring_next(&ring, &e), BLKIF_RING_GOT);
    ck_assert_uint_eq(e.req.id, 42);
    ck_assert_uint_eq(e.req.nr_segments, 2);
    ck_assert_int_eq(blkif_ring_next(&ring, &e), BLKIF_RING_EMPTY);
    hdr()->rsp_event = 1;
    blkif_ring_respond(&ring, 42, BLKIF_OP_READ, BLKIF_RSP_OKAY);
    ck_assert_uint_eq(hdr()->rsp_prod, 0);          /* not before push */
    ck_assert(blkif_ring_push(&ring));
    ck_assert_uint_eq(hdr()->rsp_prod, 1);
    ck_assert_uint_eq(slot(0, 32)->rsp.id, 42);
    ck_assert_int_eq(slot(0, 32)->rsp.status, 0);
    ck_assert_uint_eq(slot(0, 32)->rsp.operation, BLKIF_OP_READ);
    ck_assert(!blkif_ring_push(&ring));            /* nothing new */
    /* rsp_event not advanced by the frontend: no notification */
    blkif_ring_respond(&ring, 43, BLKIF_OP_WRITE, BLKIF_RSP_ERROR);
    ck_assert(!blkif_ring_push(&ring));
    ck_assert_int_eq(slot(1, 32)->rsp.status, BLKIF_RSP_ERROR);
}
END_TEST

START_TEST(test_snapshot_once)
{
    /* req_prod is read once per batch: raising it mid-batch is seen only
     * after the batch is used up, and then checked again. */
    union blkif_sring_entry e;
    fresh(0);
    for (unsigned i = 0; i < 3; i++)
        put_req(i, BLKIF_OP_READ, i, 0, 1);
    hdr()->req_prod = 2;
    ck_assert_int_eq(blkif_ring_next(&ring, &e), BLKIF_RING_GOT);
    hdr()->req_prod = 1000;                         /* hostile, but not read yet */
    ck_assert_int_eq(blkif_ring_next(&ring, &e), BLKIF_RING_GOT);
    ck_assert_uint_eq(e.req.id, 1);
    ck_assert_int_eq(blkif_ring_next(&ring, &e), BLKIF_RING_BROKEN);
    ck_assert_int_eq(blkif_ring_next(&ring, &e), BLKIF_RING_BROKEN);   /* stays broken */
    ck_assert(!blkif_ring_final_check(&ring));
}
END_TEST

START_TEST(test_overrun)
{
    union blkif_sring_entry e;
    fresh(0);
    hdr()->req_prod = 33;                           /* more than the ring holds */
    ck_assert_int_eq(blkif_ring_next(&ring, &e), BLKIF_RING_BROKEN);
    ck_assert(ring.core.broken);

    fresh(0);
    hdr()->req_prod = 32;                           /* exactly full is fine */
    for (unsigned i = 0; i < 32; i++) {
        put_req(i, BLKIF_OP_READ, i, 0, 1);
    }
    for (unsigned i = 0; i < 32; i++)
        ck_assert_int_eq(blkif_ring_next(&ring, &e), BLKIF_RING_GOT);
    ck_assert_int_eq(blkif_ring_next(&ring, &e), BLKIF_RING_EMPTY);
    /* Without responses, one more request overruns the responses' slots. */
    hdr()->req_prod = 33;
    ck_assert_int_eq(blkif_ring_next(&ring, &e), BLKIF_RING_BROKEN);

    fresh(0);
    hdr()->req_prod = 32;
    for (unsigned i = 0; i < 32; i++)
        ck_assert_int_eq(blkif_ring_next(&ring, &e), BLKIF_RING_GOT);
    for (unsigned i = 0; i < 5; i++)
        blkif_ring_respond(&ring, i, 0, 0);
    blkif_ring_push(&ring);
    hdr()->req_prod = 37;                           /* 5 freed, 5 more: fine */
    for (unsigned i = 0; i < 5; i++)
        ck_assert_int_eq(blkif_ring_next(&ring, &e), BLKIF_RING_GOT);
    ck_assert_int_eq(blkif_ring_next(&ring, &e), BLKIF_RING_EMPTY);
}
END_TEST

START_TEST(test_backwards)
{
    union blkif_sring_entry e;
    fresh(0);
    hdr()->req_prod = 4;
    for (unsigned i = 0; i < 4; i++)
        ck_assert_int_eq(blkif_ring_next(&ring, &e), BLKIF_RING_GOT);
    for (unsigned i = 0; i < 4; i++)
        blkif_ring_respond(&ring, i, 0, 0);
    hdr()->req_prod = 2;                            /* runs backwards */
    ck_assert_int_eq(blkif_ring_next(&ring, &e), BLKIF_RING_BROKEN);

    /* Backwards behind responses not yet answered. */
    fresh(0);
    hdr()->req_prod = 4;
    for (unsigned i = 0; i < 4; i++)
        ck_assert_int_eq(blkif_ring_next(&ring, &e), BLKIF_RING_GOT);
    hdr()->req_prod = 3;
    ck_assert_int_eq(blkif_ring_next(&ring, &e), BLKIF_RING_BROKEN);
}
END_TEST

START_TEST(test_wrap)
{
    union blkif_sring_entry e;
    RING_IDX start = 0xfffffff0u;
    fresh(0);
    ring.core.req_cons = ring.core.req_prod_seen = ring.core.rsp_prod_pvt = ring.core.rsp_prod_pub = start;
    hdr()->rsp_prod = start;
    for (unsigned n = 0; n < 100; n++) {
        RING_IDX i = start + n;
        put_req(i, BLKIF_OP_WRITE, i, n, 1);
        hdr()->req_prod = i + 1;
        hdr()->rsp_event = i + 1;
        ck_assert_int_eq(blkif_ring_next(&ring, &e), BLKIF_RING_GOT);
        ck_assert_uint_eq(e.req.id, i);
        blkif_ring_respond(&ring, e.req.id, e.req.operation, 0);
        ck_assert(blkif_ring_push(&ring));
        ck_assert_uint_eq(hdr()->rsp_prod, i + 1);
    }
    ck_assert_uint_eq(ring.core.req_cons, start + 100);
}
END_TEST

START_TEST(test_copy_out)
{
    /* The request is copied whole: rewriting the slot afterwards changes
     * nothing we hold. */
    union blkif_sring_entry e;
    fresh(0);
    put_req(0, BLKIF_OP_READ, 7, 16, 11);
    hdr()->req_prod = 1;
    ck_assert_int_eq(blkif_ring_next(&ring, &e), BLKIF_RING_GOT);
    memset(slot(0, 32), 0xff, sizeof(union blkif_sring_entry));
    ck_assert_uint_eq(e.req.id, 7);
    ck_assert_uint_eq(e.req.seg[10].gref, 110);
    ck_assert_uint_eq(e.req.seg[10].last_sect, 7);
}
END_TEST

START_TEST(test_final_check)
{
    union blkif_sring_entry e;
    fresh(0);
    ck_assert(!blkif_ring_final_check(&ring));
    ck_assert_uint_eq(hdr()->req_event, 1);
    hdr()->req_prod = 1;
    ck_assert(blkif_ring_final_check(&ring));
    ck_assert_int_eq(blkif_ring_next(&ring, &e), BLKIF_RING_GOT);
    ck_assert(!blkif_ring_final_check(&ring));
    ck_assert_uint_eq(hdr()->req_event, 2);
    /* Taken but not all consumed: work left without re-reading. */
    hdr()->req_prod = 3;
    ck_assert_int_eq(blkif_ring_next(&ring, &e), BLKIF_RING_GOT);
    ck_assert(blkif_ring_final_check(&ring));
}
END_TEST

START_TEST(test_multipage)
{
    union blkif_sring_entry e;
    fresh(2);
    ck_assert_uint_eq(ring.core.size, 128);
    for (unsigned i = 0; i < 128; i++)
        put_req(i, BLKIF_OP_READ, i, 0, 1);
    hdr()->req_prod = 128;
    for (unsigned i = 0; i < 128; i++) {
        ck_assert_int_eq(blkif_ring_next(&ring, &e), BLKIF_RING_GOT);
        ck_assert_uint_eq(e.req.id, i);
    }
    /* The last slot ends inside the 4 pages. */
    ck_assert((uint8_t *)(slot(127, 128) + 1) <= page + sizeof(page));
}
END_TEST

/* ---- request checks ---- */

static const struct blkif_limits rw_disk = { .sectors = 1000, .writable = true, .flush = true };

static int16_t parse_req(uint8_t op, uint64_t sector, unsigned nsegs, const struct blkif_limits *lim,
                         struct blkif_io *io)
{
    fresh(0);
    put_req(0, op, 99, sector, nsegs);
    return blkif_parse(slot(0, 32), lim, io);
}

START_TEST(test_parse_ops)
{
    struct blkif_io io;
    ck_assert_int_eq(parse_req(BLKIF_OP_READ, 0, 1, &rw_disk, &io), BLKIF_RSP_OKAY);
    ck_assert(!io.write && !io.flush);
    ck_assert_uint_eq(io.nr_sectors, 8);
    ck_assert_uint_eq(io.id, 99);
    ck_assert_int_eq(parse_req(BLKIF_OP_WRITE, 0, 11, &rw_disk, &io), BLKIF_RSP_OKAY);
    ck_assert(io.write && !io.flush);
    ck_assert_uint_eq(io.nr_sectors, 88);
    ck_assert_uint_eq(io.nr_segs, 11);
    ck_assert_uint_eq(blkif_seg_bytes(&io, 3), 4096);
    ck_assert_int_eq(parse_req(BLKIF_OP_FLUSH_DISKCACHE, 0, 0, &rw_disk, &io), BLKIF_RSP_OKAY);
    ck_assert(io.flush && io.nr_sectors == 0);
    ck_assert_int_eq(parse_req(BLKIF_OP_FLUSH_DISKCACHE, 992, 1, &rw_disk, &io), BLKIF_RSP_OKAY);
    ck_assert(io.flush && io.write && io.nr_sectors == 8);
    /* Not offered / not supported. */
    ck_assert_int_eq(parse_req(BLKIF_OP_WRITE_BARRIER, 0, 0, &rw_disk, &io), BLKIF_RSP_EOPNOTSUPP);
    struct blkif_limits barrier = rw_disk;
    barrier.barrier = true;
    ck_assert_int_eq(parse_req(BLKIF_OP_WRITE_BARRIER, 0, 0, &barrier, &io), BLKIF_RSP_OKAY);
    struct blkif_limits noflush = rw_disk;
    noflush.flush = false;
    ck_assert_int_eq(parse_req(BLKIF_OP_FLUSH_DISKCACHE, 0, 0, &noflush, &io), BLKIF_RSP_EOPNOTSUPP);
    ck_assert_uint_eq(io.op, BLKIF_OP_FLUSH_DISKCACHE);
    ck_assert_int_eq(parse_req(BLKIF_OP_DISCARD, 0, 0, &rw_disk, &io), BLKIF_RSP_EOPNOTSUPP);
    ck_assert_int_eq(parse_req(BLKIF_OP_INDIRECT, 0, 0, &rw_disk, &io), BLKIF_RSP_EOPNOTSUPP);
    ck_assert_int_eq(parse_req(BLKIF_OP_RESERVED_1, 0, 1, &rw_disk, &io), BLKIF_RSP_EOPNOTSUPP);
    ck_assert_int_eq(parse_req(0xff, 0, 1, &rw_disk, &io), BLKIF_RSP_EOPNOTSUPP);
    ck_assert_uint_eq(io.op, 0xff);
    ck_assert_uint_eq(io.id, 99);
}
END_TEST

START_TEST(test_parse_segments)
{
    struct blkif_io io;
    ck_assert_int_eq(parse_req(BLKIF_OP_READ, 0, 0, &rw_disk, &io), BLKIF_RSP_ERROR);
    ck_assert_int_eq(parse_req(BLKIF_OP_WRITE, 0, 0, &rw_disk, &io), BLKIF_RSP_ERROR);
    ck_assert_int_eq(parse_req(BLKIF_OP_READ, 0, 12, &rw_disk, &io), BLKIF_RSP_ERROR);
    ck_assert_int_eq(parse_req(BLKIF_OP_FLUSH_DISKCACHE, 0, 12, &rw_disk, &io), BLKIF_RSP_ERROR);
    ck_assert_int_eq(parse_req(BLKIF_OP_READ, 0, 255, &rw_disk, &io), BLKIF_RSP_ERROR);
    union blkif_sring_entry *e = slot(0, 32);
    /* first > last */
    put_req(0, BLKIF_OP_READ, 1, 0, 2);
    e->req.seg[1].first_sect = 5;
    e->req.seg[1].last_sect = 4;
    ck_assert_int_eq(blkif_parse(e, &rw_disk, &io), BLKIF_RSP_ERROR);
    /* last beyond the page */
    e->req.seg[1].first_sect = 0;
    e->req.seg[1].last_sect = 8;
    ck_assert_int_eq(blkif_parse(e, &rw_disk, &io), BLKIF_RSP_ERROR);
    e->req.seg[1].first_sect = 200;
    e->req.seg[1].last_sect = 255;
    ck_assert_int_eq(blkif_parse(e, &rw_disk, &io), BLKIF_RSP_ERROR);
    /* partial pages */
    e->req.seg[0].first_sect = 3;
    e->req.seg[0].last_sect = 3;
    e->req.seg[1].first_sect = 7;
    e->req.seg[1].last_sect = 7;
    ck_assert_int_eq(blkif_parse(e, &rw_disk, &io), BLKIF_RSP_OKAY);
    ck_assert_uint_eq(io.nr_sectors, 2);
    ck_assert_uint_eq(blkif_seg_offset(&io, 0), 3 * 512);
    ck_assert_uint_eq(blkif_seg_bytes(&io, 0), 512);
    ck_assert_uint_eq(blkif_seg_offset(&io, 1), 7 * 512);
    ck_assert_uint_eq(io.seg[1].gref, 101);
}
END_TEST

START_TEST(test_parse_range)
{
    struct blkif_io io;
    ck_assert_int_eq(parse_req(BLKIF_OP_READ, 992, 1, &rw_disk, &io), BLKIF_RSP_OKAY);   /* last 8 */
    ck_assert_int_eq(parse_req(BLKIF_OP_READ, 993, 1, &rw_disk, &io), BLKIF_RSP_ERROR);
    ck_assert_int_eq(parse_req(BLKIF_OP_READ, 1000, 1, &rw_disk, &io), BLKIF_RSP_ERROR);
    ck_assert_int_eq(parse_req(BLKIF_OP_WRITE, UINT64_MAX, 1, &rw_disk, &io), BLKIF_RSP_ERROR);
    ck_assert_int_eq(parse_req(BLKIF_OP_WRITE, UINT64_MAX - 3, 1, &rw_disk, &io), BLKIF_RSP_ERROR);
    struct blkif_limits huge = { .sectors = UINT64_MAX, .writable = true };
    ck_assert_int_eq(parse_req(BLKIF_OP_READ, UINT64_MAX - 8, 1, &huge, &io), BLKIF_RSP_OKAY);
    ck_assert_int_eq(parse_req(BLKIF_OP_READ, UINT64_MAX - 7, 1, &huge, &io), BLKIF_RSP_ERROR);
    /* A pure flush ignores its sector. */
    ck_assert_int_eq(parse_req(BLKIF_OP_FLUSH_DISKCACHE, UINT64_MAX, 0, &rw_disk, &io), BLKIF_RSP_OKAY);
    /* Empty device: nothing to read. */
    struct blkif_limits empty = { .sectors = 0, .writable = true };
    ck_assert_int_eq(parse_req(BLKIF_OP_READ, 0, 1, &empty, &io), BLKIF_RSP_ERROR);
}
END_TEST

START_TEST(test_parse_readonly)
{
    struct blkif_io io;
    struct blkif_limits ro = { .sectors = 1000, .writable = false, .flush = true, .barrier = true };
    ck_assert_int_eq(parse_req(BLKIF_OP_READ, 0, 3, &ro, &io), BLKIF_RSP_OKAY);
    ck_assert_int_eq(parse_req(BLKIF_OP_WRITE, 0, 1, &ro, &io), BLKIF_RSP_ERROR);
    ck_assert_int_eq(parse_req(BLKIF_OP_FLUSH_DISKCACHE, 0, 0, &ro, &io), BLKIF_RSP_ERROR);
    ck_assert_int_eq(parse_req(BLKIF_OP_WRITE_BARRIER, 0, 1, &ro, &io), BLKIF_RSP_ERROR);
}
END_TEST

/* ---- fuzz ---- */

static uint64_t rng_state;
static uint32_t rnd(void)
{
    rng_state = rng_state * 6364136223846793005ULL + 1442695040888963407ULL;
    return (uint32_t)(rng_state >> 33);
}

/* What a request deserves, written independently of blkif_parse. */
static int16_t model_status(const union blkif_sring_entry *e, const struct blkif_limits *lim)
{
    const struct blkif_request *r = &e->req;
    bool data_optional = false;
    switch (r->operation) {
    case BLKIF_OP_READ:
        break;
    case BLKIF_OP_WRITE:
        if (!lim->writable)
            goto write_check;
        break;
    case BLKIF_OP_FLUSH_DISKCACHE:
        if (!lim->flush)
            return BLKIF_RSP_EOPNOTSUPP;
        data_optional = true;
        break;
    case BLKIF_OP_WRITE_BARRIER:
        if (!lim->barrier)
            return BLKIF_RSP_EOPNOTSUPP;
        data_optional = true;
        break;
    default:
        return BLKIF_RSP_EOPNOTSUPP;
    }
write_check:
    if (r->nr_segments > 11 || (r->nr_segments == 0 && !data_optional))
        return BLKIF_RSP_ERROR;
    if (r->operation != BLKIF_OP_READ && !lim->writable)
        return BLKIF_RSP_ERROR;
    unsigned __int128 end = r->sector_number;
    unsigned n = 0;
    for (unsigned i = 0; i < r->nr_segments; i++) {
        if (r->seg[i].first_sect > r->seg[i].last_sect || r->seg[i].last_sect > 7)
            return BLKIF_RSP_ERROR;
        n += r->seg[i].last_sect - r->seg[i].first_sect + 1u;
    }
    end += n;
    if (n && end > lim->sectors)
        return BLKIF_RSP_ERROR;
    return BLKIF_RSP_OKAY;
}

static void random_request(union blkif_sring_entry *e, const struct blkif_limits *lim)
{
    uint32_t kind = rnd() % 8;
    if (kind == 0) {
        for (unsigned i = 0; i < sizeof(*e); i++)
            ((uint8_t *)e)[i] = (uint8_t)rnd();
        return;
    }
    memset(e, 0, sizeof(*e));
    static const uint8_t ops[] = { 0, 0, 0, 1, 1, 1, 2, 3, 4, 5, 6, 7, 200 };
    e->req.operation = ops[rnd() % sizeof(ops)];
    e->req.nr_segments = (uint8_t)(rnd() % 16 == 0 ? rnd() : rnd() % 12);
    e->req.id = ((uint64_t)rnd() << 32) | rnd();
    uint32_t where = rnd() % 4;
    e->req.sector_number = where == 0   ? lim->sectors - rnd() % 100
                           : where == 1 ? ((uint64_t)rnd() << 32) | rnd()
                                        : rnd() % (lim->sectors + 1);
    for (unsigned s = 0; s < BLKIF_MAX_SEGMENTS_PER_REQUEST; s++) {
        e->req.seg[s].gref = rnd();
        e->req.seg[s].first_sect = (uint8_t)(rnd() % 10 == 0 ? rnd() : rnd() % 8);
        uint8_t first = e->req.seg[s].first_sect;
        e->req.seg[s].last_sect = (uint8_t)(rnd() % 10 == 0 || first > 7 ? rnd() : first + rnd() % (8u - first));
    }
}

START_TEST(test_fuzz_good_frontend)
{
    /* A frontend that keeps the index rules but sends random requests:
     * every request is answered, in order, with what the model says. */
    rng_state = 0x1234;
    for (unsigned round = 0; round < 200; round++) {
        struct blkif_limits lim = { .sectors = 1 + rnd() % 100000, .writable = rnd() % 2,
                                    .flush = rnd() % 2, .barrier = rnd() % 2 };
        unsigned order = rnd() % 3;
        fresh(order);
        RING_IDX start = rnd() % 3 == 0 ? 0xffffff00u + rnd() % 256 : 0;
        ring.core.req_cons = ring.core.req_prod_seen = ring.core.rsp_prod_pvt = ring.core.rsp_prod_pub = start;
        hdr()->req_prod = hdr()->rsp_prod = start;
        RING_IDX prod = start, answered = start;
        static union blkif_sring_entry sent[128];
        static int16_t want[128];
        static uint64_t want_id[128];
        for (unsigned step = 0; step < 400; step++) {
            /* Produce a few if there is room. */
            unsigned n = rnd() % (ring.core.size + 1);
            for (unsigned k = 0; k < n && (RING_IDX)(prod - answered) < ring.core.size; k++, prod++) {
                union blkif_sring_entry *e = slot(prod, ring.core.size);
                random_request(e, &lim);
                sent[prod & (ring.core.size - 1)] = *e;
                want[prod & (ring.core.size - 1)] = model_status(e, &lim);
                want_id[prod & (ring.core.size - 1)] = e->req.id;
            }
            hdr()->req_prod = prod;
            hdr()->rsp_event = answered + 1;
            union blkif_sring_entry e;
            int rc;
            unsigned budget = rnd() % (ring.core.size + 1);
            while (budget-- && (rc = blkif_ring_next(&ring, &e)) == BLKIF_RING_GOT) {
                FAST_ASSERT(memcmp(&e, &sent[(ring.core.req_cons - 1) & (ring.core.size - 1)], sizeof(e)) == 0);
                struct blkif_io io;
                int16_t st = blkif_parse(&e, &lim, &io);
                FAST_ASSERT_MSG(st == want[(ring.core.req_cons - 1) & (ring.core.size - 1)], "status %d want %d op %u",
                                st, want[(ring.core.req_cons - 1) & (ring.core.size - 1)], e.req.operation);
                if (st == BLKIF_RSP_OKAY) {
                    FAST_ASSERT(io.nr_segs <= 11);
                    FAST_ASSERT(io.nr_sectors == 0 || io.sector + io.nr_sectors <= lim.sectors);
                    for (unsigned s = 0; s < io.nr_segs; s++)
                        FAST_ASSERT(blkif_seg_offset(&io, s) + blkif_seg_bytes(&io, s) <= 4096);
                }
                blkif_ring_respond(&ring, io.id, io.op, st);
            }
            FAST_ASSERT(!ring.core.broken);
            bool notify = blkif_ring_push(&ring);
            /* The frontend consumes the responses. */
            RING_IDX rp = hdr()->rsp_prod;
            FAST_ASSERT(notify == (rp != answered));
            for (; answered != rp; answered++) {
                const struct blkif_response *r = &slot(answered, ring.core.size)->rsp;
                FAST_ASSERT(r->id == want_id[answered & (ring.core.size - 1)]);
                FAST_ASSERT(r->status == want[answered & (ring.core.size - 1)]);
            }
        }
    }
}
END_TEST

START_TEST(test_fuzz_hostile_frontend)
{
    /* A frontend that writes random indices and bytes anywhere in the page
     * between our calls: we never read outside the ring, never take more
     * than `size` requests beyond our responses, and once broken stay so. */
    rng_state = 0xfeed;
    unsigned broke = 0;
    for (unsigned round = 0; round < 2000; round++) {
        unsigned order = rnd() % 3;
        fresh(order);
        struct blkif_limits lim = { .sectors = rnd(), .writable = true, .flush = true };
        RING_IDX prod = 0;
        for (unsigned step = 0; step < 50; step++) {
            switch (rnd() % 6) {
            case 0:
                hdr()->req_prod = rnd();
                break;
            case 1:
                prod += rnd() % 8;
                hdr()->req_prod = prod;
                break;
            case 2:
                hdr()->rsp_event = rnd();
                hdr()->req_event = rnd();
                hdr()->rsp_prod = rnd();
                break;
            default: {
                unsigned off = rnd() % (4096u << order);
                page[off] = (uint8_t)rnd();
                break;
            }
            }
            union blkif_sring_entry e;
            int rc;
            unsigned taken = 0;
            while ((rc = blkif_ring_next(&ring, &e)) == BLKIF_RING_GOT) {
                FAST_ASSERT((RING_IDX)(ring.core.req_cons - ring.core.rsp_prod_pvt) <= ring.core.size);
                struct blkif_io io;
                int16_t st = blkif_parse(&e, &lim, &io);
                FAST_ASSERT(st == model_status(&e, &lim));
                if (rnd() % 2)
                    blkif_ring_respond(&ring, io.id, io.op, st);
                FAST_ASSERT(++taken <= 2 * ring.core.size);
            }
            if (rc == BLKIF_RING_BROKEN) {
                FAST_ASSERT(ring.core.broken);
                FAST_ASSERT(blkif_ring_next(&ring, &e) == BLKIF_RING_BROKEN);
                broke++;
                break;
            }
            blkif_ring_push(&ring);
            (void)blkif_ring_final_check(&ring);
        }
    }
    ck_assert_uint_gt(broke, 100);       /* the hostile cases were reached */
}
END_TEST

static Suite *blkif_suite(void)
{
    Suite *s = suite_create("blkif");
    TCase *tc = tcase_create("ring");
    tcase_add_test(tc, test_sizes);
    tcase_add_test(tc, test_notify_rule);
    tcase_add_test(tc, test_empty_and_one);
    tcase_add_test(tc, test_snapshot_once);
    tcase_add_test(tc, test_overrun);
    tcase_add_test(tc, test_backwards);
    tcase_add_test(tc, test_wrap);
    tcase_add_test(tc, test_copy_out);
    tcase_add_test(tc, test_final_check);
    tcase_add_test(tc, test_multipage);
    suite_add_tcase(s, tc);
    tc = tcase_create("parse");
    tcase_add_test(tc, test_parse_ops);
    tcase_add_test(tc, test_parse_segments);
    tcase_add_test(tc, test_parse_range);
    tcase_add_test(tc, test_parse_readonly);
    suite_add_tcase(s, tc);
    tc = tcase_create("fuzz");
    tcase_set_timeout(tc, 120);
    tcase_add_test(tc, test_fuzz_good_frontend);
    tcase_add_test(tc, test_fuzz_hostile_frontend);
    suite_add_tcase(s, tc);
    return s;
}

UNIT_MAIN(blkif_suite)
