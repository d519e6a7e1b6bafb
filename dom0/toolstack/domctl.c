/* SPDX-License-Identifier: MIT */
#include <lamina/string.h>
#include <guest/hypercall.h>
#include "domctl.h"

static long do_domctl(struct xen_domctl *op)
{
    op->interface_version = LAMINA_DOMCTL_INTERFACE_VERSION;
    return hypercall1(__HYPERVISOR_domctl, op);
}

static long simple(uint32_t cmd, domid_t domid)
{
    struct xen_domctl op = { .cmd = cmd, .domain = domid };
    return do_domctl(&op);
}

long domctl_create(domid_t *domid)
{
    struct xen_domctl op = { .cmd = XEN_DOMCTL_createdomain, .domain = 0 };
    op.u.createdomain.max_vcpus = 1;
    long rc = do_domctl(&op);
    if (rc == 0)
        *domid = op.domain;
    return rc;
}

long domctl_destroy(domid_t domid)
{
    return simple(XEN_DOMCTL_destroydomain, domid);
}

long domctl_pause(domid_t domid)
{
    return simple(XEN_DOMCTL_pausedomain, domid);
}

long domctl_unpause(domid_t domid)
{
    return simple(XEN_DOMCTL_unpausedomain, domid);
}

long domctl_max_mem(domid_t domid, uint64_t max_kib)
{
    struct xen_domctl op = { .cmd = XEN_DOMCTL_max_mem, .domain = domid };
    op.u.max_mem.max_memkb = max_kib;
    return do_domctl(&op);
}

long domctl_set_vcpu_context(domid_t domid, const struct vcpu_guest_context *ctx)
{
    struct xen_domctl op = { .cmd = XEN_DOMCTL_setvcpucontext, .domain = domid };
    op.u.vcpucontext.vcpu = 0;
    op.u.vcpucontext.ctxt = (uint64_t)(uintptr_t)ctx;
    return do_domctl(&op);
}

long domctl_getdomaininfo(domid_t from, struct xen_domctl_getdomaininfo *info)
{
    struct xen_domctl op = { .cmd = XEN_DOMCTL_getdomaininfo, .domain = from };
    long rc = do_domctl(&op);
    if (rc == 0)
        *info = op.u.getdomaininfo;
    return rc;
}

const char *xen_errno_name(long rc)
{
    switch (-rc) {
#define XEN_ERRNO_CASE(name, value) case value: return "-" #name;
        XEN_ERRNO_LIST(XEN_ERRNO_CASE)
#undef XEN_ERRNO_CASE
    default:
        return "unknown error";
    }
}
