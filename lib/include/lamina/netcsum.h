/* SPDX-License-Identifier: MIT */
/*
 * Filling in a frame's TCP or UDP checksum (RFC 793 / 768 / 1071 / 8200),
 * for frames a guest sent with the checksum left blank (NETTXF_csum_blank)
 * that leave through a device which will not compute it. Pure logic.
 */
#ifndef LAMINA_NETCSUM_H
#define LAMINA_NETCSUM_H
#include <stdint.h>

/* Ethernet (optionally one 802.1Q tag), then IPv4 (any header length; not
 * a fragment) or IPv6 (TCP or UDP as the first next-header), then TCP or
 * UDP whose length fits the IP payload. Computes the L4 checksum over the
 * pseudo-header and segment and stores it (UDP: 0 is sent as 0xffff).
 * Returns 0, or -1 if the frame is not such a packet (it is not changed). */
int netcsum_fill(uint8_t *frame, uint32_t len);

/* The 16-bit one's complement sum of `len` bytes (big-endian words; an odd
 * last byte padded with zero) added to `sum`, not folded, not inverted. */
uint32_t netcsum_add(uint32_t sum, const uint8_t *p, uint32_t len);

#endif
