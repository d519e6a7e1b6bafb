/* SPDX-License-Identifier: MIT */
/*
 * The blkif protocol between a block frontend (Linux's xen-blkfront,
 * pvgrub) and its backend (xen-pv-abi.md §8.4, §8.5): the ring slots, the
 * operation and status codes, and the xenstore values. x86-64 layout
 * (protocol "x86_64-abi"); the 32-bit layout differs and is not spoken.
 *
 * Data travels in granted pages: each segment names a grant reference and
 * an inclusive range of 512-byte sectors inside that 4 KiB page.
 */
#ifndef LAMINA_PUBLIC_IO_BLKIF_H
#define LAMINA_PUBLIC_IO_BLKIF_H
#include <stdint.h>
#include <public/grant_table.h>
#include <public/io/ring.h>

#define BLKIF_OP_READ            0
#define BLKIF_OP_WRITE           1
#define BLKIF_OP_WRITE_BARRIER   2   /* only if the backend offers feature-barrier */
#define BLKIF_OP_FLUSH_DISKCACHE 3   /* only if it offers feature-flush-cache */
#define BLKIF_OP_RESERVED_1      4
#define BLKIF_OP_DISCARD         5   /* only with feature-discard */
#define BLKIF_OP_INDIRECT        6   /* only with feature-max-indirect-segments */

#define BLKIF_RSP_EOPNOTSUPP (-2)
#define BLKIF_RSP_ERROR      (-1)
#define BLKIF_RSP_OKAY        0

#define BLKIF_MAX_SEGMENTS_PER_REQUEST 11
#define BLKIF_SECTOR_SIZE              512u
#define BLKIF_SECTORS_PER_PAGE         8u   /* first_sect/last_sect range over 0..7 */
#define BLKIF_MAX_INDIRECT_PAGES_PER_REQUEST 8

/* Discard flags (request byte 1). */
#define BLKIF_DISCARD_SECURE 1

/* The `info` value the backend writes (VDISK_*). */
#define VDISK_CDROM     1u
#define VDISK_REMOVABLE 2u
#define VDISK_READONLY  4u

/* Linux's virtual block major: xvd<disk> is (202 << 8) | (disk << 4) | part. */
#define XEN_VBD_MAJOR        202u
#define XEN_VBD_PARTS_SHIFT  4u
/* virtual-device-ext: large disk indices, (1 << 28) | (disk << 8) | part. */
#define XEN_VBD_EXT_FLAG     (1u << 28)
#define XEN_VBD_EXT_PARTS_SHIFT 8u

/* The protocol names a frontend may write under `protocol`. */
#define XEN_IO_PROTO_ABI_X86_64 "x86_64-abi"
#define XEN_IO_PROTO_ABI_X86_32 "x86_32-abi"

struct blkif_request_segment {
    grant_ref_t gref;      /* the granted page */
    uint8_t first_sect;    /* first 512-byte sector in it, 0..7 */
    uint8_t last_sect;     /* last one, inclusive, first_sect..7 */
    uint16_t pad;
};

/* READ, WRITE, WRITE_BARRIER, FLUSH_DISKCACHE. */
struct blkif_request {
    uint8_t operation;
    uint8_t nr_segments;
    uint16_t handle;       /* the frontend's device handle; not interpreted */
    uint32_t pad;
    uint64_t id;           /* echoed in the response */
    uint64_t sector_number;/* start, in 512-byte sectors */
    struct blkif_request_segment seg[BLKIF_MAX_SEGMENTS_PER_REQUEST];
};

struct blkif_request_discard {
    uint8_t operation;     /* BLKIF_OP_DISCARD */
    uint8_t flag;          /* BLKIF_DISCARD_* */
    uint16_t handle;
    uint32_t pad;
    uint64_t id;
    uint64_t sector_number;
    uint64_t nr_sectors;
};

struct blkif_request_indirect {
    uint8_t operation;     /* BLKIF_OP_INDIRECT */
    uint8_t indirect_op;   /* READ or WRITE */
    uint16_t nr_segments;
    uint32_t pad;
    uint64_t id;
    uint64_t sector_number;
    uint16_t handle;
    uint16_t pad2;
    grant_ref_t indirect_grefs[BLKIF_MAX_INDIRECT_PAGES_PER_REQUEST];
};

struct blkif_response {
    uint64_t id;
    uint8_t operation;
    uint8_t pad;
    int16_t status;        /* BLKIF_RSP_* */
    uint32_t pad2;
};

/* One ring slot holds a request or its response. */
union blkif_sring_entry {
    struct blkif_request req;
    struct blkif_request_discard discard;
    struct blkif_request_indirect indirect;
    struct blkif_response rsp;
};

#define BLKIF_SLOT_SIZE 112u
/* Slots in a ring of 2^order pages: 32 per page. */
#define BLKIF_RING_SLOTS(order) ring_slot_count((uint64_t)RING_PAGE_SIZE << (order), BLKIF_SLOT_SIZE)

_Static_assert(sizeof(struct blkif_request_segment) == 8, "blkif segment");
_Static_assert(__builtin_offsetof(struct blkif_request, id) == 8, "blkif_request.id");
_Static_assert(__builtin_offsetof(struct blkif_request, sector_number) == 16, "blkif_request.sector");
_Static_assert(__builtin_offsetof(struct blkif_request, seg) == 24, "blkif_request.seg");
_Static_assert(sizeof(struct blkif_request) == 112, "blkif_request");
_Static_assert(__builtin_offsetof(struct blkif_request_discard, nr_sectors) == 24, "discard.nr_sectors");
_Static_assert(__builtin_offsetof(struct blkif_request_indirect, handle) == 24, "indirect.handle");
_Static_assert(__builtin_offsetof(struct blkif_request_indirect, indirect_grefs) == 28, "indirect.grefs");
_Static_assert(__builtin_offsetof(struct blkif_response, operation) == 8, "blkif_response.op");
_Static_assert(__builtin_offsetof(struct blkif_response, status) == 10, "blkif_response.status");
_Static_assert(sizeof(struct blkif_response) == 16, "blkif_response");
_Static_assert(sizeof(union blkif_sring_entry) == BLKIF_SLOT_SIZE, "blkif slot");

#endif
