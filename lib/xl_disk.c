/* SPDX-License-Identifier: MIT */
/* xl disk specifications; see lamina/xl_disk.h. */
#include <lamina/xl_disk.h>
#include <lamina/fmt.h>
#include <lamina/string.h>

/* Disk letters a..z, aa..: bijective base 26. Returns the end or NULL. */
static const char *disk_index(const char *p, uint32_t *disk)
{
    uint32_t v = 0;
    const char *start = p;
    while (*p >= 'a' && *p <= 'z') {
        if (v > (1u << 20))
            return NULL;
        v = v * 26 + (uint32_t)(*p - 'a' + 1);
        p++;
    }
    if (p == start)
        return NULL;
    *disk = v - 1;
    return p;
}

/* A partition number (decimal, no leading zero, may be absent: 0). */
static bool partition(const char *p, uint32_t *part)
{
    uint32_t v = 0;
    if (!*p) {
        *part = 0;
        return true;
    }
    if (*p == '0')
        return false;
    for (; *p; p++) {
        if (*p < '0' || *p > '9' || v > 1000)
            return false;
        v = v * 10 + (uint32_t)(*p - '0');
    }
    *part = v;
    return true;
}

int64_t xl_vdev_to_devid(const char *vdev)
{
    uint32_t disk, part;
    const char *p;
    if (vdev[0] >= '1' && vdev[0] <= '9') {
        uint64_t v = 0;
        for (p = vdev; *p; p++) {
            if (*p < '0' || *p > '9' || v > (1u << 29))
                return -1;
            v = v * 10 + (uint64_t)(*p - '0');
        }
        return v < (1u << 29) ? (int64_t)v : -1;
    }
    if (strncmp(vdev, "xvd", 3) == 0) {
        if (!(p = disk_index(vdev + 3, &disk)) || !partition(p, &part))
            return -1;
        if (disk < 16 && part < 16)
            return (202 << 8) | (disk << 4) | part;
        if (disk < (1u << 20) && part < 256)
            return (int64_t)((1u << 28) | (disk << 8) | part);
        return -1;
    }
    if (strncmp(vdev, "sd", 2) == 0) {
        if (!(p = disk_index(vdev + 2, &disk)) || !partition(p, &part) || disk >= 16 || part >= 16)
            return -1;
        return (8 << 8) | (disk << 4) | part;
    }
    if (strncmp(vdev, "hd", 2) == 0) {
        static const uint32_t ide_major[] = { 3, 22, 33, 34, 56, 57, 88, 89, 90, 91 };
        if (!(p = disk_index(vdev + 2, &disk)) || !partition(p, &part) || disk >= 20 || part >= 64)
            return -1;
        return (ide_major[disk / 2] << 8) | ((disk & 1) << 6) | part;
    }
    return -1;
}

struct spec {
    struct xl_disk d;
    bool have_target, have_vdev, have_access, prefixed;
    unsigned positional;
};

static int set_access(struct spec *s, const char *v, char *err, size_t size)
{
    if (!strcmp(v, "w") || !strcmp(v, "rw"))
        s->d.writable = true;
    else if (!strcmp(v, "r") || !strcmp(v, "ro"))
        s->d.writable = false;
    else
        return fmt_fail(err, size, "access '%s' must be r, ro, w or rw", v);
    s->have_access = true;
    return 0;
}

static int set_vdev(struct spec *s, const char *v, char *err, size_t size)
{
    int64_t id = xl_vdev_to_devid(v);
    if (id < 0 || strlen(v) >= sizeof(s->d.vdev))
        return fmt_fail(err, size, "'%s' is not a virtual device name (e.g. xvda)", v);
    fmt_snprintf(s->d.vdev, sizeof(s->d.vdev), "%s", v);
    s->d.devid = (uint32_t)id;
    s->have_vdev = true;
    return 0;
}

static int set_target(struct spec *s, const char *v, char *err, size_t size)
{
    if (!*v)
        return fmt_fail(err, size, "empty target");
    if (strlen(v) >= sizeof(s->d.target))
        return fmt_fail(err, size, "target '%.20s...' too long (at most %u characters)", v, XL_DISK_TARGET_MAX - 1);
    for (const char *c = v; *c; c++)
        if (*c <= ' ' || *c > '~')
            return fmt_fail(err, size, "target '%s' has a blank or control character", v);
    fmt_snprintf(s->d.target, sizeof(s->d.target), "%s", v);
    s->have_target = true;
    return 0;
}

static int set_format(const char *v, char *err, size_t size)
{
    if (*v && strcmp(v, "raw") != 0)
        return fmt_fail(err, size, "format '%s' is not supported (only raw)", v);
    return 0;
}

static int keyed(struct spec *s, const char *key, const char *v, char *err, size_t size)
{
    if (!strcmp(key, "vdev"))
        return set_vdev(s, v, err, size);
    if (!strcmp(key, "access") || !strcmp(key, "mode"))
        return set_access(s, v, err, size);
    if (!strcmp(key, "format"))
        return set_format(v, err, size);
    if (!strcmp(key, "devtype")) {
        if (!strcmp(v, "cdrom"))
            s->d.cdrom = true;
        else if (strcmp(v, "disk") != 0)
            return fmt_fail(err, size, "devtype '%s' must be disk or cdrom", v);
        return 0;
    }
    if (!strcmp(key, "backendtype")) {
        if (strcmp(v, "phy") != 0)
            return fmt_fail(err, size, "backendtype '%s' is not supported (only phy)", v);
        return 0;
    }
    return fmt_fail(err, size, "unknown disk parameter '%s'", key);
}

/* A positional parameter: target, format, vdev, access (without a
 * deprecated prefix) or target, vdev, access (with one). */
static int positional(struct spec *s, const char *v, char *err, size_t size)
{
    unsigned n = s->positional++;
    if (n == 0) {
        if (!strncmp(v, "phy:", 4) || !strncmp(v, "raw:", 4)) {
            s->prefixed = true;
            v += 4;
        } else {
            const char *colon = strchr(v, ':'), *slash = strchr(v, '/');
            if (colon && (!slash || colon < slash))
                return fmt_fail(err, size, "disk prefix in '%s' is not supported (only phy: and raw:)", v);
        }
        return set_target(s, v, err, size);
    }
    if (s->prefixed)
        n++;                        /* no format among the positional ones */
    if (n == 1)
        return set_format(v, err, size);
    if (n == 2)
        return *v ? set_vdev(s, v, err, size) : 0;
    if (n == 3)
        return *v ? set_access(s, v, err, size) : 0;
    return fmt_fail(err, size, "too many positional parameters ('%s')", v);
}

int xl_disk_parse(const char *spec, struct xl_disk *out, char *err, size_t err_size)
{
    struct spec s;
    char item[XL_DISK_TARGET_MAX + 16] = "";
    memset(&s, 0, sizeof(s));
    s.d.writable = true;
    const char *p = spec;
    for (;;) {
        while (*p == ' ')
            p++;
        if (!*p)
            break;
        if (!strncmp(p, "target=", 7)) {   /* the rest, whatever it holds */
            if (s.have_target)
                return fmt_fail(err, err_size, "target given twice");
            if (set_target(&s, p + 7, err, err_size))
                return -1;
            break;
        }
        size_t n = 0;
        while (p[n] && p[n] != ',')
            n++;
        if (n >= sizeof(item))
            return fmt_fail(err, err_size, "parameter '%.20s...' too long", p);
        memcpy(item, p, n);
        item[n] = '\0';
        /* Blanks around parameters are not part of them. */
        char *it = item;
        while (*it == ' ')
            it++;
        for (size_t e = strlen(it); e && it[e - 1] == ' ';)
            it[--e] = '\0';
        char *eq = strchr(it, '=');
        int rc;
        if (eq) {
            *eq = '\0';
            rc = keyed(&s, it, eq + 1, err, err_size);
        } else if (!strcmp(it, "cdrom")) {
            s.d.cdrom = true;
            rc = 0;
        } else {
            rc = positional(&s, it, err, err_size);
        }
        if (rc)
            return -1;
        p += n;
        if (*p == ',')
            p++;
    }
    if (!s.have_target)
        return fmt_fail(err, err_size, "no target in disk spec '%s'", spec);
    if (!s.have_vdev)
        return fmt_fail(err, err_size, "no vdev in disk spec '%s'", spec);
    if (s.d.cdrom && s.d.writable && s.have_access)
        return fmt_fail(err, err_size, "a cdrom cannot be writable");
    if (s.d.cdrom)
        s.d.writable = false;
    *out = s.d;
    return 0;
}
