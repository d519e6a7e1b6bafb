/* SPDX-License-Identifier: MIT */
/*
 * The backend's half of a xenbus device (xen-pv-abi.md §8.4), shared by
 * the block and network backends: the two directories, our state node,
 * strict parsing of what the frontend wrote, and the lifecycle keyed on
 * the frontend's state (Xen's backend rules):
 *
 *   start          the caller writes its feature nodes, then InitWait (2)
 *   fe 1 (Initialising) while we are Closed: a reconnect; back to InitWait
 *   fe 3 or 4      while InitWait and online: connect() (read the details,
 *                  map, bind); success: Connected (4); failure: Closing (5)
 *                  and we stay there until the frontend closes
 *   fe 5           Closing (5)
 *   fe 6 or gone   disconnect(); Closed (6); if `online` is 0, removed:
 *                  both directories are deleted
 *
 * Pure logic: xenstore is reached through the caller's functions, so dom0
 * plugs in its xenstored and the host tests a simulated store.
 */
#ifndef LAMINA_XENBUS_BACK_H
#define LAMINA_XENBUS_BACK_H
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <public/io/xenbus.h>
#include <public/xen.h>

#define XENBUS_BACK_PATH_MAX 64
#define XENBUS_BACK_VALUE_MAX 32

struct xenbus_back_store {
    /* read: the value NUL-terminated into buf; -errno (-ENOENT for a
     * missing node, -E2BIG if it does not fit). */
    long (*read)(void *ctx, const char *path, char *buf, size_t cap);
    long (*write)(void *ctx, const char *path, const char *value);
    long (*rm)(void *ctx, const char *path);
    /* One line for dom0's console (no newline); may be NULL. */
    void (*log)(void *ctx, const char *msg);
};

struct xenbus_back {
    struct xenbus_back_store store;
    void *ctx;                     /* passed to the store's functions */
    /* The device's own side: connect returns 0 once connected, or -1 after
     * logging why; disconnect undoes whatever connect did (idempotent). */
    int (*connect)(struct xenbus_back *xb);
    void (*disconnect)(struct xenbus_back *xb);
    domid_t domid;                 /* the frontend's domain */
    uint32_t devid;
    char tag[32];                  /* "blkback: d1 vbd 51712" */
    char be[XENBUS_BACK_PATH_MAX]; /* /local/domain/0/backend/<kind>/<domid>/<devid> */
    char fe[XENBUS_BACK_PATH_MAX]; /* /local/domain/<domid>/device/<kind>/<devid> */
    uint8_t state;                 /* our XenbusState */
    bool online;                   /* false once the toolstack asked for removal */
    bool removed;                  /* torn down, directories deleted */
};

/* Fills in the paths and the tag; state Initialising, online. Writes nothing. */
void xenbus_back_init(struct xenbus_back *xb, const struct xenbus_back_store *store, void *ctx, const char *driver,
                      const char *kind, domid_t domid, uint32_t devid);
/* A log line prefixed with the tag. */
void xenbus_back_note(struct xenbus_back *xb, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* dir/key into buf ("" and -errno on failure). */
long xenbus_back_read(struct xenbus_back *xb, const char *dir, const char *key, char *buf, size_t cap);
/* Writes be/key. */
long xenbus_back_write(struct xenbus_back *xb, const char *key, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
/* A number from the frontend's directory; false if missing or malformed. */
bool xenbus_back_read_fe_uint(struct xenbus_back *xb, const char *key, uint64_t max, uint64_t *out);
/* Sets our state node (nothing if unchanged). */
void xenbus_back_switch(struct xenbus_back *xb, uint8_t state);
/* After the feature nodes: InitWait, then a first look at the frontend. */
void xenbus_back_start(struct xenbus_back *xb);
/* Acts on the frontend's state and our `online`; call it whenever
 * something under either directory may have changed. */
void xenbus_back_changed(struct xenbus_back *xb);
/* Cut off (bad details, broken ring): disconnect and Closing. */
void xenbus_back_fail(struct xenbus_back *xb);
/* The toolstack's removal: online = 0; Closing while connected (the device
 * goes once the frontend has closed), else removed at once. */
void xenbus_back_detach(struct xenbus_back *xb);
/* Tears everything down now and removes both directories. */
void xenbus_back_remove(struct xenbus_back *xb);

/* A decimal number, the whole string, no leading zeros, at most `max`. */
bool xenbus_parse_uint(const char *s, uint64_t max, uint64_t *out);

#endif
