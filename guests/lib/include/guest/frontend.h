/* SPDX-License-Identifier: MIT */
/*
 * What the conformance guests that act as frontends share (blk_hostile,
 * net_hostile, console_ring): the guest's own grant table (one v1 frame),
 * granting and revoking, xenstore keys under a device directory, a frame
 * that is not the guest's, and the start of day every such guest does.
 */
#ifndef GUEST_FRONTEND_H
#define GUEST_FRONTEND_H
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <public/grant_table.h>

/* The grant table once fe_setup_grant_table() mapped it. */
extern volatile struct grant_entry_v1 *fe_gt;

/* CHECKs set_trap_table, register_event_callback and bind_virq_timer (a
 * periodic wake-up, so that waits notice their deadlines). */
void fe_start_of_day(void);
/* GNTTABOP_setup_table for one frame, mapped: CHECKs setup_grant_table and
 * map_grant_table. */
bool fe_setup_grant_table(void);
/* Fills entry `ref` (flags written last). */
void fe_grant(uint32_t ref, uint16_t domid, uint64_t frame, uint16_t flags);
/* Takes back an idle grant as a granter does (compare-exchange of its
 * flags from `flags` to 0); false if it was in use. */
bool fe_revoke(uint32_t ref, uint16_t flags);
/* <dir>/<key> in xenstore: as xsc_read / xsc_write. */
long fe_read(const char *dir, const char *key, char *buf, size_t cap);
long fe_write(const char *dir, const char *key, const char *value);
/* An MFN that is not this domain's. */
uint64_t fe_foreign_mfn(void);
/* An event handler that does nothing (the wake-up is what counts). */
void fe_ignore_event(unsigned port, void *data);

#endif
