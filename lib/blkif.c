/* SPDX-License-Identifier: MIT */
/*
 * The backend's side of a blkif ring; see lamina/blkif.h.
 * The index handling and its ordering are lib/ring_back.c's.
 */
#include <lamina/blkif.h>
#include <lamina/string.h>

void blkif_ring_attach(struct blkif_back_ring *r, volatile void *shared, unsigned order)
{
    ring_back_init(&r->core, shared, BLKIF_RING_SLOTS(order));
    r->slots = (volatile union blkif_sring_entry *)((volatile uint8_t *)shared + RING_HEADER_SIZE);
}

int blkif_ring_next(struct blkif_back_ring *r, union blkif_sring_entry *out)
{
    struct ring_back *c = &r->core;
    int res = ring_back_pending(c);
    if (res == RING_BACK_BROKEN)
        return BLKIF_RING_BROKEN;
    if (res == RING_BACK_EMPTY)
        return BLKIF_RING_EMPTY;
    if ((RING_IDX)(c->req_cons - c->rsp_prod_pvt) >= c->size)
        return BLKIF_RING_FULL;
    const volatile uint8_t *src = (const volatile uint8_t *)&r->slots[c->req_cons & (c->size - 1)];
    uint8_t *dst = (uint8_t *)out;
    for (unsigned i = 0; i < sizeof(*out); i++)
        dst[i] = src[i];
    c->req_cons++;
    return BLKIF_RING_GOT;
}

void blkif_ring_respond(struct blkif_back_ring *r, uint64_t id, uint8_t op, int16_t status)
{
    struct ring_back *c = &r->core;
    volatile struct blkif_response *rsp = &r->slots[c->rsp_prod_pvt & (c->size - 1)].rsp;
    rsp->id = id;
    rsp->operation = op;
    rsp->pad = 0;
    rsp->status = status;
    rsp->pad2 = 0;
    c->rsp_prod_pvt++;
}

bool blkif_ring_push(struct blkif_back_ring *r)
{
    return ring_back_push(&r->core);
}

bool blkif_ring_final_check(struct blkif_back_ring *r)
{
    return ring_back_final_check(&r->core);
}

int16_t blkif_parse(const union blkif_sring_entry *req, const struct blkif_limits *lim, struct blkif_io *io)
{
    const struct blkif_request *rq = &req->req;
    memset(io, 0, sizeof(*io));
    io->id = rq->id;
    io->op = rq->operation;
    unsigned min_segs = 1;
    switch (rq->operation) {
    case BLKIF_OP_READ:
        break;
    case BLKIF_OP_WRITE:
        io->write = true;
        break;
    case BLKIF_OP_FLUSH_DISKCACHE:
        if (!lim->flush)
            return BLKIF_RSP_EOPNOTSUPP;
        io->write = io->flush = true;
        min_segs = 0;
        break;
    case BLKIF_OP_WRITE_BARRIER:
        if (!lim->barrier)
            return BLKIF_RSP_EOPNOTSUPP;
        io->write = io->flush = true;
        min_segs = 0;
        break;
    default:                    /* DISCARD, INDIRECT, unknown */
        return BLKIF_RSP_EOPNOTSUPP;
    }
    if (rq->nr_segments < min_segs || rq->nr_segments > BLKIF_MAX_SEGMENTS_PER_REQUEST)
        return BLKIF_RSP_ERROR;
    /* Even a pure flush changes the device's state: not on a read-only one. */
    if (io->write && !lim->writable)
        return BLKIF_RSP_ERROR;
    uint32_t total = 0;
    for (unsigned i = 0; i < rq->nr_segments; i++) {
        const struct blkif_request_segment *s = &rq->seg[i];
        if (s->first_sect > s->last_sect || s->last_sect >= BLKIF_SECTORS_PER_PAGE)
            return BLKIF_RSP_ERROR;
        total += (uint32_t)s->last_sect - s->first_sect + 1;
        io->seg[i] = *s;
        io->seg[i].pad = 0;
    }
    if (total && (rq->sector_number > lim->sectors || lim->sectors - rq->sector_number < total))
        return BLKIF_RSP_ERROR;
    io->nr_segs = rq->nr_segments;
    io->sector = rq->sector_number;
    io->nr_sectors = total;
    return BLKIF_RSP_OKAY;
}
