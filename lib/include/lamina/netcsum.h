/* SPDX-License-Identifier: MIT */
/*
 * Filling in a frame's TCP or UDP checksum (RFC 793 / 768 / 1071 / 8200),
 * for frames a guest sent with the checksum left blank (NETTXF_csum_blank)
 * that leave through a device which will not compute it. Pure logic.
 */
#ifndef LAMINA_NETCSUM_H
#define LAMINA_NETCSUM_H
#include <stdbool.h>
#include <stdint.h>

/* Where an IP packet's parts are in its frame (netcsum_parse). */
struct netcsum_pkt {
    uint32_t l3;            /* IP header */
    uint32_t l4;            /* TCP/UDP header: l3 + IPv4 header length, or l3 + 40 */
    uint32_t l4_len;        /* bytes of TCP/UDP header + payload, from the IP header */
    uint32_t addr_sum;      /* netcsum_add() of the source and destination addresses */
    uint8_t proto;          /* 6 (TCP) or 17 (UDP) */
    bool v6;
};

/* Ethernet (optionally one 802.1Q tag), then IPv4 (any header length; not
 * a fragment) or IPv6 (TCP or UDP as the first next-header), then TCP or
 * UDP whose length (at least its fixed header: 20 / 8 bytes) fits the IP
 * payload, which fits `len` (bytes after it are padding). Returns 0 and
 * fills *p, or -1 if the frame is not such a packet. */
int netcsum_parse(const uint8_t *frame, uint32_t len, struct netcsum_pkt *p);

/* A frame netcsum_parse accepts: computes the L4 checksum over the
 * pseudo-header and segment and stores it (UDP: 0 is sent as 0xffff).
 * Returns 0, or -1 if the frame is not such a packet (it is not changed). */
int netcsum_fill(uint8_t *frame, uint32_t len);

/* The 16-bit one's complement sum of `len` bytes (big-endian words; an odd
 * last byte padded with zero) added to `sum`, not folded, not inverted. */
uint32_t netcsum_add(uint32_t sum, const uint8_t *p, uint32_t len);

/* `sum` folded to 16 bits (not inverted). */
uint16_t netcsum_fold(uint32_t sum);

#endif
