/* SPDX-License-Identifier: MIT */
/*
 * Grant tables, version 1 (xen-pv-abi.md §7; docs/grant-tables.md): the
 * table frames a domain shares with the hypervisor, the set-up operations
 * guests issue at boot, and the backend side: map_grant_ref,
 * unmap_grant_ref, unmap_and_replace and copy, with Xen's checks and status
 * codes. Frames are hypervisor memory shared with (and mappable by) their
 * domain, allocated on demand up to GNTTAB_MAX_FRAMES. The bookkeeping
 * (active entries, maptrack) is described in hv/gnttab.h.
 */
#include <hv/hypercall.h>
#include <hv/gnttab.h>
#include <hv/pv.h>
#include <hv/guest_access.h>
#include <asm/page.h>
#include <asm/x86.h>
#include <public/grant_table.h>

/* Ops per invocation before a continuation (none inside a multicall). */
#define GNT_BATCH 512

static long gnttab_target(struct domain *cur, uint16_t dom, struct domain **d)
{
    if (dom == DOMID_SELF || dom == cur->domain_id) {
        *d = cur;
        return GNTST_okay;
    }
    if (!cur->is_privileged)
        return GNTST_permission_denied;
    *d = domain_by_id(dom);
    return *d ? GNTST_okay : GNTST_bad_domain;
}

/* Makes sure d has at least nr table frames (and their active entries). */
static int grow_table(struct domain *d, unsigned nr)
{
    while (d->gnttab_nr_frames < nr) {
        struct active_grant *act = alloc_xen_pages(1);
        void *page = act ? alloc_xen_pages(1) : NULL;
        if (!page) {
            free_xen_pages(act, 1);
            return -XEN_ENOMEM;
        }
        d->gnttab_active[d->gnttab_nr_frames] = act;
        mfn_t mfn = virt_to_mfn(page);
        struct page_info *pg = mfn_to_page(mfn);
        pg->owner = d->domain_id;
        pg->flags |= PGF_xen_heap;
        d->gnttab_frames[d->gnttab_nr_frames++] = mfn;
    }
    return 0;
}

/* The first 32 bits of entry ref: flags | domid << 16, updated as one. */
static uint32_t *entry_word(const struct domain *d, uint32_t ref)
{
    return (uint32_t *)mfn_to_virt(d->gnttab_frames[ref / GRANTS_PER_FRAME]) + 2 * (ref % GRANTS_PER_FRAME);
}

static struct active_grant *active(const struct domain *d, uint32_t ref)
{
    return &d->gnttab_active[ref / GRANTS_PER_FRAME][ref % GRANTS_PER_FRAME];
}

/* Xen's acquire protocol (§7.1): sets GTF_reading (and GTF_writing) in the
 * shared entry if it grants ldom access of that kind; the granter may race
 * us, so a few compare-exchange retries, then give up. */
static int16_t set_status(uint32_t *word, domid_t ldom, bool ro, bool pinned, bool map)
{
    uint32_t type_mask = GTF_type_mask | (map ? GTF_sub_page : 0);
    uint32_t cur = __atomic_load_n(word, __ATOMIC_SEQ_CST);
    for (unsigned tries = 0;; tries++) {
        if (!pinned && ((cur & type_mask) != GTF_permit_access || (cur >> 16) != ldom))
            return GNTST_general_error;
        if (!ro && (cur & GTF_readonly))
            return GNTST_general_error;
        uint32_t want = cur | GTF_reading | (ro ? 0 : GTF_writing);
        if (__atomic_compare_exchange_n(word, &cur, want, false, __ATOMIC_SEQ_CST, __ATOMIC_SEQ_CST))
            return GNTST_okay;
        if (tries == 4)
            return GNTST_general_error;
    }
}

/* Clears what the remaining pins no longer hold up. */
static void reduce_status(const struct domain *rd, uint32_t ref)
{
    const struct active_grant *act = active(rd, ref);
    uint32_t clear = (act->ro || act->rw) ? 0 : GTF_reading;
    if (!act->rw)
        clear |= GTF_writing;
    if (clear)
        __atomic_fetch_and(entry_word(rd, ref), ~clear, __ATOMIC_SEQ_CST);
}

/* Pins rd's grant ref for ldom: the frame is fixed from the first pin to
 * the last unpin. No page references are taken here. */
static int16_t grant_pin(struct domain *rd, uint32_t ref, domid_t ldom, bool ro, bool map, mfn_t *mfn)
{
    if (ref >= rd->gnttab_nr_frames * GRANTS_PER_FRAME)
        return GNTST_bad_gntref;
    struct active_grant *act = active(rd, ref);
    bool pinned = act->ro || act->rw;
    if (pinned && (act->domid != ldom || (ro ? act->ro : act->rw) == GRANT_PIN_MAX))
        return GNTST_general_error;
    if (!pinned || (!ro && !act->rw)) {
        int16_t rc = set_status(entry_word(rd, ref), ldom, ro, pinned, map);
        if (rc)
            return rc;
        if (!pinned) {
            const struct grant_entry_v1 *e = (const void *)entry_word(rd, ref);
            mfn_t f = READ_ONCE(e->frame);
            const struct page_info *pg = mfn_valid(f) ? mfn_to_page(f) : NULL;
            if (!pg || pg->owner != rd->domain_id || !(pg->flags & (PGF_allocated | PGF_xen_heap))) {
                reduce_status(rd, ref);
                return GNTST_bad_page;
            }
            act->mfn = (uint32_t)f;
            act->domid = ldom;
        }
    }
    if (ro)
        act->ro++;
    else
        act->rw++;
    *mfn = act->mfn;
    return GNTST_okay;
}

static void grant_unpin(struct domain *rd, uint32_t ref, bool ro)
{
    struct active_grant *act = active(rd, ref);
    if (ro)
        act->ro--;
    else
        act->rw--;
    reduce_status(rd, ref);
}

/* A general reference on a frame of d, plus a writable type reference
 * unless ro (so a page table is never written through a grant). */
static int16_t get_frame(mfn_t mfn, struct domain *d, bool ro)
{
    struct page_info *pg = mfn_valid(mfn) ? mfn_to_page(mfn) : NULL;
    if (!pg || !pv_get_page(pg, d))
        return GNTST_bad_page;
    if (!ro && pv_get_page_type(pg, PGT_writable, d)) {
        pv_put_page(pg);
        return GNTST_general_error;
    }
    return GNTST_okay;
}

static void put_frame(mfn_t mfn, bool ro)
{
    if (!ro)
        pv_put_page_type(mfn_to_page(mfn));
    pv_put_page(mfn_to_page(mfn));
}

static uint32_t maptrack_get(struct domain *d)
{
    if (!d->maptrack_free) {
        if (d->maptrack_frames == MAPTRACK_MAX_FRAMES)
            return 0;
        if (!d->maptrack && !(d->maptrack = alloc_xen_pages(1)))
            return 0;
        struct grant_mapping *page = alloc_xen_pages(1);
        if (!page)
            return 0;
        uint32_t base = d->maptrack_frames * MAPTRACK_PER_FRAME;
        for (uint32_t i = 0; i + 1 < MAPTRACK_PER_FRAME; i++)
            page[i].next_free = base + i + 2;
        d->maptrack[d->maptrack_frames++] = page;
        d->maptrack_free = base + 1;
    }
    uint32_t h = d->maptrack_free - 1;
    d->maptrack_free = maptrack_entry(d, h)->next_free;
    return h + 1;
}

static void maptrack_put(struct domain *d, uint32_t h)
{
    struct grant_mapping *mt = maptrack_entry(d, h);
    mt->flags = 0;
    mt->next_free = d->maptrack_free;
    d->maptrack_free = h + 1;
}

/* Drops one mapping's pins and references, and its handle. A granter that
 * is still there is in domain_list even while it is being destroyed. */
static void release_mapping(struct domain *ld, uint32_t h)
{
    struct grant_mapping *mt = maptrack_entry(ld, h);
    bool ro = mt->flags & GNTMAP_readonly;
    if (!(mt->flags & MT_ORPHAN))
        grant_unpin(domain_list[mt->dom], mt->ref, ro);
    put_frame(mt->mfn, ro);
    maptrack_put(ld, h);
}

/* The PTE of a host mapping (Xen's grant_to_pte_flags and adjust_guest_l1e). */
static uint64_t grant_pte(mfn_t mfn, uint32_t flags)
{
    uint64_t e = (mfn << PAGE_SHIFT) | _PAGE_PRESENT | _PAGE_ACCESSED | _PAGE_DIRTY | _PAGE_GNTTAB | _PAGE_NX |
                 ((uint64_t)((flags & GNTMAP_guest_avail_mask) >> GNTMAP_guest_avail_shift) << 9);
    if (!(flags & GNTMAP_readonly))
        e |= _PAGE_RW;
    return e | ((flags & GNTMAP_application_map) ? _PAGE_USER : _PAGE_USER | _PAGE_GUEST_KERNEL);
}

static void flush_one(uint64_t host_addr, uint32_t flags)
{
    if (flags & GNTMAP_contains_pte)
        flush_tlb_local();
    else
        invlpg(host_addr);
}

static int16_t map_one(struct vcpu *v, struct gnttab_map_grant_ref *op)
{
    struct domain *ld = v->domain;
    bool ro = op->flags & GNTMAP_readonly;
    if (!(op->flags & (GNTMAP_host_map | GNTMAP_device_map)))
        return GNTST_bad_gntref;
    if (!(op->flags & GNTMAP_host_map))
        return GNTST_general_error;     /* device-only: there is no IOMMU to map into */
    struct domain *rd = domain_by_id(op->dom);
    if (!rd)
        return GNTST_bad_domain;
    uint32_t h = maptrack_get(ld);
    if (!h--)
        return GNTST_no_space;
    mfn_t mfn;
    uint64_t *slot = NULL;
    int16_t rc = grant_pin(rd, op->ref, ld->domain_id, ro, true, &mfn);
    if (rc == GNTST_okay && get_frame(mfn, rd, ro) != GNTST_okay) {
        grant_unpin(rd, op->ref, ro);
        rc = GNTST_general_error;
    }
    if (rc == GNTST_okay && !(slot = pv_grant_l1_slot(v, op->host_addr, op->flags & GNTMAP_contains_pte))) {
        put_frame(mfn, ro);
        grant_unpin(rd, op->ref, ro);
        rc = GNTST_general_error;
    }
    if (rc != GNTST_okay) {
        maptrack_put(ld, h);
        return rc;
    }
    pv_grant_l1_write(slot, grant_pte(mfn, op->flags));
    flush_one(op->host_addr, op->flags);
    struct grant_mapping *mt = maptrack_entry(ld, h);
    mt->ref = op->ref;
    mt->dom = op->dom;
    mt->mfn = (uint32_t)mfn;
    mt->flags = (uint16_t)(op->flags & (GNTMAP_host_map | GNTMAP_readonly | GNTMAP_application_map |
                                        GNTMAP_contains_pte));
    op->handle = h;
    op->dev_bus_addr = mfn << PAGE_SHIFT;
    return GNTST_okay;
}

/* unmap_grant_ref, and unmap_and_replace when new_addr != 0: the PTE at
 * host_addr must still be this handle's grant entry; new_addr's entry then
 * moves there (with whatever references it holds). host_addr 0 unmaps
 * nothing (Xen). dev_bus_addr is ignored: device mappings are not kept. */
static int16_t unmap_one(struct vcpu *v, uint64_t host_addr, uint32_t h, uint64_t new_addr)
{
    struct domain *ld = v->domain;
    struct grant_mapping *mt = maptrack_entry(ld, h);
    if (!mt || !mt->flags)
        return GNTST_bad_handle;
    if (!host_addr)
        return GNTST_okay;
    bool by_pte = mt->flags & GNTMAP_contains_pte;
    uint64_t *slot = pv_grant_l1_slot(v, host_addr, by_pte), *from = NULL;
    uint64_t want = ((uint64_t)mt->mfn << PAGE_SHIFT) | _PAGE_PRESENT | _PAGE_GNTTAB |
                    ((mt->flags & GNTMAP_readonly) ? 0 : _PAGE_RW);
    if (!slot || (*slot & (PTE_ADDR_MASK | _PAGE_PRESENT | _PAGE_GNTTAB | _PAGE_RW)) != want)
        return GNTST_general_error;
    if (new_addr && (by_pte || !(from = pv_grant_l1_slot(v, new_addr, false)) || from == slot))
        return GNTST_general_error;
    uint64_t repl = 0;
    if (from) {
        repl = *from;
        WRITE_ONCE(*from, 0);
        invlpg(new_addr);
    }
    pv_grant_l1_write(slot, repl);
    flush_one(host_addr, mt->flags);
    release_mapping(ld, h);
    return GNTST_okay;
}

/* One side of a copy: a grant of d to the caller, or a frame of the caller. */
struct copy_side {
    struct domain *d;
    mfn_t mfn;
    bool held;
};

static int16_t copy_domain(struct domain *ld, const struct gnttab_copy_ptr *p, bool gref, struct copy_side *s)
{
    if (!gref && p->domid != DOMID_SELF)
        return GNTST_permission_denied;
    s->d = p->domid == DOMID_SELF ? ld : domain_by_id(p->domid);
    return s->d ? GNTST_okay : GNTST_bad_domain;
}

static int16_t copy_get(struct domain *ld, const struct gnttab_copy_ptr *p, bool gref, bool ro, struct copy_side *s)
{
    int16_t rc;
    if (!gref) {
        s->mfn = p->u.gmfn;
        rc = get_frame(s->mfn, ld, ro);
    } else if ((rc = grant_pin(s->d, p->u.ref, ld->domain_id, ro, false, &s->mfn)) == GNTST_okay &&
               (rc = get_frame(s->mfn, s->d, ro)) != GNTST_okay) {
        grant_unpin(s->d, p->u.ref, ro);
        if (rc == GNTST_bad_page)
            rc = GNTST_bad_domain;     /* Xen: the pinned frame left its owner */
    }
    s->held = rc == GNTST_okay;
    return rc;
}

static void copy_put(const struct gnttab_copy_ptr *p, bool gref, bool ro, const struct copy_side *s)
{
    if (!s->held)
        return;
    put_frame(s->mfn, ro);
    if (gref)
        grant_unpin(s->d, p->u.ref, ro);
}

static int16_t copy_one(struct domain *ld, const struct gnttab_copy *op)
{
    struct copy_side src = { 0 }, dst = { 0 };
    bool sg = op->flags & GNTCOPY_source_gref, dg = op->flags & GNTCOPY_dest_gref;
    int16_t rc = copy_domain(ld, &op->source, sg, &src);
    if (rc == GNTST_okay)
        rc = copy_domain(ld, &op->dest, dg, &dst);
    if (rc == GNTST_okay)
        rc = copy_get(ld, &op->source, sg, true, &src);
    if (rc == GNTST_okay)
        rc = copy_get(ld, &op->dest, dg, false, &dst);
    if (rc == GNTST_okay &&
        (op->source.offset + op->len > PAGE_SIZE || op->dest.offset + op->len > PAGE_SIZE))
        rc = GNTST_bad_copy_arg;
    if (rc == GNTST_okay)
        memmove((uint8_t *)mfn_to_virt(dst.mfn) + op->dest.offset,
                (const uint8_t *)mfn_to_virt(src.mfn) + op->source.offset, op->len);
    copy_put(&op->dest, dg, false, &dst);
    copy_put(&op->source, sg, true, &src);
    return rc;
}

/* map, unmap, unmap_and_replace, copy: each op's status goes back into it;
 * the return value is for the call itself. */
static long grant_batch(uint64_t cmd, uint64_t ops, uint64_t count)
{
    struct vcpu *v = current_vcpu();
    union {
        struct gnttab_map_grant_ref map;
        struct gnttab_unmap_grant_ref unmap;
        struct gnttab_unmap_and_replace repl;
        struct gnttab_copy copy;
    } op;
    size_t size = cmd == GNTTABOP_map_grant_ref ? sizeof(op.map)
                  : cmd == GNTTABOP_copy        ? sizeof(op.copy)
                                                : sizeof(op.unmap);
    if (count > INT32_MAX)
        return -XEN_EINVAL;
    for (uint64_t i = 0; i < count; i++) {
        uint64_t at = ops + i * size;
        if (i == GNT_BATCH) {
            if (!hypercall_can_continue())
                return -XEN_EINVAL;
            struct cpu_regs *regs = guest_regs();
            regs->rsi = at;
            regs->rdx = count - i;
            regs->rip -= 2;                /* re-run the syscall with the rest */
            return (long)regs->rax;
        }
        if (copy_from_guest(&op, at, size))
            return -XEN_EFAULT;
        if (cmd == GNTTABOP_map_grant_ref)
            op.map.status = map_one(v, &op.map);
        else if (cmd == GNTTABOP_unmap_grant_ref)
            op.unmap.status = unmap_one(v, op.unmap.host_addr, op.unmap.handle, 0);
        else if (cmd == GNTTABOP_unmap_and_replace)
            op.repl.status = unmap_one(v, op.repl.host_addr, op.repl.handle, op.repl.new_addr);
        else
            op.copy.status = copy_one(v->domain, &op.copy);
        if (copy_to_guest(at, &op, size))
            return -XEN_EFAULT;
    }
    return 0;
}

/* Its own mappings are released; other domains' mappings of its frames
 * keep those frames alive (they are owned by DOMID_XEN once the domain's
 * memory is released, and freed on the last unmap) but pin nothing any
 * more: the granter's active entries go with it. The table frames die with
 * it unless something still maps them: then the last unmapping frees them. */
void gnttab_destroy(struct domain *d)
{
    for (uint32_t h = 0; h < d->maptrack_frames * MAPTRACK_PER_FRAME; h++)
        if (maptrack_entry(d, h)->flags)
            release_mapping(d, h);
    for (unsigned i = 0; i < MAX_DOMAINS; i++) {
        const struct domain *o = domain_list[i];
        for (uint32_t h = 0; o && o != d && h < o->maptrack_frames * MAPTRACK_PER_FRAME; h++) {
            struct grant_mapping *mt = maptrack_entry(o, h);
            if (mt->flags && mt->dom == d->domain_id)
                mt->flags |= MT_ORPHAN;
        }
    }
    for (unsigned i = 0; i < d->maptrack_frames; i++)
        free_xen_pages(d->maptrack[i], 1);
    free_xen_pages(d->maptrack, 1);
    d->maptrack = NULL;
    d->maptrack_frames = d->maptrack_free = 0;
    for (unsigned i = 0; i < d->gnttab_nr_frames; i++) {
        free_xen_pages(d->gnttab_active[i], 1);
        d->gnttab_active[i] = NULL;
        struct page_info *pg = mfn_to_page(d->gnttab_frames[i]);
        pg->flags &= ~PGF_xen_heap;
        pg->owner = DOMID_XEN;
        if (pg->count == 0)
            free_frames(d->gnttab_frames[i], 1);
    }
    d->gnttab_nr_frames = 0;
}

static long setup_table(struct domain *cur, uint64_t arg)
{
    struct gnttab_setup_table op;
    struct domain *d;
    if (copy_from_guest(&op, arg, sizeof(op)))
        return -XEN_EFAULT;
    op.status = (int16_t)gnttab_target(cur, op.dom, &d);
    if (op.status == GNTST_okay && op.nr_frames > GNTTAB_MAX_FRAMES)
        op.status = GNTST_general_error;
    if (op.status == GNTST_okay && !guest_range_ok(op.frame_list, (uint64_t)op.nr_frames * 8))
        return -XEN_EFAULT;
    if (op.status == GNTST_okay && grow_table(d, op.nr_frames))
        op.status = GNTST_general_error;
    if (op.status == GNTST_okay) {
        for (unsigned i = 0; i < op.nr_frames; i++) {
            uint64_t mfn = d->gnttab_frames[i];
            if (copy_to_guest(op.frame_list + i * sizeof(mfn), &mfn, sizeof(mfn)))
                return -XEN_EFAULT;
        }
    }
    return copy_to_guest(arg, &op, sizeof(op));
}

static long query_size(struct domain *cur, uint64_t arg)
{
    struct gnttab_query_size op;
    struct domain *d;
    if (copy_from_guest(&op, arg, sizeof(op)))
        return -XEN_EFAULT;
    op.status = (int16_t)gnttab_target(cur, op.dom, &d);
    if (op.status == GNTST_okay) {
        op.nr_frames = d->gnttab_nr_frames;
        op.max_nr_frames = GNTTAB_MAX_FRAMES;
    }
    return copy_to_guest(arg, &op, sizeof(op));
}

long do_grant_table_op(uint64_t cmd, uint64_t ops, uint64_t count)
{
    struct domain *cur = current_domain();
    switch (cmd) {
    case GNTTABOP_map_grant_ref:
    case GNTTABOP_unmap_grant_ref:
    case GNTTABOP_unmap_and_replace:
    case GNTTABOP_copy:
        return grant_batch(cmd, ops, count);
    case GNTTABOP_setup_table:
    case GNTTABOP_query_size:
    case GNTTABOP_dump_table:
    case GNTTABOP_set_version:
    case GNTTABOP_get_version:
        if (count != 1)
            return -XEN_EINVAL;
        break;
    default:
        return -XEN_ENOSYS;
    }
    switch (cmd) {
    case GNTTABOP_setup_table:
        return setup_table(cur, ops);
    case GNTTABOP_query_size:
        return query_size(cur, ops);
    case GNTTABOP_dump_table: {
        struct gnttab_dump_table op;
        struct domain *d;
        if (copy_from_guest(&op, ops, sizeof(op)))
            return -XEN_EFAULT;
        op.status = (int16_t)gnttab_target(cur, op.dom, &d);
        return copy_to_guest(ops, &op, sizeof(op));
    }
    case GNTTABOP_set_version: {
        /* Only v1 exists here; asking for v2 behaves as on a Xen whose
         * maximum grant version is 1 (§7.2: Linux then keeps v1). */
        struct gnttab_set_version op;
        if (copy_from_guest(&op, ops, sizeof(op)))
            return -XEN_EFAULT;
        long rc = op.version == 1 ? 0 : op.version == 2 ? -XEN_ENOSYS : -XEN_EINVAL;
        op.version = 1;
        if (copy_to_guest(ops, &op, sizeof(op)))
            return -XEN_EFAULT;
        return rc;
    }
    case GNTTABOP_get_version: {
        struct gnttab_get_version op;
        struct domain *d;
        if (copy_from_guest(&op, ops, sizeof(op)))
            return -XEN_EFAULT;
        if (gnttab_target(cur, op.dom, &d) != GNTST_okay)
            return cur->is_privileged ? -XEN_ESRCH : -XEN_EPERM;
        op.version = 1;
        return copy_to_guest(ops, &op, sizeof(op));
    }
    default:
        return -XEN_ENOSYS;
    }
}
