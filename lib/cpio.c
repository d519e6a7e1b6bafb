/* SPDX-License-Identifier: MIT */
/*
 * cpio "newc" reader; see lamina/cpio.h. Layout of one member: a 110-byte
 * ASCII header (6-byte magic, then 13 fields of 8 hex digits), the name with
 * its NUL (namesize bytes), padding to a multiple of 4 from the start of the
 * archive, the data (filesize bytes), padding to 4 again. Offsets are only
 * ever compared against the bytes that remain, so no sum can wrap.
 */
#include <lamina/cpio.h>
#include <lamina/fmt.h>
#include <lamina/string.h>

#define MAGIC_LEN 6
#define FIELD_LEN 8
#define NR_FIELDS 13
#define TRAILER "TRAILER!!!"

/* Field order after the magic. */
enum {
    F_INO, F_MODE, F_UID, F_GID, F_NLINK, F_MTIME, F_FILESIZE,
    F_DEVMAJOR, F_DEVMINOR, F_RDEVMAJOR, F_RDEVMINOR, F_NAMESIZE, F_CHECK,
};

_Static_assert(MAGIC_LEN + NR_FIELDS * FIELD_LEN == CPIO_HEADER_SIZE, "newc header size");

static bool parse_field(const uint8_t *p, uint32_t *out)
{
    uint32_t v = 0;
    for (unsigned i = 0; i < FIELD_LEN; i++) {
        int d = fmt_hex_digit(p[i]);
        if (d < 0)
            return false;
        v = v << 4 | (uint32_t)d;
    }
    *out = v;
    return true;
}

/* Rounds an offset up to 4; offsets here are at most size + 3 < SIZE_MAX. */
static size_t pad4(size_t off)
{
    return (off + 3) & ~(size_t)3;
}

void cpio_iter_init(struct cpio_iter *it, const void *archive, size_t size)
{
    it->archive = archive;
    it->size = archive ? size : 0;
    it->offset = 0;
    /* Sizes this close to SIZE_MAX cannot be real and would break pad4. */
    it->status = size > SIZE_MAX - 8 ? CPIO_ETRUNC : 1;
}

static int fail(struct cpio_iter *it, int err)
{
    it->status = err;
    return err;
}

int cpio_next(struct cpio_iter *it, struct cpio_entry *e)
{
    if (it->status != 1)
        return it->status;
    size_t off = it->offset;
    if (off > it->size || it->size - off < CPIO_HEADER_SIZE)
        return fail(it, CPIO_ETRUNC);
    const uint8_t *h = it->archive + off;
    bool has_crc;
    if (memcmp(h, "070701", MAGIC_LEN) == 0)
        has_crc = false;
    else if (memcmp(h, "070702", MAGIC_LEN) == 0)
        has_crc = true;
    else
        return fail(it, CPIO_EMAGIC);

    uint32_t f[NR_FIELDS];
    for (unsigned i = 0; i < NR_FIELDS; i++)
        if (!parse_field(h + MAGIC_LEN + i * FIELD_LEN, &f[i]))
            return fail(it, CPIO_EHEX);

    size_t name_off = off + CPIO_HEADER_SIZE;
    size_t namesize = f[F_NAMESIZE];
    if (namesize == 0)
        return fail(it, CPIO_ENAME);
    if (it->size - name_off < namesize)
        return fail(it, CPIO_ETRUNC);
    const char *name = (const char *)(it->archive + name_off);
    if (name[namesize - 1] != '\0' || strnlen(name, namesize) != namesize - 1)
        return fail(it, CPIO_ENAME);

    if (namesize - 1 == sizeof(TRAILER) - 1 && memcmp(name, TRAILER, namesize) == 0)
        return fail(it, 0);

    size_t data_off = pad4(name_off + namesize);
    size_t filesize = f[F_FILESIZE];
    /* An empty member may end the buffer without its padding. */
    if (filesize && (data_off > it->size || it->size - data_off < filesize))
        return fail(it, CPIO_ETRUNC);
    const uint8_t *data = it->archive + (data_off < it->size ? data_off : it->size);
    if (has_crc) {
        uint32_t sum = 0;
        for (size_t i = 0; i < filesize; i++)
            sum += data[i];
        if (sum != f[F_CHECK])
            return fail(it, CPIO_ECRC);
    }

    *e = (struct cpio_entry){
        .name = name, .name_len = namesize - 1, .data = data, .size = filesize,
        .ino = f[F_INO], .mode = f[F_MODE], .uid = f[F_UID], .gid = f[F_GID],
        .nlink = f[F_NLINK], .mtime = f[F_MTIME], .dev_major = f[F_DEVMAJOR],
        .dev_minor = f[F_DEVMINOR], .rdev_major = f[F_RDEVMAJOR], .rdev_minor = f[F_RDEVMINOR],
    };
    it->offset = pad4(data_off + filesize);
    return 1;
}

/* Skips any run of leading "/" and "./" components. */
static const char *strip_root(const char *p, size_t *len)
{
    for (;;) {
        if (*len >= 1 && p[0] == '/') {
            p++;
            (*len)--;
        } else if (*len >= 2 && p[0] == '.' && p[1] == '/') {
            p += 2;
            *len -= 2;
        } else {
            return p;
        }
    }
}

int cpio_find(const void *archive, size_t size, const char *path, struct cpio_entry *e)
{
    struct cpio_iter it;
    struct cpio_entry cur, last;
    bool found = false;
    size_t want_len = strlen(path);
    const char *want = strip_root(path, &want_len);
    int rc;

    cpio_iter_init(&it, archive, size);
    while ((rc = cpio_next(&it, &cur)) == 1) {
        size_t len = cur.name_len;
        const char *name = strip_root(cur.name, &len);
        if (len == want_len && memcmp(name, want, len) == 0) {
            last = cur;
            found = true;
        }
    }
    if (rc < 0)
        return rc;
    if (!found)
        return CPIO_ENOENT;
    *e = last;
    return 0;
}

const char *cpio_strerror(int err)
{
    switch (err) {
    case CPIO_OK:
        return "no error";
    case CPIO_ETRUNC:
        return "archive truncated";
    case CPIO_EMAGIC:
        return "not a newc cpio header";
    case CPIO_EHEX:
        return "bad header field";
    case CPIO_ENAME:
        return "bad member name";
    case CPIO_ECRC:
        return "checksum mismatch";
    case CPIO_ENOENT:
        return "no such file";
    default:
        return "unknown cpio error";
    }
}
