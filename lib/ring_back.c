/* SPDX-License-Identifier: MIT */
/*
 * The backend's ring indices; see lamina/ring_back.h.
 *
 * Ordering: read req_prod, then (acquire) the slots it covers; write
 * responses, then (release) rsp_prod, then (full fence) read rsp_event to
 * decide on a notification. Before sleeping, write req_event, full fence,
 * re-read req_prod. On x86 only the full fences are instructions.
 */
#include <lamina/ring_back.h>
#include <lamina/string.h>

void ring_back_init(struct ring_back *r, volatile void *shared, uint32_t size)
{
    memset(r, 0, sizeof(*r));
    r->hdr = shared;
    r->size = size;
}

static bool read_req_prod(struct ring_back *r)
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

int ring_back_pending(struct ring_back *r)
{
    if (r->broken)
        return RING_BACK_BROKEN;
    if (r->req_cons == r->req_prod_seen) {
        if (!read_req_prod(r))
            return RING_BACK_BROKEN;
        if (r->req_cons == r->req_prod_seen)
            return RING_BACK_EMPTY;
    }
    return RING_BACK_WORK;
}

int ring_back_unconsumed(struct ring_back *r)
{
    if (r->broken || !read_req_prod(r))
        return -1;
    return (int)(r->req_prod_seen - r->req_cons);
}

bool ring_back_push(struct ring_back *r)
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

bool ring_back_final_check(struct ring_back *r)
{
    if (r->broken)
        return false;
    if (r->req_cons != r->req_prod_seen)
        return true;
    r->hdr->req_event = r->req_cons + 1;
    __atomic_thread_fence(__ATOMIC_SEQ_CST);
    /* Only a hint: the next take reads and checks the index again. */
    return r->hdr->req_prod != r->req_cons;
}
