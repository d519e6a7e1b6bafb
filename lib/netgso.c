/* SPDX-License-Identifier: MIT */
/* Software TCP segmentation; see lamina/netgso.h. */
#include <lamina/netcsum.h>
#include <lamina/netgso.h>
#include <lamina/string.h>

#define PROTO_TCP 6u
#define TCP_SEQ_OFF 4u
#define TCP_FLAGS_OFF 13u
#define TCP_CSUM_OFF 16u
#define TCP_FIN 0x01u
#define TCP_PSH 0x08u
#define TCP_CWR 0x80u

static void put16(uint8_t *p, uint32_t v)
{
    p[0] = (uint8_t)(v >> 8);
    p[1] = (uint8_t)v;
}

int netgso_segment(const uint8_t *pkt, uint32_t len, uint16_t mss, netgso_emit_fn emit, void *arg)
{
    struct netcsum_pkt p;
    if (mss == 0 || netcsum_parse(pkt, len, &p) || p.proto != PROTO_TCP)
        return -1;
    /* netcsum_parse checked l4 + l4_len <= len and l4_len >= 20. */
    const uint8_t *tcp = pkt + p.l4;
    uint32_t thl = (uint32_t)(tcp[12] >> 4) * 4u;
    if (thl < 20 || thl > p.l4_len)
        return -1;
    uint32_t hdrs = p.l4 + thl, payload = p.l4_len - thl;
    uint32_t first = payload < mss ? payload : mss;
    if (hdrs + first > NETGSO_MAX_FRAME)
        return -1;

    uint8_t frame[NETGSO_MAX_FRAME];
    memcpy(frame, pkt, hdrs);
    uint8_t *ip = frame + p.l3, *th = frame + p.l4;
    uint32_t ihl = p.l4 - p.l3;
    uint32_t id = (uint32_t)ip[4] << 8 | ip[5];
    uint32_t seq = (uint32_t)tcp[4] << 24 | (uint32_t)tcp[5] << 16 | (uint32_t)tcp[6] << 8 | tcp[7];
    uint8_t flags = tcp[TCP_FLAGS_OFF];
    int n = 0;
    uint32_t off = 0;
    do {
        uint32_t seg = payload - off < mss ? payload - off : mss;
        bool last = off + seg == payload;
        memcpy(frame + hdrs, tcp + thl + off, seg);
        uint32_t l4_len = thl + seg;
        if (p.v6) {
            put16(ip + 4, l4_len);
        } else {
            put16(ip + 2, ihl + l4_len);
            put16(ip + 4, id + (uint32_t)n);
            put16(ip + 10, 0);
            put16(ip + 10, (uint16_t)~netcsum_fold(netcsum_add(0, ip, ihl)));
        }
        uint32_t s = seq + off;
        put16(th + TCP_SEQ_OFF, s >> 16);
        put16(th + TCP_SEQ_OFF + 2, s);
        th[TCP_FLAGS_OFF] = (uint8_t)(flags & ~((last ? 0u : TCP_FIN | TCP_PSH) | (n ? TCP_CWR : 0u)));
        put16(th + TCP_CSUM_OFF, 0);
        uint32_t sum = p.addr_sum + PROTO_TCP + l4_len;
        put16(th + TCP_CSUM_OFF, (uint16_t)~netcsum_fold(netcsum_add(sum, th, l4_len)));
        emit(arg, frame, hdrs + seg);
        n++;
        off += seg;
    } while (off < payload);
    return n;
}
