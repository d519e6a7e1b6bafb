/* SPDX-License-Identifier: MIT */
/* A minimal xenstore client for test guests; see guest/xenstore.h. */
#include <lamina/string.h>
#include <lamina/xs_wire.h>
#include <guest/events.h>
#include <guest/runtime.h>
#include <guest/xenstore.h>

#define XSC_TIMEOUT_NS 5000000000ULL

static volatile struct xenstore_domain_interface *intf;
static unsigned store_port;
static uint32_t next_req_id = 1;
static uint64_t events_seen;
static uint8_t msg[XS_HDR_SIZE + XENSTORE_PAYLOAD_MAX];

static void on_store_event(unsigned port, void *data)
{
    (void)port;
    (void)data;
}

bool xsc_init(void)
{
    uint64_t mfn = start_info->store_mfn;
    uint64_t pfn = mfn < MACH2PHYS_NR_ENTRIES ? m2p_table()[mfn] : ~0ULL;
    if (pfn >= start_info->nr_pages || pfn_to_mfn(pfn) != mfn)
        return false;
    intf = pfn_to_va(pfn);
    store_port = start_info->store_evtchn;
    evtchn_set_handler(store_port, on_store_event, NULL);
    evtchn_unmask(store_port);
    return true;
}

uint64_t xsc_events_seen(void)
{
    return events_seen;
}

static bool req_space(void *arg)
{
    (void)arg;
    return intf->req_prod - intf->req_cons < XENSTORE_RING_SIZE;
}

static bool rsp_data(void *arg)
{
    (void)arg;
    return intf->rsp_prod != intf->rsp_cons;
}

/* Moves len bytes into the request ring, waiting for room. */
static bool put_bytes(const uint8_t *p, size_t len)
{
    while (len) {
        if (!block_until(req_space, NULL, XSC_TIMEOUT_NS))
            return false;
        XENSTORE_RING_IDX prod = intf->req_prod;
        uint32_t room = XENSTORE_RING_SIZE - (prod - intf->req_cons);
        if (room > XENSTORE_RING_SIZE)
            return false;                  /* xenstored's index is nonsense */
        size_t n = len < room ? len : room;
        for (size_t i = 0; i < n; i++)
            intf->req[MASK_XENSTORE_IDX(prod + i)] = (char)p[i];
        __atomic_thread_fence(__ATOMIC_RELEASE);
        intf->req_prod = prod + (XENSTORE_RING_IDX)n;
        evtchn_send(store_port);
        p += n;
        len -= n;
    }
    return true;
}

/* Takes len bytes out of the response ring (into p, or dropped if p is
 * NULL), waiting for them. */
static bool get_bytes(uint8_t *p, size_t len)
{
    while (len) {
        if (!block_until(rsp_data, NULL, XSC_TIMEOUT_NS))
            return false;
        XENSTORE_RING_IDX cons = intf->rsp_cons;
        uint32_t avail = intf->rsp_prod - cons;
        if (avail > XENSTORE_RING_SIZE)
            return false;
        __atomic_thread_fence(__ATOMIC_ACQUIRE);
        size_t n = len < avail ? len : avail;
        for (size_t i = 0; i < n; i++) {
            char c = intf->rsp[MASK_XENSTORE_IDX(cons + i)];
            if (p)
                p[i] = (uint8_t)c;
        }
        __atomic_thread_fence(__ATOMIC_SEQ_CST);
        intf->rsp_cons = cons + (XENSTORE_RING_IDX)n;
        evtchn_send(store_port);
        if (p)
            p += n;
        len -= n;
    }
    return true;
}

long xsc_request(uint32_t type, const void *payload, size_t len, char *reply, size_t cap)
{
    if (!intf)
        return -XEN_EIO;
    uint32_t id = next_req_id++;
    size_t total = xs_msg_build(msg, sizeof(msg), type, id, 0, payload, len);
    if (!total)
        return -XEN_EINVAL;
    if (!put_bytes(msg, total))
        return -XEN_ETIMEDOUT;
    for (;;) {
        struct xsd_sockmsg hdr;
        if (!get_bytes(msg, XS_HDR_SIZE))
            return -XEN_ETIMEDOUT;
        xs_hdr_decode(msg, &hdr);
        if (!xs_hdr_valid(&hdr))
            return -XEN_EIO;
        if (!get_bytes(msg + XS_HDR_SIZE, hdr.len))
            return -XEN_ETIMEDOUT;
        if (hdr.type == XS_WATCH_EVENT) {
            events_seen++;
            continue;
        }
        if (hdr.req_id != id)
            return -XEN_EIO;
        const char *body = (const char *)msg + XS_HDR_SIZE;
        if (hdr.type == XS_ERROR) {
            char name[16];
            size_t n = hdr.len < sizeof(name) - 1 ? hdr.len : sizeof(name) - 1;
            memcpy(name, body, n);
            name[n] = 0;
            int err = xs_errno_from_name(name);
            return -(err ? err : XEN_EIO);
        }
        if (hdr.type != type)
            return -XEN_EIO;
        if (reply && cap) {
            size_t n = hdr.len < cap - 1 ? hdr.len : cap - 1;
            memcpy(reply, body, n);
            reply[n] = 0;
        }
        return (long)hdr.len;
    }
}

long xsc_read(const char *path, char *buf, size_t cap)
{
    return xsc_request(XS_READ, path, strlen(path) + 1, buf, cap);
}

/* A request whose payload is path\0 then `second` (with its NUL if
 * `second_nul`); 0 or -errno. */
static long path_and(uint32_t type, const char *path, const char *second, bool second_nul)
{
    size_t pl = strlen(path) + 1, sl = strlen(second) + 1;
    char payload[512];
    if (pl + sl > sizeof(payload))
        return -XEN_EINVAL;
    memcpy(payload, path, pl);
    memcpy(payload + pl, second, sl);
    long rc = xsc_request(type, payload, pl + sl - (second_nul ? 0 : 1), NULL, 0);
    return rc < 0 ? rc : 0;
}

long xsc_write(const char *path, const char *value)
{
    return path_and(XS_WRITE, path, value, false);
}

long xsc_watch(const char *path, const char *token)
{
    return path_and(XS_WATCH, path, token, true);
}

long xsc_rm(const char *path)
{
    long rc = xsc_request(XS_RM, path, strlen(path) + 1, NULL, 0);
    return rc < 0 ? rc : 0;
}
