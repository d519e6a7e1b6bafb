/* SPDX-License-Identifier: MIT */
/*
 * dom0's files: the cpio archive it got as its initrd (start_info.mod_start,
 * mapped in its initial region). Read-only; files are returned in place.
 */
#ifndef DOM0_INITRD_H
#define DOM0_INITRD_H
#include <stddef.h>

/* Finds the regular file at `path`. Returns 0 and sets *data and *size, or -1
 * with *why set to a short reason ("no such file in dom0's initrd", ...). */
int initrd_file(const char *path, const void **data, size_t *size, const char **why);

#endif
