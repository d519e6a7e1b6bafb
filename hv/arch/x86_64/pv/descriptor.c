/* SPDX-License-Identifier: MIT */
/*
 * A guest's own GDT and LDT (set_gdt, update_descriptor, MMUEXT_SET_LDT;
 * xen-pv-abi.md §4.1, §4.7).
 *
 * The frames a guest names become segment-descriptor pages: validated, and
 * by the type rules never writable while typed, so they change only through
 * update_descriptor. That lets us copy the guest's descriptors into the
 * per-CPU GDT (entries below FIRST_RESERVED_GDT_ENTRY) when its vCPU is
 * switched in, instead of remapping GDT pages per vCPU: Linux uses 16
 * entries, a 128-byte copy. The copy is kept in step by update_descriptor.
 *
 * The LDT works the same way with one difference, as in Xen: SET_LDT only
 * records an address, and the frames behind it are looked up in the guest's
 * kernel page tables and typed on first use (a #GP naming an LDT selector,
 * or a selector check on the way back to the guest). From then until the
 * next SET_LDT they hold seg_desc type refs, so the guest cannot map them
 * writable, and the running vCPU's entries sit in the per-CPU cpu_ldt().
 * Invariant: the CPU's LDTR is non-null only while current->ldt_loaded, and
 * then cpu_ldt() holds exactly current's ldt_ents descriptors.
 */
#include <hv/pv.h>
#include <hv/hypercall.h>
#include <hv/guest_access.h>
#include <asm/cpu.h>

#define DESC_P        (1ull << 47)
#define DESC_S        (1ull << 44)
#define DESC_DPL3     (3ull << 45)
#define DESC_CODE     (1ull << 43)
#define DESC_TYPE(d)  (((d) >> 40) & 0xf)

/* §4.7 descriptor legality: not-present and code/data descriptors are fine
 * (DPL raised to 3); so is an all-zero system descriptor. Anything else
 * (TSS, LDT, gates) is refused: call gates, which Xen allows under
 * conditions, are not needed by Linux or pvgrub and are refused too. */
static bool check_descriptor(uint64_t *d)
{
    if (!(*d & DESC_P))
        return true;
    if (*d & DESC_S) {
        *d |= DESC_DPL3;
        return true;
    }
    return DESC_TYPE(*d) == 0 && (*d & ~(DESC_P | DESC_DPL3)) == 0;
}

int pv_validate_seg_desc_page(mfn_t mfn)
{
    uint64_t *t = mfn_to_virt(mfn);
    uint64_t copy[512];
    for (unsigned i = 0; i < 512; i++) {
        copy[i] = t[i];
        if (!check_descriptor(&copy[i]))
            return -XEN_EINVAL;
    }
    memcpy(t, copy, sizeof(copy));
    return 0;
}

/* Drops the seg_desc type and general refs of a frame list (0 = none). */
static void release_desc_frames(mfn_t *frames, unsigned nr)
{
    for (unsigned i = 0; i < nr; i++) {
        if (!frames[i])
            continue;
        pv_put_page_type(mfn_to_page(frames[i]));
        pv_put_page(mfn_to_page(frames[i]));
        frames[i] = 0;
    }
}

static void release_gdt(struct vcpu *v)
{
    release_desc_frames(v->gdt_frames, ARRAY_SIZE(v->gdt_frames));
    v->gdt_ents = 0;
}

static void release_ldt(struct vcpu *v)
{
    release_desc_frames(v->ldt_frames, ARRAY_SIZE(v->ldt_frames));
    v->ldt_loaded = false;
}

/* Takes v's LDT frames from its kernel page tables (the LDT lives in kernel
 * memory, and v may be in user mode). All or nothing: false if a page is
 * not mapped, not v's domain's, or not a legal descriptor page. */
static bool acquire_ldt(struct vcpu *v)
{
    unsigned nr = (unsigned)(((uint64_t)v->ldt_ents * 8 + PAGE_SIZE - 1) / PAGE_SIZE);
    for (unsigned i = 0; i < nr; i++) {
        uint64_t l1e = 0;
        if (!pv_l1_for_va(v, v->ldt_base + (uint64_t)i * PAGE_SIZE, &l1e) || !(l1e & _PAGE_PRESENT) ||
            !mfn_valid(pte_mfn(l1e)))
            goto fail;
        struct page_info *pg = mfn_to_page(pte_mfn(l1e));
        if (!pv_get_page(pg, v->domain))
            goto fail;
        if (pv_get_page_type(pg, PGT_seg_desc, v->domain)) {
            pv_put_page(pg);
            goto fail;
        }
        v->ldt_frames[i] = pte_mfn(l1e);
    }
    v->ldt_loaded = true;
    return true;
fail:
    release_ldt(v);
    return false;
}

static uint64_t ldt_entry(const struct vcpu *v, unsigned idx)
{
    return ((const uint64_t *)mfn_to_virt(v->ldt_frames[idx / 512]))[idx % 512];
}

/* Loads v's LDT into this CPU (none if v has no loaded LDT). The copy
 * costs ldt_ents * 8 bytes per switch; Linux processes have none. */
void pv_load_ldt(struct vcpu *v)
{
    if (!v || !v->ldt_loaded) {
        cpu_load_ldt(0);
        return;
    }
    uint64_t *t = cpu_ldt();
    for (unsigned i = 0; i < v->ldt_ents; i++)
        t[i] = ldt_entry(v, i);
    cpu_load_ldt(v->ldt_ents);
}

/* Makes entry `idx` of v's LDT reachable, taking the frames if needed. */
static bool ldt_ready(struct vcpu *v, unsigned idx)
{
    if (idx >= v->ldt_ents)
        return false;
    if (v->ldt_loaded)
        return true;
    if (!acquire_ldt(v))
        return false;
    if (v->is_running)
        pv_load_ldt(v);
    return true;
}

long pv_set_ldt(struct vcpu *v, uint64_t base, unsigned ents)
{
    release_ldt(v);
    v->ldt_base = base;
    v->ldt_ents = ents;
    if (v->is_running)
        cpu_load_ldt(0);
    return 0;
}

/* A #GP whose error code names an LDT selector (TI set, not an IDT or
 * external event) while v's LDT frames are not taken yet: take them and
 * let the guest retry. Anything else is the guest's own #GP. */
bool pv_ldt_fault(struct vcpu *v, uint32_t error_code)
{
    if ((error_code & 7) != 4 || v->ldt_loaded)
        return false;
    return ldt_ready(v, error_code >> 3);
}

/* Loads v's descriptors into this CPU's GDT, clearing what the previous
 * vCPU left beyond them. */
void pv_load_gdt(struct vcpu *v, unsigned prev_ents)
{
    uint64_t *gdt = cpu_gdt();
    unsigned n = v ? v->gdt_ents : 0;
    for (unsigned i = 0; i < n; i++)
        gdt[i] = ((const uint64_t *)mfn_to_virt(v->gdt_frames[i / 512]))[i % 512];
    for (unsigned i = n; i < prev_ents; i++)
        gdt[i] = 0;
}

long do_set_gdt(uint64_t frame_list, uint64_t entries)
{
    struct vcpu *v = current_vcpu();
    struct domain *d = v->domain;
    uint64_t frames[16];

    if (entries > FIRST_RESERVED_GDT_ENTRY)
        return -XEN_EINVAL;
    unsigned nr = (unsigned)((entries + 511) / 512);
    if (copy_from_guest(frames, frame_list, nr * sizeof(uint64_t)))
        return -XEN_EFAULT;
    unsigned got;
    for (got = 0; got < nr; got++) {
        if (!mfn_valid(frames[got]))
            break;
        struct page_info *pg = mfn_to_page(frames[got]);
        if (!pv_get_page(pg, d))
            break;
        if (pv_get_page_type(pg, PGT_seg_desc, d)) {
            pv_put_page(pg);
            break;
        }
    }
    if (got < nr) {
        while (got--) {
            pv_put_page_type(mfn_to_page(frames[got]));
            pv_put_page(mfn_to_page(frames[got]));
        }
        return -XEN_EINVAL;
    }
    unsigned prev = v->gdt_ents;
    release_gdt(v);
    for (unsigned i = 0; i < nr; i++)
        v->gdt_frames[i] = frames[i];
    v->gdt_ents = (unsigned)entries;
    pv_load_gdt(v, prev);
    return 0;
}

void pv_vcpu_release_desc_tables(struct vcpu *v)
{
    release_gdt(v);
    release_ldt(v);
    v->ldt_ents = 0;
}

long do_update_descriptor(uint64_t maddr, uint64_t desc)
{
    struct vcpu *v = current_vcpu();
    struct domain *d = v->domain;
    mfn_t mfn = maddr >> PAGE_SHIFT;

    if ((maddr & 7) || !mfn_valid(mfn) || !check_descriptor(&desc))
        return -XEN_EINVAL;
    struct page_info *pg = mfn_to_page(mfn);
    if (!pv_get_page(pg, d))
        return -XEN_EINVAL;
    long rc = 0;
    bool typed = pg->type == PGT_seg_desc && pg->type_count;
    if (!typed && (rc = pv_get_page_type(pg, PGT_writable, d))) {
        pv_put_page(pg);
        return -XEN_EINVAL;
    }
    unsigned idx = (unsigned)((maddr & (PAGE_SIZE - 1)) / 8);
    WRITE_ONCE(((uint64_t *)mfn_to_virt(mfn))[idx], desc);
    if (!typed)
        pv_put_page_type(pg);
    /* Keep the running copy in step (§4.7: Linux rewrites TLS entries on
     * every context switch this way). */
    for (unsigned f = 0; f < ARRAY_SIZE(v->gdt_frames); f++)
        if (v->gdt_frames[f] == mfn && f * 512 + idx < v->gdt_ents)
            cpu_gdt()[f * 512 + idx] = desc;
    /* Other vCPUs of the domain refresh their LDT copy when switched in
     * (one pCPU: none of them is running now). */
    if (v->ldt_loaded)
        for (unsigned f = 0; f < ARRAY_SIZE(v->ldt_frames); f++)
            if (v->ldt_frames[f] == mfn && f * 512 + idx < v->ldt_ents)
                cpu_ldt()[f * 512 + idx] = desc;
    pv_put_page(pg);
    return rc;
}

/* Can `sel` (RPL 3) be loaded as CS (code) or SS/DS (writable data) from
 * v's GDT, without the CPU faulting? Only checked selectors reach iretq. */
bool pv_selector_usable(struct vcpu *v, uint16_t sel, bool code)
{
    if ((sel & 3) != 3)
        return false;
    if (sel == FLAT_RING3_CS64 || sel == FLAT_RING3_CS32)
        return code;
    if (sel == FLAT_RING3_DS32)
        return !code;
    unsigned idx = sel >> 3;
    uint64_t d;
    if (sel & 4) {
        if (!ldt_ready(v, idx))
            return false;
        d = ldt_entry(v, idx);
    } else {
        if (idx >= v->gdt_ents)
            return false;
        d = ((const uint64_t *)mfn_to_virt(v->gdt_frames[idx / 512]))[idx % 512];
    }
    if (!(d & DESC_P) || !(d & DESC_S) || ((d >> 45) & 3) != 3)
        return false;
    if (code)
        return (d & DESC_CODE) != 0;
    return !(d & DESC_CODE) && (DESC_TYPE(d) & 2);   /* writable data */
}
