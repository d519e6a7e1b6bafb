/* SPDX-License-Identifier: MIT */
/*
 * The toolstack's mapping window; see vmap.h. Every change goes through
 * mmu_update on validated tables (xen-pv-abi.md §5.3): an L1 entry of ours
 * may name another live domain's frame because we are privileged, and new
 * L1 tables are validated when the L2 entry that hooks them is written.
 */
#include <lamina/string.h>
#include <guest/hypercall.h>
#include <guest/runtime.h>
#include "vmap.h"

#define SLOTS_PER_L1 512
#define L2_SPAN (SLOTS_PER_L1 * PAGE_SIZE)
#define DIR_FLAGS (PTE_P | PTE_RW | PTE_US | PTE_A | PTE_D)
#define MAP_FLAGS (PTE_P | PTE_RW | PTE_A | PTE_D)
#define BATCH 512

static uint64_t l2_mfn;             /* dom0's L2 for [VIRT_BASE, VIRT_BASE + 1 GiB) */
static unsigned first_l2_slot;      /* the window starts at VIRT_BASE + first_l2_slot * 2 MiB */
static unsigned nr_l1;              /* L1 tables made so far */
static uint64_t l1_mfns[SLOTS_PER_L1];
static uint64_t lowest_free_pfn;    /* dom0 frames above its initial region ... */
static uint64_t next_table_pfn;     /* ... handed out downwards from the top for L1s */
static struct mmu_update batch[BATCH];

long vmap_init(void)
{
    uint64_t l3e;
    if (first_l2_slot)
        return 0;
    if (!pt_read_entry(VIRT_BASE, 3, &l3e) || !(l3e & PTE_P))
        return -XEN_EINVAL;
    l2_mfn = (l3e & PTE_ADDR_MASK) >> 12;
    uint64_t l2_pfn = m2p_table()[l2_mfn];
    if (l2_pfn >= start_info->nr_pages)
        return -XEN_EINVAL;
    /* Our tables are mapped read-only in the initial region (§3.4). */
    const volatile uint64_t *l2 = pfn_to_va(l2_pfn);
    unsigned last = 0;
    for (unsigned i = 0; i < 512; i++)
        if (l2[i] & PTE_P)
            last = i;
    if (last >= 511)
        return -XEN_ENOSPC;
    first_l2_slot = last + 1;
    lowest_free_pfn = (uint64_t)first_l2_slot * SLOTS_PER_L1;
    next_table_pfn = start_info->nr_pages;
    return 0;
}

uint64_t vmap_max_slots(void)
{
    return first_l2_slot ? (uint64_t)(512 - first_l2_slot) * SLOTS_PER_L1 : 0;
}

void *vmap_va(uint64_t slot)
{
    return (void *)(uintptr_t)(VIRT_BASE + (uint64_t)first_l2_slot * L2_SPAN + slot * PAGE_SIZE);
}

static long add_l1(void)
{
    if (next_table_pfn <= lowest_free_pfn)
        return -XEN_ENOMEM;
    uint64_t mfn = pfn_to_mfn(--next_table_pfn);
    unsigned done = 0;
    /* Never mapped by anyone, so it may become a table once it is clear. */
    struct mmuext_op clear = { .cmd = MMUEXT_CLEAR_PAGE, .arg1.mfn = mfn };
    long rc = hyp_mmuext_op(&clear, 1, &done, DOMID_SELF);
    if (rc)
        return rc;
    struct mmu_update req = {
        .ptr = (l2_mfn << 12) + (first_l2_slot + nr_l1) * 8ULL,
        .val = (mfn << 12) | DIR_FLAGS,
    };
    rc = hyp_mmu_update(&req, 1, &done, DOMID_SELF);
    if (rc)
        return rc;
    l1_mfns[nr_l1++] = mfn;
    return 0;
}

long vmap_reserve(uint64_t nr)
{
    if (!first_l2_slot)
        return -XEN_EINVAL;
    if (nr > vmap_max_slots())
        return -XEN_ENOSPC;
    while ((uint64_t)nr_l1 * SLOTS_PER_L1 < nr) {
        long rc = add_l1();
        if (rc)
            return rc;
    }
    return 0;
}

static uint64_t slot_maddr(uint64_t slot)
{
    return (l1_mfns[slot / SLOTS_PER_L1] << 12) + (slot % SLOTS_PER_L1) * 8;
}

static long flush(void)
{
    unsigned done = 0;
    struct mmuext_op op = { .cmd = MMUEXT_TLB_FLUSH_LOCAL };
    return hyp_mmuext_op(&op, 1, &done, DOMID_SELF);
}

/* Writes slots [first, first+nr): mfns[i], or empty entries when mfns is NULL. */
static long write_slots(uint64_t first, const uint64_t *mfns, uint64_t nr, domid_t dom)
{
    if (first > (uint64_t)nr_l1 * SLOTS_PER_L1 || nr > (uint64_t)nr_l1 * SLOTS_PER_L1 - first)
        return -XEN_EINVAL;
    for (uint64_t i = 0; i < nr;) {
        unsigned n = 0;
        for (; n < BATCH && i < nr; n++, i++) {
            batch[n].ptr = slot_maddr(first + i) | MMU_NORMAL_PT_UPDATE;
            batch[n].val = mfns ? (mfns[i] << 12) | MAP_FLAGS : 0;
        }
        unsigned done = 0;
        long rc = hyp_mmu_update(batch, n, &done, dom);
        if (rc)
            return rc;
    }
    return flush();
}

long vmap_map(uint64_t first, const uint64_t *mfns, uint64_t nr, domid_t dom)
{
    return write_slots(first, mfns, nr, dom);
}

long vmap_unmap(uint64_t first, uint64_t nr)
{
    return write_slots(first, NULL, nr, DOMID_SELF);
}

long vmap_map_own(uint64_t first, uint64_t nr)
{
    if (!first_l2_slot || lowest_free_pfn + nr > next_table_pfn)
        return -XEN_ENOMEM;
    const uint64_t *p2m = (const uint64_t *)(uintptr_t)start_info->mfn_list;
    return vmap_map(first, &p2m[lowest_free_pfn], nr, DOMID_SELF);
}

long vmap_reserve_window(uint64_t need, uint64_t *max)
{
    long rc = vmap_init();
    if (rc)
        return rc;
    *max = vmap_max_slots();
    if (*max < need)
        return -XEN_ENOSPC;
    return vmap_reserve(*max);
}
