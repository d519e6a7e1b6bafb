/* SPDX-License-Identifier: MIT */
/*
 * The xenstore database (xen-pv-abi.md §8.3): a tree of nodes keyed by
 * canonical absolute path, each with a value (bytes), a permission list in
 * Xen's format and a list of child names; transactions with conflict
 * detection; per-domain node accounting and quotas. All memory comes from
 * an xs_arena. Paths given to these functions are canonical (see
 * xs_path_canonical); requests, connections and watches are lamina/xs_core.h.
 *
 * Permissions (Xen's rules): the caller's access to a node is full if it is
 * privileged (dom0) or owns the node (first entry), else the bits of the
 * first later entry naming it, else the first entry's bits. Only a node's
 * own list counts, never its ancestors'. A node created by a write inherits
 * its parent's list, except that an unprivileged creator becomes the owner.
 *
 * Transactions: the first time a transaction touches a path it copies the
 * node (or notes its absence) along with the node's generation; reads and
 * writes then work on the copies. Committing fails with EAGAIN if any
 * touched path's generation changed meanwhile (a node's generation changes
 * when its value, permissions or list of children do), then applies every
 * modified copy at once. Watch events of a transaction fire at commit.
 *
 * Every function returns 0 or a positive Xen errno (XEN_ENOENT, ...).
 */
#ifndef LAMINA_XS_STORE_H
#define LAMINA_XS_STORE_H
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <lamina/xs_arena.h>
#include <lamina/xs_wire.h>

#define XS_TX_BUCKETS 32
/* Entries of one permission list, for anyone (the reply must fit a payload). */
#define XS_PERMS_MAX 256
/* No target (SET_TARGET) / not a real domain. */
#define XS_NO_DOMID 0xffffu

/* Quotas and limits; xs_limits_default gives Xen's defaults where Xen has one. */
struct xs_limits {
    uint32_t nodes_per_domain;     /* nodes a domain may own: 1000 (ENOSPC) */
    uint32_t watches_per_domain;   /* 128 (E2BIG) */
    uint32_t transactions_per_domain; /* open at once: 10 (ENOSPC) */
    uint32_t value_max;            /* bytes of a value a domU writes: 2048 (ENOSPC) */
    uint32_t perms_per_node;       /* entries a domU may set: 5 (ENOSPC) */
    uint32_t tx_nodes;             /* paths one transaction may touch: 1024 (ENOSPC) */
    uint32_t tx_bytes;             /* memory one domU transaction may hold: 64 KiB (ENOSPC) */
    uint32_t bytes_per_domain;     /* paths + values a domain owns: 256 KiB (ENOSPC) */
    uint32_t watch_bytes_per_domain; /* paths + tokens of its watches: 16 KiB (E2BIG) */
    uint32_t output_soft;          /* bytes queued to a domain before its requests wait: 16 KiB */
    uint32_t output_hard;          /* ... before watch events to it are dropped: 64 KiB */
    uint32_t acct_slots;           /* domains whose nodes are counted (power of two): 1024 */
};
void xs_limits_default(struct xs_limits *lim);

/* Who is asking. target: SET_TARGET's domain, or XS_NO_DOMID. */
struct xs_caller {
    uint16_t domid;
    uint16_t target;
    bool privileged;
};

/* A node's contents (in the tree, or a transaction's copy). */
struct xs_nodedata {
    uint8_t *value;
    uint32_t value_len;
    uint32_t nr_perms;
    struct xs_perm *perms;
    char *children;                /* names, each followed by a NUL */
    uint32_t children_len, children_cap;
};

struct xs_node;
struct xs_txrec;

struct xs_tx {
    struct xs_tx *next;            /* the owning connection's list (xs_core) */
    uint32_t id;                   /* tx_id on the wire (xs_core) */
    uint16_t domid;
    int error;                     /* sticky: an operation failed halfway */
    uint32_t nr_recs;
    int32_t node_delta;            /* change to domid's node count on commit */
    int64_t byte_delta;            /* ... and to its bytes */
    size_t mem;                    /* arena bytes its records hold, about */
    struct xs_txrec *first, *last; /* every touched path, in order */
    struct xs_txrec *buckets[XS_TX_BUCKETS];
};

struct xs_acct {
    uint16_t domid;
    uint16_t in_use;
    uint32_t nodes;
    uint32_t bytes;                /* paths and values of those nodes */
};

/* Called for every committed change: the changed path, whether the change
 * removed it with everything below it, and its permissions (before a
 * removal, after anything else) for deciding who may see the event. */
typedef void (*xs_change_fn)(void *ctx, const char *path, size_t len, bool recursive,
                             const struct xs_perm *perms, uint32_t nr_perms);

struct xs_store {
    struct xs_arena *arena;
    struct xs_limits lim;
    struct xs_node **buckets;
    uint32_t nr_buckets;           /* power of two */
    uint32_t nr_nodes;
    uint64_t gen;                  /* last generation handed out */
    struct xs_acct *acct;          /* open addressing by domid, lim.acct_slots */
    uint32_t acct_overflow;        /* nodes of owners the table had no room for */
    xs_change_fn on_change;
    void *change_ctx;
    char scratch[XS_PATH_BUF];
};

/* Creates the tree with its root "/" (owner dom0, "n0"). */
int xs_store_init(struct xs_store *s, struct xs_arena *a, const struct xs_limits *lim, xs_change_fn fn,
                  void *ctx);

/* tx may be NULL (outside any transaction). Results point into the store
 * and stay valid until the next change. */
int xs_store_read(struct xs_store *s, struct xs_tx *tx, const struct xs_caller *c, const char *path,
                  const uint8_t **value, uint32_t *len);
int xs_store_write(struct xs_store *s, struct xs_tx *tx, const struct xs_caller *c, const char *path,
                   const void *value, uint32_t len);
int xs_store_mkdir(struct xs_store *s, struct xs_tx *tx, const struct xs_caller *c, const char *path);
int xs_store_rm(struct xs_store *s, struct xs_tx *tx, const struct xs_caller *c, const char *path);
int xs_store_directory(struct xs_store *s, struct xs_tx *tx, const struct xs_caller *c, const char *path,
                       const char **names, uint32_t *len, uint64_t *gen);
int xs_store_get_perms(struct xs_store *s, struct xs_tx *tx, const struct xs_caller *c, const char *path,
                       const struct xs_perm **perms, uint32_t *nr);
int xs_store_set_perms(struct xs_store *s, struct xs_tx *tx, const struct xs_caller *c, const char *path,
                       const struct xs_perm *perms, uint32_t nr);

/* A new transaction for domid, or NULL when out of memory. */
struct xs_tx *xs_store_tx_start(struct xs_store *s, uint16_t domid);
/* Commits (or, with commit false, drops) and frees tx. Commit errors:
 * EAGAIN (a conflict), ENOSPC (the domain's node quota), ENOMEM, or the
 * error that left the transaction halfway. */
int xs_store_tx_end(struct xs_store *s, struct xs_tx *tx, const struct xs_caller *c, bool commit);

/* The caller's access (XS_PERM_* bits) to a node with this list. */
unsigned xs_store_access(const struct xs_caller *c, const struct xs_perm *perms, uint32_t nr);

/* A domain is gone: nodes it owns pass to dom0 and entries naming it are
 * dropped, so a later domain with the same id inherits nothing. */
void xs_store_forget_domain(struct xs_store *s, uint16_t domid);

uint32_t xs_store_domain_nodes(const struct xs_store *s, uint16_t domid);
uint32_t xs_store_domain_bytes(const struct xs_store *s, uint16_t domid);
/* Checks every invariant of the tree, the accounting and the arena;
 * O(nodes * children). For tests. */
bool xs_store_check(const struct xs_store *s);

#endif
