/* SPDX-License-Identifier: MIT */
/*
 * xl's network interface specifications (xl-network-configuration(5)), as
 * `vif = [ '...', ... ]` in xl.cfg and `xl network-attach` take them: a
 * comma-separated list of key=value, every key optional ('' is a vif with
 * all defaults).
 *
 * Keys: mac= (six hex pairs separated by ':', unicast; default: generated
 * in Xen's 00:16:3e range), bridge= (default xenbr0), ip= (kept and written
 * to xenstore), vifname= (dom0's name for the interface), devid= (default:
 * one above the highest devid before it), backend= (0 or Domain-0 only),
 * type= (vif; ioemu is accepted, this being PV), script= (accepted, not
 * run: there are no hotplug scripts), model= (ignored for PV). Any other
 * key is an error.
 */
#ifndef LAMINA_XL_VIF_H
#define LAMINA_XL_VIF_H
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define XL_VIF_NAME_MAX 16         /* bridge, vifname: a Linux interface name, NUL included */
#define XL_VIF_IP_MAX 64
#define XL_VIF_SCRIPT_MAX 64
#define XL_VIF_ERR_MAX 160
#define XL_VIF_MAC_TEXT 18         /* "00:16:3e:01:02:03" and its NUL */
#define XL_MAX_VIFS 8
#define XL_VIF_DEVID_MAX 0xffff    /* a vif's handle is 16 bits in netif */
#define XL_VIF_DEFAULT_BRIDGE "xenbr0"

struct xl_vif {
    uint8_t mac[6];
    bool have_mac;                 /* false: xl_vif_fill_defaults generates one */
    int32_t devid;                 /* -1: assigned later */
    char bridge[XL_VIF_NAME_MAX];
    char vifname[XL_VIF_NAME_MAX]; /* "" when not given */
    char ip[XL_VIF_IP_MAX];        /* "" when not given */
    char script[XL_VIF_SCRIPT_MAX];/* "" when not given; never run */
};

/* Parses one spec. Returns 0, or -1 with a message in err (out is then
 * left as it was). */
int xl_vif_parse(const char *spec, struct xl_vif *out, char *err, size_t err_size);

/* "aa:bb:cc:dd:ee:ff" (hex, either case) -> mac. Returns 0 or -1. */
int xl_mac_parse(const char *text, uint8_t mac[6]);
/* mac -> "aa:bb:cc:dd:ee:ff" in lower case; buf holds XL_VIF_MAC_TEXT. */
void xl_mac_format(const uint8_t mac[6], char *buf);
/* A MAC in Xen's range 00:16:3e:xx:xx:xx, the low three bytes mixed from
 * `seed` (callers pass something unpredictable, e.g. a time stamp counter
 * read with a domain id). Unicast and universally administered. */
void xl_mac_generate(uint64_t seed, uint8_t mac[6]);

/* Gives vifs their devids: one given is kept, one not given becomes one
 * above the highest devid before it (`first` for the first), as libxl
 * numbers them (create passes 0, attach one above the domain's highest). Generates a MAC for those without one from
 * `seed` (a different one each). Returns 0, or -1 with a message in err
 * for a devid used twice or out of range. */
int xl_vif_fill_defaults(struct xl_vif *vifs, unsigned n, uint32_t first, uint64_t seed, char *err,
                         size_t err_size);

#endif
