/* SPDX-License-Identifier: MIT */
/*
 * The backend's side of a blkif ring; see lamina/blkif.h.
 *
 * Ordering: read req_prod, then (acquire) the slots it covers; write
 * responses, then (release) rsp_prod, then (full fence) read rsp_event to
 * decide on a notification. Before sleeping, write req_event, full fence,
 * re-read req_prod. On x86 only the full fences are instructions.
 */
#include <lamina/blkif.h>
#include <lamina/string.h>

void blkif_ring_attach(struct blkif_back_ring *r, volatile void *shared, unsigned order)
{
    memset(r, 0, sizeof(*r));
    r->hdr = shared;
    r->slots = (volatile union blkif_sring_entry *)((volatile uint8_t *)shared + RING_HEADER_SIZE);
    r->size = BLKIF_RING_SLOTS(order);
}

/* Reads and checks the frontend's req_prod. False if it is impossible: the
 * frontend may have produced at most `size` requests beyond the responses
 * we have written, and never fewer than we have already taken. */
static bool read_req_prod(struct blkif_back_ring *r)
{
    RING_IDX prod = r->hdr->req_prod;
    __atomic_thread_fence(__ATOMIC_ACQUIRE);
    if ((RING_IDX)(prod - r->rsp_prod_pvt) > r->size || (RING_IDX)(prod - r->req_cons) > r->size) {
        r->broken = true;
        return false;
    }
    r->req_prod_seen = prod;
    return true;
}

int blkif_ring_next(struct blkif_back_ring *r, union blkif_sring_entry *out)
{
    if (r->broken)
        return BLKIF_RING_BROKEN;
    if (r->req_cons == r->req_prod_seen) {
        if (!read_req_prod(r))
            return BLKIF_RING_BROKEN;
        if (r->req_cons == r->req_prod_seen)
            return BLKIF_RING_EMPTY;
    }
    if ((RING_IDX)(r->req_cons - r->rsp_prod_pvt) >= r->size)
        return BLKIF_RING_FULL;
    const volatile uint8_t *src = (const volatile uint8_t *)&r->slots[r->req_cons & (r->size - 1)];
    uint8_t *dst = (uint8_t *)out;
    for (unsigned i = 0; i < sizeof(*out); i++)
        dst[i] = src[i];
    r->req_cons++;
    return BLKIF_RING_GOT;
}

void blkif_ring_respond(struct blkif_back_ring *r, uint64_t id, uint8_t op, int16_t status)
{
    volatile struct blkif_response *rsp = &r->slots[r->rsp_prod_pvt & (r->size - 1)].rsp;
    rsp->id = id;
    rsp->operation = op;
    rsp->pad = 0;
    rsp->status = status;
    rsp->pad2 = 0;
    r->rsp_prod_pvt++;
}

bool blkif_ring_push(struct blkif_back_ring *r)
{
    RING_IDX old = r->rsp_prod_pub, new = r->rsp_prod_pvt;
    if (old == new)
        return false;
    __atomic_thread_fence(__ATOMIC_RELEASE);
    r->hdr->rsp_prod = new;
    __atomic_thread_fence(__ATOMIC_SEQ_CST);
    RING_IDX event = r->hdr->rsp_event;
    r->rsp_prod_pub = new;
    return ring_needs_notify(old, new, event) != 0;
}

bool blkif_ring_final_check(struct blkif_back_ring *r)
{
    if (r->broken)
        return false;
    if (r->req_cons != r->req_prod_seen)
        return true;
    r->hdr->req_event = r->req_cons + 1;
    __atomic_thread_fence(__ATOMIC_SEQ_CST);
    /* Only a hint: blkif_ring_next() reads and checks the index again. */
    return r->hdr->req_prod != r->req_cons;
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
