/* SPDX-License-Identifier: MIT */
/*
 * bzImage reader; see lamina/bzimage.h. The payload starts at
 * (setup_sects + 1) * 512 + payload_offset and is payload_length bytes long
 * (xen-pv-abi.md §3.1; setup_sects 0 means 4, as the boot protocol says).
 * Linux's build appends the decompressed size (le32) after the compressed
 * stream; for XZ the stream is found with or without it, by its footer.
 * Only XZ is decompressed; gzip and the rest are named and refused.
 */
#include <lamina/bzimage.h>
#include <lamina/string.h>
#include <stdbool.h>

#define SECTOR_SIZE 512
#define SETUP_SECTS_DEFAULT 4
#define SIZE_TRAILER 4

static uint32_t get_le32(const uint8_t *p)
{
    return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

/* Payload magics, as Xen's bzImage loader knows them. */
static const struct {
    unsigned comp;
    uint8_t len;
    uint8_t magic[6];
} magics[] = {
    { BZIMAGE_COMP_XZ, 6, { 0xfd, '7', 'z', 'X', 'Z', 0x00 } },
    { BZIMAGE_COMP_GZIP, 2, { 0x1f, 0x8b } },
    { BZIMAGE_COMP_BZIP2, 3, { 'B', 'Z', 'h' } },
    { BZIMAGE_COMP_ZSTD, 4, { 0x28, 0xb5, 0x2f, 0xfd } },
    { BZIMAGE_COMP_LZO, 4, { 0x89, 'L', 'Z', 'O' } },
    { BZIMAGE_COMP_LZ4, 2, { 0x02, 0x21 } },
    { BZIMAGE_COMP_LZMA, 2, { 0x5d, 0x00 } },
};

static unsigned identify(const uint8_t *p, size_t len)
{
    for (size_t i = 0; i < sizeof(magics) / sizeof(magics[0]); i++)
        if (len >= magics[i].len && memcmp(p, magics[i].magic, magics[i].len) == 0)
            return magics[i].comp;
    return BZIMAGE_COMP_UNKNOWN;
}

/* Finds the xz stream at the start of the payload: either all of it, or all
 * but Linux's size trailer, whichever ends in a valid footer (the footer and
 * index carry CRC32s, so at most one reading can pass). */
static int find_xz(const uint8_t *p, size_t len, struct bzimage_info *info)
{
    struct xz_info xi;
    int err = XZ_ETRUNC;

    if (len >= SIZE_TRAILER && get_le32(p + len - SIZE_TRAILER) != 0) {
        err = xz_stream_info(p, len - SIZE_TRAILER, &xi);
        if (!err) {
            if (get_le32(p + len - SIZE_TRAILER) != xi.uncompressed_size)
                return BZIMAGE_ESIZE;
            info->stream_size = len - SIZE_TRAILER;
            info->decompressed_size = xi.uncompressed_size;
            return BZIMAGE_OK;
        }
    }
    int err2 = xz_stream_info(p, len, &xi);
    if (err2)
        return BZIMAGE_EXZ_BASE + (err == XZ_ETRUNC ? err2 : err);
    info->stream_size = len;
    info->decompressed_size = xi.uncompressed_size;
    return BZIMAGE_OK;
}

int bzimage_parse(const void *image, size_t size, struct bzimage_info *info)
{
    const uint8_t *b = image;

    if (!info)
        return BZIMAGE_EINVAL;
    memset(info, 0, sizeof(*info));
    if (!image)
        return BZIMAGE_EINVAL;
    if (size < BZIMAGE_HEADER_END)
        return BZIMAGE_ETRUNC;
    if (memcmp(b + BZIMAGE_HDRS_OFF, "HdrS", 4) != 0)
        return BZIMAGE_ENOTBZ;
    info->version = (uint16_t)(b[BZIMAGE_VERSION_OFF] | b[BZIMAGE_VERSION_OFF + 1] << 8);
    if (info->version < BZIMAGE_MIN_VERSION)
        return BZIMAGE_EVERSION;
    info->setup_sects = b[BZIMAGE_SETUP_SECTS_OFF] ? b[BZIMAGE_SETUP_SECTS_OFF]
                                                   : SETUP_SECTS_DEFAULT;
    uint64_t start = (uint64_t)(info->setup_sects + 1) * SECTOR_SIZE +
                     get_le32(b + BZIMAGE_PAYLOAD_OFFSET_OFF);
    uint64_t len = get_le32(b + BZIMAGE_PAYLOAD_LENGTH_OFF);
    if (len == 0 || start > size || len > size - start)
        return BZIMAGE_EPAYLOAD;
    info->payload_offset = (size_t)start;
    info->payload_size = (size_t)len;

    const uint8_t *p = b + info->payload_offset;
    info->compression = identify(p, info->payload_size);
    if (info->compression != BZIMAGE_COMP_XZ)
        return BZIMAGE_EUNSUPPORTED;
    return find_xz(p, info->payload_size, info);
}

int bzimage_decompress(const void *image, size_t size, void *out, size_t out_size,
                       size_t *out_len, void *work, size_t work_size)
{
    static const uint8_t elf_magic[4] = { 0x7f, 'E', 'L', 'F' };
    struct bzimage_info info;

    if (!out_len)
        return BZIMAGE_EINVAL;
    *out_len = 0;
    int err = bzimage_parse(image, size, &info);
    if (err)
        return err;
    const uint8_t *p = (const uint8_t *)image + info.payload_offset;
    err = xz_decode(p, info.stream_size, out, out_size, out_len, work, work_size);
    if (err)
        return BZIMAGE_EXZ_BASE + err;
    if (*out_len < sizeof(elf_magic) || memcmp(out, elf_magic, sizeof(elf_magic)) != 0) {
        *out_len = 0;
        return BZIMAGE_ENOTELF;
    }
    return BZIMAGE_OK;
}

const char *bzimage_strerror(int err)
{
    if (err < BZIMAGE_EXZ_BASE && err > BZIMAGE_EXZ_BASE - 100)
        return xz_strerror(err - BZIMAGE_EXZ_BASE);
    switch (err) {
    case BZIMAGE_OK:
        return "no error";
    case BZIMAGE_EINVAL:
        return "invalid argument";
    case BZIMAGE_ETRUNC:
        return "image too small for a bzImage setup header";
    case BZIMAGE_ENOTBZ:
        return "not a bzImage (no HdrS signature)";
    case BZIMAGE_EVERSION:
        return "boot protocol older than 2.08";
    case BZIMAGE_EPAYLOAD:
        return "payload empty or outside the image";
    case BZIMAGE_EUNSUPPORTED:
        return "unsupported payload compression";
    case BZIMAGE_ESIZE:
        return "payload size trailer disagrees with the xz index";
    case BZIMAGE_ENOTELF:
        return "decompressed payload is not an ELF image";
    default:
        return "unknown bzImage error";
    }
}

const char *bzimage_compression_name(unsigned comp)
{
    switch (comp) {
    case BZIMAGE_COMP_XZ:
        return "xz";
    case BZIMAGE_COMP_GZIP:
        return "gzip";
    case BZIMAGE_COMP_BZIP2:
        return "bzip2";
    case BZIMAGE_COMP_LZMA:
        return "lzma";
    case BZIMAGE_COMP_LZO:
        return "lzo";
    case BZIMAGE_COMP_LZ4:
        return "lz4";
    case BZIMAGE_COMP_ZSTD:
        return "zstd";
    default:
        return "unknown";
    }
}
