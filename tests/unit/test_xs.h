/* SPDX-License-Identifier: MIT */
/*
 * What the xenstore protocol tests share: a core over a malloc'd arena,
 * sending a request as bytes (in any split) and taking replies and watch
 * events back off a connection's output stream.
 */
#ifndef LAMINA_TESTS_UNIT_TEST_XS_H
#define LAMINA_TESTS_UNIT_TEST_XS_H
#include "unit.h"
#include <lamina/xs_core.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

struct xs_msg {
    struct xsd_sockmsg hdr;
    char payload[XENSTORE_PAYLOAD_MAX + 1];   /* NUL added after len bytes */
};

/* Feeds a whole message (header + payload) in pieces of `chunk` bytes
 * (0: all at once) from an exact-size buffer; returns what the last feed
 * returned (-1: connection to be cut). */
static inline long xs_send_raw(struct xs_core *c, struct xs_conn *conn, uint32_t type, uint32_t req_id,
                               uint32_t tx_id, const void *payload, size_t len, size_t chunk)
{
    size_t total = XS_HDR_SIZE + len;
    uint8_t *buf = malloc(total);
    ck_assert_ptr_nonnull(buf);
    struct xsd_sockmsg h = { .type = type, .req_id = req_id, .tx_id = tx_id, .len = (uint32_t)len };
    xs_hdr_encode(&h, buf);
    if (len)
        memcpy(buf + XS_HDR_SIZE, payload, len);
    size_t off = 0;
    long rc = 0;
    while (off < total) {
        size_t n = chunk && chunk < total - off ? chunk : total - off;
        rc = xs_conn_feed(c, conn, buf + off, n);
        if (rc < 0)
            break;
        ck_assert_msg((size_t)rc == n, "feed took %ld of %zu", rc, n);
        off += n;
    }
    free(buf);
    return rc;
}

/* Takes the next complete message off conn's output; false if none. */
static inline bool xs_take(struct xs_core *c, struct xs_conn *conn, struct xs_msg *m)
{
    uint8_t raw[XS_HDR_SIZE];
    const void *p;
    size_t n = xs_conn_peek(conn, &p);
    if (!n)
        return false;
    /* Messages are queued whole, so a header is always complete. */
    ck_assert_uint_ge(n, XS_HDR_SIZE);
    memcpy(raw, p, XS_HDR_SIZE);
    xs_hdr_decode(raw, &m->hdr);
    ck_assert_uint_le(m->hdr.len, XENSTORE_PAYLOAD_MAX);
    ck_assert_uint_ge(n, XS_HDR_SIZE + m->hdr.len);
    memcpy(m->payload, (const uint8_t *)p + XS_HDR_SIZE, m->hdr.len);
    m->payload[m->hdr.len] = 0;
    xs_conn_consume(c, conn, XS_HDR_SIZE + m->hdr.len);
    return true;
}

#endif
