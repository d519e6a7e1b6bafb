/* SPDX-License-Identifier: MIT */
/*
 * A window of dom0 virtual addresses through which the toolstack reaches
 * other domains' frames (and, later, backends their rings). It sits in the
 * part of dom0's kernel L2 that the boot layout left empty, right after
 * dom0's initial region; its L1 tables are dom0 frames from above that
 * region (memory dom0's kernel never touches), made once and kept. Slot n
 * of the window is the page at vmap_va(n).
 *
 * Who uses which slots, from the bottom and from the top:
 *   [0, region)                        the domain being built (build.c)
 *   just below the backend slots       the builder's scratch area, e.g. a
 *                                      decompressed kernel (vmap_map_own)
 *   the last VMAP_BACKEND_SLOTS        backend rings: xenstored's below the
 *                                      console backend's (each places its own)
 */
#ifndef DOM0_VMAP_H
#define DOM0_VMAP_H
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <public/xen.h>

/* Finds the free part of dom0's address space. Returns 0 or -errno. */
long vmap_init(void);
/* Slots the window can ever have (0 before vmap_init). */
uint64_t vmap_max_slots(void);
/* Makes sure slots [0, nr) have page tables. Returns 0 or -errno. */
long vmap_reserve(uint64_t nr);
/* Maps mfns[i] of domain `dom` writable at slot first+i, for i < nr; slots
 * must be reserved. Returns 0 or -errno (slots mapped so far stay mapped). */
long vmap_map(uint64_t first, const uint64_t *mfns, uint64_t nr, domid_t dom);
/* Unmaps slots [first, first+nr) (unmapped ones are fine) and flushes. */
long vmap_unmap(uint64_t first, uint64_t nr);
void *vmap_va(uint64_t slot);
/* Maps nr of dom0's own unused frames (above its initial region, below the
 * window's page tables) writable at slots [first, first+nr): scratch memory
 * for the builder. Returns 0 or -errno (-ENOMEM: dom0 has too few). */
long vmap_map_own(uint64_t first, uint64_t nr);

/* For backends: vmap_init() and page tables for the whole window, whose
 * top slots they map; sets *max to vmap_max_slots(). Returns 0 or -errno
 * (-ENOSPC if the window has fewer than `need` slots). */
long vmap_reserve_window(uint64_t need, uint64_t *max);

/* Slots at the top of the window kept for backend rings. */
#define VMAP_BACKEND_SLOTS 1024

#endif
