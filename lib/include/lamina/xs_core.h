/* SPDX-License-Identifier: MIT */
/*
 * xenstored's logic without its I/O (xen-pv-abi.md §8.3): connections (one
 * per domain), the byte stream of requests each one sends, replies and
 * watch events queued for it, watches, transactions, and the management
 * requests (INTRODUCE, RELEASE, ...). The ring and event-channel glue that
 * moves bytes lives in dom0/xenstored; host tests drive this directly.
 *
 * Everything is allocated from one caller-given block of memory. A
 * connection's input is a stream: xs_conn_feed takes bytes as they come,
 * in any split, and stops taking new requests while the connection's
 * unread output is over lim.output_soft (so a domain that never reads
 * cannot grow it). Watch events for a connection whose output is over
 * lim.output_hard are dropped and counted. Every accepted request gets
 * exactly one reply, even when memory runs out.
 *
 * Single-threaded; none of this may be called from an event upcall.
 */
#ifndef LAMINA_XS_CORE_H
#define LAMINA_XS_CORE_H
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <lamina/xs_arena.h>
#include <lamina/xs_store.h>
#include <lamina/xs_wire.h>

/* A watch token is at most this long, so that an event for any path fits
 * in one payload. */
#define XS_TOKEN_MAX (XENSTORE_PAYLOAD_MAX - XENSTORE_ABS_PATH_MAX - 2)
#define XS_SPECIAL_PERMS 8
/* Domain ids below this are real domains (Xen's DOMID_FIRST_RESERVED). */
#define XS_DOMID_FIRST_RESERVED 0x7ff0u

enum xs_special {
    XS_SPECIAL_INTRODUCE,              /* "@introduceDomain" */
    XS_SPECIAL_RELEASE,                /* "@releaseDomain" */
    XS_NR_SPECIAL
};

struct xs_core;
struct xs_conn;

/* What INTRODUCE and RELEASE need from the outside world. */
struct xs_core_ops {
    /* Connects to the domain of `conn` (just opened): map its ring page
     * `mfn`, bind its event channel `port`. Returns 0 or an errno, and then
     * the connection is closed again. */
    int (*introduce)(void *ctx, struct xs_conn *conn, uint64_t mfn, uint32_t port);
    /* Disconnects from it (unmap, unbind); the connection closes next. */
    void (*release)(void *ctx, struct xs_conn *conn);
    /* Optional: a node at or under `path` (len bytes, not NUL-terminated
     * in general) changed, for dom0's own backends; called as watches fire. */
    void (*changed)(void *ctx, const char *path, size_t len);
    void *ctx;
};

struct xs_outmsg {
    struct xs_outmsg *next;
    uint32_t len;
    uint8_t *data;                     /* header + payload */
};

struct xs_watch {
    struct xs_watch *next;
    char *path;                        /* canonical, or "@..." */
    char *token;
    uint32_t path_len, token_len;
    bool relative;                     /* events drop the domain's home prefix */
};

struct xs_conn {
    struct xs_conn *next;
    uint16_t domid;
    uint16_t target;                   /* SET_TARGET, or XS_NO_DOMID */
    bool privileged;
    void *user;                        /* the glue's own data */

    struct xs_watch *watches;
    uint32_t nr_watches;
    uint32_t watch_bytes;              /* their paths and tokens */
    struct xs_tx *txs;
    uint32_t nr_txs;

    /* The request being received: in_len bytes of header + payload. */
    uint32_t in_len;
    struct xsd_sockmsg in_hdr;
    uint8_t in_buf[XS_HDR_SIZE + XENSTORE_PAYLOAD_MAX];

    /* Output not yet taken: out_bytes in total, out_off of the head taken. */
    struct xs_outmsg *out_head, *out_tail;
    uint32_t out_off;
    size_t out_bytes;
    size_t out_soft;                   /* lim.output_soft */
    /* For the one reply that could not be allocated. */
    struct xs_outmsg spare;
    uint8_t spare_buf[XS_HDR_SIZE + 8];
    bool spare_busy;

    uint64_t nr_requests, nr_events, nr_events_dropped;
};

struct xs_core {
    struct xs_arena arena;
    struct xs_store store;
    struct xs_core_ops ops;
    struct xs_conn *conns;
    uint32_t next_tx_id;
    struct xs_perm special_perms[XS_NR_SPECIAL][XS_SPECIAL_PERMS];
    uint32_t nr_special_perms[XS_NR_SPECIAL];
    char path[XS_PATH_BUF];
    uint8_t reply[XENSTORE_PAYLOAD_MAX];
    struct xs_perm perm_buf[XS_PERMS_MAX];
};

/* Sets up the store ("/" only) in [mem, mem + size). ops may be NULL
 * (tests): INTRODUCE then only opens a connection. Returns 0 or an errno. */
int xs_core_init(struct xs_core *c, void *mem, size_t size, const struct xs_limits *lim,
                 const struct xs_core_ops *ops);

/* A connection for domid (privileged if 0), or NULL (no memory, or domid
 * has one already). */
struct xs_conn *xs_conn_open(struct xs_core *c, uint16_t domid);
struct xs_conn *xs_conn_find(struct xs_core *c, uint16_t domid);
/* Drops the connection with its watches, transactions and output. */
void xs_conn_close(struct xs_core *c, struct xs_conn *conn);

/* Takes up to len request bytes; returns how many it took (the rest must
 * be offered again later), or -1 if the peer broke the protocol (a payload
 * over XENSTORE_PAYLOAD_MAX): cut the connection off. */
long xs_conn_feed(struct xs_core *c, struct xs_conn *conn, const void *buf, size_t len);
/* The next output bytes, contiguous; returns their count (0: none). */
size_t xs_conn_peek(const struct xs_conn *conn, const void **data);
/* Marks n peeked bytes as taken. */
void xs_conn_consume(struct xs_core *c, struct xs_conn *conn, size_t n);
/* Whether feed would take a new request now. */
bool xs_conn_ready(const struct xs_conn *conn);

/* Management, as dom0 would ask over the wire (0 or an errno): connects
 * domid through ops->introduce and fires @introduceDomain; disconnects it,
 * hands its nodes to dom0 (xs_store_forget_domain) and fires @releaseDomain. */
int xs_core_introduce(struct xs_core *c, uint16_t domid, uint64_t mfn, uint32_t port);
int xs_core_release(struct xs_core *c, uint16_t domid);
/* Fires @introduceDomain or @releaseDomain (e.g. when a domain shuts down). */
void xs_core_fire_special(struct xs_core *c, enum xs_special which);

/*
 * The store as dom0 sees it, for code in dom0 itself (no transaction).
 * Paths are absolute, or relative to /local/domain/0. Values are bytes;
 * xs_core_read copies up to cap bytes and sets *len to the full length
 * (E2BIG if it did not fit). Changes fire watches as wire requests do.
 */
int xs_core_read(struct xs_core *c, const char *path, void *buf, size_t cap, size_t *len);
int xs_core_write(struct xs_core *c, const char *path, const void *value, size_t len);
int xs_core_mkdir(struct xs_core *c, const char *path);
int xs_core_rm(struct xs_core *c, const char *path);
/* Child names, each followed by a NUL, into buf (E2BIG if cap is short). */
int xs_core_directory(struct xs_core *c, const char *path, char *buf, size_t cap, size_t *len);
int xs_core_set_perms(struct xs_core *c, const char *path, const struct xs_perm *perms, uint32_t nr);
/* Permissions written as text: "b5 r0", entries separated by spaces. */
int xs_core_set_perms_text(struct xs_core *c, const char *path, const char *text);

#endif
