/* SPDX-License-Identifier: MIT */
/* The driver side of a split virtqueue; see lamina/virtq.h. */
#include <lamina/virtq.h>
#include <public/errno.h>

#define PAGE_BYTES 4096u

int virtq_init(struct virtq *q, unsigned size, void *desc, void *avail, void *used)
{
    if (size == 0 || size > VIRTQ_MAX_SIZE || (size & (size - 1)))
        return -XEN_EINVAL;
    q->size = (uint16_t)size;
    q->desc = desc;
    q->avail = avail;
    q->used = used;
    q->free_head = 0;
    q->num_free = (uint16_t)size;
    q->avail_idx = q->last_used = q->in_flight = 0;
    for (unsigned i = 0; i < size; i++) {
        q->link[i] = (uint16_t)((i + 1) % size);
        q->chain_len[i] = 0;
    }
    /* We poll the used ring: ask the device not to interrupt. */
    q->avail->flags = VIRTQ_AVAIL_F_NO_INTERRUPT;
    return 0;
}

int virtq_add(struct virtq *q, const struct virtq_seg *segs, unsigned n, uint16_t *head)
{
    if (n == 0)
        return -XEN_EINVAL;
    if (n > q->num_free)
        return -XEN_ENOSPC;
    for (unsigned i = 0; i < n; i++)
        if (segs[i].len == 0 || (i && segs[i - 1].device_writes && !segs[i].device_writes))
            return -XEN_EINVAL;
    uint16_t first = q->free_head, d = first;
    for (unsigned i = 0; i < n; i++) {
        uint16_t next = q->link[d];
        q->desc[d].addr = segs[i].addr;
        q->desc[d].len = segs[i].len;
        q->desc[d].flags = (uint16_t)((i + 1 < n ? VIRTQ_DESC_F_NEXT : 0) |
                                      (segs[i].device_writes ? VIRTQ_DESC_F_WRITE : 0));
        q->desc[d].next = i + 1 < n ? next : 0;
        if (i + 1 < n)
            d = next;
        else
            q->free_head = next;
    }
    q->num_free = (uint16_t)(q->num_free - n);
    q->chain_len[first] = (uint16_t)n;
    q->in_flight++;
    q->avail->ring[q->avail_idx % q->size] = first;
    /* The entry and its descriptors before the index that publishes them. */
    __atomic_thread_fence(__ATOMIC_SEQ_CST);
    q->avail->idx = ++q->avail_idx;
    __atomic_thread_fence(__ATOMIC_SEQ_CST);
    *head = first;
    return 0;
}

int virtq_get_used(struct virtq *q, uint16_t *head, uint32_t *len)
{
    uint16_t idx = q->used->idx;
    __atomic_thread_fence(__ATOMIC_SEQ_CST);     /* the index before the entry */
    if (idx == q->last_used)
        return 0;
    if ((uint16_t)(idx - q->last_used) > q->in_flight)
        return -XEN_EIO;
    const volatile struct virtq_used_elem *e = &q->used->ring[q->last_used % q->size];
    uint32_t id = e->id, written = e->len;
    if (id >= q->size || q->chain_len[id] == 0)
        return -XEN_EIO;
    /* Give the chain back: its links are our own copies. */
    uint16_t n = q->chain_len[id], last = (uint16_t)id;
    for (uint16_t i = 1; i < n; i++)
        last = q->link[last];
    q->link[last] = q->num_free ? q->free_head : (uint16_t)id;
    q->free_head = (uint16_t)id;
    q->num_free = (uint16_t)(q->num_free + n);
    q->chain_len[id] = 0;
    q->in_flight--;
    q->last_used++;
    *head = (uint16_t)id;
    *len = written;
    return 1;
}

int virtq_dma_segments(uint64_t va, uint64_t len, virtq_xlate_fn xlate, void *ctx, bool device_writes,
                       struct virtq_seg *out, unsigned max)
{
    if (len == 0 || va + len < va)
        return -XEN_EINVAL;
    unsigned n = 0;
    while (len) {
        uint64_t in_page = PAGE_BYTES - (va & (PAGE_BYTES - 1));
        uint64_t chunk = len < in_page ? len : in_page;
        uint64_t page = xlate(ctx, va & ~(uint64_t)(PAGE_BYTES - 1));
        if (page == ~0ull || (page & (PAGE_BYTES - 1)))
            return -XEN_EFAULT;
        uint64_t maddr = page + (va & (PAGE_BYTES - 1));
        if (n && out[n - 1].addr + out[n - 1].len == maddr && out[n - 1].len + chunk <= VIRTQ_MAX_SEG_LEN) {
            out[n - 1].len += (uint32_t)chunk;
        } else {
            if (n == max)
                return -XEN_E2BIG;
            out[n++] = (struct virtq_seg){ maddr, (uint32_t)chunk, device_writes };
        }
        va += chunk;
        len -= chunk;
    }
    return (int)n;
}
