/* SPDX-License-Identifier: MIT */
#include <lamina/cpio.h>
#include <guest/runtime.h>
#include "initrd.h"

int initrd_file(const char *path, const void **data, size_t *size, const char **why)
{
    struct cpio_entry e;
    if (!start_info->mod_start || !start_info->mod_len) {
        *why = "dom0 has no initrd (boot it with the cpio archive as the second module)";
        return -1;
    }
    int rc = cpio_find((const void *)(uintptr_t)start_info->mod_start, (size_t)start_info->mod_len, path, &e);
    if (rc == CPIO_ENOENT) {
        *why = "no such file in dom0's initrd";
        return -1;
    }
    if (rc) {
        *why = cpio_strerror(rc);
        return -1;
    }
    if (!cpio_is_regular(&e)) {
        *why = "not a regular file";
        return -1;
    }
    *data = e.data;
    *size = e.size;
    return 0;
}
