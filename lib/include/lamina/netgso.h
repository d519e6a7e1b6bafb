/* SPDX-License-Identifier: MIT */
/*
 * Software TCP segmentation (GSO, RFC 793 / 791 / 8200): cutting one large
 * TCP packet a guest sent with a GSO extra into frames of at most one MSS of
 * payload each, for a port that cannot take it whole. Pure logic; every byte
 * of the packet is treated as hostile.
 */
#ifndef LAMINA_NETGSO_H
#define LAMINA_NETGSO_H
#include <stdint.h>

/* The largest frame emitted: Ethernet + one 802.1Q tag + 1500, no FCS. */
#define NETGSO_MAX_FRAME 1518u

/* Called once per frame; `frame` is valid only during the call. */
typedef void (*netgso_emit_fn)(void *arg, const uint8_t *frame, uint32_t len);

/* Cuts one TCP packet (Ethernet, optionally one 802.1Q tag, IPv4 that is not
 * a fragment or IPv6 with TCP as next header, TCP with any options) into
 * frames carrying at most `mss` payload bytes each, and calls emit for each,
 * in order. Each frame has the original headers with the IPv4 total length,
 * IPv4 id (original + frame index), IPv4 header checksum, IPv6 payload
 * length, TCP sequence number (+ offset of its payload) set, FIN and PSH
 * only on the last frame, CWR only on the first, and the TCP checksum
 * computed in full (the input's checksum field is ignored). A packet whose
 * payload fits in one mss (or is empty) is emitted once, its checksums
 * filled in. Bytes after the IP packet (Ethernet padding) are not emitted.
 * The packet's GSO type is not needed: the headers say what it is.
 * Returns the number of frames emitted, or -1 without emitting anything if
 * the packet is not such a TCP packet, mss is 0, the lengths in its headers
 * do not fit `len` or each other, or a frame would exceed NETGSO_MAX_FRAME. */
int netgso_segment(const uint8_t *pkt, uint32_t len, uint16_t mss, netgso_emit_fn emit, void *arg);

#endif
