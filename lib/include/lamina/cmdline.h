/* SPDX-License-Identifier: MIT */
/*
 * Command-line words of the form `key` or `key=value`, separated by spaces,
 * as the hypervisor, dom0 and guests receive them. Pure functions over a
 * NUL-terminated string; they never write outside the buffers they are given.
 */
#ifndef LAMINA_CMDLINE_H
#define LAMINA_CMDLINE_H
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Finds the last word whose key is `key` (later words override earlier ones,
 * as on Xen's command line). On a match copies the value (empty for a bare
 * key; truncated to val_size-1) into val when val is not NULL, and returns
 * true. */
bool cmdline_find(const char *cmdline, const char *key, char *val, size_t val_size);

/* Parses a size such as "4096", "512K", "128M", "2G" or "1T" (suffixes are
 * binary multiples; lower case accepted). Returns 0 and sets *bytes, or -1 on
 * junk, an empty string or overflow. */
int parse_size(const char *s, uint64_t *bytes);

/* Parses an unsigned decimal or 0x-prefixed hexadecimal number that must fill
 * the whole string. Returns 0 and sets *out, or -1. */
int parse_u64(const char *s, uint64_t *out);

#endif
