/* SPDX-License-Identifier: MIT */
/*
 * The hypervisor's own address space: the direct map of machine memory, the
 * image mapping, and the read-only M2P that every guest sees at
 * RO_MPT_VIRT_START (layout in hv/layout.h). The same L4 slots 256-271 are
 * copied into every guest top-level table, so the hypervisor is mapped
 * wherever a guest runs, but only as supervisor pages (except the M2P, which
 * is user-readable and never writable).
 */
#include <hv/io.h>
#include <hv/bootinfo.h>
#include <asm/page.h>
#include <asm/x86.h>

extern uint64_t boot_l4[512];
uint64_t idle_l4[512] __attribute__((aligned(PAGE_SIZE)));
uint64_t *m2p_table;
mfn_t max_io_mfn;

void page_alloc_init(const struct boot_info *bi);

static uint64_t *alloc_table(void)
{
    uint64_t *t = alloc_xen_pages(1);
    if (!t)
        panic("out of memory building the hypervisor page tables");
    return t;
}

/* Returns the table an entry points to, creating it if absent. */
static uint64_t *next_table(uint64_t *entry, uint64_t flags)
{
    if (!(*entry & _PAGE_PRESENT))
        *entry = __pa(alloc_table()) | flags;
    return __va(*entry & PTE_ADDR_MASK);
}

static bool is_ram(const struct boot_info *bi, uint64_t start, uint64_t end)
{
    for (unsigned i = 0; i < bi->nr_regions; i++) {
        const struct mem_region *r = &bi->regions[i];
        if (r->type == MEM_RAM && start < r->base + r->size && end > r->base)
            return true;
    }
    return false;
}

/* 2 MiB pages over [0, max(4 GiB, top of RAM)): RAM write-back, everything
 * else (MMIO: the local APIC, the IO-APIC) uncached. Never executable. */
static void build_direct_map(const struct boot_info *bi)
{
    uint64_t end = MAX(1ull << 32, (uint64_t)max_mfn << PAGE_SHIFT);
    end = ALIGN_UP(end, 1ull << 21);
    for (uint64_t pa = 0; pa < end; pa += 1ull << 21) {
        uint64_t va = DIRECTMAP_VIRT_START + pa;
        uint64_t *l3 = next_table(&idle_l4[l4_index(va)], _PAGE_PRESENT | _PAGE_RW);
        uint64_t *l2 = next_table(&l3[l3_index(va)], _PAGE_PRESENT | _PAGE_RW);
        uint64_t attr = is_ram(bi, pa, pa + (1ull << 21)) ? 0 : _PAGE_PCD | _PAGE_PWT;
        l2[l2_index(va)] = pa | _PAGE_PRESENT | _PAGE_RW | _PAGE_PSE | _PAGE_NX | attr;
    }
}

/* The M2P: hypervisor-writable through the direct map, mapped read-only and
 * user-accessible in slot 256 for guests (xen-pv-abi.md §2). */
static void build_m2p(void)
{
    unsigned long pages = ALIGN_UP(max_mfn * sizeof(uint64_t), PAGE_SIZE) / PAGE_SIZE;
    m2p_table = alloc_xen_pages(pages);
    if (!m2p_table)
        panic("out of memory for the M2P table");
    memset(m2p_table, 0xff, pages * PAGE_SIZE);
    const uint64_t dir = _PAGE_PRESENT | _PAGE_USER;
    for (unsigned long i = 0; i < pages; i++) {
        uint64_t va = RO_MPT_VIRT_START + (uint64_t)i * PAGE_SIZE;
        uint64_t *l3 = next_table(&idle_l4[l4_index(va)], dir);
        uint64_t *l2 = next_table(&l3[l3_index(va)], dir);
        uint64_t *l1 = next_table(&l2[l2_index(va)], dir);
        l1[l1_index(va)] = __pa((char *)m2p_table + i * PAGE_SIZE) | _PAGE_PRESENT | _PAGE_USER |
                           _PAGE_ACCESSED | _PAGE_NX;
    }
}

void set_m2p(mfn_t mfn, uint64_t pfn)
{
    if (mfn_valid(mfn))
        m2p_table[mfn] = pfn;
}

void install_hv_l4_slots(uint64_t *l4)
{
    for (unsigned s = L4_SLOT_FIRST_HV; s <= L4_SLOT_LAST_HV; s++)
        l4[s] = idle_l4[s];
}

/* The CPU's physical address width bounds what a PTE may name. */
static unsigned phys_addr_bits(void)
{
    uint32_t a, b, c, d;
    cpuid_count(0x80000000u, 0, &a, &b, &c, &d);
    if (a < 0x80000008u)
        return 36;
    cpuid_count(0x80000008u, 0, &a, &b, &c, &d);
    return (a & 0xff) >= 32 && (a & 0xff) <= 52 ? a & 0xff : 36;
}

void mm_init(const struct boot_info *bi)
{
    page_alloc_init(bi);
    max_io_mfn = 1ull << (phys_addr_bits() - PAGE_SHIFT);
    /* Keep the boot identity map (slot 0) and image mapping; replace the rest. */
    idle_l4[0] = boot_l4[0];
    idle_l4[L4_SLOT_IMAGE] = boot_l4[L4_SLOT_IMAGE];
    build_direct_map(bi);
    build_m2p();
    write_cr3(__pa(idle_l4));
    pr_info("memory: %lu MiB RAM, %lu MiB free, frame table for %lu frames",
            total_ram_frames() >> 8, free_frame_count() >> 8, (unsigned long)max_mfn);
}
