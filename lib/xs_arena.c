/* SPDX-License-Identifier: MIT */
/*
 * The arena allocator; see lamina/xs_arena.h.
 *
 * Layout: the arena is a sequence of blocks that tile [start, end) exactly.
 * Each block starts with a header { size | USED, prev_size }: size counts
 * the header and is a multiple of GRAIN; prev_size is the size of the block
 * just before (0 for the first), so both neighbours are found in O(1).
 * Invariants (xs_arena_check tests them all):
 *   - two free blocks are never adjacent (freeing merges them);
 *   - every free block is on exactly one list, the bin of floor(log2(size)),
 *     and its payload holds the list links;
 *   - used_bytes is the sum of the sizes of the used blocks.
 */
#include <lamina/xs_arena.h>
#include <lamina/string.h>

#define GRAIN 16u
#define HDR 8u
#define USED 1u
#define MIN_BLOCK 32u          /* header + two links, rounded up to GRAIN */
#define ARENA_MAX (1u << 31)

struct hdr {
    uint32_t size;             /* bytes, header included; bit 0: in use */
    uint32_t prev_size;
};

struct xs_arena_free {
    struct hdr h;
    struct xs_arena_free *next, *prev;
};

static uint32_t blk_size(const struct hdr *h)
{
    return h->size & ~USED;
}

static bool blk_used(const struct hdr *h)
{
    return h->size & USED;
}

static unsigned bin_of(uint32_t size)
{
    unsigned b = 0;
    while (size >>= 1)
        b++;
    return b;
}

static struct hdr *next_blk(const struct xs_arena *a, struct hdr *h)
{
    uint8_t *n = (uint8_t *)h + blk_size(h);
    return n < a->end ? (struct hdr *)n : NULL;
}

static struct hdr *prev_blk(const struct xs_arena *a, struct hdr *h)
{
    if ((uint8_t *)h == a->start)
        return NULL;
    return (struct hdr *)((uint8_t *)h - h->prev_size);
}

static void list_insert(struct xs_arena *a, struct hdr *h)
{
    struct xs_arena_free *f = (struct xs_arena_free *)h;
    unsigned b = bin_of(blk_size(h));
    f->prev = NULL;
    f->next = a->bins[b];
    if (f->next)
        f->next->prev = f;
    a->bins[b] = f;
}

static void list_remove(struct xs_arena *a, struct hdr *h)
{
    struct xs_arena_free *f = (struct xs_arena_free *)h;
    if (f->prev)
        f->prev->next = f->next;
    else
        a->bins[bin_of(blk_size(h))] = f->next;
    if (f->next)
        f->next->prev = f->prev;
}

/* Sets h's size and tells the block after it. */
static void set_size(struct xs_arena *a, struct hdr *h, uint32_t size, bool used)
{
    h->size = size | (used ? USED : 0);
    struct hdr *n = next_blk(a, h);
    if (n)
        n->prev_size = size;
}

bool xs_arena_init(struct xs_arena *a, void *mem, size_t size)
{
    memset(a, 0, sizeof(*a));
    uintptr_t lo = ((uintptr_t)mem + GRAIN - 1) & ~(uintptr_t)(GRAIN - 1);
    uintptr_t hi = (uintptr_t)mem + size;
    if (hi < lo || hi - lo < MIN_BLOCK)
        return false;
    size_t len = (hi - lo) & ~(size_t)(GRAIN - 1);
    if (len > ARENA_MAX - GRAIN)
        len = ARENA_MAX - GRAIN;
    a->start = (uint8_t *)lo;
    a->end = a->start + len;
    struct hdr *h = (struct hdr *)a->start;
    h->size = (uint32_t)len;
    h->prev_size = 0;
    list_insert(a, h);
    return true;
}

/* A free block of at least `need` bytes, taken off its list, or NULL. */
static struct hdr *find_free(struct xs_arena *a, uint32_t need)
{
    unsigned b = bin_of(need);
    /* In need's own bin sizes vary: first fit. Above it any block fits. */
    for (struct xs_arena_free *f = a->bins[b]; f; f = f->next)
        if (blk_size(&f->h) >= need) {
            list_remove(a, &f->h);
            return &f->h;
        }
    for (b++; b < XS_ARENA_BINS; b++)
        if (a->bins[b]) {
            struct hdr *h = &a->bins[b]->h;
            list_remove(a, h);
            return h;
        }
    return NULL;
}

void *xs_arena_alloc(struct xs_arena *a, size_t size)
{
    if (size > XS_ARENA_MAX_ALLOC) {
        a->nr_failed++;
        return NULL;
    }
    uint32_t need = (uint32_t)((size + HDR + GRAIN - 1) & ~(size_t)(GRAIN - 1));
    if (need < MIN_BLOCK)
        need = MIN_BLOCK;
    struct hdr *h = find_free(a, need);
    if (!h) {
        a->nr_failed++;
        return NULL;
    }
    uint32_t have = blk_size(h);
    if (have - need >= MIN_BLOCK) {
        /* Split: the tail stays free. It cannot touch another free block,
         * since h itself was free and free blocks are never adjacent. */
        set_size(a, h, need, true);
        struct hdr *rest = (struct hdr *)((uint8_t *)h + need);
        rest->prev_size = need;
        set_size(a, rest, have - need, false);
        list_insert(a, rest);
    } else {
        need = have;
        set_size(a, h, have, true);
    }
    a->used_bytes += need;
    if (a->used_bytes > a->peak_bytes)
        a->peak_bytes = a->used_bytes;
    a->nr_allocs++;
    return (uint8_t *)h + HDR;
}

void xs_arena_free(struct xs_arena *a, void *p)
{
    if (!p)
        return;
    struct hdr *h = (struct hdr *)((uint8_t *)p - HDR);
    uint32_t size = blk_size(h);
    a->used_bytes -= size;
    a->nr_allocs--;
    struct hdr *n = next_blk(a, h);
    if (n && !blk_used(n)) {
        list_remove(a, n);
        size += blk_size(n);
    }
    struct hdr *pv = prev_blk(a, h);
    if (pv && !blk_used(pv)) {
        list_remove(a, pv);
        size += blk_size(pv);
        h = pv;
    }
    set_size(a, h, size, false);
    list_insert(a, h);
}

size_t xs_arena_usable(const void *p)
{
    const struct hdr *h = (const struct hdr *)((const uint8_t *)p - HDR);
    return blk_size(h) - HDR;
}

size_t xs_arena_free_bytes(const struct xs_arena *a)
{
    return (size_t)(a->end - a->start) - a->used_bytes;
}

bool xs_arena_check(const struct xs_arena *a)
{
    size_t used = 0, nr_used = 0, nr_free = 0;
    uint32_t prev = 0;
    bool prev_free = false;
    for (const uint8_t *p = a->start; p < a->end;) {
        const struct hdr *h = (const struct hdr *)p;
        uint32_t size = blk_size(h);
        if (size < MIN_BLOCK || size % GRAIN || (size_t)(a->end - p) < size || h->prev_size != prev)
            return false;
        if (blk_used(h)) {
            used += size;
            nr_used++;
            prev_free = false;
        } else {
            if (prev_free)
                return false;
            nr_free++;
            prev_free = true;
        }
        prev = size;
        p += size;
    }
    size_t listed = 0;
    for (unsigned b = 0; b < XS_ARENA_BINS; b++) {
        const struct xs_arena_free *back = NULL;
        for (const struct xs_arena_free *f = a->bins[b]; f; f = f->next) {
            const uint8_t *fp = (const uint8_t *)f;
            if (fp < a->start || fp >= a->end || blk_used(&f->h) || bin_of(blk_size(&f->h)) != b ||
                f->prev != back || ++listed > nr_free)
                return false;
            back = f;
        }
    }
    return listed == nr_free && used == a->used_bytes && nr_used == a->nr_allocs;
}
