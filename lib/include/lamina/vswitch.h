/* SPDX-License-Identifier: MIT */
/*
 * A learning Ethernet switch between a domain's vifs and uplinks (dom0's
 * NIC), pure logic: it decides where each frame goes, it moves no data.
 *
 * A vif port has a configured MAC and may only send frames with that source
 * address (others are dropped and counted); its MAC is known from the start
 * and can never move to another port. An uplink may carry any source
 * address that is not a vif's: those it sends from are learned, with a
 * time stamp, in a bounded table (a full table evicts its oldest entry;
 * entries older than the ageing time are forgotten). Frames to a broadcast,
 * multicast or unknown unicast address are flooded to every port but the
 * one they came in on; known unicast goes to its one port, and never back
 * to the ingress port.
 */
#ifndef LAMINA_VSWITCH_H
#define LAMINA_VSWITCH_H
#include <stdbool.h>
#include <stdint.h>

#define VSW_MAX_PORTS 32       /* egress sets are 32-bit masks */
#define VSW_TABLE_SIZE 256     /* learned addresses at most */
#define VSW_ETH_ALEN 6
#define VSW_ETH_HLEN 14

struct vsw_port {
    bool used;
    bool uplink;
    uint8_t mac[VSW_ETH_ALEN]; /* vif: the one source address it may use */
    uint64_t rx_frames;        /* frames accepted from this port */
    uint64_t spoofed;          /* dropped: a source address it may not use */
    uint64_t throttled;        /* dropped: floods beyond the port's flood budget */
    uint64_t flood_tokens;     /* floods it may still send (times VSW_TOKEN_ONE) */
    uint64_t flood_refilled;   /* when the budget was last topped up */
};

/* Token fixed point: one flooded frame costs VSW_TOKEN_ONE. */
#define VSW_TOKEN_ONE 1024u

struct vsw_entry {
    bool used;
    uint8_t port;
    uint8_t mac[VSW_ETH_ALEN];
    uint64_t seen;             /* time of the last frame from it */
};

struct vswitch {
    uint64_t max_age;          /* learned entries older than this are forgotten */
    struct vsw_port port[VSW_MAX_PORTS];
    struct vsw_entry table[VSW_TABLE_SIZE];
    uint64_t runts;            /* dropped: shorter than an Ethernet header, or bad ingress */
    uint64_t hairpin;          /* dropped: its destination is on its own ingress port */
    uint64_t evicted;          /* learned entries pushed out by a full table */
    /* Flood budget per port (vsw_set_flood_limit): `flood_rate` frames per
     * time unit, at most `flood_burst` at once; rate 0: no limit. */
    uint64_t flood_rate, flood_burst;
};

void vsw_init(struct vswitch *sw, uint64_t max_age);
/* Adds a vif port with its MAC (a unicast address not yet used by another
 * vif) or, with uplink, a port for any address (mac ignored). Returns the
 * port number or -XEN_EINVAL / -XEN_EEXIST / -XEN_ENOSPC. A vif's MAC that
 * was learned on an uplink is forgotten there. */
int vsw_add_port(struct vswitch *sw, bool uplink, const uint8_t mac[VSW_ETH_ALEN]);
/* Limits the frames each port may have flooded (broadcast, multicast and
 * unknown unicast: every other port gets a copy) to `rate` per time unit
 * on average (0: no limit), at most `burst` (>= 1) back to back; frames
 * over the budget are dropped and counted in the port's `throttled`. Known
 * unicast is never throttled. */
void vsw_set_flood_limit(struct vswitch *sw, uint64_t rate, uint64_t burst);
/* Removes a port and everything learned on it. -XEN_EINVAL if not in use. */
int vsw_del_port(struct vswitch *sw, unsigned port);
/* Decides where a frame that came in on `ingress` at time `now` goes (bit p
 * set: send it to port p); 0 means dropped. Learns the source address of a
 * frame from an uplink. */
uint32_t vsw_forward(struct vswitch *sw, unsigned ingress, const uint8_t *frame, uint32_t len, uint64_t now);
/* The port a unicast address is known on at `now`, or -1. */
int vsw_lookup(const struct vswitch *sw, const uint8_t mac[VSW_ETH_ALEN], uint64_t now);

#endif
