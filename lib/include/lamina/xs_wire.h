/* SPDX-License-Identifier: MIT */
/*
 * Xenstore wire helpers (xen-pv-abi.md §8.3): message headers, payload
 * argument splitting, error names, path syntax, permission strings and
 * decimal numbers. Pure functions over caller buffers: no state, no
 * allocation; every input is treated as hostile (lengths are explicit and
 * nothing is read past them).
 */
#ifndef LAMINA_XS_WIRE_H
#define LAMINA_XS_WIRE_H
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <public/io/xs_wire.h>

#define XS_HDR_SIZE ((uint32_t)sizeof(struct xsd_sockmsg))
/* Longest canonical path, NUL included. */
#define XS_PATH_BUF (XENSTORE_ABS_PATH_MAX + 1)

/* Permission bits of one entry: n (none), r, w, b (both). */
#define XS_PERM_NONE  0u
#define XS_PERM_READ  1u
#define XS_PERM_WRITE 2u
#define XS_PERM_BOTH  (XS_PERM_READ | XS_PERM_WRITE)

/* One entry of a node's permission list. The first entry names the owner
 * and gives everyone without an entry of their own its access. */
struct xs_perm {
    uint16_t domid;
    uint8_t perm;                  /* XS_PERM_* */
};

/* "READ", "WATCH_EVENT", ...; "?" for an unknown type. */
const char *xs_type_name(uint32_t type);
/* The wire name of a positive Xen errno value ("ENOENT"); errors outside
 * Xen's xenstore table come out as "EINVAL". */
const char *xs_errno_name(int err);
/* The errno for a wire name, or 0 if it is not in the table. */
int xs_errno_from_name(const char *name);

/* Fills hdr from the first XS_HDR_SIZE bytes at raw (any alignment). */
void xs_hdr_decode(const void *raw, struct xsd_sockmsg *hdr);
/* Writes hdr into raw (XS_HDR_SIZE bytes). */
void xs_hdr_encode(const struct xsd_sockmsg *hdr, void *raw);
/* A header is acceptable if its payload fits; anything else means the
 * peer is broken or hostile and its connection should be cut. The type is
 * not checked here: an unknown type gets an error reply. */
bool xs_hdr_valid(const struct xsd_sockmsg *hdr);
/* Writes header + payload into buf; returns the total size, or 0 if it
 * does not fit or the payload exceeds XENSTORE_PAYLOAD_MAX. */
size_t xs_msg_build(void *buf, size_t cap, uint32_t type, uint32_t req_id, uint32_t tx_id,
                    const void *payload, size_t len);

/*
 * Payload arguments: NUL-terminated strings one after another. Splits the
 * first `want` of them into argv (at most XS_MAX_ARGS) and points *rest at
 * what follows the last one (rest_len bytes, possibly unterminated: a
 * WRITE's value). Returns false if fewer than `want` terminated strings
 * are present.
 */
#define XS_MAX_ARGS 8
bool xs_args_split(const char *payload, size_t len, unsigned want, const char **argv,
                   const char **rest, size_t *rest_len);
/* How many NUL-terminated strings make up all of payload; -1 if there are
 * bytes after the last NUL (an unterminated string). */
long xs_args_count(const char *payload, size_t len);

/*
 * Path syntax (§8.3): characters A-Z a-z 0-9 - / _ @, no "//", no trailing
 * '/' except for "/" itself, not empty. xs_path_valid checks an absolute
 * path (with its length). xs_path_canonical makes the absolute form of a
 * path a domain sent: relative ones (no leading '/') are taken from
 * /local/domain/<domid>/. Returns 0 or XEN_EINVAL (bad syntax, too long:
 * relative > XENSTORE_REL_PATH_MAX, absolute > XENSTORE_ABS_PATH_MAX); out
 * must hold XS_PATH_BUF bytes. *relative tells which it was.
 */
bool xs_path_valid(const char *path, size_t len);
int xs_path_canonical(const char *path, uint16_t domid, char *out, bool *relative);
/* "/local/domain/<domid>" into out (at least 32 bytes); returns its length. */
size_t xs_domain_path(uint16_t domid, char *out, size_t cap);
/* Xen's parent-or-self relation: child == parent, or parent is "/", or
 * child starts with parent + '/'. Lengths exclude NULs. */
bool xs_path_is_child(const char *child, size_t child_len, const char *parent, size_t parent_len);
/* Length of the parent of an absolute path ("/a/b" -> 2 for "/a"; "/a" -> 1). */
size_t xs_path_parent_len(const char *path, size_t len);

/* "r5" -> {5, READ}. The letter must be n, r, w or b and the number a
 * decimal domid without sign or spaces. */
bool xs_perm_parse(const char *s, struct xs_perm *out);
/* Writes "b5" and a NUL into out (at least 8 bytes); returns the length
 * without the NUL. */
size_t xs_perm_format(const struct xs_perm *p, char *out);

/* A decimal number of 1 to 20 digits, nothing else, <= max. */
bool xs_parse_u64(const char *s, uint64_t max, uint64_t *out);

#endif
