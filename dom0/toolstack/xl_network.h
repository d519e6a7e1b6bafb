/* SPDX-License-Identifier: MIT */
/*
 * The toolstack's side of virtual network interfaces: the vif xenstore
 * directories as libxl writes them, and `xl network-list /
 * network-attach / network-detach`. There is no network backend yet: a
 * vif's backend stays in Initialising until one takes it.
 */
#ifndef DOM0_XL_NETWORK_H
#define DOM0_XL_NETWORK_H
#include <stddef.h>
#include <stdint.h>
#include <public/xen.h>
#include <lamina/xl_vif.h>

/* Gives the vifs of a new domain their devids and MACs (from the time
 * stamp counter); the record keeps them, so a restart keeps its MACs.
 * Returns 0, or -1 with the reason in why. */
int xl_network_prepare(struct xl_vif *vifs, unsigned n, char *why, size_t why_size);
/* Writes the backend and frontend directories of one vif (its devid and
 * MAC set). Refuses a devid the domain already has; nothing is left on
 * failure. Returns 0, or -1 with the reason in why. */
int xl_network_attach(domid_t domid, const struct xl_vif *vif, char *why, size_t why_size);
/* Drops every vif backend directory of the domain (its frontend ones go
 * with /local/domain/<domid>). */
void xl_network_remove_domain(domid_t domid);

void cmd_network_list(int argc, char **argv);
void cmd_network_attach(int argc, char **argv);
void cmd_network_detach(int argc, char **argv);

#endif
