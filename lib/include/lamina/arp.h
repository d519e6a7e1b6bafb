/* SPDX-License-Identifier: MIT */
/*
 * Ethernet ARP for IPv4 (RFC 826), pure code: build a request, recognise a
 * reply. dom0's `arping` uses it to check its NIC end to end. IPv4
 * addresses are in host order (10.0.2.2 is 0x0a000202).
 */
#ifndef LAMINA_ARP_H
#define LAMINA_ARP_H
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define ETH_ALEN 6
#define ETH_HLEN 14
#define ETH_TYPE_ARP 0x0806
/* An ARP frame without padding: Ethernet header and the 28-byte packet. */
#define ARP_FRAME_LEN (ETH_HLEN + 28)

/* Writes a broadcast "who has target_ip? tell src_ip" into frame (at least
 * ARP_FRAME_LEN bytes); returns ARP_FRAME_LEN. */
size_t arp_build_request(uint8_t *frame, const uint8_t src_mac[ETH_ALEN], uint32_t src_ip, uint32_t target_ip);

/* True if frame[0..len) is an Ethernet ARP reply for IPv4 over Ethernet
 * saying that `from_ip` is at some MAC, sent to `to_ip`; the MAC (the
 * sender hardware address) is written to mac. Anything else, truncated or
 * malformed, is false. */
bool arp_parse_reply(const uint8_t *frame, size_t len, uint32_t from_ip, uint32_t to_ip, uint8_t mac[ETH_ALEN]);

/* Parses dotted-quad "a.b.c.d" (each 0-255, decimal, no leading '+' or
 * spaces, nothing after). True with the address in *ip. */
bool ipv4_parse(const char *s, uint32_t *ip);

#endif
