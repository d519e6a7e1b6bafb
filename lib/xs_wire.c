/* SPDX-License-Identifier: MIT */
/*
 * Xenstore wire helpers; see lamina/xs_wire.h. Everything here takes explicit
 * lengths and never reads past them, so callers can hand it a payload
 * straight from a ring copy.
 */
#include <lamina/xs_wire.h>
#include <lamina/fmt.h>
#include <lamina/string.h>

static const char *const type_names[XS_TYPE_COUNT] = {
    [XS_CONTROL] = "CONTROL",
    [XS_DIRECTORY] = "DIRECTORY",
    [XS_READ] = "READ",
    [XS_GET_PERMS] = "GET_PERMS",
    [XS_WATCH] = "WATCH",
    [XS_UNWATCH] = "UNWATCH",
    [XS_TRANSACTION_START] = "TRANSACTION_START",
    [XS_TRANSACTION_END] = "TRANSACTION_END",
    [XS_INTRODUCE] = "INTRODUCE",
    [XS_RELEASE] = "RELEASE",
    [XS_GET_DOMAIN_PATH] = "GET_DOMAIN_PATH",
    [XS_WRITE] = "WRITE",
    [XS_MKDIR] = "MKDIR",
    [XS_RM] = "RM",
    [XS_SET_PERMS] = "SET_PERMS",
    [XS_WATCH_EVENT] = "WATCH_EVENT",
    [XS_ERROR] = "ERROR",
    [XS_IS_DOMAIN_INTRODUCED] = "IS_DOMAIN_INTRODUCED",
    [XS_RESUME] = "RESUME",
    [XS_SET_TARGET] = "SET_TARGET",
    [XS_RESET_WATCHES] = "RESET_WATCHES",
    [XS_DIRECTORY_PART] = "DIRECTORY_PART",
};

const char *xs_type_name(uint32_t type)
{
    if (type < XS_TYPE_COUNT && type_names[type])
        return type_names[type];
    return "?";
}

struct errname {
    int err;
    const char *name;
};

static const struct errname errnames[] = {
#define XS_ERRNAME(name) { XEN_##name, #name },
    XS_ERRNO_LIST(XS_ERRNAME)
#undef XS_ERRNAME
};

const char *xs_errno_name(int err)
{
    for (size_t i = 0; i < sizeof(errnames) / sizeof(errnames[0]); i++)
        if (errnames[i].err == err)
            return errnames[i].name;
    return "EINVAL";
}

int xs_errno_from_name(const char *name)
{
    for (size_t i = 0; i < sizeof(errnames) / sizeof(errnames[0]); i++)
        if (!strcmp(errnames[i].name, name))
            return errnames[i].err;
    return 0;
}

static uint32_t get_le32(const uint8_t *p)
{
    return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

static void put_le32(uint8_t *p, uint32_t v)
{
    p[0] = (uint8_t)v;
    p[1] = (uint8_t)(v >> 8);
    p[2] = (uint8_t)(v >> 16);
    p[3] = (uint8_t)(v >> 24);
}

void xs_hdr_decode(const void *raw, struct xsd_sockmsg *hdr)
{
    const uint8_t *p = raw;
    hdr->type = get_le32(p);
    hdr->req_id = get_le32(p + 4);
    hdr->tx_id = get_le32(p + 8);
    hdr->len = get_le32(p + 12);
}

void xs_hdr_encode(const struct xsd_sockmsg *hdr, void *raw)
{
    uint8_t *p = raw;
    put_le32(p, hdr->type);
    put_le32(p + 4, hdr->req_id);
    put_le32(p + 8, hdr->tx_id);
    put_le32(p + 12, hdr->len);
}

bool xs_hdr_valid(const struct xsd_sockmsg *hdr)
{
    return hdr->len <= XENSTORE_PAYLOAD_MAX;
}

size_t xs_msg_build(void *buf, size_t cap, uint32_t type, uint32_t req_id, uint32_t tx_id,
                    const void *payload, size_t len)
{
    if (len > XENSTORE_PAYLOAD_MAX || cap < XS_HDR_SIZE || cap - XS_HDR_SIZE < len)
        return 0;
    struct xsd_sockmsg hdr = { .type = type, .req_id = req_id, .tx_id = tx_id, .len = (uint32_t)len };
    xs_hdr_encode(&hdr, buf);
    if (len)
        memcpy((uint8_t *)buf + XS_HDR_SIZE, payload, len);
    return XS_HDR_SIZE + len;
}

/* The first NUL in [p, p + len), or NULL. */
static const char *find_nul(const char *p, size_t len)
{
    for (size_t i = 0; i < len; i++)
        if (!p[i])
            return p + i;
    return NULL;
}

bool xs_args_split(const char *payload, size_t len, unsigned want, const char **argv,
                   const char **rest, size_t *rest_len)
{
    size_t off = 0;
    if (want > XS_MAX_ARGS)
        return false;
    for (unsigned i = 0; i < want; i++) {
        const char *nul = off < len ? find_nul(payload + off, len - off) : NULL;
        if (!nul)
            return false;
        argv[i] = payload + off;
        off = (size_t)(nul - payload) + 1;
    }
    if (rest) {
        *rest = payload + off;
        *rest_len = len - off;
    }
    return true;
}

long xs_args_count(const char *payload, size_t len)
{
    long n = 0;
    size_t off = 0;
    while (off < len) {
        const char *nul = find_nul(payload + off, len - off);
        if (!nul)
            return -1;
        n++;
        off = (size_t)(nul - payload) + 1;
    }
    return n;
}

static bool path_char_ok(char c)
{
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '-' ||
           c == '/' || c == '_' || c == '@';
}

bool xs_path_valid(const char *path, size_t len)
{
    if (len == 0 || len > XENSTORE_ABS_PATH_MAX || path[0] != '/')
        return false;
    if (len == 1)
        return true;
    if (path[len - 1] == '/')
        return false;
    for (size_t i = 0; i < len; i++) {
        if (!path_char_ok(path[i]))
            return false;
        if (path[i] == '/' && i + 1 < len && path[i + 1] == '/')
            return false;
    }
    return true;
}

size_t xs_domain_path(uint16_t domid, char *out, size_t cap)
{
    int n = fmt_snprintf(out, cap, "/local/domain/%u", (unsigned)domid);
    return n < 0 ? 0 : (size_t)n;
}

int xs_path_canonical(const char *path, uint16_t domid, char *out, bool *relative)
{
    size_t len = strnlen(path, XENSTORE_ABS_PATH_MAX + 1);
    if (len == 0 || len > XENSTORE_ABS_PATH_MAX)
        return XEN_EINVAL;
    if (path[0] == '/') {
        *relative = false;
        memcpy(out, path, len + 1);
    } else {
        if (len > XENSTORE_REL_PATH_MAX)
            return XEN_EINVAL;
        *relative = true;
        size_t base = xs_domain_path(domid, out, XS_PATH_BUF);
        if (base + 1 + len > XENSTORE_ABS_PATH_MAX)
            return XEN_EINVAL;
        out[base] = '/';
        memcpy(out + base + 1, path, len + 1);
        len += base + 1;
    }
    return xs_path_valid(out, len) ? 0 : XEN_EINVAL;
}

bool xs_path_is_child(const char *child, size_t child_len, const char *parent, size_t parent_len)
{
    if (parent_len == 1 && parent[0] == '/')
        return child_len >= 1 && child[0] == '/';
    if (child_len < parent_len || memcmp(child, parent, parent_len))
        return false;
    return child_len == parent_len || child[parent_len] == '/';
}

size_t xs_path_parent_len(const char *path, size_t len)
{
    size_t i = len;
    while (i > 0 && path[i - 1] != '/')
        i--;
    /* i is just past the last '/'; the parent ends before it, except "/". */
    return i <= 1 ? 1 : i - 1;
}

bool xs_parse_u64(const char *s, uint64_t max, uint64_t *out)
{
    uint64_t v = 0;
    size_t n = 0;
    for (; s[n]; n++) {
        if (s[n] < '0' || s[n] > '9' || n >= 20)
            return false;
        unsigned d = (unsigned)(s[n] - '0');
        if (v > (UINT64_MAX - d) / 10)
            return false;
        v = v * 10 + d;
    }
    if (n == 0 || v > max)
        return false;
    *out = v;
    return true;
}

bool xs_perm_parse(const char *s, struct xs_perm *out)
{
    uint8_t perm;
    switch (s[0]) {
    case 'n':
        perm = XS_PERM_NONE;
        break;
    case 'r':
        perm = XS_PERM_READ;
        break;
    case 'w':
        perm = XS_PERM_WRITE;
        break;
    case 'b':
        perm = XS_PERM_BOTH;
        break;
    default:
        return false;
    }
    uint64_t domid;
    if (!xs_parse_u64(s + 1, UINT16_MAX, &domid))
        return false;
    out->domid = (uint16_t)domid;
    out->perm = perm;
    return true;
}

size_t xs_perm_format(const struct xs_perm *p, char *out)
{
    static const char letters[4] = { 'n', 'r', 'w', 'b' };
    int n = fmt_snprintf(out, 8, "%c%u", letters[p->perm & 3], (unsigned)p->domid);
    return n < 0 ? 0 : (size_t)n;
}
