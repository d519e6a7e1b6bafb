/* SPDX-License-Identifier: MIT */
/* A learning Ethernet switch; see lamina/vswitch.h. */
#include <lamina/string.h>
#include <lamina/vswitch.h>
#include <public/errno.h>

static bool mac_eq(const uint8_t *a, const uint8_t *b)
{
    return memcmp(a, b, VSW_ETH_ALEN) == 0;
}

static bool mac_group(const uint8_t *m)
{
    return (m[0] & 1) != 0;     /* multicast and broadcast */
}

static bool mac_zero(const uint8_t *m)
{
    static const uint8_t zero[VSW_ETH_ALEN];
    return mac_eq(m, zero);
}

void vsw_init(struct vswitch *sw, uint64_t max_age)
{
    memset(sw, 0, sizeof(*sw));
    sw->max_age = max_age;
}

static int vif_owner(const struct vswitch *sw, const uint8_t *mac)
{
    for (unsigned p = 0; p < VSW_MAX_PORTS; p++)
        if (sw->port[p].used && !sw->port[p].uplink && mac_eq(sw->port[p].mac, mac))
            return (int)p;
    return -1;
}

static bool fresh(const struct vswitch *sw, const struct vsw_entry *e, uint64_t now)
{
    return e->used && now >= e->seen && now - e->seen <= sw->max_age;
}

static struct vsw_entry *find_learned(struct vswitch *sw, const uint8_t *mac)
{
    for (unsigned i = 0; i < VSW_TABLE_SIZE; i++)
        if (sw->table[i].used && mac_eq(sw->table[i].mac, mac))
            return &sw->table[i];
    return NULL;
}

int vsw_add_port(struct vswitch *sw, bool uplink, const uint8_t mac[VSW_ETH_ALEN])
{
    if (!uplink && (!mac || mac_group(mac) || mac_zero(mac)))
        return -XEN_EINVAL;
    if (!uplink && vif_owner(sw, mac) >= 0)
        return -XEN_EEXIST;
    for (unsigned p = 0; p < VSW_MAX_PORTS; p++) {
        if (sw->port[p].used)
            continue;
        memset(&sw->port[p], 0, sizeof(sw->port[p]));
        sw->port[p].used = true;
        sw->port[p].uplink = uplink;
        if (!uplink) {
            memcpy(sw->port[p].mac, mac, VSW_ETH_ALEN);
            struct vsw_entry *e = find_learned(sw, mac);
            if (e)
                e->used = false;
        }
        return (int)p;
    }
    return -XEN_ENOSPC;
}

int vsw_del_port(struct vswitch *sw, unsigned port)
{
    if (port >= VSW_MAX_PORTS || !sw->port[port].used)
        return -XEN_EINVAL;
    memset(&sw->port[port], 0, sizeof(sw->port[port]));
    for (unsigned i = 0; i < VSW_TABLE_SIZE; i++)
        if (sw->table[i].used && sw->table[i].port == port)
            sw->table[i].used = false;
    return 0;
}

int vsw_lookup(const struct vswitch *sw, const uint8_t mac[VSW_ETH_ALEN], uint64_t now)
{
    if (mac_group(mac))
        return -1;
    int p = vif_owner(sw, mac);
    if (p >= 0)
        return p;
    for (unsigned i = 0; i < VSW_TABLE_SIZE; i++)
        if (fresh(sw, &sw->table[i], now) && mac_eq(sw->table[i].mac, mac))
            return sw->table[i].port;
    return -1;
}

/* Records that `mac` (not a vif's) was seen on uplink `port`. */
static void learn(struct vswitch *sw, const uint8_t *mac, unsigned port, uint64_t now)
{
    struct vsw_entry *e = find_learned(sw, mac);
    if (!e) {
        struct vsw_entry *victim = NULL;
        for (unsigned i = 0; i < VSW_TABLE_SIZE && !e; i++) {
            struct vsw_entry *t = &sw->table[i];
            if (!t->used || !fresh(sw, t, now))
                e = t;
            else if (!victim || t->seen < victim->seen)
                victim = t;
        }
        if (!e) {
            e = victim;
            sw->evicted++;
        }
        memcpy(e->mac, mac, VSW_ETH_ALEN);
    }
    e->used = true;
    e->port = (uint8_t)port;
    e->seen = now;
}

void vsw_set_flood_limit(struct vswitch *sw, uint64_t rate, uint64_t burst)
{
    sw->flood_rate = rate;
    sw->flood_burst = burst ? burst : 1;
    for (unsigned p = 0; p < VSW_MAX_PORTS; p++)
        sw->port[p].flood_tokens = sw->flood_burst * VSW_TOKEN_ONE;
}

/* The port's flood budget (a token bucket) allows one more frame now. */
static bool flood_allowed(struct vswitch *sw, struct vsw_port *in, uint64_t now)
{
    if (!sw->flood_rate)
        return true;
    const uint64_t cap = sw->flood_burst * VSW_TOKEN_ONE;
    if (now > in->flood_refilled) {
        uint64_t gained = now - in->flood_refilled;
        /* Saturate: a long quiet spell just fills the bucket. */
        gained = gained > cap / (sw->flood_rate * VSW_TOKEN_ONE) + 1 ? cap : gained * sw->flood_rate * VSW_TOKEN_ONE;
        in->flood_tokens = in->flood_tokens + gained > cap ? cap : in->flood_tokens + gained;
        in->flood_refilled = now;
    }
    if (in->flood_tokens < VSW_TOKEN_ONE)
        return false;
    in->flood_tokens -= VSW_TOKEN_ONE;
    return true;
}

uint32_t vsw_forward(struct vswitch *sw, unsigned ingress, const uint8_t *frame, uint32_t len, uint64_t now)
{
    if (ingress >= VSW_MAX_PORTS || !sw->port[ingress].used || !frame || len < VSW_ETH_HLEN) {
        sw->runts++;
        return 0;
    }
    struct vsw_port *in = &sw->port[ingress];
    const uint8_t *dst = frame, *src = frame + VSW_ETH_ALEN;
    if (in->uplink) {
        /* Any address but a group one, a zero one or a vif's. */
        if (mac_group(src) || mac_zero(src) || vif_owner(sw, src) >= 0) {
            in->spoofed++;
            return 0;
        }
        learn(sw, src, ingress, now);
    } else if (!mac_eq(src, in->mac)) {
        in->spoofed++;
        return 0;
    }
    int out = vsw_lookup(sw, dst, now);
    if (out < 0 && !flood_allowed(sw, in, now)) {
        in->throttled++;
        return 0;
    }
    in->rx_frames++;
    if (out == (int)ingress) {
        sw->hairpin++;
        return 0;
    }
    if (out >= 0)
        return 1u << out;
    uint32_t all = 0;
    for (unsigned p = 0; p < VSW_MAX_PORTS; p++)
        if (sw->port[p].used && p != ingress)
            all |= 1u << p;
    return all;
}
