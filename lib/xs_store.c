/* SPDX-License-Identifier: MIT */
/*
 * The xenstore database; see lamina/xs_store.h for the rules it follows.
 *
 * The tree is a hash table of nodes keyed by full path; a node's children
 * are a list of names stored in the node, as a DIRECTORY reply has them.
 * Invariants (xs_store_check tests them):
 *   - "/" exists; every other node's parent exists and lists its name once;
 *     every listed name is a node;
 *   - the accounting table plus acct_overflow counts every node once, under
 *     the owner (first permission entry) it has now;
 *   - a node's gen is at most s->gen and changes with its contents.
 *
 * Operations work on a "view": the tree itself, or a transaction whose
 * records hold copies of every path it touched. A view change is a chain of
 * single-node steps (create one child, set one value, remove one leaf), each
 * complete or not done at all, so running out of memory midway leaves a
 * consistent tree (a write may then have created some empty parents; a
 * transaction is marked failed instead). Deep trees are walked with a path
 * buffer, never recursion.
 */
#include <lamina/xs_store.h>
#include <lamina/string.h>

enum { FIRE_NONE, FIRE_NODE, FIRE_TREE };

struct xs_node {
    struct xs_node *hnext;
    uint32_t hash, path_len;
    uint64_t gen;
    struct xs_nodedata d;
    char path[];
};

struct xs_txrec {
    struct xs_txrec *hnext, *next;
    uint32_t hash, path_len;
    uint64_t base_gen;             /* the tree's gen when first touched; 0: absent */
    struct xs_node *fresh;         /* commit: the tree node made for it */
    uint8_t exists, modified, fire;
    struct xs_nodedata d;          /* perms kept after a removal, for the event */
    char path[];
};

/* A path as a view sees it: d is its contents if it exists; bn / tr is the
 * tree node / transaction record behind it. */
struct vnode {
    struct xs_nodedata *d;
    struct xs_node *bn;
    struct xs_txrec *tr;
};

void xs_limits_default(struct xs_limits *lim)
{
    lim->nodes_per_domain = 1000;
    lim->watches_per_domain = 128;
    lim->transactions_per_domain = 10;
    lim->value_max = 2048;
    lim->perms_per_node = 5;
    lim->tx_nodes = 1024;
    lim->tx_bytes = 65536;
    lim->bytes_per_domain = 262144;
    lim->watch_bytes_per_domain = 16384;
    lim->output_soft = 16384;
    lim->output_hard = 65536;
    lim->acct_slots = 1024;
}

static uint32_t path_hash(const char *p, size_t len)
{
    uint32_t h = 2166136261u;
    for (size_t i = 0; i < len; i++)
        h = (h ^ (uint8_t)p[i]) * 16777619u;
    return h;
}

/* ---- node contents ---- */

static void nd_free(struct xs_arena *a, struct xs_nodedata *d)
{
    xs_arena_free(a, d->value);
    xs_arena_free(a, d->perms);
    xs_arena_free(a, d->children);
    memset(d, 0, sizeof(*d));
}

static void *dup_bytes(struct xs_arena *a, const void *src, size_t len)
{
    if (!len)
        return NULL;
    void *p = xs_arena_alloc(a, len);
    if (p)
        memcpy(p, src, len);
    return p;
}

static int nd_copy(struct xs_arena *a, struct xs_nodedata *dst, const struct xs_nodedata *src)
{
    memset(dst, 0, sizeof(*dst));
    dst->value = dup_bytes(a, src->value, src->value_len);
    dst->perms = dup_bytes(a, src->perms, src->nr_perms * sizeof(struct xs_perm));
    dst->children = dup_bytes(a, src->children, src->children_len);
    if ((src->value_len && !dst->value) || (src->nr_perms && !dst->perms) ||
        (src->children_len && !dst->children)) {
        nd_free(a, dst);
        return XEN_ENOMEM;
    }
    dst->value_len = src->value_len;
    dst->nr_perms = src->nr_perms;
    dst->children_len = dst->children_cap = src->children_len;
    return 0;
}

/* Offset of `name` in d's children, or -1. */
static long child_find(const struct xs_nodedata *d, const char *name, size_t nlen)
{
    uint32_t off = 0;
    while (off < d->children_len) {
        size_t l = strnlen(d->children + off, d->children_len - off);
        if (l == nlen && !memcmp(d->children + off, name, nlen))
            return off;
        off += (uint32_t)l + 1;
    }
    return -1;
}

/* Makes room for `extra` more bytes of names. Changes nothing on failure. */
static int child_reserve(struct xs_arena *a, struct xs_nodedata *d, size_t extra)
{
    if (d->children_cap - d->children_len >= extra)
        return 0;
    size_t cap = (size_t)d->children_cap * 2;
    if (cap < d->children_len + extra)
        cap = d->children_len + extra;
    if (cap < 64)
        cap = 64;
    char *n = xs_arena_alloc(a, cap);
    if (!n)
        return XEN_ENOMEM;
    if (d->children_len)
        memcpy(n, d->children, d->children_len);
    xs_arena_free(a, d->children);
    d->children = n;
    d->children_cap = (uint32_t)cap;
    return 0;
}

/* Appends a name; child_reserve must have made room. */
static void child_add(struct xs_nodedata *d, const char *name, size_t nlen)
{
    if (child_find(d, name, nlen) >= 0)
        return;
    memcpy(d->children + d->children_len, name, nlen);
    d->children[d->children_len + nlen] = 0;
    d->children_len += (uint32_t)nlen + 1;
}

/* Drops a name; an emptied list gives its memory back. */
static void child_del(struct xs_arena *a, struct xs_nodedata *d, const char *name, size_t nlen)
{
    long off = child_find(d, name, nlen);
    if (off < 0)
        return;
    uint32_t o = (uint32_t)off, l = (uint32_t)nlen + 1;
    memmove(d->children + o, d->children + o + l, d->children_len - o - l);
    d->children_len -= l;
    if (!d->children_len) {
        xs_arena_free(a, d->children);
        d->children = NULL;
        d->children_cap = 0;
    }
}

/* ---- permissions ---- */

static unsigned perm_of(uint16_t domid, const struct xs_perm *perms, uint32_t nr)
{
    if (!nr)
        return XS_PERM_NONE;
    if (perms[0].domid == domid)
        return XS_PERM_BOTH;
    for (uint32_t i = 1; i < nr; i++)
        if (perms[i].domid == domid)
            return perms[i].perm;
    return perms[0].perm;
}

unsigned xs_store_access(const struct xs_caller *c, const struct xs_perm *perms, uint32_t nr)
{
    if (c->privileged)
        return XS_PERM_BOTH;
    unsigned p = perm_of(c->domid, perms, nr);
    if (c->target != XS_NO_DOMID)
        p |= perm_of(c->target, perms, nr);
    return p;
}

static unsigned perm_for(const struct xs_caller *c, const struct xs_nodedata *d)
{
    return xs_store_access(c, d->perms, d->nr_perms);
}

static bool is_owner(const struct xs_caller *c, const struct xs_nodedata *d)
{
    return c->privileged ||
           (d->nr_perms && (d->perms[0].domid == c->domid ||
                            (c->target != XS_NO_DOMID && d->perms[0].domid == c->target)));
}

static uint16_t owner_of(const struct xs_nodedata *d)
{
    return d->nr_perms ? d->perms[0].domid : 0;
}

/* ---- accounting: linear probing by domid, entries removed at zero ---- */

static uint32_t acct_home(const struct xs_store *s, uint16_t domid)
{
    return (domid * 2654435761u) & (s->lim.acct_slots - 1);
}

static struct xs_acct *acct_find(const struct xs_store *s, uint16_t domid)
{
    uint32_t mask = s->lim.acct_slots - 1;
    for (uint32_t i = acct_home(s, domid), n = 0; n <= mask; i = (i + 1) & mask, n++) {
        if (!s->acct[i].in_use)
            return NULL;
        if (s->acct[i].domid == domid)
            return &s->acct[i];
    }
    return NULL;
}

/* One more node of `bytes` owned by domid. */
static void acct_add(struct xs_store *s, uint16_t domid, uint32_t bytes)
{
    uint32_t mask = s->lim.acct_slots - 1;
    for (uint32_t i = acct_home(s, domid), n = 0; n <= mask; i = (i + 1) & mask, n++) {
        struct xs_acct *e = &s->acct[i];
        if (e->in_use && e->domid != domid)
            continue;
        if (!e->in_use) {
            e->in_use = 1;
            e->domid = domid;
            e->nodes = 0;
            e->bytes = 0;
        }
        e->nodes++;
        e->bytes += bytes;
        return;
    }
    s->acct_overflow++;
}

/* A node of domid grew or shrank. */
static void acct_resize(struct xs_store *s, uint16_t domid, uint32_t old_bytes, uint32_t new_bytes)
{
    struct xs_acct *e = acct_find(s, domid);
    if (e)
        e->bytes = e->bytes - old_bytes + new_bytes;
}

static void acct_sub(struct xs_store *s, uint16_t domid, uint32_t bytes)
{
    struct xs_acct *e = acct_find(s, domid);
    if (!e) {
        if (s->acct_overflow)
            s->acct_overflow--;
        return;
    }
    e->bytes -= bytes < e->bytes ? bytes : e->bytes;
    if (--e->nodes)
        return;
    /* Remove the entry and pull later ones of the probe run back over the
     * hole, so lookups never stop early. */
    uint32_t mask = s->lim.acct_slots - 1;
    uint32_t hole = (uint32_t)(e - s->acct);
    for (uint32_t i = (hole + 1) & mask;; i = (i + 1) & mask) {
        if (!s->acct[i].in_use)
            break;
        uint32_t home = acct_home(s, s->acct[i].domid);
        /* Movable if its home is not cyclically in (hole, i]. */
        bool stays = hole <= i ? (home > hole && home <= i) : (home > hole || home <= i);
        if (!stays) {
            s->acct[hole] = s->acct[i];
            hole = i;
        }
    }
    s->acct[hole].in_use = 0;
}

uint32_t xs_store_domain_nodes(const struct xs_store *s, uint16_t domid)
{
    const struct xs_acct *e = acct_find(s, domid);
    return e ? e->nodes : 0;
}

uint32_t xs_store_domain_bytes(const struct xs_store *s, uint16_t domid)
{
    const struct xs_acct *e = acct_find(s, domid);
    return e ? e->bytes : 0;
}

/* What a node costs its owner: its path and its value. */
static uint32_t cost(size_t path_len, const struct xs_nodedata *d)
{
    return (uint32_t)path_len + d->value_len;
}

/* ---- the tree ---- */

static struct xs_node *base_find(const struct xs_store *s, const char *path, size_t len, uint32_t h)
{
    for (struct xs_node *n = s->buckets[h & (s->nr_buckets - 1)]; n; n = n->hnext)
        if (n->hash == h && n->path_len == len && !memcmp(n->path, path, len))
            return n;
    return NULL;
}

static struct xs_node *node_alloc(struct xs_store *s, const char *path, size_t len)
{
    struct xs_node *n = xs_arena_alloc(s->arena, sizeof(*n) + len + 1);
    if (!n)
        return NULL;
    memset(n, 0, sizeof(*n));
    memcpy(n->path, path, len);
    n->path[len] = 0;
    n->path_len = (uint32_t)len;
    n->hash = path_hash(path, len);
    return n;
}

/* Links n (contents set) into the table. */
static void node_link(struct xs_store *s, struct xs_node *n)
{
    struct xs_node **b = &s->buckets[n->hash & (s->nr_buckets - 1)];
    n->hnext = *b;
    *b = n;
    n->gen = ++s->gen;
    s->nr_nodes++;
    acct_add(s, owner_of(&n->d), cost(n->path_len, &n->d));
}

/* Unlinks and frees n; its parent's list is the caller's business. */
static void node_unlink(struct xs_store *s, struct xs_node *n)
{
    struct xs_node **p = &s->buckets[n->hash & (s->nr_buckets - 1)];
    while (*p != n)
        p = &(*p)->hnext;
    *p = n->hnext;
    s->nr_nodes--;
    acct_sub(s, owner_of(&n->d), cost(n->path_len, &n->d));
    nd_free(s->arena, &n->d);
    xs_arena_free(s->arena, n);
}

/* Name of the last component of an absolute path (not "/"). */
static const char *base_name(const char *path, size_t len, size_t *nlen)
{
    size_t i = len;
    while (i > 0 && path[i - 1] != '/')
        i--;
    *nlen = len - i;
    return path + i;
}

int xs_store_init(struct xs_store *s, struct xs_arena *a, const struct xs_limits *lim, xs_change_fn fn,
                  void *ctx)
{
    memset(s, 0, sizeof(*s));
    s->arena = a;
    s->lim = *lim;
    s->on_change = fn;
    s->change_ctx = ctx;
    if (!s->lim.acct_slots || (s->lim.acct_slots & (s->lim.acct_slots - 1)))
        return XEN_EINVAL;
    /* One bucket per 256 arena bytes, a power of two in [256, 65536]. */
    size_t want = (size_t)(a->end - a->start) / 256;
    s->nr_buckets = 256;
    while (s->nr_buckets < want && s->nr_buckets < 65536)
        s->nr_buckets *= 2;
    s->buckets = xs_arena_alloc(a, s->nr_buckets * sizeof(struct xs_node *));
    s->acct = xs_arena_alloc(a, s->lim.acct_slots * sizeof(*s->acct));
    struct xs_node *root = node_alloc(s, "/", 1);
    struct xs_perm *perms = xs_arena_alloc(a, sizeof(*perms));
    if (!s->buckets || !s->acct || !root || !perms)
        return XEN_ENOMEM;
    memset(s->buckets, 0, s->nr_buckets * sizeof(struct xs_node *));
    memset(s->acct, 0, s->lim.acct_slots * sizeof(*s->acct));
    perms[0] = (struct xs_perm){ .domid = 0, .perm = XS_PERM_NONE };
    root->d.perms = perms;
    root->d.nr_perms = 1;
    node_link(s, root);
    return 0;
}

/* ---- transaction records ---- */

static struct xs_txrec *tx_find(struct xs_tx *tx, const char *path, size_t len, uint32_t h)
{
    for (struct xs_txrec *r = tx->buckets[h % XS_TX_BUCKETS]; r; r = r->hnext)
        if (r->hash == h && r->path_len == len && !memcmp(r->path, path, len))
            return r;
    return NULL;
}

/* Records the tree's state of path in tx: a copy, or its absence. */
static int tx_record(struct xs_store *s, struct xs_tx *tx, const char *path, size_t len, uint32_t h,
                     struct xs_txrec **out)
{
    const struct xs_node *n = base_find(s, path, len, h);
    size_t mem = sizeof(struct xs_txrec) + len + 1;
    if (n)
        mem += n->d.value_len + n->d.children_len + n->d.nr_perms * sizeof(struct xs_perm);
    if (tx->nr_recs >= s->lim.tx_nodes || (tx->domid != 0 && tx->mem + mem > s->lim.tx_bytes))
        return XEN_ENOSPC;
    struct xs_txrec *r = xs_arena_alloc(s->arena, sizeof(*r) + len + 1);
    if (!r)
        return XEN_ENOMEM;
    memset(r, 0, sizeof(*r));
    if (n) {
        if (nd_copy(s->arena, &r->d, &n->d)) {
            xs_arena_free(s->arena, r);
            return XEN_ENOMEM;
        }
        r->exists = 1;
        r->base_gen = n->gen;
    }
    memcpy(r->path, path, len);
    r->path[len] = 0;
    r->path_len = (uint32_t)len;
    r->hash = h;
    r->hnext = tx->buckets[h % XS_TX_BUCKETS];
    tx->buckets[h % XS_TX_BUCKETS] = r;
    if (tx->last)
        tx->last->next = r;
    else
        tx->first = r;
    tx->last = r;
    tx->nr_recs++;
    tx->mem += mem;
    *out = r;
    return 0;
}

/* ---- views ---- */

/* 0 if path exists in the view, XEN_ENOENT if not (a transaction then has
 * vn->tr recording the absence), or why the access could not be recorded. */
static int view_get(struct xs_store *s, struct xs_tx *tx, const char *path, size_t len, struct vnode *vn)
{
    uint32_t h = path_hash(path, len);
    vn->d = NULL;
    vn->bn = NULL;
    vn->tr = NULL;
    if (!tx) {
        vn->bn = base_find(s, path, len, h);
        if (!vn->bn)
            return XEN_ENOENT;
        vn->d = &vn->bn->d;
        return 0;
    }
    if (tx->error)
        return tx->error;
    struct xs_txrec *r = tx_find(tx, path, len, h);
    if (!r) {
        int rc = tx_record(s, tx, path, len, h, &r);
        if (rc)
            return rc;
    }
    vn->tr = r;
    if (!r->exists)
        return XEN_ENOENT;
    vn->d = &r->d;
    return 0;
}

/* The contents of vn changed. */
static void view_touch(struct xs_store *s, struct vnode *vn)
{
    if (vn->bn)
        vn->bn->gen = ++s->gen;
    else
        vn->tr->modified = 1;
}

/* Reports a change: now for the tree, at commit for a transaction. */
static void view_fire(struct xs_store *s, struct vnode *vn, const char *path, size_t len, bool tree)
{
    if (vn->tr) {
        uint8_t f = tree ? FIRE_TREE : FIRE_NODE;
        if (vn->tr->fire < f)
            vn->tr->fire = f;
    } else if (s->on_change) {
        s->on_change(s->change_ctx, path, len, tree, vn->d->perms, vn->d->nr_perms);
    }
}

/* Creates path (absent: child is its vnode) under parent, inheriting the
 * parent's permissions. One step: all of it or nothing. */
static int view_create(struct xs_store *s, struct xs_tx *tx, const struct xs_caller *c, struct vnode *parent,
                       struct vnode *child, const char *path, size_t len)
{
    size_t nlen;
    const char *name = base_name(path, len, &nlen);
    struct xs_nodedata *pd = parent->d;
    int rc = child_reserve(s->arena, pd, nlen + 1);
    if (rc)
        return rc;
    struct xs_perm *perms = dup_bytes(s->arena, pd->perms, pd->nr_perms * sizeof(*perms));
    if (pd->nr_perms && !perms)
        return XEN_ENOMEM;
    if (perms && !c->privileged)
        perms[0].domid = c->domid;
    if (!tx) {
        struct xs_node *n = node_alloc(s, path, len);
        if (!n) {
            xs_arena_free(s->arena, perms);
            return XEN_ENOMEM;
        }
        n->d.perms = perms;
        n->d.nr_perms = pd->nr_perms;
        node_link(s, n);
        child->bn = n;
        child->d = &n->d;
    } else {
        struct xs_txrec *r = child->tr;
        xs_arena_free(s->arena, r->d.perms);   /* kept from a removal */
        r->d.perms = perms;
        r->d.nr_perms = pd->nr_perms;
        r->exists = 1;
        r->modified = 1;
        child->d = &r->d;
        if (owner_of(&r->d) == tx->domid) {
            tx->node_delta++;
            tx->byte_delta += (int64_t)len;
        }
    }
    child_add(pd, name, nlen);
    view_touch(s, parent);
    return 0;
}

/* Removes path (existing, no children) from the view. Cannot fail once the
 * parent's vnode is at hand. */
static void view_remove_leaf(struct xs_store *s, struct xs_tx *tx, struct vnode *parent, struct vnode *vn,
                             const char *path, size_t len)
{
    size_t nlen;
    const char *name = base_name(path, len, &nlen);
    if (parent->d) {
        child_del(s->arena, parent->d, name, nlen);
        view_touch(s, parent);
    }
    if (!tx) {
        node_unlink(s, vn->bn);
        return;
    }
    struct xs_txrec *r = vn->tr;
    if (owner_of(&r->d) == tx->domid) {
        tx->node_delta--;
        tx->byte_delta -= cost(len, &r->d);
    }
    xs_arena_free(s->arena, r->d.value);
    xs_arena_free(s->arena, r->d.children);
    r->d.value = NULL;
    r->d.children = NULL;
    r->d.value_len = r->d.children_len = r->d.children_cap = 0;
    r->exists = 0;
    r->modified = 1;
    r->fire = FIRE_NONE;
}

/* Why a missing path is missing, for this caller: EACCES if it may not
 * read the closest existing ancestor (it may not learn what is there). */
static int missing_errno(struct xs_store *s, struct xs_tx *tx, const struct xs_caller *c, const char *path,
                         size_t len)
{
    size_t plen = len;
    while (plen > 1) {
        plen = xs_path_parent_len(path, plen);
        struct vnode vn;
        int rc = view_get(s, tx, path, plen, &vn);
        if (rc == XEN_ENOENT)
            continue;
        if (rc)
            return rc;
        return (perm_for(c, vn.d) & XS_PERM_READ) ? XEN_ENOENT : XEN_EACCES;
    }
    return XEN_ENOENT;
}

/* Looks path up for an access needing `want`: 0 with *vn, or the errno. */
static int get_checked(struct xs_store *s, struct xs_tx *tx, const struct xs_caller *c, const char *path,
                       size_t len, unsigned want, struct vnode *vn)
{
    int rc = view_get(s, tx, path, len, vn);
    if (rc == XEN_ENOENT) {
        rc = missing_errno(s, tx, c, path, len);
        return rc ? rc : XEN_ENOENT;
    }
    if (rc)
        return rc;
    if ((perm_for(c, vn->d) & want) != want)
        return XEN_EACCES;
    return 0;
}

static uint32_t owned_now(const struct xs_store *s, const struct xs_tx *tx, uint16_t domid)
{
    int64_t n = (int64_t)xs_store_domain_nodes(s, domid) + (tx ? tx->node_delta : 0);
    return n < 0 ? 0 : (uint32_t)n;
}

static uint64_t bytes_now(const struct xs_store *s, const struct xs_tx *tx, uint16_t domid)
{
    int64_t n = (int64_t)xs_store_domain_bytes(s, domid) + (tx ? tx->byte_delta : 0);
    return n < 0 ? 0 : (uint64_t)n;
}

/* Makes path exist (creating missing parents), for a caller that must be
 * able to write it or, if it is missing, its closest existing ancestor.
 * value_len: what the caller will store there, for the quota check when
 * the node is new. *created tells whether anything was made. */
static int ensure_node(struct xs_store *s, struct xs_tx *tx, const struct xs_caller *c, const char *path,
                       size_t len, uint32_t value_len, struct vnode *vn, bool *created)
{
    *created = false;
    int rc = view_get(s, tx, path, len, vn);
    if (rc != XEN_ENOENT) {
        if (rc)
            return rc;
        return (perm_for(c, vn->d) & XS_PERM_WRITE) ? 0 : XEN_EACCES;
    }
    /* Find the closest existing ancestor; count what is missing. */
    size_t alen = len;
    uint32_t missing = 1;
    uint64_t new_bytes = len + (uint64_t)value_len;
    struct vnode anc;
    for (;;) {
        alen = xs_path_parent_len(path, alen);
        rc = view_get(s, tx, path, alen, &anc);
        if (!rc)
            break;
        if (rc != XEN_ENOENT)
            return rc;
        if (alen == 1)
            return XEN_ENOENT;   /* no root: cannot happen in a sound tree */
        missing++;
        new_bytes += alen;
    }
    if (!(perm_for(c, anc.d) & XS_PERM_WRITE))
        return XEN_EACCES;
    if (!c->privileged && (owned_now(s, tx, c->domid) + missing > s->lim.nodes_per_domain ||
                           bytes_now(s, tx, c->domid) + new_bytes > s->lim.bytes_per_domain))
        return XEN_ENOSPC;
    /* Create them top-down, one complete step at a time. */
    struct vnode parent = anc;
    size_t plen = alen;
    while (plen < len) {
        size_t next = plen == 1 ? 1 : plen + 1;
        while (next < len && path[next] != '/')
            next++;
        struct vnode child;
        rc = view_get(s, tx, path, next, &child);
        if (rc != XEN_ENOENT)
            return rc ? rc : XEN_EIO;
        rc = view_create(s, tx, c, &parent, &child, path, next);
        if (rc)
            return rc;
        *created = true;
        parent = child;   /* nodes and records never move */
        plen = next;
    }
    *vn = parent;
    return 0;
}

/* ---- operations ---- */

int xs_store_read(struct xs_store *s, struct xs_tx *tx, const struct xs_caller *c, const char *path,
                  const uint8_t **value, uint32_t *len)
{
    struct vnode vn;
    int rc = get_checked(s, tx, c, path, strlen(path), XS_PERM_READ, &vn);
    if (rc)
        return rc;
    *value = vn.d->value;
    *len = vn.d->value_len;
    return 0;
}

int xs_store_write(struct xs_store *s, struct xs_tx *tx, const struct xs_caller *c, const char *path,
                   const void *value, uint32_t len)
{
    if (!c->privileged && len > s->lim.value_max)
        return XEN_ENOSPC;
    size_t plen = strlen(path);
    uint8_t *v = dup_bytes(s->arena, value, len);
    if (len && !v)
        return XEN_ENOMEM;
    struct vnode vn;
    bool created;
    int rc = 0;
    if (tx && tx->domid != 0 && tx->mem + len > s->lim.tx_bytes)
        rc = XEN_ENOSPC;
    if (!rc)
        rc = ensure_node(s, tx, c, path, plen, len, &vn, &created);
    uint16_t owner = rc ? 0 : owner_of(vn.d);
    int64_t grow = rc ? 0 : (int64_t)len - vn.d->value_len;
    /* The value counts against its owner's bytes; a transaction's copies
     * count against the transaction. */
    if (!rc && !c->privileged && owner == c->domid && grow > 0 &&
        bytes_now(s, tx, owner) + (uint64_t)grow > s->lim.bytes_per_domain)
        rc = XEN_ENOSPC;
    if (rc) {
        xs_arena_free(s->arena, v);
        return rc;
    }
    if (tx != NULL) {
        tx->mem += len;
        if (owner == tx->domid)
            tx->byte_delta += grow;
    } else {
        acct_resize(s, owner, vn.d->value_len, len);
    }
    xs_arena_free(s->arena, vn.d->value);
    vn.d->value = v;
    vn.d->value_len = len;
    view_touch(s, &vn);
    view_fire(s, &vn, path, plen, false);
    return 0;
}

int xs_store_mkdir(struct xs_store *s, struct xs_tx *tx, const struct xs_caller *c, const char *path)
{
    size_t plen = strlen(path);
    struct vnode vn;
    bool created;
    int rc = ensure_node(s, tx, c, path, plen, 0, &vn, &created);
    if (!rc && created)
        view_fire(s, &vn, path, plen, false);
    return rc;
}

int xs_store_rm(struct xs_store *s, struct xs_tx *tx, const struct xs_caller *c, const char *path)
{
    size_t len = strlen(path);
    if (len <= 1)
        return XEN_EINVAL;
    struct vnode vn, parent;
    int rc = view_get(s, tx, path, len, &vn);
    if (rc == XEN_ENOENT) {
        /* Removing what is not there is fine if its parent is. */
        rc = missing_errno(s, tx, c, path, len);
        if (rc != XEN_ENOENT)
            return rc;
        size_t pl = xs_path_parent_len(path, len);
        rc = view_get(s, tx, path, pl, &parent);
        return rc;
    }
    if (rc)
        return rc;
    if (!(perm_for(c, vn.d) & XS_PERM_WRITE))
        return XEN_EACCES;
    rc = view_get(s, tx, path, xs_path_parent_len(path, len), &parent);
    if (rc == XEN_ENOENT)
        parent.d = NULL;   /* unsound tree; remove the node anyway */
    else if (rc)
        return rc;
    if (!tx)
        view_fire(s, &vn, path, len, true);

    /* Depth first through a path buffer: descend to a leaf, remove it, go
     * back up; the root of the removal goes last. */
    char *cur = s->scratch;
    memcpy(cur, path, len + 1);
    size_t cl = len;
    for (;;) {
        struct vnode n;
        rc = view_get(s, tx, cur, cl, &n);
        if (rc && rc != XEN_ENOENT)
            break;
        if (!rc && n.d->children_len) {
            const char *name = n.d->children;
            size_t nl = strnlen(name, n.d->children_len);
            if (cl + 1 + nl > XENSTORE_ABS_PATH_MAX) {
                rc = XEN_EIO;
                break;
            }
            cur[cl] = '/';
            memcpy(cur + cl + 1, name, nl);
            cl += 1 + nl;
            cur[cl] = 0;
            continue;
        }
        struct vnode up;
        if (cl == len) {
            up = parent;
        } else {
            rc = view_get(s, tx, cur, xs_path_parent_len(cur, cl), &up);
            if (rc)
                break;
        }
        if (n.d) {
            view_remove_leaf(s, tx, &up, &n, cur, cl);
        } else if (up.d) {
            /* Listed but missing (a transaction's view may be stale):
             * drop the name so the walk moves on. */
            size_t nl;
            const char *name = base_name(cur, cl, &nl);
            child_del(s->arena, up.d, name, nl);
            view_touch(s, &up);
        }
        if (cl == len) {
            if (tx)
                vn.tr->fire = FIRE_TREE;
            return 0;
        }
        cl = xs_path_parent_len(cur, cl);
        cur[cl] = 0;
    }
    /* Only a transaction can fail halfway; it cannot commit any more. */
    if (tx)
        tx->error = rc;
    return rc;
}

int xs_store_directory(struct xs_store *s, struct xs_tx *tx, const struct xs_caller *c, const char *path,
                       const char **names, uint32_t *len, uint64_t *gen)
{
    struct vnode vn;
    int rc = get_checked(s, tx, c, path, strlen(path), XS_PERM_READ, &vn);
    if (rc)
        return rc;
    *names = vn.d->children;
    *len = vn.d->children_len;
    if (gen)
        *gen = vn.bn ? vn.bn->gen : vn.tr->base_gen;
    return 0;
}

int xs_store_get_perms(struct xs_store *s, struct xs_tx *tx, const struct xs_caller *c, const char *path,
                       const struct xs_perm **perms, uint32_t *nr)
{
    struct vnode vn;
    int rc = get_checked(s, tx, c, path, strlen(path), XS_PERM_READ, &vn);
    if (rc)
        return rc;
    *perms = vn.d->perms;
    *nr = vn.d->nr_perms;
    return 0;
}

int xs_store_set_perms(struct xs_store *s, struct xs_tx *tx, const struct xs_caller *c, const char *path,
                       const struct xs_perm *perms, uint32_t nr)
{
    if (nr == 0)
        return XEN_EINVAL;
    if (nr > XS_PERMS_MAX || (!c->privileged && nr > s->lim.perms_per_node))
        return XEN_ENOSPC;
    size_t len = strlen(path);
    struct vnode vn;
    int rc = get_checked(s, tx, c, path, len, XS_PERM_WRITE, &vn);
    if (rc)
        return rc;
    if (!is_owner(c, vn.d))
        return XEN_EACCES;
    /* Only the privileged may give a node away. */
    if (!c->privileged && perms[0].domid != owner_of(vn.d))
        return XEN_EACCES;
    struct xs_perm *np = dup_bytes(s->arena, perms, nr * sizeof(*np));
    if (!np)
        return XEN_ENOMEM;
    uint16_t old_owner = owner_of(vn.d), new_owner = perms[0].domid;
    uint32_t bytes = cost(len, vn.d);
    if (!tx && old_owner != new_owner) {
        acct_sub(s, old_owner, bytes);
        acct_add(s, new_owner, bytes);
    } else if (tx) {
        int gain = (new_owner == tx->domid) - (old_owner == tx->domid);
        tx->node_delta += gain;
        tx->byte_delta += gain * (int64_t)bytes;
    }
    xs_arena_free(s->arena, vn.d->perms);
    vn.d->perms = np;
    vn.d->nr_perms = nr;
    view_touch(s, &vn);
    view_fire(s, &vn, path, len, false);
    return 0;
}

/* ---- transactions ---- */

struct xs_tx *xs_store_tx_start(struct xs_store *s, uint16_t domid)
{
    struct xs_tx *tx = xs_arena_alloc(s->arena, sizeof(*tx));
    if (!tx)
        return NULL;
    memset(tx, 0, sizeof(*tx));
    tx->domid = domid;
    return tx;
}

static void tx_free(struct xs_store *s, struct xs_tx *tx)
{
    struct xs_txrec *r = tx->first;
    while (r) {
        struct xs_txrec *next = r->next;
        nd_free(s->arena, &r->d);
        xs_arena_free(s->arena, r->fresh);
        xs_arena_free(s->arena, r);
        r = next;
    }
    xs_arena_free(s->arena, tx);
}

/* Removes path and everything below it from the tree, silently (only used
 * when a commit finds a node the transaction did not know about). */
static void base_remove_tree(struct xs_store *s, struct xs_node *top)
{
    char *cur = s->scratch;
    size_t root_len = top->path_len, cl = root_len;
    memcpy(cur, top->path, cl + 1);
    for (;;) {
        struct xs_node *n = base_find(s, cur, cl, path_hash(cur, cl));
        if (n && n->d.children_len) {
            size_t nl = strnlen(n->d.children, n->d.children_len);
            if (cl + 1 + nl <= XENSTORE_ABS_PATH_MAX) {
                cur[cl] = '/';
                memcpy(cur + cl + 1, n->d.children, nl);
                cl += 1 + nl;
                cur[cl] = 0;
                continue;
            }
            n->d.children_len = 0;  /* unreachable for valid paths */
        }
        size_t pl = xs_path_parent_len(cur, cl), nl;
        struct xs_node *p = base_find(s, cur, pl, path_hash(cur, pl));
        const char *name = base_name(cur, cl, &nl);
        if (p) {
            child_del(s->arena, &p->d, name, nl);
            p->gen = ++s->gen;
        }
        if (n)
            node_unlink(s, n);
        if (cl == root_len)
            return;
        cl = pl;
        cur[cl] = 0;
    }
}

int xs_store_tx_end(struct xs_store *s, struct xs_tx *tx, const struct xs_caller *c, bool commit)
{
    int rc = 0;
    if (!commit)
        goto out;
    if (tx->error) {
        rc = tx->error;
        goto out;
    }
    for (struct xs_txrec *r = tx->first; r; r = r->next) {
        const struct xs_node *n = base_find(s, r->path, r->path_len, r->hash);
        if ((n ? n->gen : 0) != r->base_gen) {
            rc = XEN_EAGAIN;
            goto out;
        }
    }
    if (!c->privileged && ((tx->node_delta > 0 && owned_now(s, tx, tx->domid) > s->lim.nodes_per_domain) ||
                           (tx->byte_delta > 0 && bytes_now(s, tx, tx->domid) > s->lim.bytes_per_domain))) {
        rc = XEN_ENOSPC;
        goto out;
    }
    /* Allocate the new tree nodes first: after this nothing can fail. */
    for (struct xs_txrec *r = tx->first; r; r = r->next) {
        if (!r->modified || !r->exists || base_find(s, r->path, r->path_len, r->hash))
            continue;
        r->fresh = node_alloc(s, r->path, r->path_len);
        if (!r->fresh) {
            for (struct xs_txrec *q = tx->first; q != r; q = q->next) {
                xs_arena_free(s->arena, q->fresh);
                q->fresh = NULL;
            }
            rc = XEN_ENOMEM;
            goto out;
        }
    }
    for (struct xs_txrec *r = tx->first; r; r = r->next) {
        if (!r->modified)
            continue;
        struct xs_node *n = base_find(s, r->path, r->path_len, r->hash);
        if (!r->exists) {
            if (n)
                base_remove_tree(s, n);
            continue;
        }
        /* The record's contents move into the tree. */
        if (n) {
            acct_sub(s, owner_of(&n->d), cost(n->path_len, &n->d));
            acct_add(s, owner_of(&r->d), cost(n->path_len, &r->d));
            nd_free(s->arena, &n->d);
            n->d = r->d;
            n->gen = ++s->gen;
            memset(&r->d, 0, sizeof(r->d));
        } else if (r->fresh) {
            n = r->fresh;
            r->fresh = NULL;
            n->d = r->d;
            node_link(s, n);
            memset(&r->d, 0, sizeof(r->d));
        }
    }
    for (struct xs_txrec *r = tx->first; r && s->on_change; r = r->next) {
        if (r->fire == FIRE_NONE)
            continue;
        const struct xs_nodedata *d = &r->d;
        if (r->exists) {
            const struct xs_node *n = base_find(s, r->path, r->path_len, r->hash);
            if (!n)
                continue;
            d = &n->d;
        }
        s->on_change(s->change_ctx, r->path, r->path_len, r->fire == FIRE_TREE, d->perms, d->nr_perms);
    }
out:
    tx_free(s, tx);
    return rc;
}

/* ---- domains ---- */

void xs_store_forget_domain(struct xs_store *s, uint16_t domid)
{
    if (domid == 0)
        return;
    for (uint32_t b = 0; b < s->nr_buckets; b++) {
        for (struct xs_node *n = s->buckets[b]; n; n = n->hnext) {
            struct xs_nodedata *d = &n->d;
            bool changed = false;
            if (d->nr_perms && d->perms[0].domid == domid) {
                d->perms[0].domid = 0;
                acct_sub(s, domid, cost(n->path_len, d));
                acct_add(s, 0, cost(n->path_len, d));
                changed = true;
            }
            uint32_t k = d->nr_perms ? 1 : 0;
            for (uint32_t i = k; i < d->nr_perms; i++) {
                if (d->perms[i].domid == domid) {
                    changed = true;
                    continue;
                }
                d->perms[k++] = d->perms[i];
            }
            d->nr_perms = k;
            if (changed)
                n->gen = ++s->gen;
        }
    }
}

/* ---- self-check ---- */

static bool node_sound(const struct xs_store *s, const struct xs_node *n)
{
    const struct xs_nodedata *d = &n->d;
    if (!xs_path_valid(n->path, n->path_len) || n->gen > s->gen || !d->nr_perms ||
        d->nr_perms > XS_PERMS_MAX || d->children_len > d->children_cap ||
        (d->children_len && d->children[d->children_len - 1]))
        return false;
    if (n->path_len > 1) {
        size_t pl = xs_path_parent_len(n->path, n->path_len), nl;
        const struct xs_node *p = base_find(s, n->path, pl, path_hash(n->path, pl));
        const char *name = base_name(n->path, n->path_len, &nl);
        if (!p || child_find(&p->d, name, nl) < 0)
            return false;
    }
    char buf[XS_PATH_BUF];
    for (uint32_t off = 0; off < d->children_len;) {
        size_t nl = strlen(d->children + off);
        size_t total = n->path_len + (n->path_len > 1) + nl;
        if (!nl || total > XENSTORE_ABS_PATH_MAX)
            return false;
        memcpy(buf, n->path, n->path_len);
        size_t at = n->path_len;
        if (n->path_len > 1)
            buf[at++] = '/';
        memcpy(buf + at, d->children + off, nl);
        if (!base_find(s, buf, total, path_hash(buf, total)))
            return false;
        /* Listed once only. */
        if ((uint32_t)child_find(d, d->children + off, nl) != off)
            return false;
        off += (uint32_t)nl + 1;
    }
    return true;
}

bool xs_store_check(const struct xs_store *s)
{
    uint32_t count = 0;
    uint64_t acct_total = s->acct_overflow;
    if (!base_find(s, "/", 1, path_hash("/", 1)))
        return false;
    for (uint32_t b = 0; b < s->nr_buckets; b++)
        for (const struct xs_node *n = s->buckets[b]; n; n = n->hnext) {
            if ((n->hash & (s->nr_buckets - 1)) != b || !node_sound(s, n))
                return false;
            count++;
        }
    for (uint32_t i = 0; i < s->lim.acct_slots; i++) {
        const struct xs_acct *e = &s->acct[i];
        if (!e->in_use)
            continue;
        if (!e->nodes || acct_find(s, e->domid) != e)
            return false;
        acct_total += e->nodes;
        /* Without overflow the counts are exact: recount that owner. */
        if (!s->acct_overflow) {
            uint32_t owned = 0;
            uint64_t bytes = 0;
            for (uint32_t bb = 0; bb < s->nr_buckets; bb++)
                for (const struct xs_node *n = s->buckets[bb]; n; n = n->hnext)
                    if (owner_of(&n->d) == e->domid) {
                        owned++;
                        bytes += cost(n->path_len, &n->d);
                    }
            if (owned != e->nodes || bytes != e->bytes)
                return false;
        }
    }
    return count == s->nr_nodes && acct_total == count && xs_arena_check(s->arena);
}
