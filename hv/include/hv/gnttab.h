/* SPDX-License-Identifier: MIT */
/*
 * Grant-table bookkeeping (common/gnttab.c; xen-pv-abi.md §7; docs/grant-tables.md).
 *  - Per granter and ref, an active entry: the frame while the ref is in
 *    use and how many read-only and writable uses (mappings, copies in
 *    progress) hold it. While any does, GTF_reading (and GTF_writing while
 *    a writable one does) stays set in the shared entry, so the granter
 *    cannot revoke it.
 *  - Per mapping domain, a maptrack table: one entry per handle that
 *    map_grant_ref returned. The entry, not the PTE, holds the frame's
 *    references: a general one, plus a writable type one for a writable
 *    mapping. A grant PTE (bit 62, _PAGE_GNTTAB) holds none, so overwriting
 *    one releases nothing and only unmap or the domain's death does.
 */
#ifndef HV_GNTTAB_H
#define HV_GNTTAB_H
#include <hv/sched.h>
#include <public/grant_table.h>

#define GRANTS_PER_FRAME    512u     /* v1 entries of 8 bytes */
#define MAPTRACK_PER_FRAME  256u
#define MAPTRACK_MAX_FRAMES 512u     /* one page of frame pointers: 131072 handles */
#define GRANT_PIN_MAX       0xffu    /* per kind, as Xen's 8-bit counters */
#define MT_ORPHAN           0x8000u  /* maptrack flag: the granter is gone */

struct active_grant {
    uint32_t mfn;         /* the frame, fixed while pinned */
    domid_t domid;        /* who holds the pins */
    uint8_t ro, rw;       /* read-only and writable pins */
};

struct grant_mapping {
    uint32_t ref;
    domid_t dom;          /* the granter */
    uint16_t flags;       /* GNTMAP_* it was mapped with, MT_ORPHAN; 0 = free */
    uint32_t mfn;
    uint32_t next_free;   /* 1 + next free handle, 0 = none */
};
_Static_assert(sizeof(struct active_grant) * GRANTS_PER_FRAME == PAGE_SIZE, "active page");
_Static_assert(sizeof(struct grant_mapping) * MAPTRACK_PER_FRAME == PAGE_SIZE, "maptrack page");

static inline struct grant_mapping *maptrack_entry(const struct domain *d, uint32_t handle)
{
    if (handle >= d->maptrack_frames * MAPTRACK_PER_FRAME)
        return NULL;
    return &d->maptrack[handle / MAPTRACK_PER_FRAME][handle % MAPTRACK_PER_FRAME];
}

#endif
