/* SPDX-License-Identifier: MIT */
/*
 * Where a PV domain's boot-time pieces go (xen-pv-abi.md §3.3-3.4), written
 * once for the hypervisor's dom0 builder and dom0's domain builder. Pure
 * arithmetic plus a page-table writer that goes through a callback, so each
 * builder decides how it reaches the frames.
 */
#ifndef LAMINA_PV_LAYOUT_H
#define LAMINA_PV_LAYOUT_H
#include <stdbool.h>
#include <stdint.h>
#include <lamina/elf_pv.h>

#define PV_PAGE_SIZE 4096ull

/* All addresses are guest virtual; pfn = (va - v_start) / PV_PAGE_SIZE. */
struct pv_layout {
    uint64_t v_start, v_end;           /* the mapped region */
    uint64_t kernel_start, kernel_end; /* page-aligned around virt_kstart..virt_kend */
    uint64_t initrd_start, initrd_len;
    uint64_t p2m_start;
    uint64_t start_info;
    uint64_t xenstore, console;        /* 0 unless with_rings */
    uint64_t pt_start, nr_pt_frames;
    uint64_t stack;                    /* the boot stack page */
    uint64_t nr_pages;                 /* the domain's memory */
};

/* Plans the layout. with_rings adds the xenstore and console pages a domU
 * needs. Returns 0, or -1 if VIRT_BASE is not 2 MiB aligned, an address
 * overflows, or nr_pages cannot hold the region (then *pages_needed says how
 * many it would take). */
int pv_layout_plan(const struct elf_pv_info *ei, uint64_t initrd_len, uint64_t nr_pages,
                   bool with_rings, struct pv_layout *l, uint64_t *pages_needed);

static inline uint64_t pv_layout_pfn(const struct pv_layout *l, uint64_t va)
{
    return (va - l->v_start) / PV_PAGE_SIZE;
}

/* Writes the bootstrap page tables: L4 first, then L3s, L2s and L1s, flags as
 * xl writes them (§3.4), page-table pages mapped read-only. p2m[pfn] gives
 * each PFN's MFN; write_entry(ctx, pfn_of_table, index, value) stores one
 * entry (tables start zeroed). Returns the L4's PFN. */
typedef void (*pv_write_entry_fn)(void *ctx, uint64_t table_pfn, unsigned index, uint64_t value);
uint64_t pv_layout_write_page_tables(const struct pv_layout *l, const uint64_t *p2m,
                                     pv_write_entry_fn write_entry, void *ctx);

#endif
