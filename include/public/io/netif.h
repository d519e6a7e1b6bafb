/* SPDX-License-Identifier: MIT */
/*
 * The netif protocol between a network frontend (Linux's xen-netfront) and
 * its backend (xen-pv-abi.md §8.4, §8.5), in our own terms: two rings per
 * vif, one for packets the guest sends (tx) and one for empty pages it
 * posts to receive into (rx). x86-64 layout.
 *
 * A sent packet takes one or more tx slots: the first names the whole
 * packet length in `size` and its own data by gref/offset; each further
 * slot (while NETTXF_more_data is set) names one more fragment and its own
 * length. Extra-info slots follow the first slot when it carries
 * NETTXF_extra_info (then while the extra's FLAG_MORE is set). Every slot,
 * extra or not, is answered by one response slot; extras get status NULL.
 *
 * On rx each response must sit in the ring slot of the request it answers
 * (netfront does not look at the id of an extra-info response).
 */
#ifndef LAMINA_PUBLIC_IO_NETIF_H
#define LAMINA_PUBLIC_IO_NETIF_H
#include <stdint.h>
#include <public/grant_table.h>
#include <public/io/ring.h>

/* tx request flags */
#define NETTXF_csum_blank     0x1u  /* the L4 checksum field is not filled in */
#define NETTXF_data_validated 0x2u  /* the checksum is known good */
#define NETTXF_more_data      0x4u  /* the packet goes on in the next slot */
#define NETTXF_extra_info     0x8u  /* extra-info slots follow this one */

/* rx response flags */
#define NETRXF_data_validated 0x1u
#define NETRXF_csum_blank     0x2u
#define NETRXF_more_data      0x4u
#define NETRXF_extra_info     0x8u
#define NETRXF_gso_prefix     0x10u /* deprecated; never sent by us */

/* Response status (tx), or a negative rx status; rx uses >= 0 for the byte count. */
#define NETIF_RSP_DROPPED (-2)
#define NETIF_RSP_ERROR   (-1)
#define NETIF_RSP_OKAY      0
#define NETIF_RSP_NULL      1   /* the answer to an extra-info slot */

/* Extra-info types and flags. */
#define XEN_NETIF_EXTRA_TYPE_NONE      0   /* invalid */
#define XEN_NETIF_EXTRA_TYPE_GSO       1
#define XEN_NETIF_EXTRA_TYPE_MCAST_ADD 2
#define XEN_NETIF_EXTRA_TYPE_MCAST_DEL 3
#define XEN_NETIF_EXTRA_TYPE_HASH      4
#define XEN_NETIF_EXTRA_TYPE_MAX       5
#define XEN_NETIF_EXTRA_FLAG_MORE      0x1u

#define XEN_NETIF_GSO_TYPE_NONE  0
#define XEN_NETIF_GSO_TYPE_TCPV4 1
#define XEN_NETIF_GSO_TYPE_TCPV6 2

#define XEN_NETIF_MAX_TX_SIZE 0xffffu  /* a packet's size field is 16 bits */
#define XEN_NETIF_NR_SLOTS_MIN 18      /* data slots per packet a backend must accept */
#define XEN_NETIF_PAGE_SIZE    4096u
#define XEN_NETIF_ETH_HLEN     14u     /* the smallest frame worth sending */

struct netif_tx_request {
    grant_ref_t gref;      /* the page holding this slot's data (read-only grant) */
    uint16_t offset;       /* where the data starts in it */
    uint16_t flags;        /* NETTXF_* */
    uint16_t id;           /* echoed in the response */
    uint16_t size;         /* first slot: whole packet; later slots: this fragment */
};

struct netif_tx_response {
    uint16_t id;
    int16_t status;        /* NETIF_RSP_* */
};

/* Overlays a tx request slot or an rx response slot. */
struct netif_extra_info {
    uint8_t type;          /* XEN_NETIF_EXTRA_TYPE_* */
    uint8_t flags;         /* XEN_NETIF_EXTRA_FLAG_* */
    union {
        struct {
            uint16_t size; /* the MSS: payload bytes per segment, never 0 */
            uint8_t type;  /* XEN_NETIF_GSO_TYPE_* */
            uint8_t pad;
            uint16_t features;
        } gso;
        struct {
            uint8_t addr[6];
        } mcast;
        uint16_t pad[3];
    } u;
};

struct netif_rx_request {
    uint16_t id;           /* echoed in the response */
    uint16_t pad;
    grant_ref_t gref;      /* an empty page granted writable */
};

struct netif_rx_response {
    uint16_t id;
    uint16_t offset;       /* where the data starts in the page */
    uint16_t flags;        /* NETRXF_* */
    int16_t status;        /* >= 0: bytes received; < 0: NETIF_RSP_* */
};

union netif_tx_sring_entry {
    struct netif_tx_request req;
    struct netif_extra_info extra;
    struct netif_tx_response rsp;
};

union netif_rx_sring_entry {
    struct netif_rx_request req;
    struct netif_rx_response rsp;
    struct netif_extra_info extra;
};

#define NETIF_TX_SLOT_SIZE 12u
#define NETIF_RX_SLOT_SIZE 8u
/* 256 of each per page. */
#define NETIF_TX_RING_SLOTS ring_slot_count(RING_PAGE_SIZE, NETIF_TX_SLOT_SIZE)
#define NETIF_RX_RING_SLOTS ring_slot_count(RING_PAGE_SIZE, NETIF_RX_SLOT_SIZE)

_Static_assert(sizeof(struct netif_tx_request) == 12, "netif_tx_request");
_Static_assert(__builtin_offsetof(struct netif_tx_request, offset) == 4, "tx.offset");
_Static_assert(__builtin_offsetof(struct netif_tx_request, flags) == 6, "tx.flags");
_Static_assert(__builtin_offsetof(struct netif_tx_request, id) == 8, "tx.id");
_Static_assert(__builtin_offsetof(struct netif_tx_request, size) == 10, "tx.size");
_Static_assert(sizeof(struct netif_tx_response) == 4, "netif_tx_response");
_Static_assert(sizeof(struct netif_extra_info) == 8, "netif_extra_info");
_Static_assert(__builtin_offsetof(struct netif_extra_info, u.gso.type) == 4, "extra.gso.type");
_Static_assert(__builtin_offsetof(struct netif_extra_info, u.gso.features) == 6, "extra.gso.features");
_Static_assert(sizeof(struct netif_rx_request) == 8, "netif_rx_request");
_Static_assert(__builtin_offsetof(struct netif_rx_request, gref) == 4, "rx.gref");
_Static_assert(sizeof(struct netif_rx_response) == 8, "netif_rx_response");
_Static_assert(__builtin_offsetof(struct netif_rx_response, status) == 6, "rx.status");
_Static_assert(sizeof(union netif_tx_sring_entry) == NETIF_TX_SLOT_SIZE, "tx slot");
_Static_assert(sizeof(union netif_rx_sring_entry) == NETIF_RX_SLOT_SIZE, "rx slot");

#endif
