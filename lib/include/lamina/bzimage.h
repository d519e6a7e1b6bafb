/* SPDX-License-Identifier: MIT */
/*
 * Linux bzImage kernels (xen-pv-abi.md §3.1): recognising the x86 boot setup
 * header, finding the compressed payload, and decompressing it to the ELF
 * inside, which lamina/elf_pv.h then parses. Only XZ payloads are decoded;
 * the other compressions Linux offers are recognised and refused by name.
 * The image is hostile: every field is checked against the buffer, and
 * nothing is allocated (the caller passes the output buffer and workspace).
 * Builds freestanding and on the host.
 */
#ifndef LAMINA_BZIMAGE_H
#define LAMINA_BZIMAGE_H
#include <stddef.h>
#include <stdint.h>
#include <lamina/xz.h>

/* Workspace bzimage_decompress needs (aligned to 8). */
#define BZIMAGE_WORK_SIZE XZ_WORK_SIZE

/* Setup header fields (Linux Documentation/arch/x86/boot.rst, §3.1). */
#define BZIMAGE_SETUP_SECTS_OFF 0x1f1
#define BZIMAGE_HDRS_OFF 0x202
#define BZIMAGE_VERSION_OFF 0x206
#define BZIMAGE_PAYLOAD_OFFSET_OFF 0x248
#define BZIMAGE_PAYLOAD_LENGTH_OFF 0x24c
#define BZIMAGE_HEADER_END 0x250     /* bytes an image must have to hold those */
#define BZIMAGE_MIN_VERSION 0x0208   /* first protocol with payload_offset/length */

enum bzimage_compression {
    BZIMAGE_COMP_UNKNOWN = 0,
    BZIMAGE_COMP_XZ,
    BZIMAGE_COMP_GZIP,
    BZIMAGE_COMP_BZIP2,
    BZIMAGE_COMP_LZMA,
    BZIMAGE_COMP_LZO,
    BZIMAGE_COMP_LZ4,
    BZIMAGE_COMP_ZSTD,
};

enum bzimage_error {
    BZIMAGE_OK = 0,
    BZIMAGE_EINVAL = -1,      /* NULL argument */
    BZIMAGE_ETRUNC = -2,      /* smaller than the setup header */
    BZIMAGE_ENOTBZ = -3,      /* no "HdrS" signature: not a bzImage */
    BZIMAGE_EVERSION = -4,    /* boot protocol older than 2.08: no payload fields */
    BZIMAGE_EPAYLOAD = -5,    /* payload empty or not inside the image */
    BZIMAGE_EUNSUPPORTED = -6, /* payload compression unknown or not supported */
    BZIMAGE_ESIZE = -7,       /* Linux's size trailer disagrees with the xz index */
    BZIMAGE_ENOTELF = -8,     /* decompressed, but not an ELF image */
    /* BZIMAGE_EXZ_BASE + an xz_error (-1 .. -99): the XZ payload was refused. */
    BZIMAGE_EXZ_BASE = -100,
};

struct bzimage_info {
    uint16_t version;           /* boot protocol version, e.g. 0x020f */
    unsigned setup_sects;       /* 512-byte setup sectors after the boot sector */
    size_t payload_offset;      /* from the start of the image */
    size_t payload_size;        /* payload_length */
    unsigned compression;       /* enum bzimage_compression */
    size_t stream_size;         /* XZ: bytes of the xz stream at the payload's start */
    uint64_t decompressed_size; /* XZ: from the xz index (exact); 0 if unknown */
};

/* Checks the setup header and locates the payload; for an XZ payload also
 * validates the xz stream header, index and footer (not the data) and
 * fills decompressed_size, so callers can size the output buffer. The
 * payload may end with Linux's 32-bit little-endian size of the
 * decompressed image, which must then agree with the index. Returns 0 or a
 * bzimage_error; on BZIMAGE_EUNSUPPORTED, info->compression says what the
 * payload is. */
int bzimage_parse(const void *image, size_t size, struct bzimage_info *info);

/* Decompresses the payload into out (which must not overlap image or work)
 * and checks that the result starts with the ELF magic. On success returns 0
 * and sets *out_len; on BZIMAGE_EXZ_BASE + XZ_ENOSPC, *out_len is the size
 * needed. work: BZIMAGE_WORK_SIZE bytes or more, aligned to 8. */
int bzimage_decompress(const void *image, size_t size, void *out, size_t out_size,
                       size_t *out_len, void *work, size_t work_size);

/* Human-readable names for a bzimage_error and a bzimage_compression. */
const char *bzimage_strerror(int err);
const char *bzimage_compression_name(unsigned comp);

#endif
