/* SPDX-License-Identifier: MIT */
/*
 * The simulated world of the backend tests (test_blkback.c,
 * test_netback.c): a small xenstore (path -> value) with the callbacks
 * lib/xenbus_back calls, helpers for the frontend's and the backend's
 * directories, and a grant table of the frontend's pages with Xen's checks
 * (granted to dom0, asked for by the frontend's domain, read-only grants
 * never written, references in range). Each page is its own allocation, so
 * ASan reports any access past its end. Define DOMID (the frontend's
 * domain) before including; NR_GRANTS may be set too.
 */
#ifndef LAMINA_TESTS_BACKEND_WORLD_H
#define LAMINA_TESTS_BACKEND_WORLD_H
#include "unit.h"
#include <public/errno.h>
#include <public/grant_table.h>
#include <public/xen.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#ifndef NR_GRANTS
#define NR_GRANTS 64
#endif

/* ---- xenstore ---- */

struct node {
    char path[128];
    char value[64];
};
static struct node store[128];
static unsigned nr_nodes;
static char last_log[256];
static char fe_path[64], be_path[64];

static inline struct node *find(const char *path)
{
    for (unsigned i = 0; i < nr_nodes; i++)
        if (strcmp(store[i].path, path) == 0)
            return &store[i];
    return NULL;
}

static inline void set(const char *path, const char *value)
{
    struct node *n = find(path);
    if (!n) {
        ck_assert_uint_lt(nr_nodes, 128);
        n = &store[nr_nodes++];
        snprintf(n->path, sizeof(n->path), "%s", path);
    }
    snprintf(n->value, sizeof(n->value), "%s", value);
}

static inline const char *get(const char *path)
{
    const struct node *n = find(path);
    return n ? n->value : NULL;
}

static inline long w_read(void *ctx, const char *path, char *buf, size_t cap)
{
    (void)ctx;
    const char *v = get(path);
    if (!v)
        return -XEN_ENOENT;
    if (strlen(v) >= cap)
        return -XEN_E2BIG;
    strcpy(buf, v);
    return 0;
}

static inline long w_write(void *ctx, const char *path, const char *value)
{
    (void)ctx;
    set(path, value);
    return 0;
}

/* Removes a node and everything under it. */
static inline long w_rm(void *ctx, const char *path)
{
    (void)ctx;
    size_t len = strlen(path);
    for (unsigned i = 0; i < nr_nodes;) {
        if (strncmp(store[i].path, path, len) == 0 && (store[i].path[len] == 0 || store[i].path[len] == '/'))
            store[i] = store[--nr_nodes];
        else
            i++;
    }
    return 0;
}

static inline void w_log(void *ctx, const char *msg)
{
    (void)ctx;
    snprintf(last_log, sizeof(last_log), "%s", msg);
}

static inline void fe_set(const char *key, const char *value)
{
    char p[128];
    snprintf(p, sizeof(p), "%s/%s", fe_path, key);
    set(p, value);
}

static inline void fe_rm(const char *key)
{
    char p[128];
    snprintf(p, sizeof(p), "%s/%s", fe_path, key);
    w_rm(NULL, p);
}

static inline const char *be_get(const char *key)
{
    char p[128];
    snprintf(p, sizeof(p), "%s/%s", be_path, key);
    return get(p);
}

static inline int be_state(void)
{
    const char *s = be_get("state");
    return s ? atoi(s) : -1;
}

/* ---- the frontend's grants ---- */

struct grant {
    bool valid;
    domid_t domid;                 /* granted to */
    bool readonly;
    uint8_t *page;
};
static struct grant grants[NR_GRANTS];
static uint8_t *guest_pages[NR_GRANTS];

static inline void grant(grant_ref_t ref, bool readonly)
{
    grants[ref] = (struct grant){ .valid = true, .domid = 0, .readonly = readonly, .page = guest_pages[ref] };
}

/* What Xen's grant copy and map check: NULL if dom0 may not use `ref` of
 * `fe_domid` (for writing when `write`). */
static inline struct grant *grant_check(grant_ref_t ref, domid_t fe_domid, bool write)
{
    if (ref >= NR_GRANTS || !grants[ref].valid || grants[ref].domid != 0 || fe_domid != DOMID)
        return NULL;
    if (write && grants[ref].readonly)
        return NULL;
    return &grants[ref];
}

/* Page `ref` moves to a new allocation with the same contents, so a
 * backend still using the old address (after unmapping it) is a
 * use-after-free for ASan. */
static inline void grant_page_move(grant_ref_t ref)
{
    uint8_t *p = aligned_alloc(4096, 4096);
    ck_assert_ptr_nonnull(p);
    memcpy(p, guest_pages[ref], 4096);
    free(guest_pages[ref]);
    guest_pages[ref] = p;
    if (grants[ref].page)
        grants[ref].page = p;
}

/* An empty store and grant table, zeroed pages, and the two directories
 * of device `kind`/`devid` ("vbd", "vif"). */
static inline void world_store_reset(const char *kind, uint32_t devid)
{
    memset(store, 0, sizeof(store));
    nr_nodes = 0;
    memset(grants, 0, sizeof(grants));
    for (unsigned i = 0; i < NR_GRANTS; i++) {
        if (!guest_pages[i]) {
            guest_pages[i] = aligned_alloc(4096, 4096);
            ck_assert_ptr_nonnull(guest_pages[i]);
        }
        memset(guest_pages[i], 0, 4096);
    }
    last_log[0] = 0;
    snprintf(fe_path, sizeof(fe_path), "/local/domain/%u/device/%s/%u", DOMID, kind, devid);
    snprintf(be_path, sizeof(be_path), "/local/domain/0/backend/%s/%u/%u", kind, DOMID, devid);
}

#endif
