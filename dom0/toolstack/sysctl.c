/* SPDX-License-Identifier: MIT */
#include <lamina/string.h>
#include <guest/hypercall.h>
#include "sysctl.h"

static long do_sysctl(struct xen_sysctl *op)
{
    op->interface_version = LAMINA_SYSCTL_INTERFACE_VERSION;
    return hypercall1(__HYPERVISOR_sysctl, op);
}

long sysctl_physinfo(struct xen_sysctl_physinfo *info)
{
    struct xen_sysctl op = { .cmd = XEN_SYSCTL_physinfo };
    long rc = do_sysctl(&op);
    if (rc == 0)
        *info = op.u.physinfo;
    return rc;
}

long sysctl_readconsole(uint64_t *index, char *buf, uint32_t len)
{
    struct xen_sysctl op = { .cmd = XEN_SYSCTL_readconsole };
    op.u.readconsole.buffer = (uint64_t)(uintptr_t)buf;
    op.u.readconsole.count = len;
    op.u.readconsole.index = *index;
    long rc = do_sysctl(&op);
    if (rc)
        return rc;
    *index = op.u.readconsole.index;
    return op.u.readconsole.count;
}
