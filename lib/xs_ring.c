/* SPDX-License-Identifier: MIT */
/*
 * xenstored's side of a domain's ring page; see lamina/xs_ring.h.
 *
 * Ordering (the usual producer/consumer rules): read the peer's producer,
 * then (acquire) the bytes it covers; write our bytes, then (release) our
 * producer; finish reading bytes before (full fence) publishing our
 * consumer, so the guest cannot overwrite them while we read. On x86 the
 * acquire and release fences only stop the compiler; the full one is
 * mfence.
 */
#include <lamina/xs_ring.h>

/* Passes over both rings per call: enough to drain a full ring and refill
 * it once more, and a bound on the work one domain can cause. */
#define MAX_ROUNDS 8

void xs_ring_attach(struct xs_ring *r, volatile void *page)
{
    r->intf = page;
    /* Nothing is written here: a fresh page stays all zero (no features
     * advertised, connected, no error) until there is traffic. */
    r->req_cons = r->intf->req_cons;
    r->rsp_prod = r->intf->rsp_prod;
}

static unsigned broken(struct xs_ring *r, uint32_t why)
{
    r->intf->error = why;
    return XS_RING_BROKEN;
}

/* Requests: returns bytes taken, or -1 (error set) if the guest broke a
 * rule. */
static long take_requests(struct xs_ring *r, struct xs_core *c, struct xs_conn *conn)
{
    XENSTORE_RING_IDX prod = r->intf->req_prod;
    __atomic_thread_fence(__ATOMIC_ACQUIRE);
    uint32_t avail = prod - r->req_cons;
    if (avail > XENSTORE_RING_SIZE)
        return -1;
    long taken = 0;
    while (avail) {
        uint32_t off = MASK_XENSTORE_IDX(r->req_cons);
        uint32_t n = XENSTORE_RING_SIZE - off < avail ? XENSTORE_RING_SIZE - off : avail;
        for (uint32_t i = 0; i < n; i++)
            r->buf[i] = (uint8_t)r->intf->req[off + i];
        long used = xs_conn_feed(c, conn, r->buf, n);
        if (used < 0)
            return -2;
        r->req_cons += (uint32_t)used;
        avail -= (uint32_t)used;
        taken += used;
        if ((uint32_t)used < n)
            break;   /* the connection is waiting for its output to drain */
    }
    if (taken) {
        __atomic_thread_fence(__ATOMIC_SEQ_CST);
        r->intf->req_cons = r->req_cons;
    }
    return taken;
}

/* Output: returns bytes put, or -1 if the guest's rsp_cons is impossible. */
static long put_output(struct xs_ring *r, struct xs_core *c, struct xs_conn *conn)
{
    XENSTORE_RING_IDX cons = r->intf->rsp_cons;
    __atomic_thread_fence(__ATOMIC_SEQ_CST);
    uint32_t used = r->rsp_prod - cons;
    if (used > XENSTORE_RING_SIZE)
        return -1;
    uint32_t space = XENSTORE_RING_SIZE - used;
    long put = 0;
    const void *data;
    size_t len;
    while (space && (len = xs_conn_peek(conn, &data))) {
        uint32_t off = MASK_XENSTORE_IDX(r->rsp_prod);
        uint32_t n = XENSTORE_RING_SIZE - off < space ? XENSTORE_RING_SIZE - off : space;
        if (len < n)
            n = (uint32_t)len;
        const uint8_t *src = data;
        for (uint32_t i = 0; i < n; i++)
            r->intf->rsp[off + i] = (char)src[i];
        xs_conn_consume(c, conn, n);
        r->rsp_prod += n;
        space -= n;
        put += n;
    }
    if (put) {
        __atomic_thread_fence(__ATOMIC_RELEASE);
        r->intf->rsp_prod = r->rsp_prod;
    }
    return put;
}

unsigned xs_ring_service(struct xs_ring *r, struct xs_core *c, struct xs_conn *conn)
{
    unsigned result = 0;
    for (unsigned round = 0; round < MAX_ROUNDS; round++) {
        long in = take_requests(r, c, conn);
        if (in == -1)
            return result | broken(r, XENSTORE_ERROR_RINGIDX);
        if (in < 0)
            return result | broken(r, XENSTORE_ERROR_PROTO);
        long out = put_output(r, c, conn);
        if (out < 0)
            return result | broken(r, XENSTORE_ERROR_RINGIDX);
        if (!in && !out)
            return result;
        result |= XS_RING_NOTIFY;
    }
    /* Still moving when the budget ran out: come back soon. */
    return result | XS_RING_AGAIN;
}
