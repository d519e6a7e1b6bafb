/* SPDX-License-Identifier: MIT */
/* Thin wrappers over domctl (#36, include/public/domctl.h): each returns 0
 * (or a count) or -errno from the hypervisor. */
#ifndef DOM0_DOMCTL_H
#define DOM0_DOMCTL_H
#include <stdint.h>
#include <public/xen.h>
#include <public/domctl.h>

/* Creates an empty, paused domain with the lowest free id; sets *domid. */
long domctl_create(domid_t *domid);
long domctl_destroy(domid_t domid);
long domctl_pause(domid_t domid);
long domctl_unpause(domid_t domid);
long domctl_max_mem(domid_t domid, uint64_t max_kib);
long domctl_set_vcpu_context(domid_t domid, const struct vcpu_guest_context *ctx);
/* The first domain with id >= `from`: fills *info (info->domain is its id). */
long domctl_getdomaininfo(domid_t from, struct xen_domctl_getdomaininfo *info);

/* "-ENOMEM" for -XEN_ENOMEM, and so on: for messages. */
const char *xen_errno_name(long rc);

#endif
