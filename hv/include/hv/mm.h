/* SPDX-License-Identifier: MIT */
/*
 * Machine memory: the direct map, the frame table and the frame allocator.
 *
 * Every machine frame of RAM has a struct page_info. The rules (the model Xen
 * uses, restated; xen-pv-abi.md §5.1):
 *  - `owner` is the domain the frame belongs to (DOMID_XEN for the
 *    hypervisor's own frames, DOMID_INVALID while free). A guest may only
 *    reference frames it owns, plus frames the hypervisor shares with it.
 *  - `count` is the general reference count: one for being allocated to the
 *    owner (PGF_allocated), one per mapping or hold. A frame returns to the
 *    allocator only when it reaches zero.
 *  - `type` with `type_count`: a frame has one type at a time (none, L1-L4
 *    page table, segment descriptor page, writable). The type may change only
 *    while type_count is zero. Taking the first reference of a page-table
 *    type validates every present entry (taking references on what they point
 *    to); dropping the last one releases them. A writable mapping holds a
 *    writable-type reference, so a frame that is a page table can never be
 *    mapped writable and a frame mapped writable can never become one.
 * All of it is changed with interrupts off on the one pCPU we run today;
 * SMP will put it under the owning domain's page lock.
 */
#ifndef HV_MM_H
#define HV_MM_H
#include <hv/lib.h>
#include <hv/layout.h>

typedef uint64_t mfn_t;
#define INVALID_MFN (~0ull)

static inline void *__va(uint64_t pa) { return (void *)(pa + DIRECTMAP_VIRT_START); }
static inline uint64_t __pa(const void *va)
{
    uint64_t v = (uint64_t)va;
    if (v >= DIRECTMAP_VIRT_START && v < DIRECTMAP_VIRT_END)
        return v - DIRECTMAP_VIRT_START;
    return v - HV_IMAGE_VIRT_OFFSET;
}
static inline void *mfn_to_virt(mfn_t mfn) { return __va(mfn << PAGE_SHIFT); }
static inline mfn_t virt_to_mfn(const void *va) { return __pa(va) >> PAGE_SHIFT; }

enum page_type {
    PGT_none = 0,
    PGT_l1 = 1, PGT_l2 = 2, PGT_l3 = 3, PGT_l4 = 4,
    PGT_seg_desc = 5,
    PGT_writable = 7,
};

#define PGF_allocated  (1u << 0)   /* holds one general reference for the owner */
#define PGF_xen_heap   (1u << 1)   /* hypervisor memory shared with `owner` (shared_info) */
#define PGF_pinned     (1u << 2)   /* the owner pinned it: holds one type reference */
#define PGF_validated  (1u << 3)   /* page-table contents have been validated */

struct page_info {
    uint32_t count;        /* general references */
    uint32_t type_count;   /* references of `type` */
    uint16_t owner;        /* domid, DOMID_XEN, or DOMID_INVALID when free */
    uint8_t  type;         /* enum page_type */
    uint8_t  flags;        /* PGF_* */
    uint32_t next;         /* next frame in the owner's page list (index), or ~0 */
};
_Static_assert(sizeof(struct page_info) == 16, "page_info size");

extern struct page_info *frame_table;
extern mfn_t max_mfn;       /* one past the highest frame the table covers */
extern uint64_t *m2p_table; /* machine-to-phys, indexed by MFN; guest-readable */

static inline bool mfn_valid(mfn_t mfn) { return mfn < max_mfn; }
static inline struct page_info *mfn_to_page(mfn_t mfn) { return &frame_table[mfn]; }
static inline mfn_t page_to_mfn(const struct page_info *pg) { return (mfn_t)(pg - frame_table); }

struct boot_info;
void mm_init(const struct boot_info *bi);

/* Frame allocator. Frames come back zeroed from alloc_*_zeroed. */
mfn_t alloc_frames(unsigned long nr, uint16_t owner);        /* contiguous; INVALID_MFN on failure */
void free_frames(mfn_t mfn, unsigned long nr);
void *alloc_xen_pages(unsigned long nr);                      /* zeroed hypervisor memory, NULL on failure */
void free_xen_pages(void *va, unsigned long nr);
unsigned long free_frame_count(void);
unsigned long total_ram_frames(void);

/* The hypervisor's page tables: the idle L4 whose slots 256-271 every guest
 * L4 receives. */
extern uint64_t idle_l4[512];
void install_hv_l4_slots(uint64_t *l4);
void set_m2p(mfn_t mfn, uint64_t pfn);

#endif
