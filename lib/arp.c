/* SPDX-License-Identifier: MIT */
/* ARP requests and replies over Ethernet; see lamina/arp.h. */
#include <lamina/arp.h>

#define HTYPE_ETHER 1
#define PTYPE_IPV4 0x0800
#define OP_REQUEST 1
#define OP_REPLY 2

static void put16(uint8_t *p, uint16_t v)
{
    p[0] = (uint8_t)(v >> 8);
    p[1] = (uint8_t)v;
}

static void put32(uint8_t *p, uint32_t v)
{
    put16(p, (uint16_t)(v >> 16));
    put16(p + 2, (uint16_t)v);
}

static uint16_t get16(const uint8_t *p) { return (uint16_t)(p[0] << 8 | p[1]); }
static uint32_t get32(const uint8_t *p) { return (uint32_t)get16(p) << 16 | get16(p + 2); }

static void copy_mac(uint8_t *dst, const uint8_t *src)
{
    for (unsigned i = 0; i < ETH_ALEN; i++)
        dst[i] = src[i];
}

size_t arp_build_request(uint8_t *frame, const uint8_t src_mac[ETH_ALEN], uint32_t src_ip, uint32_t target_ip)
{
    uint8_t *a = frame + ETH_HLEN;
    for (unsigned i = 0; i < ETH_ALEN; i++) {
        frame[i] = 0xff;            /* broadcast */
        a[18 + i] = 0;              /* target hardware address: unknown */
    }
    copy_mac(frame + ETH_ALEN, src_mac);
    put16(frame + 12, ETH_TYPE_ARP);
    put16(a, HTYPE_ETHER);
    put16(a + 2, PTYPE_IPV4);
    a[4] = ETH_ALEN;
    a[5] = 4;
    put16(a + 6, OP_REQUEST);
    copy_mac(a + 8, src_mac);
    put32(a + 14, src_ip);
    put32(a + 24, target_ip);
    return ARP_FRAME_LEN;
}

bool arp_parse_reply(const uint8_t *frame, size_t len, uint32_t from_ip, uint32_t to_ip, uint8_t mac[ETH_ALEN])
{
    if (len < ARP_FRAME_LEN || get16(frame + 12) != ETH_TYPE_ARP)
        return false;
    const uint8_t *a = frame + ETH_HLEN;
    if (get16(a) != HTYPE_ETHER || get16(a + 2) != PTYPE_IPV4 || a[4] != ETH_ALEN || a[5] != 4 ||
        get16(a + 6) != OP_REPLY || get32(a + 14) != from_ip || get32(a + 24) != to_ip)
        return false;
    copy_mac(mac, a + 8);
    return true;
}

bool ipv4_parse(const char *s, uint32_t *ip)
{
    uint32_t v = 0;
    for (unsigned part = 0; part < 4; part++) {
        unsigned n = 0, digits = 0;
        for (; *s >= '0' && *s <= '9'; s++) {
            n = n * 10 + (unsigned)(*s - '0');
            if (++digits > 3 || n > 255)
                return false;
        }
        if (digits == 0 || *s != (part < 3 ? '.' : '\0'))
            return false;
        s++;
        v = v << 8 | n;
    }
    *ip = v;
    return true;
}
