/* SPDX-License-Identifier: MIT */
/* xl network interface specifications; see lamina/xl_vif.h. */
#include <lamina/xl_vif.h>
#include <lamina/fmt.h>
#include <lamina/string.h>

int xl_mac_parse(const char *text, uint8_t mac[6])
{
    uint8_t m[6];
    for (unsigned i = 0; i < 6; i++) {
        const char *p = text + i * 3;
        int hi = fmt_hex_digit(p[0]), lo = hi < 0 ? -1 : fmt_hex_digit(p[1]);
        if (lo < 0 || p[2] != (i == 5 ? '\0' : ':'))
            return -1;
        m[i] = (uint8_t)(hi << 4 | lo);
    }
    memcpy(mac, m, sizeof(m));
    return 0;
}

void xl_mac_format(const uint8_t mac[6], char *buf)
{
    fmt_snprintf(buf, XL_VIF_MAC_TEXT, "%02x:%02x:%02x:%02x:%02x:%02x", mac[0], mac[1], mac[2], mac[3], mac[4],
                 mac[5]);
}

void xl_mac_generate(uint64_t seed, uint8_t mac[6])
{
    /* splitmix64's finaliser: every seed bit reaches the low bytes. */
    uint64_t z = seed + 0x9e3779b97f4a7c15ULL;
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
    z ^= z >> 31;
    mac[0] = 0x00;
    mac[1] = 0x16;
    mac[2] = 0x3e;
    mac[3] = (uint8_t)(z >> 16);
    mac[4] = (uint8_t)(z >> 8);
    mac[5] = (uint8_t)z;
}

/* An interface name as Linux takes it: 1..15 bytes, no '/', ':', blank or
 * control character, not "." or "..". */
static bool ifname_ok(const char *v)
{
    size_t n = strlen(v);
    if (n == 0 || n >= XL_VIF_NAME_MAX || !strcmp(v, ".") || !strcmp(v, ".."))
        return false;
    for (; *v; v++)
        if (*v <= ' ' || *v > '~' || *v == '/' || *v == ':')
            return false;
    return true;
}

/* Addresses separated by blanks: digits, hex letters, '.', ':', '/'. */
static bool ip_ok(const char *v)
{
    for (; *v; v++)
        if (fmt_hex_digit(*v) < 0 && *v != '.' && *v != ':' && *v != '/' && *v != ' ')
            return false;
    return true;
}

static int set_name(char *dst, const char *key, const char *v, char *err, size_t size)
{
    if (!ifname_ok(v))
        return fmt_fail(err, size, "%s '%s' is not an interface name (1 to %u characters, no '/', ':' or blank)",
                    key, v, XL_VIF_NAME_MAX - 1);
    fmt_snprintf(dst, XL_VIF_NAME_MAX, "%s", v);
    return 0;
}

static int keyed(struct xl_vif *vif, const char *key, const char *v, char *err, size_t size)
{
    if (!strcmp(key, "mac")) {
        if (xl_mac_parse(v, vif->mac))
            return fmt_fail(err, size, "mac '%s' is not a MAC address (like 00:16:3e:12:34:56)", v);
        if (vif->mac[0] & 1)
            return fmt_fail(err, size, "mac '%s' is a multicast address", v);
        vif->have_mac = true;
        return 0;
    }
    if (!strcmp(key, "bridge"))
        return set_name(vif->bridge, key, v, err, size);
    if (!strcmp(key, "vifname"))
        return set_name(vif->vifname, key, v, err, size);
    if (!strcmp(key, "ip")) {
        if (!*v || strlen(v) >= sizeof(vif->ip) || !ip_ok(v))
            return fmt_fail(err, size, "ip '%s' is not a list of addresses (at most %u characters)", v,
                        XL_VIF_IP_MAX - 1);
        fmt_snprintf(vif->ip, sizeof(vif->ip), "%s", v);
        return 0;
    }
    if (!strcmp(key, "devid")) {
        uint32_t n = 0;
        if (!*v || (v[0] == '0' && v[1]))
            return fmt_fail(err, size, "devid '%s' is not a number", v);
        for (const char *c = v; *c; c++) {
            if (*c < '0' || *c > '9' || n > XL_VIF_DEVID_MAX)
                return fmt_fail(err, size, "devid '%s' is not a number up to %u", v, XL_VIF_DEVID_MAX);
            n = n * 10 + (uint32_t)(*c - '0');
        }
        if (n > XL_VIF_DEVID_MAX)
            return fmt_fail(err, size, "devid '%s' is not a number up to %u", v, XL_VIF_DEVID_MAX);
        vif->devid = (int32_t)n;
        return 0;
    }
    if (!strcmp(key, "backend")) {
        if (strcmp(v, "0") != 0 && strcmp(v, "Domain-0") != 0)
            return fmt_fail(err, size, "backend '%s' is not supported (only Domain-0)", v);
        return 0;
    }
    if (!strcmp(key, "type")) {
        if (strcmp(v, "vif") != 0 && strcmp(v, "ioemu") != 0)
            return fmt_fail(err, size, "type '%s' must be vif or ioemu", v);
        return 0;
    }
    if (!strcmp(key, "script")) {
        if (strlen(v) >= sizeof(vif->script))
            return fmt_fail(err, size, "script '%.20s...' too long", v);
        for (const char *c = v; *c; c++)
            if (*c < ' ' || *c > '~')
                return fmt_fail(err, size, "script has a control character");
        fmt_snprintf(vif->script, sizeof(vif->script), "%s", v);
        return 0;
    }
    if (!strcmp(key, "model"))
        return 0;
    return fmt_fail(err, size, "unknown vif parameter '%s'", key);
}

int xl_vif_parse(const char *spec, struct xl_vif *out, char *err, size_t err_size)
{
    struct xl_vif vif;
    char item[96];
    memset(&vif, 0, sizeof(vif));
    vif.devid = -1;
    fmt_snprintf(vif.bridge, sizeof(vif.bridge), "%s", XL_VIF_DEFAULT_BRIDGE);
    for (const char *p = spec; *p;) {
        size_t n = 0;
        while (p[n] && p[n] != ',')
            n++;
        if (n >= sizeof(item))
            return fmt_fail(err, err_size, "parameter '%.20s...' too long", p);
        memcpy(item, p, n);
        item[n] = '\0';
        p += n;
        if (*p == ',')
            p++;
        char *it = item;
        while (*it == ' ' || *it == '\t')
            it++;
        for (size_t e = strlen(it); e && (it[e - 1] == ' ' || it[e - 1] == '\t');)
            it[--e] = '\0';
        if (!*it)
            continue;               /* '' and stray commas: nothing */
        char *eq = strchr(it, '=');
        if (!eq)
            return fmt_fail(err, err_size, "vif parameter '%s' needs a value (key=value)", it);
        *eq = '\0';
        if (keyed(&vif, it, eq + 1, err, err_size))
            return -1;
    }
    *out = vif;
    return 0;
}

int xl_vif_fill_defaults(struct xl_vif *vifs, unsigned n, uint32_t first, uint64_t seed, char *err,
                         size_t err_size)
{
    uint32_t next = first;
    for (unsigned i = 0; i < n; i++) {
        if (vifs[i].devid < 0) {
            if (next > XL_VIF_DEVID_MAX)
                return fmt_fail(err, err_size, "vif %u: no devid left", i + 1);
            vifs[i].devid = (int32_t)next;
        }
        for (unsigned j = 0; j < i; j++)
            if (vifs[j].devid == vifs[i].devid)
                return fmt_fail(err, err_size, "vif %u: devid %d is used twice", i + 1, (int)vifs[i].devid);
        if ((uint32_t)vifs[i].devid >= next)
            next = (uint32_t)vifs[i].devid + 1;
        if (!vifs[i].have_mac) {
            xl_mac_generate(seed + i, vifs[i].mac);
            vifs[i].have_mac = true;
        }
    }
    return 0;
}
