/* SPDX-License-Identifier: MIT */
/*
 * Reading cpio archives in the "newc" format (`cpio -o -H newc`, magic 070701,
 * and its checksummed twin 070702), as dom0 receives its initrd. The archive
 * is hostile: every header field is strict hex, every name and data range is
 * checked against the buffer before use, and entries point into the archive
 * (nothing is copied or allocated). Builds freestanding and on the host.
 */
#ifndef LAMINA_CPIO_H
#define LAMINA_CPIO_H
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define CPIO_HEADER_SIZE 110

/* File types in the mode field (the st_mode bits cpio stores). */
#define CPIO_MODE_TYPE 0170000u
#define CPIO_MODE_REG  0100000u
#define CPIO_MODE_DIR  0040000u
#define CPIO_MODE_LNK  0120000u

enum cpio_error {
    CPIO_OK = 0,
    CPIO_ETRUNC = -1,   /* a header, name or data runs past the end of the archive */
    CPIO_EMAGIC = -2,   /* not "070701"/"070702" where a header must start */
    CPIO_EHEX = -3,     /* a header field is not 8 hex digits */
    CPIO_ENAME = -4,    /* name size 0, no terminating NUL, or a NUL inside the name */
    CPIO_ECRC = -5,     /* a 070702 entry's data does not match its checksum */
    CPIO_ENOENT = -6,   /* cpio_find: no entry with that path */
};

/* One member. name and data point into the archive; name is NUL-terminated
 * (name_len excludes the NUL). */
struct cpio_entry {
    const char *name;
    size_t name_len;
    const void *data;
    size_t size;
    uint32_t ino, mode, uid, gid, nlink, mtime;
    uint32_t dev_major, dev_minor, rdev_major, rdev_minor;
};

/* Iteration state: set up with cpio_iter_init, then call cpio_next until it
 * returns 0 (the TRAILER!!! entry, which is not returned) or an error. Once
 * either happens, further calls return the same result. */
struct cpio_iter {
    const uint8_t *archive;
    size_t size;
    size_t offset;
    int status;         /* 1 while entries remain; then 0 or a cpio_error */
};

void cpio_iter_init(struct cpio_iter *it, const void *archive, size_t size);
/* Returns 1 and fills *e, 0 at the trailer, or a cpio_error (negative). An
 * archive that ends without a trailer is CPIO_ETRUNC. */
int cpio_next(struct cpio_iter *it, struct cpio_entry *e);

/* Finds the member named `path`. Leading "/" and "./" are ignored on both
 * sides, so "/etc/xen/a.cfg", "etc/xen/a.cfg" and an archive member
 * "./etc/xen/a.cfg" all match. When a name repeats, the last one wins (as
 * when the archive is unpacked). The whole archive is checked, so a corrupt
 * tail is an error even if the path appears before it. Returns 0 and fills
 * *e, CPIO_ENOENT, or another cpio_error. */
int cpio_find(const void *archive, size_t size, const char *path, struct cpio_entry *e);

static inline bool cpio_is_regular(const struct cpio_entry *e)
{
    return (e->mode & CPIO_MODE_TYPE) == CPIO_MODE_REG;
}

/* A short description of a cpio_error. */
const char *cpio_strerror(int err);

#endif
