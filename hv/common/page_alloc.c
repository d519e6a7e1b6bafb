/* SPDX-License-Identifier: MIT */
/*
 * The frame allocator: one bit per machine frame (set = in use) over all RAM
 * the loader reported, plus the frame table itself. Allocation is a first-fit
 * scan from a moving hint; that is plenty for hundreds of domains and keeps
 * the trusted base small. Frames below 1 MiB, the hypervisor image and the
 * boot modules start out used. Boot modules are released once dom0 is built.
 * Frames of the table that are not RAM (holes: firmware, device memory) are
 * owned by DOMID_IO and never allocated (hv/io.h).
 */
#include <hv/mm.h>
#include <hv/bootinfo.h>

extern char __image_start[], __image_end[];

struct page_info *frame_table;
mfn_t max_mfn;
static uint64_t *used_bitmap;
static unsigned long nr_free_frames, nr_ram_frames;
static mfn_t alloc_hint;

static bool frame_used(mfn_t mfn) { return used_bitmap[mfn / 64] & (1ull << (mfn % 64)); }
static void mark_used(mfn_t mfn) { used_bitmap[mfn / 64] |= 1ull << (mfn % 64); }
static void mark_free(mfn_t mfn) { used_bitmap[mfn / 64] &= ~(1ull << (mfn % 64)); }

unsigned long free_frame_count(void) { return nr_free_frames; }
unsigned long total_ram_frames(void) { return nr_ram_frames; }

/* Ranges that must not be handed out during early boot: image and modules. */
static bool overlaps_reserved(const struct boot_info *bi, uint64_t start, uint64_t end)
{
    uint64_t img_start = __pa(__image_start), img_end = __pa(__image_end);
    if (start < 0x100000 || (start < img_end && end > img_start))
        return true;
    for (unsigned i = 0; i < bi->nr_modules; i++)
        if (start < ALIGN_UP(bi->modules[i].end, PAGE_SIZE) && end > bi->modules[i].start)
            return true;
    return false;
}

/* Finds `bytes` of free RAM below 4 GiB (reachable through the boot direct
 * map) for the frame table and bitmap, before the allocator exists. */
static uint64_t early_alloc(const struct boot_info *bi, uint64_t bytes)
{
    bytes = ALIGN_UP(bytes, PAGE_SIZE);
    for (unsigned i = 0; i < bi->nr_regions; i++) {
        const struct mem_region *r = &bi->regions[i];
        if (r->type != MEM_RAM)
            continue;
        uint64_t end = MIN(r->base + r->size, 1ull << 32) & ~(uint64_t)(PAGE_SIZE - 1);
        /* Highest fit first: keeps low memory for later needs. */
        for (uint64_t start = end - bytes; start >= r->base && start < end; start -= PAGE_SIZE) {
            if (!overlaps_reserved(bi, start, start + bytes))
                return start;
            if (start < PAGE_SIZE)
                break;
        }
    }
    panic("not enough memory below 4 GiB for the frame table (%lu KiB)", (unsigned long)(bytes >> 10));
}

void page_alloc_init(const struct boot_info *bi);
void page_alloc_init(const struct boot_info *bi)
{
    uint64_t top = 0;
    for (unsigned i = 0; i < bi->nr_regions; i++)
        if (bi->regions[i].type == MEM_RAM)
            top = MAX(top, bi->regions[i].base + bi->regions[i].size);
    max_mfn = top >> PAGE_SHIFT;
    if (max_mfn == 0)
        panic("the boot loader reported no RAM");

    uint64_t ft_bytes = max_mfn * sizeof(struct page_info);
    uint64_t bm_bytes = ALIGN_UP(max_mfn, 64) / 8;
    uint64_t ft_pa = early_alloc(bi, ft_bytes + bm_bytes);
    frame_table = __va(ft_pa);
    used_bitmap = (uint64_t *)((char *)frame_table + ft_bytes);
    memset(used_bitmap, 0xff, bm_bytes);
    for (mfn_t m = 0; m < max_mfn; m++)
        frame_table[m] = (struct page_info){ .owner = DOMID_IO, .next = ~0u };

    /* Every whole RAM frame is the hypervisor's; free those not reserved. */
    for (unsigned i = 0; i < bi->nr_regions; i++) {
        const struct mem_region *r = &bi->regions[i];
        if (r->type != MEM_RAM)
            continue;
        for (uint64_t pa = ALIGN_UP(r->base, PAGE_SIZE); pa + PAGE_SIZE <= r->base + r->size; pa += PAGE_SIZE) {
            mfn_t m = pa >> PAGE_SHIFT;
            frame_table[m].owner = DOMID_XEN;
            nr_ram_frames++;
            if (overlaps_reserved(bi, pa, pa + PAGE_SIZE) ||
                (pa < ft_pa + ft_bytes + bm_bytes + PAGE_SIZE && pa + PAGE_SIZE > ft_pa))
                continue;
            if (!frame_used(m))
                continue;
            mark_free(m);
            frame_table[m].owner = DOMID_INVALID;
            nr_free_frames++;
        }
    }
    alloc_hint = 0;
}

mfn_t alloc_frames(unsigned long nr, uint16_t owner)
{
    if (nr == 0 || nr > nr_free_frames)
        return INVALID_MFN;
    for (int pass = 0; pass < 2; pass++) {
        mfn_t start = pass ? 0 : alloc_hint, run = 0;
        for (mfn_t m = start; m < max_mfn; m++) {
            if (frame_used(m)) {
                run = 0;
                continue;
            }
            if (++run < nr)
                continue;
            mfn_t first = m + 1 - nr;
            for (mfn_t f = first; f <= m; f++) {
                mark_used(f);
                struct page_info *pg = &frame_table[f];
                *pg = (struct page_info){ .owner = owner, .next = ~0u };
                memset(mfn_to_virt(f), 0, PAGE_SIZE);
            }
            nr_free_frames -= nr;
            alloc_hint = m + 1;
            return first;
        }
    }
    return INVALID_MFN;
}

void free_frames(mfn_t mfn, unsigned long nr)
{
    for (mfn_t f = mfn; f < mfn + nr; f++) {
        BUG_ON(!mfn_valid(f) || !frame_used(f));
        struct page_info *pg = &frame_table[f];
        BUG_ON(pg->count || pg->type_count);
        *pg = (struct page_info){ .owner = DOMID_INVALID, .next = ~0u };
        mark_free(f);
        nr_free_frames++;
        if (f < alloc_hint)
            alloc_hint = f;
    }
}

void *alloc_xen_pages(unsigned long nr)
{
    mfn_t m = alloc_frames(nr, DOMID_XEN);
    return m == INVALID_MFN ? NULL : mfn_to_virt(m);
}

void free_xen_pages(void *va, unsigned long nr)
{
    if (va)
        free_frames(virt_to_mfn(va), nr);
}
