/* SPDX-License-Identifier: MIT */
/* PV boot layout and bootstrap page tables; see lamina/pv_layout.h. */
#include <lamina/pv_layout.h>

#define MIB(x) ((uint64_t)(x) << 20)
#define PTE_P 0x1ull
#define PTE_RW 0x2ull
#define PTE_US 0x4ull
#define PTE_A 0x20ull
#define PTE_D 0x40ull

static uint64_t align_up(uint64_t x, uint64_t a) { return (x + a - 1) & ~(a - 1); }
static uint64_t align_down(uint64_t x, uint64_t a) { return x & ~(a - 1); }

/* Tables of one level needed to cover [start, end) when each maps 2^shift bytes. */
static uint64_t count_tables(uint64_t start, uint64_t end, unsigned shift)
{
    uint64_t size = 1ull << shift;
    return (align_up(end, size) - align_down(start, size)) >> shift;
}

int pv_layout_plan(const struct elf_pv_info *ei, uint64_t initrd_len, uint64_t nr_pages,
                   bool with_rings, struct pv_layout *l, uint64_t *pages_needed)
{
    *pages_needed = 0;
    if (ei->virt_base & (MIB(2) - 1) || ei->virt_kend < ei->virt_kstart)
        return -1;
    /* The whole region must fit below 2^64 without wrapping: bound every
     * term, then check the sum once (the page tables and padding add at most
     * a few MiB per GiB mapped, far less than the 1/8 margin below). */
    if (initrd_len > (1ull << 40) || nr_pages > (1ull << 36))
        return -1;
    uint64_t span = align_up(initrd_len, PV_PAGE_SIZE) + align_up(nr_pages * 8, PV_PAGE_SIZE) + MIB(16);
    span += span / 8;
    if (align_up(ei->virt_kend, PV_PAGE_SIZE) < ei->virt_kend || ~0ull - align_up(ei->virt_kend, PV_PAGE_SIZE) < span)
        return -1;
    l->nr_pages = nr_pages;
    l->v_start = ei->virt_base;
    l->kernel_start = align_down(ei->virt_kstart, PV_PAGE_SIZE);
    l->kernel_end = align_up(ei->virt_kend, PV_PAGE_SIZE);
    uint64_t cur = l->kernel_end;
    l->initrd_start = cur;
    l->initrd_len = initrd_len;
    cur += align_up(initrd_len, PV_PAGE_SIZE);
    l->p2m_start = cur;
    cur += align_up(nr_pages * 8, PV_PAGE_SIZE);
    l->start_info = cur;
    cur += PV_PAGE_SIZE;
    l->xenstore = l->console = 0;
    if (with_rings) {
        l->xenstore = cur;
        cur += PV_PAGE_SIZE;
        l->console = cur;
        cur += PV_PAGE_SIZE;
    }
    l->pt_start = cur;
    for (uint64_t nr_pt = 1;; nr_pt++) {
        l->stack = l->pt_start + nr_pt * PV_PAGE_SIZE;
        /* §3.3: at least 512 KiB spare after the stack, then a 4 MiB boundary. */
        l->v_end = align_up(l->stack + PV_PAGE_SIZE + 512 * 1024, MIB(4));
        uint64_t need = 1 + count_tables(l->v_start, l->v_end, 39) +
                        count_tables(l->v_start, l->v_end, 30) + count_tables(l->v_start, l->v_end, 21);
        if (need <= nr_pt) {
            l->nr_pt_frames = nr_pt;
            break;
        }
    }
    *pages_needed = (l->v_end - l->v_start) / PV_PAGE_SIZE;
    return *pages_needed <= nr_pages ? 0 : -1;
}

uint64_t pv_layout_write_page_tables(const struct pv_layout *l, const uint64_t *p2m,
                                     pv_write_entry_fn write_entry, void *ctx)
{
    const uint64_t dir_flags = PTE_P | PTE_RW | PTE_US | PTE_A | PTE_D;
    const uint64_t pt_end = l->pt_start + l->nr_pt_frames * PV_PAGE_SIZE;
    uint64_t next_pt = l->pt_start;
    uint64_t l4_pfn = pv_layout_pfn(l, next_pt);
    next_pt += PV_PAGE_SIZE;

    /* Tables are handed out level by level (all L3s, then L2s, then L1s) as
     * xl does; remember the current table of each level by the VA range it
     * covers. */
    uint64_t cur_l3 = ~0ull, cur_l2 = ~0ull, cur_l1 = ~0ull;
    uint64_t nr_l3 = count_tables(l->v_start, l->v_end, 39);
    uint64_t nr_l2 = count_tables(l->v_start, l->v_end, 30);
    uint64_t l3_base = pv_layout_pfn(l, next_pt), l2_base = l3_base + nr_l3, l1_base = l2_base + nr_l2;
    uint64_t l3_used = 0, l2_used = 0, l1_used = 0;
    uint64_t l3_pfn = 0, l2_pfn = 0, l1_pfn = 0;

    for (uint64_t va = l->v_start; va < l->v_end; va += PV_PAGE_SIZE) {
        if ((va >> 39) != cur_l3) {
            cur_l3 = va >> 39;
            l3_pfn = l3_base + l3_used++;
            write_entry(ctx, l4_pfn, (unsigned)((va >> 39) & 511), (p2m[l3_pfn] << 12) | dir_flags);
        }
        if ((va >> 30) != cur_l2) {
            cur_l2 = va >> 30;
            l2_pfn = l2_base + l2_used++;
            write_entry(ctx, l3_pfn, (unsigned)((va >> 30) & 511), (p2m[l2_pfn] << 12) | dir_flags);
        }
        if ((va >> 21) != cur_l1) {
            cur_l1 = va >> 21;
            l1_pfn = l1_base + l1_used++;
            write_entry(ctx, l2_pfn, (unsigned)((va >> 21) & 511), (p2m[l1_pfn] << 12) | dir_flags);
        }
        uint64_t pfn = pv_layout_pfn(l, va);
        bool is_pt = va >= l->pt_start && va < pt_end;
        write_entry(ctx, l1_pfn, (unsigned)((va >> 12) & 511),
                    (p2m[pfn] << 12) | PTE_P | PTE_A | (is_pt ? 0 : PTE_RW));
    }
    return l4_pfn;
}
