/* SPDX-License-Identifier: MIT */
/*
 * What dom0's split-driver backends (block, net) share: xenstored's direct
 * API as a xenbus_back store, a frontend's ring page mapped at a vmap slot
 * by grant, and an interdomain event channel with a handler.
 */
#ifndef DOM0_BACKEND_UTIL_H
#define DOM0_BACKEND_UTIL_H
#include <stdint.h>
#include <lamina/xenbus_back.h>
#include <public/grant_table.h>

extern const struct xenbus_back_store backend_store;
long backend_store_read(void *ctx, const char *path, char *buf, size_t cap);
long backend_store_write(void *ctx, const char *path, const char *value);
long backend_store_rm(void *ctx, const char *path);
void backend_store_log(void *ctx, const char *msg);

/* Maps grant `ref` of `domid` writable at `va`: the address, or NULL with
 * *rc = -errno or a GNTST_ code. */
volatile void *backend_map_ring(void *va, domid_t domid, grant_ref_t ref, grant_handle_t *handle, long *rc);
/* Unmaps it again; a failure is logged under `tag`. */
void backend_unmap_ring(void *va, grant_handle_t handle, const char *tag);
/* Binds a local port to the frontend's unbound `remote_port` with `fn`
 * as its handler and unmasks it: the port (> 0) or -errno. */
long backend_bind(domid_t domid, uint32_t remote_port, void (*fn)(unsigned port, void *data), void *data);
void backend_unbind(unsigned port);

#endif
