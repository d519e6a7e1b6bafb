/* SPDX-License-Identifier: MIT */
/*
 * Grant tables, version 1 (xen-pv-abi.md §7): the table frames a domain
 * shares with the hypervisor and the set-up operations guests issue at boot.
 * Frames are hypervisor memory shared with (and mappable by) their domain,
 * allocated on demand up to GNTTAB_MAX_FRAMES. Mapping and copying grants
 * (the backend side) arrive with the split drivers.
 */
#include <hv/hypercall.h>
#include <hv/sched.h>
#include <hv/guest_access.h>
#include <public/grant_table.h>

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

/* Makes sure d has at least nr table frames. */
static int grow_table(struct domain *d, unsigned nr)
{
    while (d->gnttab_nr_frames < nr) {
        void *page = alloc_xen_pages(1);
        if (!page)
            return -XEN_ENOMEM;
        mfn_t mfn = virt_to_mfn(page);
        struct page_info *pg = mfn_to_page(mfn);
        pg->owner = d->domain_id;
        pg->flags |= PGF_xen_heap;
        d->gnttab_frames[d->gnttab_nr_frames++] = mfn;
    }
    return 0;
}

/* The frames die with the domain, unless something still maps them: then
 * the last unmapping frees them. */
void gnttab_destroy(struct domain *d)
{
    for (unsigned i = 0; i < d->gnttab_nr_frames; i++) {
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
