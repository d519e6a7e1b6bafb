/* SPDX-License-Identifier: MIT */
/*
 * lib/virtq.c: a simulated device consumes the available ring and completes
 * chains (in order and out of order) across the 16-bit index wrap; a hostile
 * device writes impossible used entries; buffers are cut into segments at
 * machine discontinuities.
 */
#include "unit.h"
#include <lamina/virtq.h>
#include <public/errno.h>
#include <stdint.h>
#include <string.h>

#define QSIZE 16

static uint8_t desc_mem[4096] __attribute__((aligned(4096)));
static uint8_t avail_mem[4096] __attribute__((aligned(4096)));
static uint8_t used_mem[4096] __attribute__((aligned(4096)));
static struct virtq q;
static struct virtq_desc *desc = (struct virtq_desc *)desc_mem;
static struct virtq_avail *avail = (struct virtq_avail *)avail_mem;
static struct virtq_used *used = (struct virtq_used *)used_mem;
static uint16_t dev_avail;          /* the simulated device's next avail entry */

static void setup(void)
{
    memset(desc_mem, 0, sizeof(desc_mem));
    memset(avail_mem, 0, sizeof(avail_mem));
    memset(used_mem, 0, sizeof(used_mem));
    memset(&q, 0x5a, sizeof(q));
    dev_avail = 0;
    ck_assert_int_eq(virtq_init(&q, QSIZE, desc, avail, used), 0);
}

/* The device takes the next available chain; returns its head and checks
 * the chain is well formed (n descriptors, readable before writable). */
static uint16_t dev_take(unsigned *n_out)
{
    ck_assert_uint_ne(avail->idx, dev_avail);
    uint16_t head = avail->ring[dev_avail % QSIZE], d = head;
    dev_avail++;
    unsigned n = 1;
    bool writing = false;
    for (;;) {
        FAST_ASSERT(d < QSIZE);
        FAST_ASSERT(!(writing && !(desc[d].flags & VIRTQ_DESC_F_WRITE)));
        writing = desc[d].flags & VIRTQ_DESC_F_WRITE;
        if (!(desc[d].flags & VIRTQ_DESC_F_NEXT))
            break;
        d = desc[d].next;
        FAST_ASSERT(++n <= QSIZE);
    }
    *n_out = n;
    return head;
}

static void dev_complete(uint16_t head, uint32_t len)
{
    used->ring[used->idx % QSIZE] = (struct virtq_used_elem){ head, len };
    used->idx++;
}

static int add(unsigned n, uint16_t *head)
{
    struct virtq_seg segs[QSIZE + 1];
    for (unsigned i = 0; i < n; i++)
        segs[i] = (struct virtq_seg){ 0x1000 * (i + 1), 512, i + 1 == n };
    return virtq_add(&q, segs, n, head);
}

START_TEST(init_rejects_bad_sizes)
{
    struct virtq other;
    static const unsigned bad[] = { 0, 3, 12, 512, 1024, 65535 };
    for (unsigned i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
        ck_assert_int_eq(virtq_init(&other, bad[i], desc, avail, used), -XEN_EINVAL);
    ck_assert_int_eq(virtq_init(&other, 1, desc, avail, used), 0);
    ck_assert_int_eq(virtq_init(&other, VIRTQ_MAX_SIZE, desc, avail, used), 0);
    ck_assert_uint_eq(avail->flags, VIRTQ_AVAIL_F_NO_INTERRUPT);
}
END_TEST

START_TEST(chain_layout)
{
    struct virtq_seg segs[3] = { { 0x1000, 16, false }, { 0x20000, 4096, true }, { 0x3000, 1, true } };
    uint16_t head;
    ck_assert_int_eq(virtq_add(&q, segs, 3, &head), 0);
    ck_assert_uint_eq(avail->idx, 1);
    ck_assert_uint_eq(avail->ring[0], head);
    uint16_t d = head;
    for (unsigned i = 0; i < 3; i++) {
        ck_assert_uint_eq(desc[d].addr, segs[i].addr);
        ck_assert_uint_eq(desc[d].len, segs[i].len);
        ck_assert_uint_eq(desc[d].flags, (i < 2 ? VIRTQ_DESC_F_NEXT : 0) |
                                             (segs[i].device_writes ? VIRTQ_DESC_F_WRITE : 0));
        d = desc[d].next;
    }
    ck_assert_uint_eq(q.num_free, QSIZE - 3);
    /* Writable before readable, empty segments, no segments: refused. */
    struct virtq_seg bad[2] = { { 0x1000, 16, true }, { 0x2000, 16, false } };
    ck_assert_int_eq(virtq_add(&q, bad, 2, &head), -XEN_EINVAL);
    bad[0] = (struct virtq_seg){ 0x1000, 0, false };
    ck_assert_int_eq(virtq_add(&q, bad, 1, &head), -XEN_EINVAL);
    ck_assert_int_eq(virtq_add(&q, bad, 0, &head), -XEN_EINVAL);
    ck_assert_uint_eq(q.num_free, QSIZE - 3);
    ck_assert_uint_eq(avail->idx, 1);
}
END_TEST

START_TEST(exhaustion_and_recovery)
{
    uint16_t heads[QSIZE], head;
    for (unsigned i = 0; i < QSIZE / 4; i++)
        ck_assert_int_eq(add(4, &heads[i]), 0);
    ck_assert_uint_eq(q.num_free, 0);
    ck_assert_int_eq(add(1, &head), -XEN_ENOSPC);
    uint32_t len;
    ck_assert_int_eq(virtq_get_used(&q, &head, &len), 0);
    /* Complete them out of order. */
    for (unsigned i = 0; i < QSIZE / 4; i++) {
        unsigned n;
        dev_take(&n);
        ck_assert_uint_eq(n, 4);
    }
    dev_complete(heads[2], 7);
    dev_complete(heads[0], 8);
    ck_assert_int_eq(virtq_get_used(&q, &head, &len), 1);
    ck_assert_uint_eq(head, heads[2]);
    ck_assert_uint_eq(len, 7);
    ck_assert_int_eq(virtq_get_used(&q, &head, &len), 1);
    ck_assert_uint_eq(head, heads[0]);
    ck_assert_uint_eq(q.num_free, 8);
    ck_assert_int_eq(add(8, &head), 0);        /* the freed descriptors are reusable */
    ck_assert_uint_eq(q.num_free, 0);
}
END_TEST

/* Long run: indices wrap at 2^16 on both rings, nothing leaks. */
START_TEST(indices_wrap)
{
    uint64_t rng = 12345;
    uint16_t pending[QSIZE];
    unsigned npending = 0;
    for (unsigned round = 0; round < 200000; round++) {
        rng = rng * 6364136223846793005ull + 1442695040888963407ull;
        unsigned n = 1 + (unsigned)(rng >> 60) % 4;
        uint16_t head;
        if (q.num_free >= n) {
            FAST_ASSERT(add(n, &head) == 0);
            unsigned got;
            FAST_ASSERT(dev_take(&got) == head && got == n);
            pending[npending++] = head;
        }
        if (npending && ((rng >> 33) % 3 == 0 || q.num_free < 4)) {
            unsigned pick = (unsigned)(rng >> 40) % npending;
            dev_complete(pending[pick], pick);
            pending[pick] = pending[--npending];
            uint32_t len;
            FAST_ASSERT(virtq_get_used(&q, &head, &len) == 1);
        }
    }
    while (npending) {
        dev_complete(pending[--npending], 0);
        uint16_t head;
        uint32_t len;
        ck_assert_int_eq(virtq_get_used(&q, &head, &len), 1);
    }
    ck_assert_uint_eq(q.num_free, QSIZE);
    ck_assert_uint_eq(q.in_flight, 0);
    ck_assert_uint_eq(avail->idx, q.avail_idx);
    ck_assert_uint_eq(used->idx, q.last_used);
    ck_assert_uint_gt(q.avail_idx, 0);          /* it wrapped at least once (200000 > 65536) */
}
END_TEST

START_TEST(hostile_used_ring)
{
    uint16_t a, b, head;
    uint32_t len;
    ck_assert_int_eq(add(2, &a), 0);
    ck_assert_int_eq(add(2, &b), 0);
    /* An index that runs ahead of what is in flight. */
    used->idx = 3;
    ck_assert_int_eq(virtq_get_used(&q, &head, &len), -XEN_EIO);
    used->idx = 0xffff;
    ck_assert_int_eq(virtq_get_used(&q, &head, &len), -XEN_EIO);
    /* Ids out of range, or not the head of an outstanding chain. */
    used->idx = 0;
    static const uint32_t bad_ids[] = { QSIZE, 0xffffffffu, 1 };   /* 1: inside a's chain */
    for (unsigned i = 0; i < 3; i++) {
        used->ring[0] = (struct virtq_used_elem){ bad_ids[i], 0 };
        used->idx = 1;
        ck_assert_int_eq(virtq_get_used(&q, &head, &len), -XEN_EIO);
    }
    ck_assert_uint_eq(a, 0);
    /* A chain completed twice. */
    used->ring[0] = (struct virtq_used_elem){ a, 0 };
    used->ring[1] = (struct virtq_used_elem){ a, 0 };
    used->idx = 2;
    ck_assert_int_eq(virtq_get_used(&q, &head, &len), 1);
    ck_assert_int_eq(virtq_get_used(&q, &head, &len), -XEN_EIO);
    ck_assert_uint_eq(q.num_free, QSIZE - 2);
    /* Scribbled descriptors do not reach our free list. */
    for (unsigned i = 0; i < QSIZE; i++)
        desc[i].next = 0xbeef;
    used->ring[1] = (struct virtq_used_elem){ b, 0 };
    ck_assert_int_eq(virtq_get_used(&q, &head, &len), 1);
    ck_assert_int_eq(add(QSIZE, &head), 0);
    for (unsigned i = 0, d = head; i < QSIZE; i++, d = desc[d].next)
        FAST_ASSERT(d < QSIZE);
}
END_TEST

/* Fake p2m: pages 0-3 contiguous at 0x100000, 4 elsewhere, 5 after 4, 6 unmapped. */
static uint64_t xlate(void *ctx, uint64_t va)
{
    ck_assert_ptr_null(ctx);
    static const uint64_t map[] = { 0x100000, 0x101000, 0x102000, 0x103000, 0x900000, 0x901000 };
    uint64_t page = (va - 0x40000000) / 4096;
    return page < 6 ? map[page] : ~0ull;
}

START_TEST(dma_segments_split_at_discontinuities)
{
    struct virtq_seg s[8];
    const uint64_t base = 0x40000000;
    ck_assert_int_eq(virtq_dma_segments(base + 100, 4 * 4096 - 100, xlate, NULL, true, s, 8), 1);
    ck_assert_uint_eq(s[0].addr, 0x100000 + 100);
    ck_assert_uint_eq(s[0].len, 4 * 4096 - 100);
    ck_assert(s[0].device_writes);
    ck_assert_int_eq(virtq_dma_segments(base + 3 * 4096 + 512, 4096 + 4096, xlate, NULL, false, s, 8), 2);
    ck_assert_uint_eq(s[0].addr, 0x103200);
    ck_assert_uint_eq(s[0].len, 3584);
    ck_assert_uint_eq(s[1].addr, 0x900000);
    ck_assert_uint_eq(s[1].len, 4608);
    ck_assert(!s[1].device_writes);
    ck_assert_int_eq(virtq_dma_segments(base + 3 * 4096, 2 * 4096, xlate, NULL, false, s, 1), -XEN_E2BIG);
    ck_assert_int_eq(virtq_dma_segments(base + 5 * 4096, 4097, xlate, NULL, false, s, 8), -XEN_EFAULT);
    ck_assert_int_eq(virtq_dma_segments(base, 0, xlate, NULL, false, s, 8), -XEN_EINVAL);
    ck_assert_int_eq(virtq_dma_segments(~0ull - 10, 100, xlate, NULL, false, s, 8), -XEN_EINVAL);
}
END_TEST

static Suite *virtq_suite(void)
{
    Suite *s = suite_create("virtq");
    TCase *tc = tcase_create("split_ring");
    tcase_add_checked_fixture(tc, setup, NULL);
    tcase_add_test(tc, init_rejects_bad_sizes);
    tcase_add_test(tc, chain_layout);
    tcase_add_test(tc, exhaustion_and_recovery);
    tcase_add_test(tc, indices_wrap);
    tcase_add_test(tc, hostile_used_ring);
    tcase_add_test(tc, dma_segments_split_at_discontinuities);
    suite_add_tcase(s, tc);
    return s;
}

UNIT_MAIN(virtq_suite)
