/* SPDX-License-Identifier: MIT */
/* What dom0's backends share; see backend_util.h. */
#include <guest/events.h>
#include <guest/hypercall.h>
#include "../../kernel/console.h"
#include "../../xenstored/xenstored.h"
#include "backend_util.h"

long backend_store_read(void *ctx, const char *path, char *buf, size_t cap)
{
    (void)ctx;
    return xenstored_read_str(path, buf, cap);
}

long backend_store_write(void *ctx, const char *path, const char *value)
{
    (void)ctx;
    return xenstored_write_str(path, value);
}

long backend_store_rm(void *ctx, const char *path)
{
    (void)ctx;
    return xenstored_rm(path);
}

void backend_store_log(void *ctx, const char *msg)
{
    (void)ctx;
    con_printf("%s\n", msg);
}

const struct xenbus_back_store backend_store = {
    .read = backend_store_read, .write = backend_store_write, .rm = backend_store_rm, .log = backend_store_log,
};

volatile void *backend_map_ring(void *va, domid_t domid, grant_ref_t ref, grant_handle_t *handle, long *rc)
{
    struct gnttab_map_grant_ref op = {
        .host_addr = (uint64_t)(uintptr_t)va,
        .flags = GNTMAP_host_map,
        .ref = ref,
        .dom = domid,
    };
    *rc = hyp_grant_table_op(GNTTABOP_map_grant_ref, &op, 1);
    if (*rc)
        return NULL;
    if (op.status != GNTST_okay) {
        *rc = op.status;
        return NULL;
    }
    *handle = op.handle;
    return va;
}

void backend_unmap_ring(void *va, grant_handle_t handle, const char *tag)
{
    struct gnttab_unmap_grant_ref op = { .host_addr = (uint64_t)(uintptr_t)va, .handle = handle };
    long rc = hyp_grant_table_op(GNTTABOP_unmap_grant_ref, &op, 1);
    if (rc || op.status != GNTST_okay)
        con_printf("%s: unmapping a ring failed (%ld/%d)\n", tag, rc, op.status);
}

long backend_bind(domid_t domid, uint32_t remote_port, void (*fn)(unsigned port, void *data), void *data)
{
    long port = evtchn_bind_interdomain(domid, remote_port);
    if (port <= 0)
        return port < 0 ? port : -XEN_EINVAL;
    evtchn_set_handler((unsigned)port, fn, data);
    evtchn_unmask((unsigned)port);
    return port;
}

void backend_unbind(unsigned port)
{
    evtchn_mask(port);
    evtchn_set_handler(port, NULL, NULL);
    evtchn_close(port);
}
