/* SPDX-License-Identifier: MIT */
/*
 * xenstored's request handling; see lamina/xs_core.h. One handler per
 * message type checks its payload and privilege, runs the store operation
 * and leaves its reply payload in c->reply; process() turns that, or the
 * handler's errno, into the reply message. Watch events are queued by the
 * store's change callback while the operation runs, so they precede the
 * reply, as with Xen's daemons.
 */
#include <lamina/xs_core.h>
#include <lamina/fmt.h>
#include <lamina/string.h>

static const char *const special_names[XS_NR_SPECIAL] = {
    [XS_SPECIAL_INTRODUCE] = "@introduceDomain",
    [XS_SPECIAL_RELEASE] = "@releaseDomain",
};

/* What a handler hands back besides its errno. */
struct reply {
    uint32_t len;                      /* of c->reply */
    struct xs_watch *first_event;      /* WATCH: fire once after the reply */
};

static struct xs_caller caller_of(const struct xs_conn *conn)
{
    return (struct xs_caller){ .domid = conn->domid, .target = conn->target, .privileged = conn->privileged };
}

/* ---- output ---- */

static void out_append(struct xs_conn *conn, struct xs_outmsg *m)
{
    m->next = NULL;
    if (conn->out_tail)
        conn->out_tail->next = m;
    else
        conn->out_head = m;
    conn->out_tail = m;
    conn->out_bytes += m->len;
}

/* A message with room for len payload bytes, header written; NULL if out
 * of memory. */
static struct xs_outmsg *out_new(struct xs_core *c, uint32_t type, uint32_t req_id, uint32_t tx_id,
                                 uint32_t len)
{
    struct xs_outmsg *m = xs_arena_alloc(&c->arena, sizeof(*m) + XS_HDR_SIZE + len);
    if (!m)
        return NULL;
    m->data = (uint8_t *)(m + 1);
    m->len = XS_HDR_SIZE + len;
    struct xsd_sockmsg hdr = { .type = type, .req_id = req_id, .tx_id = tx_id, .len = len };
    xs_hdr_encode(&hdr, m->data);
    return m;
}

/* Queues a reply; out of memory, an ENOMEM error goes in the spare slot,
 * which feed keeps free before taking any request. */
static void queue_reply(struct xs_core *c, struct xs_conn *conn, const struct xsd_sockmsg *req, int err,
                        const void *payload, uint32_t len)
{
    if (err) {
        const char *name = xs_errno_name(err);
        payload = name;
        len = (uint32_t)strlen(name) + 1;
    }
    struct xs_outmsg *m = out_new(c, err ? XS_ERROR : req->type, req->req_id, req->tx_id, len);
    if (m) {
        if (len)
            memcpy(m->data + XS_HDR_SIZE, payload, len);
        out_append(conn, m);
        return;
    }
    m = &conn->spare;
    m->data = conn->spare_buf;
    m->len = (uint32_t)xs_msg_build(conn->spare_buf, sizeof(conn->spare_buf), XS_ERROR, req->req_id, req->tx_id,
                                    "ENOMEM", 7);
    conn->spare_busy = true;
    out_append(conn, m);
}

/* Queues a watch event unless the connection is too far behind. */
static void queue_event(struct xs_core *c, struct xs_conn *conn, const struct xs_watch *w, const char *path,
                        uint32_t path_len)
{
    if (w->relative) {
        /* The watch was under the home path, so the event is too. */
        char home[32];
        size_t hl = xs_domain_path(conn->domid, home, sizeof(home));
        if (path_len > hl + 1) {
            path += hl + 1;
            path_len -= (uint32_t)hl + 1;
        }
    }
    uint32_t len = path_len + 1 + w->token_len + 1;
    if (conn->out_bytes + XS_HDR_SIZE + len > c->store.lim.output_hard) {
        conn->nr_events_dropped++;
        return;
    }
    struct xs_outmsg *m = out_new(c, XS_WATCH_EVENT, 0, 0, len);
    if (!m) {
        conn->nr_events_dropped++;
        return;
    }
    uint8_t *p = m->data + XS_HDR_SIZE;
    memcpy(p, path, path_len);
    p[path_len] = 0;
    memcpy(p + path_len + 1, w->token, w->token_len);
    p[len - 1] = 0;
    out_append(conn, m);
    conn->nr_events++;
}

size_t xs_conn_peek(const struct xs_conn *conn, const void **data)
{
    const struct xs_outmsg *m = conn->out_head;
    if (!m)
        return 0;
    *data = m->data + conn->out_off;
    return m->len - conn->out_off;
}

void xs_conn_consume(struct xs_core *c, struct xs_conn *conn, size_t n)
{
    while (n && conn->out_head) {
        struct xs_outmsg *m = conn->out_head;
        size_t left = m->len - conn->out_off;
        size_t take = n < left ? n : left;
        conn->out_off += (uint32_t)take;
        conn->out_bytes -= take;
        n -= take;
        if (conn->out_off < m->len)
            break;
        conn->out_head = m->next;
        if (!conn->out_head)
            conn->out_tail = NULL;
        conn->out_off = 0;
        if (m == &conn->spare)
            conn->spare_busy = false;
        else
            xs_arena_free(&c->arena, m);
    }
}

bool xs_conn_ready(const struct xs_conn *conn)
{
    return !conn->spare_busy && conn->out_bytes < conn->out_soft;
}

/* ---- watches ---- */

/* "@name": characters a path may have, and no more than a path's length. */
static bool special_valid(const char *p)
{
    size_t len = strnlen(p, XENSTORE_ABS_PATH_MAX + 1);
    if (len < 2 || len > XENSTORE_ABS_PATH_MAX || p[0] != '@')
        return false;
    for (size_t i = 1; i < len; i++) {
        char ch = p[i];
        if (!((ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') || (ch >= '0' && ch <= '9') || ch == '-' ||
              ch == '_' || ch == '@' || ch == '/'))
            return false;
    }
    return true;
}

static int special_index(const char *p)
{
    for (int i = 0; i < XS_NR_SPECIAL; i++)
        if (!strcmp(p, special_names[i]))
            return i;
    return -1;
}

/* Delivers one change to every watch that matches it and whose connection
 * may read the node (xs_change_fn). */
static void on_change(void *ctx, const char *path, size_t len, bool recursive, const struct xs_perm *perms,
                      uint32_t nr_perms)
{
    struct xs_core *c = ctx;
    bool special = path[0] == '@';
    if (!special && c->ops.changed)
        c->ops.changed(c->ops.ctx, path, len);
    for (struct xs_conn *conn = c->conns; conn; conn = conn->next) {
        struct xs_caller who = caller_of(conn);
        if (!(xs_store_access(&who, perms, nr_perms) & XS_PERM_READ))
            continue;
        for (struct xs_watch *w = conn->watches; w; w = w->next) {
            if ((w->path[0] == '@') != special)
                continue;
            if (special) {
                if (w->path_len == len && !memcmp(w->path, path, len))
                    queue_event(c, conn, w, path, (uint32_t)len);
            } else if (xs_path_is_child(path, len, w->path, w->path_len)) {
                queue_event(c, conn, w, path, (uint32_t)len);
            } else if (recursive && xs_path_is_child(w->path, w->path_len, path, len)) {
                /* A parent of the watched path went away. */
                queue_event(c, conn, w, w->path, w->path_len);
            }
        }
    }
}

void xs_core_fire_special(struct xs_core *c, enum xs_special which)
{
    const char *name = special_names[which];
    on_change(c, name, strlen(name), false, c->special_perms[which], c->nr_special_perms[which]);
}

static void watch_free(struct xs_core *c, struct xs_watch *w)
{
    xs_arena_free(&c->arena, w);
}

static void drop_watches_and_txs(struct xs_core *c, struct xs_conn *conn)
{
    while (conn->watches) {
        struct xs_watch *w = conn->watches;
        conn->watches = w->next;
        watch_free(c, w);
    }
    conn->nr_watches = 0;
    conn->watch_bytes = 0;
    struct xs_caller who = caller_of(conn);
    while (conn->txs) {
        struct xs_tx *tx = conn->txs;
        conn->txs = tx->next;
        xs_store_tx_end(&c->store, tx, &who, false);
    }
    conn->nr_txs = 0;
}

/* ---- connections ---- */

struct xs_conn *xs_conn_find(struct xs_core *c, uint16_t domid)
{
    for (struct xs_conn *conn = c->conns; conn; conn = conn->next)
        if (conn->domid == domid)
            return conn;
    return NULL;
}

struct xs_conn *xs_conn_open(struct xs_core *c, uint16_t domid)
{
    if (xs_conn_find(c, domid))
        return NULL;
    struct xs_conn *conn = xs_arena_alloc(&c->arena, sizeof(*conn));
    if (!conn)
        return NULL;
    memset(conn, 0, sizeof(*conn));
    conn->domid = domid;
    conn->target = XS_NO_DOMID;
    conn->privileged = domid == 0;
    conn->out_soft = c->store.lim.output_soft;
    conn->next = c->conns;
    c->conns = conn;
    return conn;
}

void xs_conn_close(struct xs_core *c, struct xs_conn *conn)
{
    struct xs_conn **pp = &c->conns;
    while (*pp && *pp != conn)
        pp = &(*pp)->next;
    if (!*pp)
        return;
    *pp = conn->next;
    drop_watches_and_txs(c, conn);
    xs_conn_consume(c, conn, conn->out_bytes);
    xs_arena_free(&c->arena, conn);
}

int xs_core_init(struct xs_core *c, void *mem, size_t size, const struct xs_limits *lim,
                 const struct xs_core_ops *ops)
{
    memset(c, 0, sizeof(*c));
    if (ops)
        c->ops = *ops;
    c->next_tx_id = 1;
    for (int i = 0; i < XS_NR_SPECIAL; i++) {
        c->special_perms[i][0] = (struct xs_perm){ .domid = 0, .perm = XS_PERM_NONE };
        c->nr_special_perms[i] = 1;
    }
    if (!xs_arena_init(&c->arena, mem, size))
        return XEN_ENOMEM;
    return xs_store_init(&c->store, &c->arena, lim, on_change, c);
}

/* ---- argument helpers ---- */

/* Exactly n strings, all NUL-terminated, nothing after. */
static bool exact_args(const uint8_t *payload, uint32_t len, unsigned n, const char **argv)
{
    const char *rest;
    size_t rest_len;
    return xs_args_split((const char *)payload, len, n, argv, &rest, &rest_len) && rest_len == 0;
}

/* At least n strings, and no unterminated bytes at the end. */
static bool min_args(const uint8_t *payload, uint32_t len, unsigned n, const char **argv)
{
    long count = xs_args_count((const char *)payload, len);
    return count >= (long)n && xs_args_split((const char *)payload, len, n, argv, NULL, NULL);
}

static bool parse_domid(const char *s, uint16_t *domid)
{
    uint64_t v;
    if (!xs_parse_u64(s, UINT16_MAX, &v))
        return false;
    *domid = (uint16_t)v;
    return true;
}

static bool real_domid(uint16_t domid)
{
    return domid != 0 && domid < XS_DOMID_FIRST_RESERVED;
}

static uint32_t reply_str(struct xs_core *c, const char *s)
{
    size_t len = strlen(s) + 1;
    memcpy(c->reply, s, len);
    return (uint32_t)len;
}

static int lookup_tx(struct xs_conn *conn, uint32_t tx_id, struct xs_tx **tx)
{
    *tx = NULL;
    if (!tx_id)
        return 0;
    for (struct xs_tx *t = conn->txs; t; t = t->next)
        if (t->id == tx_id) {
            *tx = t;
            return 0;
        }
    return XEN_ENOENT;
}

/* Canonical form of a path argument, in c->path. */
static int canon(struct xs_core *c, const struct xs_conn *conn, const char *arg, bool *relative)
{
    bool rel;
    return xs_path_canonical(arg, conn->domid, c->path, relative ? relative : &rel);
}

/* Parses perm strings argv-style from [p, p + len) (all NUL-terminated). */
static int parse_perms(const char *p, size_t len, struct xs_perm *out, uint32_t max, uint32_t *nr)
{
    uint32_t n = 0;
    size_t off = 0;
    while (off < len) {
        const char *s = p + off;
        size_t l = strnlen(s, len - off);
        if (n == max)
            return XEN_ENOSPC;
        if (!xs_perm_parse(s, &out[n]))
            return XEN_EINVAL;
        n++;
        off += l + 1;
    }
    if (!n)
        return XEN_EINVAL;
    *nr = n;
    return 0;
}

/* ---- handlers: each returns 0 (reply in c->reply, r->len) or an errno ---- */

struct req {
    struct xs_conn *conn;
    const struct xsd_sockmsg *hdr;
    const uint8_t *payload;
    uint32_t len;
    struct xs_tx *tx;
};

static int do_read(struct xs_core *c, struct req *q, struct reply *r)
{
    const char *arg[1];
    if (!exact_args(q->payload, q->len, 1, arg))
        return XEN_EINVAL;
    int rc = canon(c, q->conn, arg[0], NULL);
    if (rc)
        return rc;
    struct xs_caller who = caller_of(q->conn);
    const uint8_t *value;
    uint32_t len;
    rc = xs_store_read(&c->store, q->tx, &who, c->path, &value, &len);
    if (rc)
        return rc;
    if (len > XENSTORE_PAYLOAD_MAX)
        return XEN_E2BIG;
    if (len)
        memcpy(c->reply, value, len);
    r->len = len;
    return 0;
}

static int do_write(struct xs_core *c, struct req *q, struct reply *r)
{
    const char *arg[1], *value;
    size_t vlen;
    if (!xs_args_split((const char *)q->payload, q->len, 1, arg, &value, &vlen))
        return XEN_EINVAL;
    int rc = canon(c, q->conn, arg[0], NULL);
    if (rc)
        return rc;
    struct xs_caller who = caller_of(q->conn);
    rc = xs_store_write(&c->store, q->tx, &who, c->path, value, (uint32_t)vlen);
    r->len = rc ? 0 : reply_str(c, "OK");
    return rc;
}

static int do_mkdir_rm(struct xs_core *c, struct req *q, struct reply *r)
{
    const char *arg[1];
    if (!exact_args(q->payload, q->len, 1, arg))
        return XEN_EINVAL;
    int rc = canon(c, q->conn, arg[0], NULL);
    if (rc)
        return rc;
    struct xs_caller who = caller_of(q->conn);
    if (q->hdr->type == XS_MKDIR)
        rc = xs_store_mkdir(&c->store, q->tx, &who, c->path);
    else
        rc = xs_store_rm(&c->store, q->tx, &who, c->path);
    r->len = rc ? 0 : reply_str(c, "OK");
    return rc;
}

static int do_directory(struct xs_core *c, struct req *q, struct reply *r)
{
    const char *arg[2];
    bool part = q->hdr->type == XS_DIRECTORY_PART;
    if (!exact_args(q->payload, q->len, part ? 2 : 1, arg))
        return XEN_EINVAL;
    uint64_t offset = 0;
    if (part && !xs_parse_u64(arg[1], UINT32_MAX, &offset))
        return XEN_EINVAL;
    int rc = canon(c, q->conn, arg[0], NULL);
    if (rc)
        return rc;
    struct xs_caller who = caller_of(q->conn);
    const char *names;
    uint32_t len;
    uint64_t gen;
    rc = xs_store_directory(&c->store, q->tx, &who, c->path, &names, &len, &gen);
    if (rc)
        return rc;
    if (!part) {
        if (len > XENSTORE_PAYLOAD_MAX)
            return XEN_E2BIG;
        if (len)
            memcpy(c->reply, names, len);
        r->len = len;
        return 0;
    }
    /* DIRECTORY_PART: "<gen>\0" then whole names from offset while they
     * fit; an extra empty name marks the end of the list. */
    if (offset > len || (offset && names[offset - 1]))
        return XEN_EINVAL;
    int glen = fmt_snprintf((char *)c->reply, 24, "%lu", (unsigned long)gen);
    uint32_t at = (uint32_t)glen + 1;
    uint32_t off = (uint32_t)offset;
    while (off < len) {
        uint32_t nl = (uint32_t)strnlen(names + off, len - off) + 1;
        if (at + nl > XENSTORE_PAYLOAD_MAX - 1)
            break;
        memcpy(c->reply + at, names + off, nl);
        at += nl;
        off += nl;
    }
    if (off == len)
        c->reply[at++] = 0;
    r->len = at;
    return 0;
}

static int do_get_perms(struct xs_core *c, struct req *q, struct reply *r)
{
    const char *arg[1];
    if (!exact_args(q->payload, q->len, 1, arg))
        return XEN_EINVAL;
    struct xs_caller who = caller_of(q->conn);
    const struct xs_perm *perms;
    uint32_t nr;
    int sp = arg[0][0] == '@' ? special_index(arg[0]) : -1;
    if (arg[0][0] == '@') {
        if (sp < 0)
            return XEN_ENOENT;
        perms = c->special_perms[sp];
        nr = c->nr_special_perms[sp];
        if (!(xs_store_access(&who, perms, nr) & XS_PERM_READ))
            return XEN_EACCES;
    } else {
        int rc = canon(c, q->conn, arg[0], NULL);
        if (!rc)
            rc = xs_store_get_perms(&c->store, q->tx, &who, c->path, &perms, &nr);
        if (rc)
            return rc;
    }
    uint32_t at = 0;
    for (uint32_t i = 0; i < nr; i++) {
        char buf[8];
        size_t l = xs_perm_format(&perms[i], buf);
        if (at + l + 1 > XENSTORE_PAYLOAD_MAX)
            return XEN_E2BIG;
        memcpy(c->reply + at, buf, l + 1);
        at += (uint32_t)l + 1;
    }
    r->len = at;
    return 0;
}

static int do_set_perms(struct xs_core *c, struct req *q, struct reply *r)
{
    const char *arg[1], *rest;
    size_t rest_len;
    if (xs_args_count((const char *)q->payload, q->len) < 2 ||
        !xs_args_split((const char *)q->payload, q->len, 1, arg, &rest, &rest_len))
        return XEN_EINVAL;
    uint32_t nr;
    int rc = parse_perms(rest, rest_len, c->perm_buf, XS_PERMS_MAX, &nr);
    if (rc)
        return rc;
    struct xs_caller who = caller_of(q->conn);
    if (arg[0][0] == '@') {
        int sp = special_index(arg[0]);
        if (sp < 0)
            return XEN_ENOENT;
        struct xs_perm *cur = c->special_perms[sp];
        if (!who.privileged && !(cur[0].domid == who.domid))
            return XEN_EACCES;
        if (nr > XS_SPECIAL_PERMS)
            return XEN_ENOSPC;
        memcpy(cur, c->perm_buf, nr * sizeof(*cur));
        c->nr_special_perms[sp] = nr;
    } else {
        rc = canon(c, q->conn, arg[0], NULL);
        if (!rc)
            rc = xs_store_set_perms(&c->store, q->tx, &who, c->path, c->perm_buf, nr);
        if (rc)
            return rc;
    }
    r->len = reply_str(c, "OK");
    return 0;
}

static int do_watch(struct xs_core *c, struct req *q, struct reply *r)
{
    const char *arg[2];
    if (!min_args(q->payload, q->len, 2, arg))
        return XEN_EINVAL;
    bool relative = false;
    const char *path = arg[0];
    if (path[0] == '@') {
        if (!special_valid(path))
            return XEN_EINVAL;
    } else {
        int rc = canon(c, q->conn, path, &relative);
        if (rc)
            return rc;
        path = c->path;
    }
    size_t plen = strlen(path), tlen = strlen(arg[1]);
    struct xs_conn *conn = q->conn;
    struct xs_watch **link = &conn->watches;
    for (struct xs_watch *w = conn->watches; w; w = w->next) {
        if (w->path_len == plen && w->token_len == tlen && !memcmp(w->path, path, plen) &&
            !memcmp(w->token, arg[1], tlen))
            return XEN_EEXIST;
        link = &w->next;
    }
    if (!conn->privileged && (conn->nr_watches >= c->store.lim.watches_per_domain ||
                              conn->watch_bytes + plen + tlen > c->store.lim.watch_bytes_per_domain))
        return XEN_E2BIG;
    if (tlen > XS_TOKEN_MAX)
        return XEN_EINVAL;
    struct xs_watch *w = xs_arena_alloc(&c->arena, sizeof(*w) + plen + 1 + tlen + 1);
    if (!w)
        return XEN_ENOMEM;
    w->next = NULL;
    w->path = (char *)(w + 1);
    w->token = w->path + plen + 1;
    memcpy(w->path, path, plen + 1);
    memcpy(w->token, arg[1], tlen + 1);
    w->path_len = (uint32_t)plen;
    w->token_len = (uint32_t)tlen;
    w->relative = relative;
    *link = w;   /* at the end: events keep registration order */
    conn->nr_watches++;
    conn->watch_bytes += (uint32_t)(plen + tlen);
    r->len = reply_str(c, "OK");
    r->first_event = w;
    return 0;
}

static int do_unwatch(struct xs_core *c, struct req *q, struct reply *r)
{
    const char *arg[2];
    if (!min_args(q->payload, q->len, 2, arg))
        return XEN_EINVAL;
    const char *path = arg[0];
    if (path[0] != '@') {
        int rc = canon(c, q->conn, path, NULL);
        if (rc)
            return rc;
        path = c->path;
    }
    size_t plen = strlen(path), tlen = strlen(arg[1]);
    for (struct xs_watch **pp = &q->conn->watches; *pp; pp = &(*pp)->next) {
        struct xs_watch *w = *pp;
        if (w->path_len == plen && w->token_len == tlen && !memcmp(w->path, path, plen) &&
            !memcmp(w->token, arg[1], tlen)) {
            *pp = w->next;
            q->conn->nr_watches--;
            q->conn->watch_bytes -= w->path_len + w->token_len;
            watch_free(c, w);
            r->len = reply_str(c, "OK");
            return 0;
        }
    }
    return XEN_ENOENT;
}

static int do_tx_start(struct xs_core *c, struct req *q, struct reply *r)
{
    struct xs_conn *conn = q->conn;
    if (q->hdr->tx_id)
        return XEN_EBUSY;
    if (!conn->privileged && conn->nr_txs >= c->store.lim.transactions_per_domain)
        return XEN_ENOSPC;
    struct xs_tx *tx = xs_store_tx_start(&c->store, conn->domid);
    if (!tx)
        return XEN_ENOMEM;
    /* Ids are per connection; skip 0 and any still open here. */
    for (;;) {
        uint32_t id = c->next_tx_id++;
        struct xs_tx *dup;
        if (id && lookup_tx(conn, id, &dup) == XEN_ENOENT) {
            tx->id = id;
            break;
        }
    }
    tx->next = conn->txs;
    conn->txs = tx;
    conn->nr_txs++;
    int n = fmt_snprintf((char *)c->reply, 16, "%u", tx->id);
    r->len = (uint32_t)n + 1;
    return 0;
}

static int do_tx_end(struct xs_core *c, struct req *q, struct reply *r)
{
    const char *arg[1];
    if (!exact_args(q->payload, q->len, 1, arg))
        return XEN_EINVAL;
    bool commit = !strcmp(arg[0], "T");
    if (!commit && strcmp(arg[0], "F"))
        return XEN_EINVAL;
    if (!q->tx)
        return XEN_ENOENT;
    struct xs_conn *conn = q->conn;
    struct xs_tx **pp = &conn->txs;
    while (*pp != q->tx)
        pp = &(*pp)->next;
    *pp = q->tx->next;
    conn->nr_txs--;
    struct xs_caller who = caller_of(conn);
    int rc = xs_store_tx_end(&c->store, q->tx, &who, commit);
    q->tx = NULL;
    r->len = rc ? 0 : reply_str(c, "OK");
    return rc;
}

static int do_get_domain_path(struct xs_core *c, struct req *q, struct reply *r)
{
    const char *arg[1];
    uint16_t domid;
    if (!exact_args(q->payload, q->len, 1, arg) || !parse_domid(arg[0], &domid))
        return XEN_EINVAL;
    r->len = (uint32_t)xs_domain_path(domid, (char *)c->reply, 32) + 1;
    return 0;
}

static int do_introduce(struct xs_core *c, struct req *q, struct reply *r)
{
    const char *arg[3];
    uint16_t domid;
    uint64_t mfn, port;
    if (!q->conn->privileged)
        return XEN_EACCES;
    if (!min_args(q->payload, q->len, 3, arg) || !parse_domid(arg[0], &domid) ||
        !xs_parse_u64(arg[1], UINT64_MAX, &mfn) || !xs_parse_u64(arg[2], UINT32_MAX, &port))
        return XEN_EINVAL;
    int rc = xs_core_introduce(c, domid, mfn, (uint32_t)port);
    r->len = rc ? 0 : reply_str(c, "OK");
    return rc;
}

/* RELEASE, RESUME, IS_DOMAIN_INTRODUCED: dom0 only, one domid. */
static int do_domain_op(struct xs_core *c, struct req *q, struct reply *r)
{
    const char *arg[1];
    uint16_t domid;
    if (!q->conn->privileged)
        return XEN_EACCES;
    if (!exact_args(q->payload, q->len, 1, arg) || !parse_domid(arg[0], &domid))
        return XEN_EINVAL;
    int rc = 0;
    switch (q->hdr->type) {
    case XS_RELEASE:
        rc = xs_core_release(c, domid);
        break;
    case XS_RESUME:
        rc = real_domid(domid) ? (xs_conn_find(c, domid) ? 0 : XEN_ENOENT) : XEN_EINVAL;
        break;
    default: /* XS_IS_DOMAIN_INTRODUCED */
        r->len = reply_str(c, domid == 0 || xs_conn_find(c, domid) ? "T" : "F");
        return 0;
    }
    r->len = rc ? 0 : reply_str(c, "OK");
    return rc;
}

static int do_set_target(struct xs_core *c, struct req *q, struct reply *r)
{
    const char *arg[2];
    uint16_t domid, target;
    if (!q->conn->privileged)
        return XEN_EACCES;
    if (!exact_args(q->payload, q->len, 2, arg) || !parse_domid(arg[0], &domid) || !parse_domid(arg[1], &target) ||
        !real_domid(domid) || !real_domid(target))
        return XEN_EINVAL;
    struct xs_conn *conn = xs_conn_find(c, domid);
    if (!conn)
        return XEN_ENOENT;
    conn->target = target;
    r->len = reply_str(c, "OK");
    return 0;
}

static int do_reset_watches(struct xs_core *c, struct req *q, struct reply *r)
{
    drop_watches_and_txs(c, q->conn);
    r->len = reply_str(c, "OK");
    return 0;
}

static int do_control(struct xs_core *c, struct req *q, struct reply *r)
{
    const char *arg[1];
    if (!q->conn->privileged)
        return XEN_EACCES;
    if (!min_args(q->payload, q->len, 1, arg))
        return XEN_EINVAL;
    if (!strcmp(arg[0], "check")) {
        if (!xs_store_check(&c->store))
            return XEN_EIO;
    } else if (!strcmp(arg[0], "help")) {
        const char help[] = "check\0help\0print\0";
        memcpy(c->reply, help, sizeof(help) - 1);
        r->len = sizeof(help) - 1;
        return 0;
    } else if (strcmp(arg[0], "print")) {
        return XEN_EINVAL;
    }
    r->len = reply_str(c, "OK");
    return 0;
}

typedef int (*handler_fn)(struct xs_core *c, struct req *q, struct reply *r);

static const handler_fn handlers[XS_TYPE_COUNT] = {
    [XS_CONTROL] = do_control,
    [XS_DIRECTORY] = do_directory,
    [XS_READ] = do_read,
    [XS_GET_PERMS] = do_get_perms,
    [XS_WATCH] = do_watch,
    [XS_UNWATCH] = do_unwatch,
    [XS_TRANSACTION_START] = do_tx_start,
    [XS_TRANSACTION_END] = do_tx_end,
    [XS_INTRODUCE] = do_introduce,
    [XS_RELEASE] = do_domain_op,
    [XS_GET_DOMAIN_PATH] = do_get_domain_path,
    [XS_WRITE] = do_write,
    [XS_MKDIR] = do_mkdir_rm,
    [XS_RM] = do_mkdir_rm,
    [XS_SET_PERMS] = do_set_perms,
    [XS_IS_DOMAIN_INTRODUCED] = do_domain_op,
    [XS_RESUME] = do_domain_op,
    [XS_SET_TARGET] = do_set_target,
    [XS_RESET_WATCHES] = do_reset_watches,
    [XS_DIRECTORY_PART] = do_directory,
};

/* Requests that act inside the transaction named by tx_id; others ignore it. */
static bool uses_tx(uint32_t type)
{
    switch (type) {
    case XS_READ:
    case XS_WRITE:
    case XS_MKDIR:
    case XS_RM:
    case XS_DIRECTORY:
    case XS_DIRECTORY_PART:
    case XS_GET_PERMS:
    case XS_SET_PERMS:
    case XS_TRANSACTION_END:
        return true;
    default:
        return false;
    }
}

/* Handles the complete request in conn->in_buf. */
static void process(struct xs_core *c, struct xs_conn *conn)
{
    const struct xsd_sockmsg *hdr = &conn->in_hdr;
    struct req q = { .conn = conn, .hdr = hdr, .payload = conn->in_buf + XS_HDR_SIZE, .len = hdr->len };
    struct reply r = { 0 };
    conn->nr_requests++;
    int rc = XEN_EINVAL;
    handler_fn fn = hdr->type < XS_TYPE_COUNT ? handlers[hdr->type] : NULL;
    if (fn) {
        rc = uses_tx(hdr->type) ? lookup_tx(conn, hdr->tx_id, &q.tx) : 0;
        if (!rc)
            rc = fn(c, &q, &r);
    }
    queue_reply(c, conn, hdr, rc, c->reply, rc ? 0 : r.len);
    if (!rc && r.first_event) {
        /* Fire once straight away, with the path as it was given. */
        struct xs_watch *w = r.first_event;
        queue_event(c, conn, w, w->path, w->path_len);
    }
}

long xs_conn_feed(struct xs_core *c, struct xs_conn *conn, const void *buf, size_t len)
{
    const uint8_t *p = buf;
    size_t used = 0;
    while (used < len) {
        if (conn->in_len == 0 && !xs_conn_ready(conn))
            break;
        size_t take;
        if (conn->in_len < XS_HDR_SIZE) {
            take = XS_HDR_SIZE - conn->in_len;
            if (take > len - used)
                take = len - used;
            memcpy(conn->in_buf + conn->in_len, p + used, take);
            conn->in_len += (uint32_t)take;
            used += take;
            if (conn->in_len < XS_HDR_SIZE)
                break;
            xs_hdr_decode(conn->in_buf, &conn->in_hdr);
            if (!xs_hdr_valid(&conn->in_hdr)) {
                conn->in_len = 0;
                return -1;
            }
        }
        size_t total = XS_HDR_SIZE + conn->in_hdr.len;
        take = total - conn->in_len;
        if (take > len - used)
            take = len - used;
        memcpy(conn->in_buf + conn->in_len, p + used, take);
        conn->in_len += (uint32_t)take;
        used += take;
        if (conn->in_len == total) {
            conn->in_len = 0;
            process(c, conn);
        }
    }
    return (long)used;
}

/* ---- management ---- */

int xs_core_introduce(struct xs_core *c, uint16_t domid, uint64_t mfn, uint32_t port)
{
    if (!real_domid(domid))
        return XEN_EINVAL;
    if (xs_conn_find(c, domid))
        return XEN_EEXIST;
    struct xs_conn *conn = xs_conn_open(c, domid);
    if (!conn)
        return XEN_ENOMEM;
    if (c->ops.introduce) {
        int rc = c->ops.introduce(c->ops.ctx, conn, mfn, port);
        if (rc) {
            xs_conn_close(c, conn);
            return rc;
        }
    }
    xs_core_fire_special(c, XS_SPECIAL_INTRODUCE);
    return 0;
}

int xs_core_release(struct xs_core *c, uint16_t domid)
{
    if (!real_domid(domid))
        return XEN_EINVAL;
    struct xs_conn *conn = xs_conn_find(c, domid);
    if (!conn)
        return XEN_ENOENT;
    if (c->ops.release)
        c->ops.release(c->ops.ctx, conn);
    xs_conn_close(c, conn);
    for (struct xs_conn *o = c->conns; o; o = o->next)
        if (o->target == domid)
            o->target = XS_NO_DOMID;
    xs_store_forget_domain(&c->store, domid);
    xs_core_fire_special(c, XS_SPECIAL_RELEASE);
    return 0;
}
