/* SPDX-License-Identifier: MIT */
/*
 * A guest's own GDT (set_gdt, update_descriptor; xen-pv-abi.md §4.1, §4.7).
 *
 * The frames a guest names become segment-descriptor pages: validated, and
 * by the type rules never writable while typed, so they change only through
 * update_descriptor. That lets us copy the guest's descriptors into the
 * per-CPU GDT (entries below FIRST_RESERVED_GDT_ENTRY) when its vCPU is
 * switched in, instead of remapping GDT pages per vCPU: Linux uses 16
 * entries, a 128-byte copy. The copy is kept in step by update_descriptor.
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

static void release_gdt(struct vcpu *v)
{
    for (unsigned i = 0; i < ARRAY_SIZE(v->gdt_frames); i++) {
        if (!v->gdt_frames[i])
            continue;
        pv_put_page_type(mfn_to_page(v->gdt_frames[i]));
        pv_put_page(mfn_to_page(v->gdt_frames[i]));
        v->gdt_frames[i] = 0;
    }
    v->gdt_ents = 0;
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

void pv_vcpu_release_gdt(struct vcpu *v)
{
    release_gdt(v);
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
    pv_put_page(pg);
    return rc;
}

/* Can `sel` (RPL 3) be loaded as CS (code) or SS/DS (writable data) from
 * v's GDT, without the CPU faulting? Only checked selectors reach iretq. */
bool pv_selector_usable(const struct vcpu *v, uint16_t sel, bool code)
{
    if ((sel & 3) != 3)
        return false;
    if (sel == FLAT_RING3_CS64 || sel == FLAT_RING3_CS32)
        return code;
    if (sel == FLAT_RING3_DS32)
        return !code;
    if (sel & 4)
        return false;            /* LDT selectors: no LDT support yet */
    unsigned idx = sel >> 3;
    if (idx >= v->gdt_ents)
        return false;
    uint64_t d = ((const uint64_t *)mfn_to_virt(v->gdt_frames[idx / 512]))[idx % 512];
    if (!(d & DESC_P) || !(d & DESC_S) || ((d >> 45) & 3) != 3)
        return false;
    if (code)
        return (d & DESC_CODE) != 0;
    return !(d & DESC_CODE) && (DESC_TYPE(d) & 2);   /* writable data */
}
