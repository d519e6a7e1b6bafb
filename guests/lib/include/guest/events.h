/* SPDX-License-Identifier: MIT */
/*
 * Event channels on the 2-level ABI (xen-pv-abi.md §6.1) and the upcall that
 * delivers them (§4.10). One vCPU: everything here works on vCPU 0.
 */
#ifndef GUEST_EVENTS_H
#define GUEST_EVENTS_H
#include <stdbool.h>
#include <stdint.h>
#include <public/xen.h>
#include <public/event_channel.h>

typedef void (*evtchn_handler_fn)(unsigned port, void *data);

/* Registers the event callback (callback_op, §4.6) with mask_events. */
long events_init(void);
/* Called by the upcall entry with events masked: scans pending & ~mask
 * through the selector, clears each pending bit and calls its handler. */
void events_dispatch(void);

/* Masks events (vcpu_info.evtchn_upcall_mask = 1); returns the old mask. */
uint8_t events_mask(void);
/* Restores a mask returned by events_mask(). Re-enabling with an upcall
 * already pending forces its delivery with xen_version(0) (§4.10). */
void events_restore(uint8_t old_mask);

/*
 * Blocks (SCHEDOP_block, §6.3) until cond(arg) holds, checking it with events
 * masked so no wake-up is lost. Gives up and returns false once the system
 * time passes `timeout_ns` from now, which it can only notice when some event
 * wakes it. The event mask is restored on return.
 */
bool block_until(bool (*cond)(void *arg), void *arg, uint64_t timeout_ns);

void evtchn_set_handler(unsigned port, evtchn_handler_fn fn, void *data);
/* How many times the dispatcher has called the handler of `port`. */
uint64_t evtchn_delivered(unsigned port);

/* Hypercall wrappers: each returns the new port (> 0) or -errno. */
long evtchn_bind_virq(unsigned virq, unsigned vcpu);
long evtchn_bind_ipi(unsigned vcpu);
long evtchn_alloc_unbound(domid_t dom, domid_t remote_dom);
long evtchn_bind_interdomain(domid_t remote_dom, unsigned remote_port);
/* These return 0 or -errno. */
long evtchn_send(unsigned port);
long evtchn_close(unsigned port);
long evtchn_status(domid_t dom, unsigned port, struct evtchn_status *out);
long evtchn_unmask_hypercall(unsigned port);

/* Shared-memory operations on the port bits (§3.7). */
bool evtchn_is_pending(unsigned port);
void evtchn_clear_pending(unsigned port);
void evtchn_mask(unsigned port);
/* Clears the mask bit in shared memory; a port that became pending while
 * masked is then raised locally, as Linux does (§4.10), so it is not lost. */
void evtchn_unmask(unsigned port);

#endif
