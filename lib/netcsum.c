/* SPDX-License-Identifier: MIT */
/* TCP/UDP checksums for frames sent with them blank; see lamina/netcsum.h. */
#include <lamina/netcsum.h>
#include <lamina/string.h>

#define ETH_HLEN 14u
#define ETHERTYPE_IPV4 0x0800u
#define ETHERTYPE_IPV6 0x86ddu
#define ETHERTYPE_VLAN 0x8100u
#define PROTO_TCP 6u
#define PROTO_UDP 17u
#define TCP_CSUM_OFF 16u
#define UDP_CSUM_OFF 6u

static uint32_t be16(const uint8_t *p)
{
    return (uint32_t)p[0] << 8 | p[1];
}

uint32_t netcsum_add(uint32_t sum, const uint8_t *p, uint32_t len)
{
    /* The one's complement sum does not depend on byte order (RFC 1071
     * §2(B)): add the data as little-endian 32-bit words into 64 bits (no
     * overflow below 2^32 words), fold to 16 bits, swap the two bytes, and
     * that is the big-endian sum. Four bytes a step matters under TCG. */
    uint64_t acc = 0;
    uint32_t i = 0;
    for (; i + 4 <= len; i += 4) {
        uint32_t w;
        memcpy(&w, p + i, 4);
        acc += w;
    }
    for (; i + 2 <= len; i += 2)
        acc += (uint32_t)p[i] | (uint32_t)p[i + 1] << 8;
    if (i < len)
        acc += p[i];            /* the odd byte, padded with zero after it */
    while (acc >> 16)
        acc = (acc & 0xffffu) + (acc >> 16);
    uint32_t be = (uint32_t)((acc & 0xffu) << 8 | acc >> 8);
    sum += be;
    return (sum & 0xffffu) + (sum >> 16);
}

uint16_t netcsum_fold(uint32_t sum)
{
    while (sum >> 16)
        sum = (sum & 0xffffu) + (sum >> 16);
    return (uint16_t)sum;
}

int netcsum_parse(const uint8_t *frame, uint32_t len, struct netcsum_pkt *p)
{
    uint32_t l3 = ETH_HLEN;
    if (len < ETH_HLEN)
        return -1;
    uint32_t type = be16(frame + 12);
    if (type == ETHERTYPE_VLAN) {
        if (len < ETH_HLEN + 4)
            return -1;
        type = be16(frame + 16);
        l3 += 4;
    }
    const uint8_t *ip = frame + l3;
    uint32_t avail = len - l3;
    if (type == ETHERTYPE_IPV4) {
        if (avail < 20 || (ip[0] >> 4) != 4)
            return -1;
        uint32_t ihl = (ip[0] & 0xfu) * 4u, total = be16(ip + 2);
        /* A fragment (MF set or an offset) has no whole segment to sum. */
        if (ihl < 20 || total < ihl || total > avail || (be16(ip + 6) & 0x3fffu))
            return -1;
        p->proto = ip[9];
        p->l4 = l3 + ihl;
        p->l4_len = total - ihl;
        p->v6 = false;
        p->addr_sum = netcsum_add(0, ip + 12, 8);       /* source and destination */
    } else if (type == ETHERTYPE_IPV6) {
        if (avail < 40 || (ip[0] >> 4) != 6)
            return -1;
        uint32_t payload = be16(ip + 4);
        if (payload > avail - 40)
            return -1;
        p->proto = ip[6];
        p->l4 = l3 + 40;
        p->l4_len = payload;
        p->v6 = true;
        p->addr_sum = netcsum_add(0, ip + 8, 32);
    } else {
        return -1;
    }
    p->l3 = l3;
    if (p->proto == PROTO_TCP)
        return p->l4_len < 20 ? -1 : 0;
    if (p->proto == PROTO_UDP)
        return p->l4_len < 8 ? -1 : 0;
    return -1;
}

int netcsum_fill(uint8_t *frame, uint32_t len)
{
    struct netcsum_pkt p;
    if (netcsum_parse(frame, len, &p))
        return -1;
    uint32_t off = p.proto == PROTO_TCP ? TCP_CSUM_OFF : UDP_CSUM_OFF;
    uint32_t sum = p.addr_sum + p.proto + (p.l4_len & 0xffffu) + (p.l4_len >> 16);
    uint8_t *seg = frame + p.l4;
    seg[off] = seg[off + 1] = 0;
    uint16_t csum = (uint16_t)~netcsum_fold(netcsum_add(sum, seg, p.l4_len));
    if (p.proto == PROTO_UDP && csum == 0)
        csum = 0xffffu;
    seg[off] = (uint8_t)(csum >> 8);
    seg[off + 1] = (uint8_t)csum;
    return 0;
}
