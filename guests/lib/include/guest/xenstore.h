/* SPDX-License-Identifier: MIT */
/*
 * A minimal xenstore client over the store ring named in start_info
 * (xen-pv-abi.md §8.2, §8.3): one request at a time, each waited for.
 * Watch events met while waiting for a reply are counted and dropped.
 * Messages are built and parsed with lib/xs_wire. Needs events_init() and
 * a periodic wake-up (VIRQ_TIMER) so that its timeouts are noticed.
 */
#ifndef GUEST_XENSTORE_H
#define GUEST_XENSTORE_H
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Attaches to start_info's store page and port; false if the page is not
 * one of ours. */
bool xsc_init(void);
/*
 * Sends one request (payload of len bytes) and waits up to 5 s for its
 * reply. Returns the reply's payload length (the payload, cut to cap - 1
 * bytes, is NUL-terminated in reply), the negative Xen errno of an ERROR
 * reply, or -XEN_ETIMEDOUT / -XEN_EIO when the ring stalls or breaks.
 */
long xsc_request(uint32_t type, const void *payload, size_t len, char *reply, size_t cap);
/* READ into buf (NUL-terminated): length or -errno. */
long xsc_read(const char *path, char *buf, size_t cap);
/* WRITE a string value: 0 or -errno. */
long xsc_write(const char *path, const char *value);
/* WATCH / RM: 0 or -errno. */
long xsc_watch(const char *path, const char *token);
long xsc_rm(const char *path);
/* Watch events received (and dropped) so far. */
uint64_t xsc_events_seen(void);

#endif
