/* SPDX-License-Identifier: MIT */
/*
 * Xenstore on the wire (xen-pv-abi.md §8.2, §8.3): the message header and
 * type numbers, the error names a reply may carry, and the page a domain
 * shares with xenstored (two byte rings and their indices). Only layout and
 * numbers live here; parsing is lib/xs_wire.c.
 */
#ifndef LAMINA_PUBLIC_IO_XS_WIRE_H
#define LAMINA_PUBLIC_IO_XS_WIRE_H
#include <stdint.h>
#include <public/errno.h>

/* Message types (xsd_sockmsg.type). 20 was XS_RESTRICT and is gone. */
#define XS_CONTROL              0
#define XS_DEBUG                XS_CONTROL     /* the old name */
#define XS_DIRECTORY            1
#define XS_READ                 2
#define XS_GET_PERMS            3
#define XS_WATCH                4
#define XS_UNWATCH              5
#define XS_TRANSACTION_START    6
#define XS_TRANSACTION_END      7
#define XS_INTRODUCE            8
#define XS_RELEASE              9
#define XS_GET_DOMAIN_PATH      10
#define XS_WRITE                11
#define XS_MKDIR                12
#define XS_RM                   13
#define XS_SET_PERMS            14
#define XS_WATCH_EVENT          15
#define XS_ERROR                16
#define XS_IS_DOMAIN_INTRODUCED 17
#define XS_RESUME               18
#define XS_SET_TARGET           19
#define XS_RESET_WATCHES        21
#define XS_DIRECTORY_PART       22
#define XS_TYPE_COUNT           23
#define XS_INVALID              0xffff

/*
 * Every message in either direction: this header, then `len` payload bytes.
 * A reply echoes the request's req_id and tx_id; watch events carry 0 in
 * both. tx_id names a transaction (0: none).
 */
struct xsd_sockmsg {
    uint32_t type;
    uint32_t req_id;
    uint32_t tx_id;
    uint32_t len;
};
_Static_assert(sizeof(struct xsd_sockmsg) == 16, "xsd_sockmsg");

/*
 * Errors travel as their names (an XS_ERROR reply's payload is the name and
 * a NUL). These are the names Xen's table has, each with the number of the
 * same name in include/public/errno.h (XEN_<name>). Linux 6.1 does not know
 * EPERM, so a server should answer permission failures with EACCES.
 */
#define XS_ERRNO_LIST(X)                                                                           \
    X(EINVAL) X(EACCES) X(EEXIST) X(EISDIR) X(ENOENT) X(ENOMEM) X(ENOSPC) X(EIO) X(ENOTEMPTY)      \
    X(ENOSYS) X(EROFS) X(EBUSY) X(EAGAIN) X(EISCONN) X(E2BIG) X(EPERM)

/* Limits. A payload longer than this is a protocol violation. */
#define XENSTORE_PAYLOAD_MAX   4096
#define XENSTORE_ABS_PATH_MAX  3072
#define XENSTORE_REL_PATH_MAX  2048

/* The shared page (start_info.store_mfn). Indices are free-running and
 * masked by the ring size; prod - cons never exceeds it. */
#define XENSTORE_RING_SIZE 1024
typedef uint32_t XENSTORE_RING_IDX;
#define MASK_XENSTORE_IDX(idx) ((idx) & (XENSTORE_RING_SIZE - 1))

struct xenstore_domain_interface {
    char req[XENSTORE_RING_SIZE];      /* guest -> xenstored */
    char rsp[XENSTORE_RING_SIZE];      /* xenstored -> guest: replies and watch events */
    XENSTORE_RING_IDX req_cons, req_prod;
    XENSTORE_RING_IDX rsp_cons, rsp_prod;
    uint32_t server_features;          /* XENSTORE_SERVER_FEATURE_*, set by xenstored */
    uint32_t connection;               /* XENSTORE_CONNECTED / XENSTORE_RECONNECT */
    uint32_t error;                    /* XENSTORE_ERROR_*, with FEATURE_ERROR */
};
_Static_assert(__builtin_offsetof(struct xenstore_domain_interface, req_cons) == 2048, "xs ring");
_Static_assert(__builtin_offsetof(struct xenstore_domain_interface, server_features) == 2064, "xs ring");
_Static_assert(__builtin_offsetof(struct xenstore_domain_interface, error) == 2072, "xs ring");

#define XENSTORE_SERVER_FEATURE_RECONNECTION (1u << 0)
#define XENSTORE_SERVER_FEATURE_ERROR        (1u << 1)
#define XENSTORE_SERVER_FEATURE_WATCHDEPTH   (1u << 2)

#define XENSTORE_CONNECTED 0
#define XENSTORE_RECONNECT 1

#define XENSTORE_ERROR_NONE    0
#define XENSTORE_ERROR_COMM    1
#define XENSTORE_ERROR_RINGIDX 2
#define XENSTORE_ERROR_PROTO   3

#endif
