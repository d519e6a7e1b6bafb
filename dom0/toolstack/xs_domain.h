/* SPDX-License-Identifier: MIT */
/* The toolstack's side of a domain's xenstore life (dom0/xenstored). */
#ifndef DOM0_XS_DOMAIN_H
#define DOM0_XS_DOMAIN_H
#include <public/xen.h>

/* Stops serving the domain's store ring, if it was served, and removes
 * /local/domain/<id>: what xl does when a domain is destroyed. */
void xs_forget_domain(domid_t domid);

#endif
