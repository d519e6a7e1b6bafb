/* SPDX-License-Identifier: MIT */
/*
 * dom0's network backend (Xen's netback plus the bridge, in dom0's main
 * loop): one lib/netback device per (domain, vif), each a port of a
 * lib/vswitch learning switch whose uplink is dom0's first NIC. The
 * toolstack writes a vif's xenstore directories (xl_network.c) and then
 * calls net_backend_add(); frontend state changes reach us through
 * xenstored's change hook, ring events through our ports; all work is done
 * in net_backend_poll(). docs/netback.md has the whole picture.
 *
 * Hypervisor interfaces used: GNTTABOP_map_grant_ref / unmap_grant_ref
 * (the two ring pages, at vmap slots), GNTTABOP_copy (every frame, between
 * the guest's granted pages and dom0's frame buffers, batched),
 * EVTCHNOP_bind_interdomain / send / close, VCPUOP_set_singleshot_timer.
 */
#ifndef DOM0_NET_BACKEND_H
#define DOM0_NET_BACKEND_H
#include <stdbool.h>
#include <stdint.h>
#include <public/xen.h>

/* vifs served at once (each takes a switch port; the uplink takes one). */
#define NET_BACKEND_MAX 16
/* tx packets taken from one vif per pass over all vifs: a flooding guest
 * gets its share and no more. */
#define NET_BACKEND_TX_BUDGET 64
/* xl network-detach: how long the frontend has to close. */
#define NET_BACKEND_DETACH_NS (5ULL * 1000 * 1000 * 1000)

/* Sets up the switch and its uplink (the first NIC, if any). */
void net_backend_init(void);
/* Starts serving the vif whose directories the toolstack has written.
 * Returns 0 or -errno (-EEXIST: its MAC is another vif's). */
long net_backend_add(domid_t domid, uint32_t devid);
/* xl network-detach: asks the frontend to close. -ENOENT if not served. */
long net_backend_detach(domid_t domid, uint32_t devid);
/* Tears down every vif of the domain now (before it is destroyed). */
void net_backend_remove_domain(domid_t domid);

/* xenstored's change hook calls this for every changed path. */
void net_backend_store_changed(const char *path, size_t len);
void net_backend_poll(void);
bool net_backend_has_work(void);
/* Arms a 250 us wake-up while the uplink has been busy lately (its NIC is
 * polled: it has no interrupts). */
void net_backend_arm_timer(void);

/* The `vswitch` shell command. */
void net_backend_cmd_vswitch(int argc, char **argv);

#endif
