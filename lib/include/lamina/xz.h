/* SPDX-License-Identifier: MIT */
/*
 * Decoding one .xz stream (The .xz File Format 1.1.0) held whole in memory
 * into a buffer the caller sized, as dom0 does with the XZ payload of a Linux
 * bzImage (xen-pv-abi.md §3.1). Filters: LZMA2, optionally preceded by x86
 * BCJ filters. Checks: none, CRC32, CRC64, SHA-256. Nothing is allocated: the
 * output buffer is also the LZMA2 dictionary, and the probability tables
 * live in a workspace the caller passes. The input is hostile: it is never
 * read outside [in, in + in_size), out is never written outside
 * [out, out + out_size), every loop is bounded by a size already checked
 * against those buffers, and anything the format calls invalid is refused.
 * Builds freestanding and on the host.
 */
#ifndef LAMINA_XZ_H
#define LAMINA_XZ_H
#include <stddef.h>
#include <stdint.h>

/* Bytes of workspace xz_decode needs; it must be aligned to 8 bytes. */
#define XZ_WORK_SIZE (40 * 1024)

/* Integrity check IDs (format §2.1.1.2). */
#define XZ_CHECK_NONE 0x00
#define XZ_CHECK_CRC32 0x01
#define XZ_CHECK_CRC64 0x04
#define XZ_CHECK_SHA256 0x0a

enum xz_error {
    XZ_OK = 0,
    XZ_EINVAL = -1,     /* NULL buffer, or the workspace is too small or misaligned */
    XZ_ENOTXZ = -2,     /* no .xz magic at the start */
    XZ_ETRUNC = -3,     /* no stream footer at the end: truncated, or not one whole stream
                           (optionally followed by stream padding) */
    XZ_ECORRUPT = -4,   /* a stream header, block header, index or footer is malformed or
                           fails its CRC32, or the blocks disagree with the index */
    XZ_EOPTIONS = -5,   /* an unsupported filter, filter option or reserved flag */
    XZ_ECHECKTYPE = -6, /* an integrity check type this decoder cannot verify */
    XZ_EDATA = -7,      /* LZMA2, LZMA or BCJ data is corrupt */
    XZ_ECHECK = -8,     /* a block's data does not match its integrity check */
    XZ_ENOSPC = -9,     /* out is too small; *out_len says how many bytes are needed */
};

/* What the stream header, index and footer say. */
struct xz_info {
    uint64_t uncompressed_size; /* total over the index: the size xz_decode produces */
    uint64_t nr_blocks;
    size_t stream_size;         /* bytes of the stream, without the stream padding after it */
    unsigned check;             /* XZ_CHECK_* */
};

/* Parses and validates the stream header, the footer and the index (with
 * their CRC32s) without decoding any block: cheap, so callers can size the
 * output buffer. `in` holds exactly one stream, optionally followed by
 * stream padding (zero bytes, a multiple of 4). Returns 0 or an xz_error. */
int xz_stream_info(const void *in, size_t in_size, struct xz_info *info);

/* Decodes the stream in `in` (as for xz_stream_info) into out, which must
 * not overlap in or work. On success returns 0 and sets *out_len to the
 * number of bytes produced. On XZ_ENOSPC nothing is written and *out_len is
 * the size needed; on any other error *out_len is 0 and out holds garbage.
 * work: XZ_WORK_SIZE bytes or more, aligned to 8. */
int xz_decode(const void *in, size_t in_size, void *out, size_t out_size, size_t *out_len,
              void *work, size_t work_size);

/* A short human-readable name for an xz_error. */
const char *xz_strerror(int err);

#endif
