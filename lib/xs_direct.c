/* SPDX-License-Identifier: MIT */
/*
 * The store as dom0 itself sees it (lamina/xs_core.h, "dom0's own
 * access"): plain calls as the privileged domain 0, outside transactions,
 * for code living in dom0 next to xenstored (the toolstack). Changes fire
 * watches exactly as the same requests over the wire would.
 */
#include <lamina/xs_core.h>
#include <lamina/string.h>

static const struct xs_caller dom0_caller = { .domid = 0, .target = XS_NO_DOMID, .privileged = true };

static int dom0_path(struct xs_core *c, const char *path)
{
    bool rel;
    return xs_path_canonical(path, 0, c->path, &rel);
}

int xs_core_read(struct xs_core *c, const char *path, void *buf, size_t cap, size_t *len)
{
    int rc = dom0_path(c, path);
    const uint8_t *value;
    uint32_t vlen;
    if (!rc)
        rc = xs_store_read(&c->store, NULL, &dom0_caller, c->path, &value, &vlen);
    if (rc)
        return rc;
    *len = vlen;
    if (vlen)
        memcpy(buf, value, vlen < cap ? vlen : cap);
    return vlen > cap ? XEN_E2BIG : 0;
}

int xs_core_write(struct xs_core *c, const char *path, const void *value, size_t len)
{
    if (len > XENSTORE_PAYLOAD_MAX)
        return XEN_E2BIG;
    int rc = dom0_path(c, path);
    return rc ? rc : xs_store_write(&c->store, NULL, &dom0_caller, c->path, value, (uint32_t)len);
}

int xs_core_mkdir(struct xs_core *c, const char *path)
{
    int rc = dom0_path(c, path);
    return rc ? rc : xs_store_mkdir(&c->store, NULL, &dom0_caller, c->path);
}

int xs_core_rm(struct xs_core *c, const char *path)
{
    int rc = dom0_path(c, path);
    return rc ? rc : xs_store_rm(&c->store, NULL, &dom0_caller, c->path);
}

int xs_core_directory(struct xs_core *c, const char *path, char *buf, size_t cap, size_t *len)
{
    int rc = dom0_path(c, path);
    const char *names;
    uint32_t nlen;
    if (!rc)
        rc = xs_store_directory(&c->store, NULL, &dom0_caller, c->path, &names, &nlen, NULL);
    if (rc)
        return rc;
    *len = nlen;
    if (nlen > cap)
        return XEN_E2BIG;
    if (nlen)
        memcpy(buf, names, nlen);
    return 0;
}

int xs_core_set_perms(struct xs_core *c, const char *path, const struct xs_perm *perms, uint32_t nr)
{
    int rc = dom0_path(c, path);
    return rc ? rc : xs_store_set_perms(&c->store, NULL, &dom0_caller, c->path, perms, nr);
}

int xs_core_set_perms_text(struct xs_core *c, const char *path, const char *text)
{
    uint32_t nr = 0;
    const char *p = text;
    while (*p) {
        while (*p == ' ')
            p++;
        if (!*p)
            break;
        char one[8];
        size_t l = 0;
        while (p[l] && p[l] != ' ')
            l++;
        if (l >= sizeof(one) || nr == XS_PERMS_MAX)
            return XEN_EINVAL;
        memcpy(one, p, l);
        one[l] = 0;
        if (!xs_perm_parse(one, &c->perm_buf[nr]))
            return XEN_EINVAL;
        nr++;
        p += l;
    }
    return nr ? xs_core_set_perms(c, path, c->perm_buf, nr) : XEN_EINVAL;
}
