/* SPDX-License-Identifier: MIT */
/*
 * lib/xs_core.c over the wire: every message type Xen defines, error
 * replies by name, relative paths, watches (first firing, prefixes,
 * relative event paths, removal of a parent, permission filtering, the
 * special @introduceDomain/@releaseDomain), transactions, management
 * requests and their privilege checks, and hostile peers: oversized and
 * malformed messages, traversal attempts, giant values, watch and
 * transaction floods, a peer that never reads, and memory running out.
 */
#include "test_xs.h"
#include <stdio.h>

static struct xs_core core;
static uint8_t *mem;
static struct xs_conn *d0, *d1, *d2;
static struct xs_msg msg;
static uint32_t next_req = 100;

/* Introduce hook: records what it was asked, may refuse. */
static int hook_rc;
static uint64_t hook_mfn;
static uint32_t hook_port;
static unsigned hook_released;

static int hook_introduce(void *ctx, struct xs_conn *conn, uint64_t mfn, uint32_t port)
{
    (void)ctx;
    (void)conn;
    hook_mfn = mfn;
    hook_port = port;
    return hook_rc;
}

static void hook_release(void *ctx, struct xs_conn *conn)
{
    (void)ctx;
    (void)conn;
    hook_released++;
}

static void start(size_t size)
{
    struct xs_limits lim;
    xs_limits_default(&lim);
    struct xs_core_ops ops = { .introduce = hook_introduce, .release = hook_release };
    mem = malloc(size);
    ck_assert_int_eq(xs_core_init(&core, mem, size, &lim, &ops), 0);
    hook_rc = 0;
    hook_released = 0;
    d0 = xs_conn_open(&core, 0);
    ck_assert_ptr_nonnull(d0);
    ck_assert_int_eq(xs_core_mkdir(&core, "/local/domain/1"), 0);
    ck_assert_int_eq(xs_core_set_perms_text(&core, "/local/domain/1", "n1"), 0);
    ck_assert_int_eq(xs_core_mkdir(&core, "/local/domain/2"), 0);
    ck_assert_int_eq(xs_core_set_perms_text(&core, "/local/domain/2", "n2"), 0);
    ck_assert_int_eq(xs_core_introduce(&core, 1, 0x1234, 5), 0);
    ck_assert_int_eq(xs_core_introduce(&core, 2, 0x5678, 6), 0);
    d1 = xs_conn_find(&core, 1);
    d2 = xs_conn_find(&core, 2);
    ck_assert_ptr_nonnull(d1);
    ck_assert_ptr_nonnull(d2);
}

static void setup(void)
{
    start(4 << 20);
}

static void teardown(void)
{
    ck_assert(xs_store_check(&core.store));
    free(mem);
}

/* Watch events seen so far (req_tx and drain_events append to it). */
static struct xs_msg events[32];
static unsigned nr_events;

static void clear_events(void)
{
    nr_events = 0;
}

/* Adds conn's pending watch events to events[]. */
static void drain_events(struct xs_conn *conn)
{
    struct xs_msg m;
    while (xs_take(&core, conn, &m)) {
        ck_assert_uint_eq(m.hdr.type, XS_WATCH_EVENT);
        if (nr_events < 32)
            events[nr_events++] = m;
    }
}

/* Sends one request and returns its reply; watch events that come before
 * it (those its own change caused) are added to events[]. */
static const struct xs_msg *req_tx(struct xs_conn *conn, uint32_t type, uint32_t tx, const void *payload,
                                   size_t len)
{
    uint32_t id = next_req++;
    ck_assert_int_eq(xs_send_raw(&core, conn, type, id, tx, payload, len, 0), (long)(XS_HDR_SIZE + len));
    for (;;) {
        ck_assert_msg(xs_take(&core, conn, &msg), "no reply to %s", xs_type_name(type));
        if (msg.hdr.type != XS_WATCH_EVENT)
            break;
        if (nr_events < 32)
            events[nr_events++] = msg;
    }
    ck_assert_uint_eq(msg.hdr.req_id, id);
    ck_assert_uint_eq(msg.hdr.tx_id, tx);
    return &msg;
}

static const struct xs_msg *req(struct xs_conn *conn, uint32_t type, const void *payload, size_t len)
{
    return req_tx(conn, type, 0, payload, len);
}

/* A request with NUL-separated string arguments given as one C string
 * with '|' for each NUL ("path|token|"). */
static const struct xs_msg *reqs_tx(struct xs_conn *conn, uint32_t type, uint32_t tx, const char *args)
{
    char buf[XENSTORE_PAYLOAD_MAX];
    size_t n = strlen(args);
    ck_assert_uint_le(n, sizeof(buf));
    memcpy(buf, args, n);
    for (size_t i = 0; i < n; i++)
        if (buf[i] == '|')
            buf[i] = 0;
    return req_tx(conn, type, tx, buf, n);
}

static const struct xs_msg *reqs(struct xs_conn *conn, uint32_t type, const char *args)
{
    return reqs_tx(conn, type, 0, args);
}

#define ASSERT_OK(m) ck_assert_msg((m)->hdr.type != XS_ERROR, "error %s", (m)->payload)
#define ASSERT_ERR(m, name)                                                                                    \
    do {                                                                                                       \
        const struct xs_msg *m_ = (m);                                                                         \
        ck_assert_msg(m_->hdr.type == XS_ERROR, "expected %s, got type %u", name, m_->hdr.type);               \
        ck_assert_str_eq(m_->payload, name);                                                                   \
        ck_assert_uint_eq(m_->hdr.len, strlen(name) + 1);                                                      \
    } while (0)

static void expect_event(unsigned i, const char *path, const char *token)
{
    ck_assert_uint_gt(nr_events, i);
    ck_assert_str_eq(events[i].payload, path);
    ck_assert_str_eq(events[i].payload + strlen(path) + 1, token);
    ck_assert_uint_eq(events[i].hdr.len, strlen(path) + strlen(token) + 2);
    ck_assert_uint_eq(events[i].hdr.req_id, 0);
    ck_assert_uint_eq(events[i].hdr.tx_id, 0);
}

START_TEST(test_basic_ops)
{
    const struct xs_msg *m = reqs(d1, XS_WRITE, "data/x|hello");
    ASSERT_OK(m);
    ck_assert_uint_eq(m->hdr.type, XS_WRITE);
    ck_assert_str_eq(m->payload, "OK");
    ck_assert_uint_eq(m->hdr.len, 3);
    m = reqs(d1, XS_READ, "data/x|");
    ck_assert_uint_eq(m->hdr.type, XS_READ);
    ck_assert_uint_eq(m->hdr.len, 5);   /* no NUL on a value */
    ck_assert_str_eq(m->payload, "hello");
    m = reqs(d1, XS_READ, "/local/domain/1/data/x|");
    ck_assert_str_eq(m->payload, "hello");
    /* Empty value; the rest of the payload is the value, NULs included. */
    ASSERT_OK(reqs(d1, XS_WRITE, "data/empty|"));
    ck_assert_uint_eq(reqs(d1, XS_READ, "data/empty|")->hdr.len, 0);
    ASSERT_OK(req(d1, XS_WRITE, "data/bin\0a\0b", 12));
    m = reqs(d1, XS_READ, "data/bin|");
    ck_assert_uint_eq(m->hdr.len, 3);
    ck_assert_mem_eq(m->payload, "a\0b", 3);

    ASSERT_OK(reqs(d1, XS_MKDIR, "device/vbd/51712|"));
    m = reqs(d1, XS_DIRECTORY, "data|");
    ck_assert_uint_eq(m->hdr.len, strlen("x|empty|bin|"));
    ck_assert_mem_eq(m->payload, "x\0empty\0bin\0", m->hdr.len);
    m = reqs(d1, XS_DIRECTORY, "device/vbd/51712|");
    ck_assert_uint_eq(m->hdr.len, 0);
    ASSERT_OK(reqs(d1, XS_RM, "data|"));
    ASSERT_ERR(reqs(d1, XS_READ, "data/x|"), "ENOENT");
    ASSERT_OK(reqs(d1, XS_RM, "data|"));
    ASSERT_ERR(reqs(d1, XS_RM, "data/a/b|"), "ENOENT");

    m = reqs(d1, XS_GET_PERMS, "device|");
    ck_assert_uint_eq(m->hdr.len, 3);
    ck_assert_str_eq(m->payload, "n1");
    ASSERT_OK(reqs(d1, XS_SET_PERMS, "device|n1|r2|"));
    m = reqs(d1, XS_GET_PERMS, "device|");
    ck_assert_uint_eq(m->hdr.len, 6);
    ck_assert_mem_eq(m->payload, "n1\0r2\0", 6);
    ck_assert_str_eq(reqs(d2, XS_DIRECTORY, "/local/domain/1/device|")->payload, "vbd");
    ASSERT_ERR(reqs(d2, XS_WRITE, "/local/domain/1/device/x|1"), "EACCES");
    ASSERT_ERR(reqs(d2, XS_READ, "/local/domain/1/device/vbd|"), "EACCES");

    m = reqs(d2, XS_GET_DOMAIN_PATH, "7|");
    ck_assert_str_eq(m->payload, "/local/domain/7");
    ck_assert_uint_eq(m->hdr.len, strlen("/local/domain/7") + 1);
    ASSERT_ERR(reqs(d2, XS_GET_DOMAIN_PATH, "x|"), "EINVAL");
    ASSERT_ERR(reqs(d2, XS_GET_DOMAIN_PATH, "65536|"), "EINVAL");
}
END_TEST

START_TEST(test_dom0_direct_api)
{
    char buf[64];
    size_t len;
    ck_assert_int_eq(xs_core_write(&core, "/vm/a", "x", 1), 0);
    ck_assert_int_eq(xs_core_write(&core, "rel", "y", 1), 0);
    ck_assert_int_eq(xs_core_read(&core, "/local/domain/0/rel", buf, sizeof(buf), &len), 0);
    ck_assert_uint_eq(len, 1);
    ck_assert_int_eq(buf[0], 'y');
    ck_assert_int_eq(xs_core_write(&core, "/vm/long", "0123456789", 10), 0);
    ck_assert_int_eq(xs_core_read(&core, "/vm/long", buf, 4, &len), XEN_E2BIG);
    ck_assert_uint_eq(len, 10);
    ck_assert_int_eq(xs_core_directory(&core, "/vm", buf, sizeof(buf), &len), 0);
    ck_assert_uint_eq(len, 7);
    ck_assert_mem_eq(buf, "a\0long\0", 7);
    ck_assert_int_eq(xs_core_directory(&core, "/vm", buf, 3, &len), XEN_E2BIG);
    ck_assert_int_eq(xs_core_set_perms_text(&core, "/vm/a", "  n0  r1 "), 0);
    ck_assert_str_eq(reqs(d1, XS_READ, "/vm/a|")->payload, "x");
    ck_assert_int_eq(xs_core_set_perms_text(&core, "/vm/a", ""), XEN_EINVAL);
    ck_assert_int_eq(xs_core_set_perms_text(&core, "/vm/a", "q1"), XEN_EINVAL);
    ck_assert_int_eq(xs_core_set_perms_text(&core, "/vm/a", "r123456789"), XEN_EINVAL);
    ck_assert_int_eq(xs_core_rm(&core, "/vm"), 0);
    ck_assert_int_eq(xs_core_read(&core, "/vm/a", buf, sizeof(buf), &len), XEN_ENOENT);
    ck_assert_int_eq(xs_core_write(&core, "bad//path", "x", 1), XEN_EINVAL);
    static char big[XENSTORE_PAYLOAD_MAX + 1];
    ck_assert_int_eq(xs_core_write(&core, "/big", big, sizeof(big)), XEN_E2BIG);
}
END_TEST

START_TEST(test_errors_and_malformed)
{
    /* Unknown, removed and reply-only types. */
    static const uint32_t bad_types[] = { 20, XS_WATCH_EVENT, XS_ERROR, XS_TYPE_COUNT, 99, XS_INVALID,
                                          UINT32_MAX };
    for (size_t i = 0; i < sizeof(bad_types) / sizeof(bad_types[0]); i++)
        ASSERT_ERR(req(d1, bad_types[i], "x\0", 2), "EINVAL");
    /* Strings without their NUL, extra arguments, no payload. */
    ASSERT_ERR(req(d1, XS_READ, "data", 4), "EINVAL");
    ASSERT_ERR(req(d1, XS_READ, "", 0), "EINVAL");
    ASSERT_ERR(req(d1, XS_READ, "a\0b\0", 4), "EINVAL");
    ASSERT_ERR(req(d1, XS_WRITE, "novalue", 7), "EINVAL");
    ASSERT_ERR(req(d1, XS_MKDIR, "a\0junk", 6), "EINVAL");
    ASSERT_ERR(req(d1, XS_WATCH, "a\0tok", 5), "EINVAL");
    ASSERT_ERR(req(d1, XS_WATCH, "a\0", 2), "EINVAL");
    ASSERT_ERR(req(d1, XS_SET_PERMS, "a\0", 2), "EINVAL");
    ASSERT_ERR(req(d1, XS_SET_PERMS, "a\0r1", 4), "EINVAL");
    ASSERT_ERR(reqs(d1, XS_SET_PERMS, "device|x1|"), "EINVAL");
    ASSERT_ERR(reqs(d1, XS_TRANSACTION_END, "T|"), "ENOENT");
    /* Traversal and bad syntax never reach the tree. */
    static const char *const paths[] = { "../0/x|", "/local/domain/1/../0|", "a//b|", "a/|", "/|x", "/a b|",
                                         ".|", "/local/domain/1/./x|", "|" };
    for (size_t i = 0; i < sizeof(paths) / sizeof(paths[0]); i++)
        ASSERT_ERR(reqs(d1, XS_READ, paths[i]), "EINVAL");
    ASSERT_ERR(reqs(d1, XS_READ, "/local/domain/0|"), "EACCES");
    ASSERT_ERR(reqs(d1, XS_READ, "/local/domain/2|"), "EACCES");
    ASSERT_ERR(reqs(d1, XS_WRITE, "/local/domain/2/x|1"), "EACCES");
    ASSERT_ERR(reqs(d1, XS_RM, "/|"), "EINVAL");
    ASSERT_ERR(reqs(d0, XS_RM, "/|"), "EINVAL");
    /* The connection still works after all that. */
    ASSERT_OK(reqs(d1, XS_WRITE, "data/ok|1"));
}
END_TEST

START_TEST(test_oversized_message_cuts_off)
{
    uint8_t hdr[XS_HDR_SIZE];
    struct xsd_sockmsg h = { .type = XS_WRITE, .req_id = 1, .len = XENSTORE_PAYLOAD_MAX + 1 };
    xs_hdr_encode(&h, hdr);
    ck_assert_int_eq(xs_conn_feed(&core, d1, hdr, sizeof(hdr)), -1);
    h.len = UINT32_MAX;
    xs_hdr_encode(&h, hdr);
    /* Byte by byte too: the verdict comes with the header's last byte. */
    for (unsigned i = 0; i + 1 < XS_HDR_SIZE; i++)
        ck_assert_int_eq(xs_conn_feed(&core, d2, hdr + i, 1), 1);
    ck_assert_int_eq(xs_conn_feed(&core, d2, hdr + XS_HDR_SIZE - 1, 1), -1);
    /* Exactly the maximum is fine. */
    static char payload[XENSTORE_PAYLOAD_MAX];
    memset(payload, 'v', sizeof(payload));
    memcpy(payload, "/big", 5);
    const struct xs_msg *m = req(d0, XS_WRITE, payload, sizeof(payload));
    ASSERT_OK(m);
    m = reqs(d0, XS_READ, "/big|");
    ck_assert_uint_eq(m->hdr.len, XENSTORE_PAYLOAD_MAX - 5);
}
END_TEST

START_TEST(test_split_feeding)
{
    /* Requests arrive in arbitrary pieces; replies are the same. */
    for (size_t chunk = 1; chunk <= 17; chunk++) {
        char args[64];
        int n = snprintf(args, sizeof(args), "data/c%zu", chunk);
        args[n] = 0;
        memcpy(args + n + 1, "val", 3);
        ck_assert_int_gt(xs_send_raw(&core, d1, XS_WRITE, 7, 0, args, (size_t)n + 4, chunk), 0);
        ck_assert(xs_take(&core, d1, &msg));
        ck_assert_str_eq(msg.payload, "OK");
        ck_assert(!xs_take(&core, d1, &msg));
    }
    /* Two requests in one buffer, and a header split across feeds. */
    uint8_t two[2 * XS_HDR_SIZE + 16];
    struct xsd_sockmsg h = { .type = XS_READ, .req_id = 1, .len = 8 };
    xs_hdr_encode(&h, two);
    memcpy(two + XS_HDR_SIZE, "data/c1", 8);
    h.req_id = 2;
    xs_hdr_encode(&h, two + XS_HDR_SIZE + 8);
    memcpy(two + 2 * XS_HDR_SIZE + 8, "data/c2", 8);
    ck_assert_int_eq(xs_conn_feed(&core, d1, two, 30), 30);
    ck_assert_int_eq(xs_conn_feed(&core, d1, two + 30, sizeof(two) - 30), (long)sizeof(two) - 30);
    ck_assert(xs_take(&core, d1, &msg));
    ck_assert_uint_eq(msg.hdr.req_id, 1);
    ck_assert_str_eq(msg.payload, "val");
    ck_assert(xs_take(&core, d1, &msg));
    ck_assert_uint_eq(msg.hdr.req_id, 2);
    /* Output taken a byte at a time. */
    ASSERT_OK(reqs(d1, XS_WRITE, "data/z|zz"));
    ck_assert_int_eq(xs_send_raw(&core, d1, XS_READ, 3, 0, "data/z", 7, 0), XS_HDR_SIZE + 7);
    uint8_t got[64];
    size_t n = 0;
    const void *p;
    while (xs_conn_peek(d1, &p)) {
        got[n++] = *(const uint8_t *)p;
        xs_conn_consume(&core, d1, 1);
    }
    ck_assert_uint_eq(n, XS_HDR_SIZE + 2);
    ck_assert_mem_eq(got + XS_HDR_SIZE, "zz", 2);
}
END_TEST

START_TEST(test_watches)
{
    /* Registration fires once, after the reply, with the path as given. */
    clear_events();
    const struct xs_msg *m = reqs(d1, XS_WATCH, "device|tokA|");
    ck_assert_str_eq(m->payload, "OK");
    ck_assert_uint_eq(nr_events, 0);
    drain_events(d1);
    ck_assert_uint_eq(nr_events, 1);
    expect_event(0, "device", "tokA");
    clear_events();
    ASSERT_OK(reqs(d1, XS_WATCH, "/local/domain/1/control|tokB|"));
    drain_events(d1);
    expect_event(0, "/local/domain/1/control", "tokB");
    ASSERT_ERR(reqs(d1, XS_WATCH, "device|tokA|"), "EEXIST");
    ASSERT_OK(reqs(d1, XS_WATCH, "device|tokA2|extra|"));   /* reserved trailing argument */
    drain_events(d1);

    /* Changes at or below the watch fire; relative watches get relative paths. */
    clear_events();
    ASSERT_OK(reqs(d1, XS_WRITE, "device/vbd/0/state|1"));
    drain_events(d1);
    ck_assert_uint_eq(nr_events, 2);
    expect_event(0, "device/vbd/0/state", "tokA");
    expect_event(1, "device/vbd/0/state", "tokA2");
    clear_events();
    ASSERT_OK(reqs(d1, XS_WRITE, "devices|1"));   /* a sibling with a common prefix */
    drain_events(d1);
    ck_assert_uint_eq(nr_events, 0);
    ASSERT_OK(reqs(d0, XS_WRITE, "/local/domain/1/control/shutdown|poweroff"));
    drain_events(d1);
    ck_assert_uint_eq(nr_events, 1);
    expect_event(0, "/local/domain/1/control/shutdown", "tokB");

    /* Removing a parent fires with the watched path. */
    ASSERT_OK(reqs(d1, XS_WATCH, "device/vbd/0/state|deep|"));
    drain_events(d1);
    clear_events();
    ASSERT_OK(reqs(d0, XS_RM, "/local/domain/1/device|"));
    drain_events(d1);
    ck_assert_uint_eq(nr_events, 3);
    expect_event(0, "device", "tokA");
    expect_event(1, "device", "tokA2");
    expect_event(2, "device/vbd/0/state", "deep");

    /* Unwatch, by relative or absolute path. */
    ASSERT_OK(reqs(d1, XS_UNWATCH, "/local/domain/1/device|tokA|"));
    ASSERT_ERR(reqs(d1, XS_UNWATCH, "device|tokA|"), "ENOENT");
    ASSERT_ERR(reqs(d1, XS_UNWATCH, "device|nosuch|"), "ENOENT");
    ASSERT_OK(reqs(d1, XS_UNWATCH, "device|tokA2|"));
    clear_events();
    ASSERT_OK(reqs(d1, XS_WRITE, "device/x|1"));
    drain_events(d1);
    ck_assert_uint_eq(nr_events, 0);

    /* Watches see only nodes their domain may read. */
    ASSERT_OK(reqs(d2, XS_WATCH, "/local/domain/1|spy|"));
    drain_events(d2);
    clear_events();
    ASSERT_OK(reqs(d1, XS_WRITE, "secret|1"));
    drain_events(d2);
    ck_assert_uint_eq(nr_events, 0);
    ASSERT_OK(reqs(d1, XS_WRITE, "public|1"));
    ASSERT_OK(reqs(d1, XS_SET_PERMS, "public|n1|r2|"));
    drain_events(d2);
    ck_assert_uint_eq(nr_events, 1);
    expect_event(0, "/local/domain/1/public", "spy");
    /* dom0 sees everything; its own change's event comes before its reply. */
    ASSERT_OK(reqs(d0, XS_WATCH, "/|all|"));
    drain_events(d0);
    clear_events();
    ASSERT_OK(reqs(d1, XS_WRITE, "secret|2"));
    drain_events(d0);
    expect_event(0, "/local/domain/1/secret", "all");
    clear_events();
    ASSERT_OK(reqs(d0, XS_WRITE, "/x|1"));
    ck_assert_uint_eq(nr_events, 1);
    expect_event(0, "/x", "all");

    /* Bad watches. */
    ASSERT_ERR(reqs(d1, XS_WATCH, "a//b|t|"), "EINVAL");
    ASSERT_ERR(reqs(d1, XS_WATCH, "@|t|"), "EINVAL");
    ASSERT_ERR(reqs(d1, XS_WATCH, "@a b|t|"), "EINVAL");
    static char longtok[XS_TOKEN_MAX + 16];
    memset(longtok, 't', sizeof(longtok));
    memcpy(longtok, "device|", 7);
    longtok[7 + XS_TOKEN_MAX + 1] = '|';
    longtok[7 + XS_TOKEN_MAX + 2] = 0;
    ASSERT_ERR(reqs(d1, XS_WATCH, longtok), "EINVAL");
    longtok[7 + XS_TOKEN_MAX] = '|';
    longtok[7 + XS_TOKEN_MAX + 1] = 0;
    clear_events();
    ASSERT_OK(reqs(d1, XS_WATCH, longtok));
    drain_events(d1);
    ck_assert_uint_eq(events[0].hdr.len, strlen("device") + 1 + XS_TOKEN_MAX + 1);
}
END_TEST

START_TEST(test_special_watches)
{
    clear_events();
    ASSERT_OK(reqs(d0, XS_WATCH, "@introduceDomain|intro|"));
    ASSERT_OK(reqs(d0, XS_WATCH, "@releaseDomain|rel|"));
    ASSERT_OK(reqs(d0, XS_WATCH, "@other|x|"));
    drain_events(d0);
    ck_assert_uint_eq(nr_events, 3);
    clear_events();
    ASSERT_OK(reqs(d1, XS_WATCH, "@releaseDomain|mine|"));
    drain_events(d1);
    expect_event(0, "@releaseDomain", "mine");

    clear_events();
    ASSERT_OK(reqs(d0, XS_INTRODUCE, "3|4660|9|"));
    ck_assert_uint_eq(hook_mfn, 4660);
    ck_assert_uint_eq(hook_port, 9);
    drain_events(d0);
    ck_assert_uint_eq(nr_events, 1);
    expect_event(0, "@introduceDomain", "intro");
    clear_events();
    ASSERT_OK(reqs(d0, XS_RELEASE, "3|"));
    ck_assert_uint_eq(hook_released, 1);
    drain_events(d0);
    ck_assert_uint_eq(nr_events, 1);
    expect_event(0, "@releaseDomain", "rel");
    /* Domains may watch them but only see them with permission. */
    clear_events();
    drain_events(d1);
    ck_assert_uint_eq(nr_events, 0);
    ck_assert_str_eq(reqs(d0, XS_GET_PERMS, "@releaseDomain|")->payload, "n0");
    ASSERT_ERR(reqs(d1, XS_GET_PERMS, "@releaseDomain|"), "EACCES");
    ASSERT_ERR(reqs(d1, XS_SET_PERMS, "@releaseDomain|b1|"), "EACCES");
    ASSERT_ERR(reqs(d0, XS_GET_PERMS, "@nosuch|"), "ENOENT");
    ASSERT_OK(reqs(d0, XS_SET_PERMS, "@releaseDomain|n0|r1|"));
    xs_core_fire_special(&core, XS_SPECIAL_RELEASE);
    clear_events();
    drain_events(d1);
    ck_assert_uint_eq(nr_events, 1);
    expect_event(0, "@releaseDomain", "mine");
}
END_TEST

START_TEST(test_transactions)
{
    const struct xs_msg *m = req(d1, XS_TRANSACTION_START, "", 1);
    ASSERT_OK(m);
    uint32_t tx = (uint32_t)strtoul(m->payload, NULL, 10);
    ck_assert_uint_ne(tx, 0);
    ck_assert_uint_eq(m->hdr.len, strlen(m->payload) + 1);
    ASSERT_OK(reqs(d1, XS_WATCH, "data|w|"));
    drain_events(d1);
    clear_events();
    ASSERT_OK(reqs_tx(d1, XS_WRITE, tx, "data/a|1"));
    ck_assert_str_eq(reqs_tx(d1, XS_READ, tx, "data/a|")->payload, "1");
    ASSERT_ERR(reqs(d1, XS_READ, "data/a|"), "ENOENT");
    drain_events(d1);
    ck_assert_uint_eq(nr_events, 0);
    ASSERT_ERR(reqs_tx(d1, XS_READ, tx + 1000, "data/a|"), "ENOENT");
    ASSERT_ERR(reqs_tx(d2, XS_READ, tx, "/local/domain/2|"), "ENOENT");   /* not its transaction */
    ASSERT_ERR(reqs_tx(d1, XS_TRANSACTION_END, tx, "X|"), "EINVAL");
    ASSERT_ERR(reqs_tx(d1, XS_TRANSACTION_START, tx, "|"), "EBUSY");
    ASSERT_OK(reqs_tx(d1, XS_TRANSACTION_END, tx, "T|"));
    ck_assert_uint_eq(nr_events, 1);   /* at commit, before the reply */
    expect_event(0, "data/a", "w");
    ck_assert_str_eq(reqs(d1, XS_READ, "data/a|")->payload, "1");
    ASSERT_ERR(reqs_tx(d1, XS_TRANSACTION_END, tx, "T|"), "ENOENT");

    /* The xenbus_switch_state pattern racing another writer: EAGAIN. */
    m = req(d1, XS_TRANSACTION_START, "", 1);
    tx = (uint32_t)strtoul(m->payload, NULL, 10);
    ck_assert_str_eq(reqs_tx(d1, XS_READ, tx, "data/a|")->payload, "1");
    ASSERT_OK(reqs_tx(d1, XS_WRITE, tx, "data/a|2"));
    ASSERT_OK(reqs(d0, XS_WRITE, "/local/domain/1/data/a|0"));
    drain_events(d1);
    m = reqs_tx(d1, XS_TRANSACTION_END, tx, "T|");
    ASSERT_ERR(m, "EAGAIN");
    ck_assert_uint_eq(m->hdr.tx_id, tx);
    ck_assert_str_eq(reqs(d1, XS_READ, "data/a|")->payload, "0");

    /* Flood: the 11th open transaction is refused; dom0 has no limit. */
    uint32_t ids[16];
    for (unsigned i = 0; i < core.store.lim.transactions_per_domain; i++) {
        m = req(d1, XS_TRANSACTION_START, "", 1);
        ASSERT_OK(m);
        ids[i] = (uint32_t)strtoul(m->payload, NULL, 10);
        for (unsigned j = 0; j < i; j++)
            ck_assert_uint_ne(ids[i], ids[j]);
    }
    ASSERT_ERR(req(d1, XS_TRANSACTION_START, "", 1), "ENOSPC");
    for (unsigned i = 0; i < 20; i++)
        ASSERT_OK(req(d0, XS_TRANSACTION_START, "", 1));
    ASSERT_OK(reqs_tx(d1, XS_TRANSACTION_END, ids[3], "F|"));
    ASSERT_OK(req(d1, XS_TRANSACTION_START, "", 1));
    /* RESET_WATCHES drops watches and transactions. */
    ASSERT_OK(req(d1, XS_RESET_WATCHES, "", 1));
    ck_assert_uint_eq(d1->nr_txs, 0);
    ck_assert_uint_eq(d1->nr_watches, 0);
    ASSERT_ERR(reqs_tx(d1, XS_READ, ids[0], "data/a|"), "ENOENT");
    ASSERT_OK(req(d1, XS_TRANSACTION_START, "", 1));
}
END_TEST

START_TEST(test_watch_flood)
{
    char args[64];
    unsigned i;
    for (i = 0; i < 1000; i++) {
        snprintf(args, sizeof(args), "w%u|t|", i);
        const struct xs_msg *m = reqs(d1, XS_WATCH, args);
        drain_events(d1);
        if (m->hdr.type == XS_ERROR) {
            ck_assert_str_eq(m->payload, "E2BIG");
            break;
        }
    }
    ck_assert_uint_eq(i, core.store.lim.watches_per_domain);
    ck_assert_uint_eq(d1->nr_watches, core.store.lim.watches_per_domain);
    /* Others are unaffected. */
    ASSERT_OK(reqs(d2, XS_WATCH, "x|t|"));
    /* Long paths run into the byte limit first. */
    static char longw[XENSTORE_REL_PATH_MAX + 16];
    for (i = 0; i < 100; i++) {
        memset(longw, 'p', XENSTORE_REL_PATH_MAX - 8);
        snprintf(longw + XENSTORE_REL_PATH_MAX - 8, 16, "%03u|t|", i);
        const struct xs_msg *m = reqs(d2, XS_WATCH, longw);
        drain_events(d2);
        if (m->hdr.type == XS_ERROR) {
            ck_assert_str_eq(m->payload, "E2BIG");
            break;
        }
    }
    ck_assert_uint_eq(i, core.store.lim.watch_bytes_per_domain / (XENSTORE_REL_PATH_MAX + 16 + 1));
    ck_assert_uint_le(d2->watch_bytes, core.store.lim.watch_bytes_per_domain);
    ASSERT_OK(req(d2, XS_RESET_WATCHES, "", 1));
    ck_assert_uint_eq(d2->watch_bytes, 0);
    ASSERT_OK(reqs(d2, XS_WATCH, longw));
}
END_TEST

START_TEST(test_giant_values_and_node_quota)
{
    static char payload[XENSTORE_PAYLOAD_MAX];
    memset(payload, 'g', sizeof(payload));
    memcpy(payload, "data/g", 7);
    ASSERT_ERR(req(d1, XS_WRITE, payload, 7 + 2049), "ENOSPC");
    ASSERT_OK(req(d1, XS_WRITE, payload, 7 + 2048));
    ck_assert_uint_eq(reqs(d1, XS_READ, "data/g|")->hdr.len, 2048);
    char args[64];
    unsigned i;
    for (i = 0; i < 2000; i++) {
        snprintf(args, sizeof(args), "n/entry%u|x", i);
        const struct xs_msg *m = reqs(d1, XS_WRITE, args);
        if (m->hdr.type == XS_ERROR) {
            ck_assert_str_eq(m->payload, "ENOSPC");
            break;
        }
    }
    ck_assert_uint_lt(i, core.store.lim.nodes_per_domain);
    ck_assert_uint_eq(xs_store_domain_nodes(&core.store, 1), core.store.lim.nodes_per_domain);
    /* A directory too big for one reply: E2BIG, then DIRECTORY_PART. */
    ck_assert_uint_gt(i * 7, XENSTORE_PAYLOAD_MAX);
    ASSERT_ERR(reqs(d1, XS_DIRECTORY, "n|"), "E2BIG");
    unsigned seen = 0, off = 0;
    char gen[32] = "";
    for (int round = 0; round < 20; round++) {
        snprintf(args, sizeof(args), "n|%u|", off);
        const struct xs_msg *m = reqs(d1, XS_DIRECTORY_PART, args);
        ASSERT_OK(m);
        if (round == 0)
            snprintf(gen, sizeof(gen), "%.20s", m->payload);
        ck_assert_str_eq(m->payload, gen);
        size_t at = strlen(m->payload) + 1;
        bool end = false;
        while (at < m->hdr.len) {
            size_t l = strlen(m->payload + at);
            if (!l) {
                end = true;
                break;
            }
            seen++;
            off += (unsigned)l + 1;
            at += l + 1;
        }
        if (end)
            break;
    }
    ck_assert_uint_eq(seen, i);
    ASSERT_ERR(reqs(d1, XS_DIRECTORY_PART, "n|1|"), "EINVAL");   /* not at a name */
    ASSERT_ERR(reqs(d1, XS_DIRECTORY_PART, "n|999999|"), "EINVAL");
    ASSERT_ERR(reqs(d1, XS_DIRECTORY_PART, "n|"), "EINVAL");
}
END_TEST

START_TEST(test_management)
{
    /* Only dom0 manages. */
    ASSERT_ERR(reqs(d1, XS_INTRODUCE, "5|1|1|"), "EACCES");
    ASSERT_ERR(reqs(d1, XS_RELEASE, "2|"), "EACCES");
    ASSERT_ERR(reqs(d1, XS_IS_DOMAIN_INTRODUCED, "2|"), "EACCES");
    ASSERT_ERR(reqs(d1, XS_RESUME, "2|"), "EACCES");
    ASSERT_ERR(reqs(d1, XS_SET_TARGET, "2|1|"), "EACCES");
    ASSERT_ERR(reqs(d1, XS_CONTROL, "check|"), "EACCES");
    /* Arguments. */
    ASSERT_ERR(reqs(d0, XS_INTRODUCE, "0|1|1|"), "EINVAL");
    ASSERT_ERR(reqs(d0, XS_INTRODUCE, "32752|1|1|"), "EINVAL");
    ASSERT_ERR(reqs(d0, XS_INTRODUCE, "5|-1|1|"), "EINVAL");
    ASSERT_ERR(reqs(d0, XS_INTRODUCE, "5|1|4294967296|"), "EINVAL");
    ASSERT_ERR(reqs(d0, XS_INTRODUCE, "5|1|"), "EINVAL");
    ASSERT_ERR(reqs(d0, XS_INTRODUCE, "1|1|1|"), "EEXIST");
    hook_rc = XEN_EINVAL;
    ASSERT_ERR(reqs(d0, XS_INTRODUCE, "5|1|1|"), "EINVAL");
    ck_assert_ptr_null(xs_conn_find(&core, 5));
    hook_rc = 0;
    ASSERT_OK(reqs(d0, XS_INTRODUCE, "5|18446744073709551615|4294967295|"));
    ck_assert(hook_mfn == UINT64_MAX);
    ck_assert_str_eq(reqs(d0, XS_IS_DOMAIN_INTRODUCED, "5|")->payload, "T");
    ck_assert_str_eq(reqs(d0, XS_IS_DOMAIN_INTRODUCED, "0|")->payload, "T");
    ck_assert_str_eq(reqs(d0, XS_IS_DOMAIN_INTRODUCED, "6|")->payload, "F");
    ASSERT_OK(reqs(d0, XS_RESUME, "5|"));
    ASSERT_ERR(reqs(d0, XS_RESUME, "6|"), "ENOENT");
    ASSERT_OK(reqs(d0, XS_RELEASE, "5|"));
    ASSERT_ERR(reqs(d0, XS_RELEASE, "5|"), "ENOENT");
    ASSERT_ERR(reqs(d0, XS_RELEASE, "0|"), "EINVAL");
    ck_assert_str_eq(reqs(d0, XS_IS_DOMAIN_INTRODUCED, "5|")->payload, "F");

    /* SET_TARGET: domain 2 acts for domain 1. */
    ASSERT_ERR(reqs(d0, XS_SET_TARGET, "9|1|"), "ENOENT");
    ASSERT_ERR(reqs(d0, XS_SET_TARGET, "2|0|"), "EINVAL");
    ASSERT_OK(reqs(d1, XS_WRITE, "private|p"));
    ASSERT_ERR(reqs(d2, XS_READ, "/local/domain/1/private|"), "EACCES");
    ASSERT_OK(reqs(d0, XS_SET_TARGET, "2|1|"));
    ck_assert_str_eq(reqs(d2, XS_READ, "/local/domain/1/private|")->payload, "p");

    /* Releasing domain 1: its nodes go to dom0, so a new domain 1 (and
     * its former target) cannot read them. */
    ASSERT_OK(reqs(d0, XS_RELEASE, "1|"));
    ASSERT_ERR(reqs(d2, XS_READ, "/local/domain/1/private|"), "EACCES");
    ck_assert_str_eq(reqs(d0, XS_GET_PERMS, "/local/domain/1/private|")->payload, "n0");
    ASSERT_OK(reqs(d0, XS_INTRODUCE, "1|1|1|"));
    d1 = xs_conn_find(&core, 1);
    ASSERT_ERR(reqs(d1, XS_READ, "private|"), "EACCES");

    ASSERT_OK(reqs(d0, XS_CONTROL, "check|"));
    ASSERT_OK(reqs(d0, XS_CONTROL, "print|hello|"));
    ASSERT_ERR(reqs(d0, XS_CONTROL, "bogus|"), "EINVAL");
    ck_assert_uint_gt(reqs(d0, XS_CONTROL, "help|")->hdr.len, 5);
}
END_TEST

START_TEST(test_backpressure_and_event_drop)
{
    /* A domain that sends but never reads: feed stops taking requests
     * once its unread output passes the soft limit. */
    char args[32];
    int n = snprintf(args, sizeof(args), "data/bp");
    memcpy(args + n + 1, "1", 1);
    uint8_t one[XS_HDR_SIZE + 16];
    struct xsd_sockmsg h = { .type = XS_WRITE, .req_id = 1, .len = (uint32_t)n + 2 };
    xs_hdr_encode(&h, one);
    memcpy(one + XS_HDR_SIZE, args, (size_t)n + 2);
    size_t sz = XS_HDR_SIZE + (size_t)n + 2;
    unsigned accepted = 0;
    for (unsigned i = 0; i < 10000; i++) {
        long rc = xs_conn_feed(&core, d1, one, sz);
        if (rc == 0)
            break;
        ck_assert_int_eq(rc, (long)sz);
        accepted++;
    }
    ck_assert(!xs_conn_ready(d1));
    ck_assert_uint_lt(accepted, 10000);
    ck_assert_uint_le(d1->out_bytes, core.store.lim.output_soft + XS_HDR_SIZE + 8);
    /* Reading lets it go on. */
    struct xs_msg m;
    unsigned replies = 0;
    while (xs_take(&core, d1, &m))
        replies++;
    ck_assert_uint_eq(replies, accepted);
    ck_assert(xs_conn_ready(d1));
    ck_assert_int_eq(xs_conn_feed(&core, d1, one, sz), (long)sz);
    ck_assert(xs_take(&core, d1, &m));

    /* Watch events to a domain that never reads are dropped past the hard
     * limit instead of growing without bound. */
    ASSERT_OK(reqs(d1, XS_WATCH, "/local/domain/1|w|"));
    for (unsigned i = 0; i < 5000; i++) {
        snprintf(args, sizeof(args), "/local/domain/1/e|%u", i);
        ASSERT_OK(reqs(d0, XS_WRITE, args));
    }
    ck_assert_uint_gt(d1->nr_events_dropped, 0);
    ck_assert_uint_le(d1->out_bytes, core.store.lim.output_hard);
    while (xs_take(&core, d1, &m))
        ck_assert_uint_eq(m.hdr.type, XS_WATCH_EVENT);
}
END_TEST

START_TEST(test_out_of_memory_still_replies)
{
    /* Fill the arena from dom0; every request still gets a reply, an
     * ENOMEM error when nothing else fits. */
    teardown();
    start(256 * 1024);
    static char payload[4000];
    memset(payload, 'm', sizeof(payload));
    unsigned enomem = 0;
    for (unsigned i = 0; i < 200 && !enomem; i++) {
        int n = snprintf(payload, 32, "/fill/%u", i);
        payload[n] = 0;
        const struct xs_msg *m = req(d0, XS_WRITE, payload, sizeof(payload));
        if (m->hdr.type == XS_ERROR) {
            ck_assert_str_eq(m->payload, "ENOMEM");
            enomem++;
        }
    }
    ck_assert_uint_eq(enomem, 1);
    /* Exhaust what is left with tiny nodes; requests keep being answered. */
    for (unsigned i = 0; i < 20000; i++) {
        char args[32];
        snprintf(args, sizeof(args), "/t/%u|", i);
        const struct xs_msg *m = reqs(d0, XS_WRITE, args);
        if (m->hdr.type == XS_ERROR) {
            ck_assert_str_eq(m->payload, "ENOMEM");
            break;
        }
    }
    /* Still answered, and the connection still works. */
    ASSERT_ERR(reqs(d0, XS_WRITE, "/t/last|x"), "ENOMEM");
    ck_assert(xs_store_check(&core.store));
    xs_core_rm(&core, "/fill");
    ASSERT_OK(reqs(d0, XS_WRITE, "/t/last|x"));
}
END_TEST

static Suite *xs_proto_suite(void);
static Suite *xs_proto_suite(void)
{
    Suite *s = suite_create("xs_proto");
    TCase *tc = tcase_create("proto");
    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_add_test(tc, test_basic_ops);
    tcase_add_test(tc, test_dom0_direct_api);
    tcase_add_test(tc, test_errors_and_malformed);
    tcase_add_test(tc, test_oversized_message_cuts_off);
    tcase_add_test(tc, test_split_feeding);
    tcase_add_test(tc, test_watches);
    tcase_add_test(tc, test_special_watches);
    tcase_add_test(tc, test_transactions);
    tcase_add_test(tc, test_watch_flood);
    tcase_add_test(tc, test_giant_values_and_node_quota);
    tcase_add_test(tc, test_management);
    tcase_add_test(tc, test_backpressure_and_event_drop);
    tcase_add_test(tc, test_out_of_memory_still_replies);
    suite_add_tcase(s, tc);
    return s;
}

UNIT_MAIN(xs_proto_suite)
