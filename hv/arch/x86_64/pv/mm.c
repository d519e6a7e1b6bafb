/* SPDX-License-Identifier: MIT */
/*
 * The PV MMU: guests build their own page tables over machine frames, and
 * every entry is validated before the hardware may use it (xen-pv-abi.md §5;
 * the counting rules are at the top of hv/mm.h).
 *
 * Invariants this file keeps:
 *  - a present entry in a validated table holds a general reference on its
 *    target, plus a type reference: L(n-1) for an Ln entry, writable for a
 *    writable L1 entry; except grant entries (L1, bit 62), which only
 *    common/gnttab.c writes and whose references its maptrack handle holds;
 *  - targets are frames the domain owns (or hypervisor pages shared with it);
 *    never hypervisor memory, never another domain's;
 *  - so no frame is at once a page table and writably mapped, and a table
 *    cannot reach itself at another level (linear page tables are refused:
 *    the type of a frame being validated is already set);
 *  - L4 slots 256-271 always hold the hypervisor's entries.
 *  - pages the hypervisor shares with a guest only ever take the writable
 *    type (it writes them unchecked);
 *  - device memory (hv/io.h: frames that are not RAM) appears only in L1
 *    entries of the privileged domain, never the hypervisor's own MMIO, and
 *    holds no references (it has no page_info to count in); only there may
 *    an entry carry the cache attributes PWT, PCD and PAT.
 * Single pCPU with interrupts off: no locking yet.
 */
#include <hv/pv.h>
#include <hv/hypercall.h>
#include <hv/guest_access.h>
#include <asm/cpu.h>
#include <hv/io.h>
#include <asm/page.h>
#include <asm/x86.h>
#include <public/memory.h>

#define L1_DISALLOWED (_PAGE_PWT | _PAGE_PCD | _PAGE_PAT | _PAGE_GNTTAB)
#define LN_DISALLOWED (_PAGE_PWT | _PAGE_PCD | _PAGE_PSE | _PAGE_GLOBAL)
/* Ops per hypercall invocation before a continuation. Inside a multicall,
 * where continuing is impossible, a longer batch is refused with -EINVAL
 * (Xen would continue the multicall; Linux batches far fewer). */
#define BATCH_LIMIT 1024

static bool is_pt_type(unsigned t) { return t >= PGT_l1 && t <= PGT_l4; }
static bool is_hv_l4_slot(unsigned i) { return i >= L4_SLOT_FIRST_HV && i <= L4_SLOT_LAST_HV; }

static void free_domain_frame(struct page_info *pg)
{
    mfn_t mfn = page_to_mfn(pg);
    set_m2p(mfn, INVALID_M2P_ENTRY);
    free_frames(mfn, 1);
}

bool pv_get_page(struct page_info *pg, struct domain *d)
{
    if (pg->owner != d->domain_id || !(pg->flags & (PGF_allocated | PGF_xen_heap)))
        return false;
    if (pg->count == UINT32_MAX)
        return false;
    pg->count++;
    return true;
}

void pv_put_page(struct page_info *pg)
{
    BUG_ON(pg->count == 0);
    if (--pg->count == 0 && !(pg->flags & PGF_xen_heap))
        free_domain_frame(pg);
}

static int get_entry_refs(uint64_t e, unsigned level, struct domain *d);
static void put_entry_refs(uint64_t e, unsigned level);

/* §5.2: what the hardware needs so the ring-3 guest kernel can use it. */
static uint64_t adjust_entry(uint64_t e, unsigned level)
{
    if (level == 1)
        return (e & _PAGE_USER) ? e : e | _PAGE_USER | _PAGE_GUEST_KERNEL;
    if (level == 4)
        return e | _PAGE_USER | _PAGE_ACCESSED;
    return e | _PAGE_USER;
}

static int validate_table(struct page_info *pg, unsigned level, struct domain *d)
{
    uint64_t *t = mfn_to_virt(page_to_mfn(pg));
    for (unsigned i = 0; i < 512; i++) {
        if (level == 4 && is_hv_l4_slot(i))
            continue;
        uint64_t e = t[i];
        if (!(e & _PAGE_PRESENT))
            continue;
        int rc = get_entry_refs(e, level, d);
        if (rc) {
            while (i--) {
                if (!(level == 4 && is_hv_l4_slot(i)))
                    put_entry_refs(t[i], level);
            }
            return rc;
        }
        t[i] = adjust_entry(e, level);
    }
    if (level == 4)
        install_hv_l4_slots(t);
    return 0;
}

static void devalidate_table(struct page_info *pg, unsigned level)
{
    uint64_t *t = mfn_to_virt(page_to_mfn(pg));
    for (unsigned i = 0; i < 512; i++)
        if (!(level == 4 && is_hv_l4_slot(i)))
            put_entry_refs(t[i], level);
}

int pv_get_page_type(struct page_info *pg, unsigned type, struct domain *d)
{
    /* Pages the hypervisor shares with a guest (shared_info, grant frames)
     * are written by the hypervisor without validation: they may be mapped
     * writable, but never become page tables or descriptor pages. */
    if ((pg->flags & PGF_xen_heap) && type != PGT_writable)
        return -XEN_EINVAL;
    if (pg->type_count == 0) {
        pg->type = (uint8_t)type;
        pg->flags &= ~PGF_validated;
        pg->type_count = 1;
        if (type == PGT_seg_desc) {
            int rc = pv_validate_seg_desc_page(page_to_mfn(pg));
            if (rc) {
                pg->type_count = 0;
                pg->type = PGT_none;
                return rc;
            }
        }
        if (is_pt_type(type)) {
            int rc = validate_table(pg, type, d);
            if (rc) {
                pg->type_count = 0;
                pg->type = PGT_none;
                return rc;
            }
            pg->flags |= PGF_validated;
        }
        return 0;
    }
    if (pg->type != type || (is_pt_type(type) && !(pg->flags & PGF_validated)))
        return -XEN_EINVAL;
    if (pg->type_count == UINT32_MAX)
        return -XEN_EINVAL;
    pg->type_count++;
    return 0;
}

void pv_put_page_type(struct page_info *pg)
{
    BUG_ON(pg->type_count == 0);
    if (--pg->type_count)
        return;
    if (is_pt_type(pg->type) && (pg->flags & PGF_validated)) {
        pg->flags &= ~PGF_validated;
        devalidate_table(pg, pg->type);
    }
    pg->type = PGT_none;
}

/* A target frame for a guest entry: RAM the domain may reference (device
 * memory never gets here: see check_io_entry). */
static struct page_info *entry_target(uint64_t e, unsigned level, struct domain *d, int *rc)
{
    mfn_t mfn = pte_mfn(e);
    if (!mfn_valid(mfn)) {
        *rc = -XEN_EPERM;
        return NULL;
    }
    struct page_info *pg = mfn_to_page(mfn);
    struct domain *owner = d;
    /* The control domain may map (never use as page tables) the frames of
     * any live domain: that is how it builds and serves them. */
    if (level == 1 && pg->owner != d->domain_id && d->is_privileged && pg->owner < MAX_DOMAINS &&
        domain_by_id(pg->owner))
        owner = domain_by_id(pg->owner);
    if (!pv_get_page(pg, owner)) {
        *rc = -XEN_EINVAL;
        return NULL;
    }
    return pg;
}

/* An L1 entry naming device memory: the privileged domain's, with any cache
 * attributes (docs/pci.md); -EPERM for anyone else and for the hypervisor's
 * own MMIO. */
static int check_io_entry(uint64_t e, const struct domain *d)
{
    if (!d->is_privileged || io_mfn_hv_owned(pte_mfn(e)))
        return -XEN_EPERM;
    return (e & _PAGE_GNTTAB) ? -XEN_EINVAL : 0;
}

static int get_entry_refs(uint64_t e, unsigned level, struct domain *d)
{
    int rc = 0;
    if (level == 1 && mfn_is_io(pte_mfn(e)))
        return check_io_entry(e, d);
    if (e & (level == 1 ? L1_DISALLOWED : LN_DISALLOWED))
        return -XEN_EINVAL;
    struct page_info *pg = entry_target(e, level, d, &rc);
    if (!pg)
        return rc;
    if (level == 1) {
        if ((e & _PAGE_RW) && (rc = pv_get_page_type(pg, PGT_writable, d)))
            pv_put_page(pg);
        return rc;
    }
    if ((rc = pv_get_page_type(pg, level - 1, d)))
        pv_put_page(pg);
    return rc;
}

static void put_entry_refs(uint64_t e, unsigned level)
{
    /* Device memory holds no references; a grant entry's belong to its
     * maptrack handle (hv/gnttab.h). */
    if (!(e & _PAGE_PRESENT) || (level == 1 && (mfn_is_io(pte_mfn(e)) || (e & _PAGE_GNTTAB))))
        return;
    struct page_info *pg = mfn_to_page(pte_mfn(e));
    if (level > 1 || (e & _PAGE_RW))
        pv_put_page_type(pg);
    pv_put_page(pg);
}

/* Replaces entry `index` of validated table `pg` (level `level`). */
static int mod_entry(struct page_info *pg, unsigned level, unsigned index, uint64_t val,
                     bool preserve_ad, struct domain *d)
{
    uint64_t *t = mfn_to_virt(page_to_mfn(pg));
    if (level == 4 && is_hv_l4_slot(index))
        return -XEN_EINVAL;
    uint64_t old = t[index];
    if (val & _PAGE_PRESENT) {
        int rc = get_entry_refs(val, level, d);
        if (rc)
            return rc;
        val = adjust_entry(val, level);
    }
    if (preserve_ad)
        val |= old & (_PAGE_ACCESSED | _PAGE_DIRTY);
    WRITE_ONCE(t[index], val);
    put_entry_refs(old, level);
    if (level > 1)
        flush_tlb_local();
    return 0;
}

int pv_pin_table(struct domain *d, mfn_t mfn, unsigned type)
{
    if (!mfn_valid(mfn))
        return -XEN_EINVAL;
    struct page_info *pg = mfn_to_page(mfn);
    if (!pv_get_page(pg, d))
        return -XEN_EINVAL;
    if (pg->flags & PGF_pinned) {
        pv_put_page(pg);
        return -XEN_EINVAL;
    }
    int rc = pv_get_page_type(pg, type, d);
    if (rc) {
        pv_put_page(pg);
        return rc;
    }
    pg->flags |= PGF_pinned;
    return 0;
}

static int unpin_table(struct domain *d, mfn_t mfn)
{
    if (!mfn_valid(mfn))
        return -XEN_EINVAL;
    struct page_info *pg = mfn_to_page(mfn);
    if (pg->owner != d->domain_id || !(pg->flags & PGF_pinned))
        return -XEN_EINVAL;
    pg->flags &= ~PGF_pinned;
    pv_put_page_type(pg);
    pv_put_page(pg);
    return 0;
}

int pv_set_baseptr(struct vcpu *v, mfn_t mfn, bool user)
{
    struct domain *d = v->domain;
    mfn_t *slot = user ? &v->guest_table_user : &v->guest_table;

    if (user && mfn == 0) {
        mfn_t old = *slot;
        *slot = 0;
        if (old) {
            pv_put_page_type(mfn_to_page(old));
            pv_put_page(mfn_to_page(old));
        }
        return 0;
    }
    if (!mfn_valid(mfn))
        return -XEN_EINVAL;
    struct page_info *pg = mfn_to_page(mfn);
    if (!pv_get_page(pg, d))
        return -XEN_EINVAL;
    int rc = pv_get_page_type(pg, PGT_l4, d);
    if (rc) {
        pv_put_page(pg);
        return rc;
    }
    mfn_t old = *slot;
    *slot = mfn;
    if (v->is_running && user != v->in_kernel)
        write_cr3(mfn << PAGE_SHIFT);
    if (old) {
        pv_put_page_type(mfn_to_page(old));
        pv_put_page(mfn_to_page(old));
    }
    return 0;
}

/* Arranges for the hypercall to be re-executed with the remaining work: the
 * guest re-runs its `syscall` (§1.1 "Preemption/continuation"). */
static long continue_batch(uint64_t next_ptr, uint64_t remaining)
{
    struct cpu_regs *regs = guest_regs();
    regs->rdi = next_ptr;
    regs->rsi = remaining | MMU_UPDATE_PREEMPTED;
    regs->rip -= 2;
    return (long)regs->rax;    /* rax must still hold the hypercall number */
}

/* Reads the running "done" total: a continued batch adds to what earlier
 * invocations already reported. */
static int add_done(uint64_t pdone, bool continued, uint64_t n)
{
    uint32_t total = 0;
    if (!pdone)
        return 0;
    if (continued && copy_from_guest(&total, pdone, sizeof(total)))
        return -XEN_EFAULT;
    total += (uint32_t)n;
    return copy_to_guest(pdone, &total, sizeof(total));
}

/* foreigndom (§5.3): bits 0-15 name the owner of the frames being mapped or
 * pinned. Only the privileged domain may name another domain; separate
 * page-table owners (bits 16-31) are not supported. */
static long resolve_foreigndom(struct domain *d, uint64_t foreigndom, struct domain **fd)
{
    domid_t dom = (domid_t)(foreigndom & 0xffff);
    if (foreigndom >> 16)
        return -XEN_EINVAL;
    if (dom == DOMID_SELF || dom == d->domain_id) {
        *fd = d;
        return 0;
    }
    if (!d->is_privileged)
        return -XEN_EPERM;
    if (!(*fd = domain_by_id(dom)))
        return -XEN_ESRCH;
    return 0;
}

long do_mmu_update(uint64_t reqs, uint64_t count, uint64_t pdone, uint64_t foreigndom)
{
    struct domain *d = current_domain();
    bool continued = count & MMU_UPDATE_PREEMPTED;
    count &= ~(uint64_t)MMU_UPDATE_PREEMPTED;
    struct domain *fd;
    if (count > UINT32_MAX)
        return -XEN_EINVAL;
    long frc = resolve_foreigndom(d, foreigndom, &fd);
    if (frc)
        return frc;

    long rc = 0;
    uint64_t i;
    for (i = 0; i < count; i++) {
        if (i == BATCH_LIMIT) {
            if (!hypercall_can_continue()) {
                rc = -XEN_EINVAL;
                break;
            }
            if ((rc = add_done(pdone, continued, i)))
                return rc;
            return continue_batch(reqs + i * sizeof(struct mmu_update), count - i);
        }
        struct mmu_update req;
        if (copy_from_guest(&req, reqs + i * sizeof(req), sizeof(req))) {
            rc = -XEN_EFAULT;
            break;
        }
        unsigned cmd = req.ptr & 3;
        mfn_t mfn = req.ptr >> PAGE_SHIFT;
        if (!mfn_valid(mfn)) {
            rc = -XEN_EINVAL;
            break;
        }
        struct page_info *pg = mfn_to_page(mfn);
        if (!pv_get_page(pg, d)) {
            rc = -XEN_EINVAL;
            break;
        }
        switch (cmd) {
        case MMU_NORMAL_PT_UPDATE:
        case MMU_PT_UPDATE_PRESERVE_AD: {
            unsigned index = (unsigned)((req.ptr & (PAGE_SIZE - 1)) >> 3);
            if (is_pt_type(pg->type) && pg->type_count && (pg->flags & PGF_validated)) {
                rc = mod_entry(pg, pg->type, index, req.val, cmd == MMU_PT_UPDATE_PRESERVE_AD, d);
            } else if (!(rc = pv_get_page_type(pg, PGT_writable, d))) {
                /* Not a page table: a plain store into writable memory. */
                ((uint64_t *)mfn_to_virt(mfn))[index] = req.val;
                pv_put_page_type(pg);
            }
            break;
        }
        case MMU_MACHPHYS_UPDATE:
            set_m2p(mfn, req.val);
            break;
        default:
            rc = -XEN_ENOSYS;
            break;
        }
        pv_put_page(pg);
        if (rc)
            break;
    }
    int rc2 = add_done(pdone, continued, i);
    return rc ? rc : rc2;
}

/* Flush per update_va_mapping flags (§5.4); with one vCPU per domain every
 * target set is just this CPU, but a vcpumask pointer must still be valid. */
static long uvm_flush(uint64_t va, uint64_t flags)
{
    uint64_t where = flags & ~(uint64_t)UVMF_FLUSHTYPE_MASK;
    if (where != UVMF_LOCAL && where != UVMF_ALL) {
        uint64_t mask;
        if (copy_from_guest(&mask, where, sizeof(mask)))
            return -XEN_EFAULT;
    }
    switch (flags & UVMF_FLUSHTYPE_MASK) {
    case UVMF_TLB_FLUSH:
        flush_tlb_local();
        break;
    case UVMF_INVLPG:
        invlpg(va);
        break;
    default:
        break;
    }
    return 0;
}

/* Finds the validated L1 table that maps va in v's kernel page table. */
static struct page_info *l1_for_va(struct vcpu *v, uint64_t va);

/* For the writable-page-table emulator: the L1 table for va and the entry
 * that maps va now. */
struct page_info *pv_l1_for_va(struct vcpu *v, uint64_t va, uint64_t *l1e)
{
    struct page_info *l1 = l1_for_va(v, va);
    if (l1)
        *l1e = ((const uint64_t *)mfn_to_virt(page_to_mfn(l1)))[l1_index(va)];
    return l1;
}

int pv_mod_l1_entry(struct page_info *l1, unsigned index, uint64_t val, struct domain *d)
{
    return mod_entry(l1, 1, index, val, false, d);
}

static struct page_info *l1_for_va(struct vcpu *v, uint64_t va)
{
    if (!va_is_canonical(va) || (va >= HYPERVISOR_VIRT_START && va < HYPERVISOR_VIRT_END) || !v->guest_table)
        return NULL;
    uint64_t *t = mfn_to_virt(v->guest_table);
    const unsigned idx[3] = { l4_index(va), l3_index(va), l2_index(va) };
    for (unsigned lvl = 0; lvl < 3; lvl++) {
        uint64_t e = t[idx[lvl]];
        if (!(e & _PAGE_PRESENT) || (lvl > 0 && (e & _PAGE_PSE)) || !mfn_valid(pte_mfn(e)))
            return NULL;
        t = mfn_to_virt(pte_mfn(e));
    }
    struct page_info *l1 = mfn_to_page(virt_to_mfn(t));
    if (l1->type != PGT_l1 || !l1->type_count || !(l1->flags & PGF_validated))
        return NULL;
    return l1;
}

/* For grant mappings (common/gnttab.c): the entry slot in a validated L1
 * table of v's domain that `addr` names, the machine address of the entry
 * (is_maddr) or a virtual address in v's kernel page table; NULL if none. */
uint64_t *pv_grant_l1_slot(struct vcpu *v, uint64_t addr, bool is_maddr)
{
    struct page_info *l1;
    unsigned index;
    if (is_maddr) {
        if ((addr & 7) || !mfn_valid(addr >> PAGE_SHIFT))
            return NULL;
        l1 = mfn_to_page(addr >> PAGE_SHIFT);
        if (l1->type != PGT_l1 || !l1->type_count || !(l1->flags & PGF_validated))
            return NULL;
        index = (unsigned)((addr & (PAGE_SIZE - 1)) >> 3);
    } else {
        if (!(l1 = l1_for_va(v, addr)))
            return NULL;
        index = l1_index(addr);
    }
    if (l1->owner != v->domain->domain_id)
        return NULL;
    return (uint64_t *)mfn_to_virt(page_to_mfn(l1)) + index;
}

/* Stores val (a grant entry or 0) unchecked; the old entry's references go. */
void pv_grant_l1_write(uint64_t *slot, uint64_t val)
{
    uint64_t old = *slot;
    WRITE_ONCE(*slot, val);
    put_entry_refs(old, 1);
}

long do_update_va_mapping(uint64_t va, uint64_t val, uint64_t flags)
{
    struct vcpu *v = current_vcpu();
    struct page_info *l1 = l1_for_va(v, va);
    if (!l1)
        return -XEN_EINVAL;
    long rc = mod_entry(l1, 1, l1_index(va), val, false, v->domain);
    if (rc)
        return rc;
    return uvm_flush(va, flags);
}

/* update_va_mapping_otherdomain (#22): the same, with the frame owned by
 * `domid` (the privileged domain mapping another's memory). */
long do_update_va_mapping_otherdomain(uint64_t va, uint64_t val, uint64_t flags, uint64_t domid)
{
    struct vcpu *v = current_vcpu();
    struct domain *fd;
    long rc = resolve_foreigndom(v->domain, domid & 0xffff, &fd);
    if (rc)
        return rc;
    return do_update_va_mapping(va, val, flags);
}

/* fd: the domain whose frames PIN/UNPIN name (the caller unless dom0 acts
 * for a domain it builds). */
static long mmuext_one(struct vcpu *v, struct domain *fd, const struct mmuext_op *op)
{
    struct domain *d = v->domain;
    switch (op->cmd) {
    case MMUEXT_PIN_L1_TABLE:
    case MMUEXT_PIN_L2_TABLE:
    case MMUEXT_PIN_L3_TABLE:
    case MMUEXT_PIN_L4_TABLE:
        return pv_pin_table(fd, op->arg1.mfn, op->cmd - MMUEXT_PIN_L1_TABLE + PGT_l1);
    case MMUEXT_UNPIN_TABLE:
        return unpin_table(fd, op->arg1.mfn);
    case MMUEXT_NEW_BASEPTR:
        return pv_set_baseptr(v, op->arg1.mfn, false);
    case MMUEXT_NEW_USER_BASEPTR:
        return pv_set_baseptr(v, op->arg1.mfn, true);
    case MMUEXT_TLB_FLUSH_LOCAL:
    case MMUEXT_TLB_FLUSH_ALL:
        flush_tlb_local();
        return 0;
    case MMUEXT_TLB_FLUSH_MULTI:
    case MMUEXT_INVLPG_MULTI: {
        uint64_t mask;
        if (copy_from_guest(&mask, op->arg2.vcpumask, sizeof(mask)))
            return -XEN_EFAULT;
        if (op->cmd == MMUEXT_TLB_FLUSH_MULTI)
            flush_tlb_local();
        else if (va_is_canonical(op->arg1.linear_addr))
            invlpg(op->arg1.linear_addr);
        return 0;
    }
    case MMUEXT_INVLPG_LOCAL:
    case MMUEXT_INVLPG_ALL:
        if (!va_is_canonical(op->arg1.linear_addr))
            return -XEN_EINVAL;
        invlpg(op->arg1.linear_addr);
        return 0;
    case MMUEXT_FLUSH_CACHE:
    case MMUEXT_FLUSH_CACHE_GLOBAL:
        if (!d->is_privileged)
            return -XEN_EACCES;
        __asm__ volatile("wbinvd" ::: "memory");
        return 0;
    case MMUEXT_SET_LDT:
        if ((op->arg1.linear_addr & (PAGE_SIZE - 1)) || op->arg2.nr_ents > LDT_MAX_ENTS ||
            !guest_range_ok(op->arg1.linear_addr, (uint64_t)op->arg2.nr_ents * 8))
            return -XEN_EINVAL;
        return pv_set_ldt(v, op->arg1.linear_addr, op->arg2.nr_ents);
    case MMUEXT_CLEAR_PAGE:
    case MMUEXT_COPY_PAGE: {
        if (!mfn_valid(op->arg1.mfn))
            return -XEN_EINVAL;
        struct page_info *dst = mfn_to_page(op->arg1.mfn);
        if (!pv_get_page(dst, d))
            return -XEN_EINVAL;
        long rc = pv_get_page_type(dst, PGT_writable, d);
        if (rc) {
            pv_put_page(dst);
            return rc;
        }
        if (op->cmd == MMUEXT_COPY_PAGE) {
            struct page_info *src = mfn_valid(op->arg2.src_mfn) ? mfn_to_page(op->arg2.src_mfn) : NULL;
            if (src && pv_get_page(src, d)) {
                memcpy(mfn_to_virt(op->arg1.mfn), mfn_to_virt(op->arg2.src_mfn), PAGE_SIZE);
                pv_put_page(src);
            } else {
                rc = -XEN_EINVAL;
            }
        } else {
            memset(mfn_to_virt(op->arg1.mfn), 0, PAGE_SIZE);
        }
        pv_put_page_type(dst);
        pv_put_page(dst);
        return rc;
    }
    case MMUEXT_MARK_SUPER:
    case MMUEXT_UNMARK_SUPER:
        return -XEN_EOPNOTSUPP;
    default:
        return -XEN_ENOSYS;
    }
}

long do_mmuext_op(uint64_t ops, uint64_t count, uint64_t pdone, uint64_t foreigndom)
{
    struct vcpu *v = current_vcpu();
    bool continued = count & MMU_UPDATE_PREEMPTED;
    count &= ~(uint64_t)MMU_UPDATE_PREEMPTED;
    struct domain *fd;
    if (count > UINT32_MAX)
        return -XEN_EINVAL;
    long frc = resolve_foreigndom(v->domain, foreigndom, &fd);
    if (frc)
        return frc;
    long rc = 0;
    uint64_t i;
    for (i = 0; i < count; i++) {
        if (i == BATCH_LIMIT) {
            if (!hypercall_can_continue()) {
                rc = -XEN_EINVAL;
                break;
            }
            if ((rc = add_done(pdone, continued, i)))
                return rc;
            return continue_batch(ops + i * sizeof(struct mmuext_op), count - i);
        }
        struct mmuext_op op;
        if (copy_from_guest(&op, ops + i * sizeof(op), sizeof(op))) {
            rc = -XEN_EFAULT;
            break;
        }
        if ((rc = mmuext_one(v, fd, &op)))
            break;
    }
    int rc2 = add_done(pdone, continued, i);
    return rc ? rc : rc2;
}

/* Removes one frame from its domain (decrease_reservation): the domain's
 * allocation reference goes; mappings still holding it keep it alive. */
static long remove_frame(struct domain *t, mfn_t mfn)
{
    if (!mfn_valid(mfn))
        return -XEN_EINVAL;
    struct page_info *pg = mfn_to_page(mfn);
    if (pg->owner != t->domain_id || !(pg->flags & PGF_allocated) || (pg->flags & PGF_xen_heap))
        return -XEN_EINVAL;
    if (pg->flags & PGF_pinned)
        return -XEN_EBUSY;
    uint32_t *link = &t->page_list_head;
    while (*link != ~0u && *link != mfn)
        link = &mfn_to_page(*link)->next;
    if (*link != mfn)
        return -XEN_EINVAL;
    *link = pg->next;
    pg->next = ~0u;
    pg->flags &= ~PGF_allocated;
    t->tot_pages--;
    set_m2p(mfn, INVALID_M2P_ENTRY);
    pv_put_page(pg);
    return 0;
}

/* Guests never get the last 4 MiB: the hypervisor's own allocations
 * (domain structures, page tables, event channels) must not fail because
 * a guest ballooned up. */
#define HV_RESERVED_FRAMES 1024
#define MEMOP_EXTENT_SHIFT 6
#define MEMOP_CMD_MASK ((1u << MEMOP_EXTENT_SHIFT) - 1)

/* increase_reservation, populate_physmap and decrease_reservation, order 0:
 * returns the number of extents done. For a PV domain populate_physmap
 * takes PFNs in and writes the new MFNs back (the p2m is the guest's). */
static long memory_reservation(struct domain *d, uint64_t cmd, uint64_t arg)
{
    struct xen_memory_reservation r;
    unsigned op = cmd & MEMOP_CMD_MASK;
    uint64_t start = cmd >> MEMOP_EXTENT_SHIFT;
    if (copy_from_guest(&r, arg, sizeof(r)))
        return -XEN_EFAULT;
    if (r.extent_order != 0 || start > r.nr_extents || r.nr_extents > (1ull << 32))
        return -XEN_EINVAL;
    struct domain *t;
    long rc = resolve_foreigndom(d, r.domid, &t);
    if (rc)
        return rc;
    uint64_t i;
    for (i = start; i < r.nr_extents; i++) {
        if (i - start == BATCH_LIMIT) {
            if (!hypercall_can_continue())
                return (long)i;       /* partial: the caller sees how far it got */
            struct cpu_regs *regs = guest_regs();
            regs->rdi = op | (i << MEMOP_EXTENT_SHIFT);
            regs->rip -= 2;
            return (long)regs->rax;
        }
        uint64_t slot = r.extent_start + i * sizeof(uint64_t), frame = 0;
        if (r.extent_start && copy_from_guest(&frame, slot, sizeof(frame)))
            return i ? (long)i : -XEN_EFAULT;
        if (op == XENMEM_decrease_reservation) {
            if (remove_frame(t, frame))
                break;
            continue;
        }
        if (t->tot_pages >= t->max_pages || free_frame_count() <= HV_RESERVED_FRAMES)
            break;
        mfn_t mfn = alloc_frames(1, t->domain_id);
        if (mfn == INVALID_MFN)
            break;
        if (domain_assign_page(t, mfn)) {
            free_frames(mfn, 1);
            break;
        }
        set_m2p(mfn, op == XENMEM_populate_physmap ? frame : INVALID_M2P_ENTRY);
        if (r.extent_start && copy_to_guest(slot, &mfn, sizeof(mfn)))
            return i ? (long)i : -XEN_EFAULT;   /* the frame stays the domain's */
    }
    return (long)i;
}

long do_memory_op(uint64_t cmd, uint64_t arg)
{
    struct domain *d = current_domain();
    switch (cmd & MEMOP_CMD_MASK) {    /* higher bits carry a continuation's start extent */
    case XENMEM_machphys_mapping: {
        struct xen_machphys_mapping m = { MACH2PHYS_VIRT_START, MACH2PHYS_VIRT_END, MACH2PHYS_NR_ENTRIES - 1 };
        return copy_to_guest(arg, &m, sizeof(m));
    }
    case XENMEM_memory_map: {
        struct xen_memory_map map;
        if (copy_from_guest(&map, arg, sizeof(map)))
            return -XEN_EFAULT;
        if (!d->mem_map_pages)
            return -XEN_ENOSYS;
        if (map.nr_entries < 1)
            return -XEN_EINVAL;
        struct xen_e820_entry e = { 0, d->mem_map_pages << PAGE_SHIFT, XEN_E820_RAM };
        if (copy_to_guest(map.buffer, &e, sizeof(e)))
            return -XEN_EFAULT;
        map.nr_entries = 1;
        return copy_to_guest(arg, &map, sizeof(map));
    }
    case XENMEM_increase_reservation:
    case XENMEM_populate_physmap:
    case XENMEM_decrease_reservation:
        return memory_reservation(d, cmd, arg);
    case XENMEM_maximum_ram_page:
        return (long)max_mfn - 1;
    case XENMEM_current_reservation:
    case XENMEM_maximum_reservation: {
        domid_t dom;
        if (copy_from_guest(&dom, arg, sizeof(dom)))
            return -XEN_EFAULT;
        if (dom != DOMID_SELF && dom != d->domain_id) {
            if (!d->is_privileged)
                return -XEN_EPERM;
            struct domain *t = domain_by_id(dom);
            if (!t)
                return -XEN_ESRCH;
            return (long)((cmd & MEMOP_CMD_MASK) == XENMEM_current_reservation ? t->tot_pages : t->max_pages);
        }
        return (long)((cmd & MEMOP_CMD_MASK) == XENMEM_current_reservation ? d->tot_pages : d->max_pages);
    }
    case XENMEM_maximum_gpfn:
        return d->mem_map_pages ? (long)d->mem_map_pages - 1 : (long)d->tot_pages - 1;
    default:
        return -XEN_ENOSYS;
    }
}
