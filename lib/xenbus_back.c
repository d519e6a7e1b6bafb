/* SPDX-License-Identifier: MIT */
/* The backend's half of a xenbus device; see lamina/xenbus_back.h. */
#include <stdarg.h>
#include <lamina/fmt.h>
#include <lamina/string.h>
#include <lamina/xenbus_back.h>

bool xenbus_parse_uint(const char *s, uint64_t max, uint64_t *out)
{
    uint64_t v = 0;
    if (!*s || (s[0] == '0' && s[1]))
        return false;
    for (; *s; s++) {
        if (*s < '0' || *s > '9')
            return false;
        unsigned d = (unsigned)(*s - '0');
        if (v > (max - d) / 10)
            return false;
        v = v * 10 + d;
    }
    *out = v;
    return true;
}

void xenbus_back_init(struct xenbus_back *xb, const struct xenbus_back_store *store, void *ctx, const char *driver,
                      const char *kind, domid_t domid, uint32_t devid)
{
    xb->store = *store;
    xb->ctx = ctx;
    xb->domid = domid;
    xb->devid = devid;
    xb->state = XenbusStateInitialising;
    xb->online = true;
    xb->removed = false;
    fmt_snprintf(xb->tag, sizeof(xb->tag), "%s: d%u %s %u", driver, domid, kind, devid);
    fmt_snprintf(xb->be, sizeof(xb->be), "/local/domain/0/backend/%s/%u/%u", kind, domid, devid);
    fmt_snprintf(xb->fe, sizeof(xb->fe), "/local/domain/%u/device/%s/%u", domid, kind, devid);
}

void xenbus_back_note(struct xenbus_back *xb, const char *fmt, ...)
{
    char msg[160], line[200];
    va_list ap;
    va_start(ap, fmt);
    fmt_vsnprintf(msg, sizeof(msg), fmt, ap);
    va_end(ap);
    fmt_snprintf(line, sizeof(line), "%s: %s", xb->tag, msg);
    if (xb->store.log)
        xb->store.log(xb->ctx, line);
}

long xenbus_back_read(struct xenbus_back *xb, const char *dir, const char *key, char *buf, size_t cap)
{
    char path[XENBUS_BACK_PATH_MAX + 32];
    fmt_snprintf(path, sizeof(path), "%s/%s", dir, key);
    long rc = xb->store.read(xb->ctx, path, buf, cap);
    if (rc)
        buf[0] = '\0';
    return rc;
}

long xenbus_back_write(struct xenbus_back *xb, const char *key, const char *fmt, ...)
{
    char path[XENBUS_BACK_PATH_MAX + 32], value[XENBUS_BACK_VALUE_MAX];
    va_list ap;
    va_start(ap, fmt);
    fmt_vsnprintf(value, sizeof(value), fmt, ap);
    va_end(ap);
    fmt_snprintf(path, sizeof(path), "%s/%s", xb->be, key);
    return xb->store.write(xb->ctx, path, value);
}

bool xenbus_back_read_fe_uint(struct xenbus_back *xb, const char *key, uint64_t max, uint64_t *out)
{
    char v[XENBUS_BACK_VALUE_MAX];
    return xenbus_back_read(xb, xb->fe, key, v, sizeof(v)) == 0 && xenbus_parse_uint(v, max, out);
}

void xenbus_back_switch(struct xenbus_back *xb, uint8_t state)
{
    if (xb->state == state)
        return;
    xb->state = state;
    xenbus_back_write(xb, "state", "%u", state);
}

void xenbus_back_start(struct xenbus_back *xb)
{
    xenbus_back_switch(xb, XenbusStateInitWait);
    xenbus_back_changed(xb);
}

static void finish_removal(struct xenbus_back *xb)
{
    xb->disconnect(xb);
    xenbus_back_switch(xb, XenbusStateClosed);
    xb->store.rm(xb->ctx, xb->be);
    xb->store.rm(xb->ctx, xb->fe);
    xb->removed = true;
}

void xenbus_back_fail(struct xenbus_back *xb)
{
    xb->disconnect(xb);
    xenbus_back_switch(xb, XenbusStateClosing);
}

void xenbus_back_changed(struct xenbus_back *xb)
{
    if (xb->removed)
        return;
    char v[XENBUS_BACK_VALUE_MAX];
    uint64_t fe_state = XenbusStateUnknown;
    if (xenbus_back_read(xb, xb->fe, "state", v, sizeof(v)) != 0 || !xenbus_parse_uint(v, 255, &fe_state))
        fe_state = XenbusStateUnknown;
    switch (fe_state) {
    case XenbusStateInitialising:
        if (xb->state == XenbusStateClosed && xb->online) {
            xenbus_back_note(xb, "frontend reconnecting");
            xenbus_back_switch(xb, XenbusStateInitWait);
        }
        break;
    case XenbusStateInitialised:
    case XenbusStateConnected:
        /* Connect once per InitWait: after a failure we stay Closing until
         * the frontend closes and starts over. */
        if (xb->state != XenbusStateInitWait || !xb->online)
            break;
        xb->disconnect(xb);
        if (xb->connect(xb)) {
            xenbus_back_fail(xb);
            break;
        }
        xenbus_back_switch(xb, XenbusStateConnected);
        break;
    case XenbusStateClosing:
        xenbus_back_switch(xb, XenbusStateClosing);
        break;
    case XenbusStateClosed:
    case XenbusStateUnknown:
    default:                    /* gone, or a state a frontend never writes */
        xb->disconnect(xb);
        if (!xb->online) {
            finish_removal(xb);
            break;
        }
        if (xb->state != XenbusStateInitWait || fe_state == XenbusStateClosed)
            xenbus_back_switch(xb, XenbusStateClosed);
        break;
    }
}

void xenbus_back_detach(struct xenbus_back *xb)
{
    if (xb->removed)
        return;
    xb->online = false;
    xenbus_back_write(xb, "online", "0");
    if (xb->state == XenbusStateConnected) {
        xenbus_back_switch(xb, XenbusStateClosing);
        return;
    }
    finish_removal(xb);
}

void xenbus_back_remove(struct xenbus_back *xb)
{
    if (xb->removed)
        return;
    xb->online = false;
    finish_removal(xb);
}
