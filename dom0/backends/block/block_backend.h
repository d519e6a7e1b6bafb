/* SPDX-License-Identifier: MIT */
/*
 * dom0's block backend (Xen's blkback, in dom0's main loop): one lib/blkback
 * device per (domain, vbd), reached by Linux's xen-blkfront and pvgrub
 * through xenstore, a ring page and an event channel (xen-pv-abi.md §8.4).
 * The toolstack writes a device's xenstore directories (xl_block.c) and
 * then calls block_backend_add(); frontend state changes reach us through
 * xenstored's change hook, ring events through our ports; all work is done
 * in block_backend_poll(). docs/block.md has the whole picture.
 *
 * Hypervisor interfaces used: GNTTABOP_map_grant_ref / unmap_grant_ref
 * (ring page, GNTMAP_host_map at a vmap slot), GNTTABOP_copy (data, between
 * the granted pages and dom0 buffer pages named by MFN with DOMID_SELF),
 * EVTCHNOP_bind_interdomain / send / close.
 */
#ifndef DOM0_BLOCK_BACKEND_H
#define DOM0_BLOCK_BACKEND_H
#include <stdbool.h>
#include <stdint.h>
#include <public/xen.h>
#include <lamina/xl_disk.h>

/* Devices served at once; each keeps one ring page mapped in a vmap slot
 * just below xenstored's. */
#define BLOCK_BACKEND_MAX 32

/* Registers dom0's block devices (the RAM disk) and hooks xenstored. */
void block_backend_init(void);
/* Starts serving the vbd whose directories the toolstack has written.
 * Returns 0 or -errno (-ENODEV: no such dom0 device). */
long block_backend_add(domid_t domid, const struct xl_disk *disk);
/* xl block-detach: asks the frontend to close; the device goes when it
 * has (or after BLOCK_BACKEND_DETACH_NS). -ENOENT if not served. */
#define BLOCK_BACKEND_DETACH_NS (10ULL * 1000 * 1000 * 1000)
long block_backend_detach(domid_t domid, uint32_t devid);
/* Tears down every vbd of the domain now (before it is destroyed). */
void block_backend_remove_domain(domid_t domid);
/* Whether `target` is served to another domain than `except` writably,
 * or (when `writable`) at all: xl refuses such sharing. */
bool block_backend_target_busy(const char *target, bool writable, domid_t except);
/* Whether the domain has a vbd `devid` served. */
bool block_backend_has(domid_t domid, uint32_t devid);

/* xenstored's change hook calls this for every changed path. */
void block_backend_store_changed(const char *path, size_t len);
void block_backend_poll(void);
bool block_backend_has_work(void);

#endif
