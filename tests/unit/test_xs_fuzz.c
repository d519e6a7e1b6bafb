/* SPDX-License-Identifier: MIT */
/*
 * Deterministic randomised tests of xenstored's logic:
 *   - protocol fuzz: several domains send random, mostly almost-valid and
 *     sometimes plainly broken requests (bad types, missing NULs, hostile
 *     paths, giant values, floods, stray transaction ids, oversized
 *     headers), fed and drained in random pieces. Every output message must
 *     be well formed, replies must come in request order with the request's
 *     ids, and the store and arena invariants must hold throughout; at the
 *     end every byte of the arena must come back.
 *   - model check: random writes, mkdirs, removals, reads and listings by
 *     dom0, directly or batched in transactions (committed or aborted),
 *     compared step by step with a trivial reference model.
 */
#include "test_xs.h"
#include <stdio.h>
#include "rng.h"


/* ---- protocol fuzz ---- */

#define NR_DOMS 4        /* dom0 and domains 1..3 */
#define MAX_PENDING 64

struct peer {
    uint16_t domid;
    struct xs_conn *conn;
    uint32_t pending[MAX_PENDING];     /* req_ids awaiting replies, in order */
    unsigned nr_pending;
    uint8_t in[XS_HDR_SIZE + XENSTORE_PAYLOAD_MAX];
    size_t in_len;
    uint32_t txs[16];                  /* transaction ids it holds */
    unsigned nr_txs;
    uint32_t last_type;
    unsigned replies, events, errors;
};

static struct xs_core core;
static struct peer peers[NR_DOMS];
static uint32_t req_counter = 1;

static void peer_reset(struct peer *p)
{
    p->nr_pending = 0;
    p->in_len = 0;
    p->nr_txs = 0;
}

static bool known_error(const char *s, size_t len)
{
    return len >= 2 && s[len - 1] == 0 && xs_errno_from_name(s) != 0;
}

/* One complete message arrived from the core to p. */
static void check_message(struct peer *p, const struct xsd_sockmsg *h, const uint8_t *payload)
{
    FAST_ASSERT(h->len <= XENSTORE_PAYLOAD_MAX);
    if (h->type == XS_WATCH_EVENT) {
        FAST_ASSERT(h->req_id == 0 && h->tx_id == 0);
        FAST_ASSERT(xs_args_count((const char *)payload, h->len) == 2);
        p->events++;
        return;
    }
    FAST_ASSERT_MSG(p->nr_pending > 0, "d%u: reply type %u with nothing pending", p->domid, h->type);
    FAST_ASSERT_MSG(h->req_id == p->pending[0], "d%u: reply %u, expected %u", p->domid, h->req_id, p->pending[0]);
    memmove(p->pending, p->pending + 1, (p->nr_pending - 1) * sizeof(p->pending[0]));
    p->nr_pending--;
    p->replies++;
    if (h->type == XS_ERROR) {
        FAST_ASSERT_MSG(known_error((const char *)payload, h->len), "bad error payload");
        p->errors++;
        return;
    }
    if (h->type == XS_TRANSACTION_START && p->nr_txs < 16) {
        FAST_ASSERT(h->len >= 2 && payload[h->len - 1] == 0);
        p->txs[p->nr_txs++] = (uint32_t)strtoul((const char *)payload, NULL, 10);
    }
}

/* Takes up to n output bytes (random pieces) and parses them. */
static void drain(struct peer *p, size_t n)
{
    const void *data;
    size_t got;
    while (n && (got = xs_conn_peek(p->conn, &data))) {
        size_t take = got < n ? got : n;
        const uint8_t *b = data;
        for (size_t i = 0; i < take; i++) {
            p->in[p->in_len++] = b[i];
            if (p->in_len < XS_HDR_SIZE)
                continue;
            struct xsd_sockmsg h;
            xs_hdr_decode(p->in, &h);
            FAST_ASSERT(h.len <= XENSTORE_PAYLOAD_MAX);
            if (p->in_len == XS_HDR_SIZE + h.len) {
                check_message(p, &h, p->in + XS_HDR_SIZE);
                p->in_len = 0;
            }
        }
        xs_conn_consume(&core, p->conn, take);
        n -= take;
    }
}

static void drain_all(struct peer *p)
{
    drain(p, SIZE_MAX);
    FAST_ASSERT(p->conn->out_bytes == 0);
}

/* Re-finds every peer's connection (dom0 may RELEASE or INTRODUCE domains
 * at random); a released domain is introduced again with a fresh stream. */
static void resync(void)
{
    for (unsigned i = 0; i < NR_DOMS; i++) {
        struct peer *p = &peers[i];
        p->conn = xs_conn_find(&core, p->domid);
        if (p->conn)
            continue;
        peer_reset(p);
        if (p->domid == 0) {
            p->conn = xs_conn_open(&core, 0);
        } else {
            /* As a toolstack would for a new domain: a fresh home it owns
             * (what the old one left is dom0's now). */
            char home[32], perms[8];
            snprintf(home, sizeof(home), "/local/domain/%u", p->domid);
            snprintf(perms, sizeof(perms), "n%u", p->domid);
            xs_core_rm(&core, home);
            FAST_ASSERT(xs_core_mkdir(&core, home) == 0);
            FAST_ASSERT(xs_core_set_perms_text(&core, home, perms) == 0);
            FAST_ASSERT(xs_core_introduce(&core, p->domid, 1000 + p->domid, 1) == 0);
        }
        p->conn = xs_conn_find(&core, p->domid);
        FAST_ASSERT(p->conn != NULL);
    }
}

static const char *const words[] = { "device", "vbd", "51712", "state", "control", "shutdown", "data",
                                     "local", "domain", "0", "1", "2", "3", "backend", "memory", "target",
                                     "x", "@releaseDomain", "@introduceDomain", "tool", "a-b_c" };

/* Appends a random path-like string to buf at *at. */
static void gen_path(char *buf, size_t *at, size_t cap)
{
    char tmp[XENSTORE_ABS_PATH_MAX + 64];
    size_t n = 0;
    unsigned kind = below(20);
    if (kind < 11) {                              /* relative */
        for (unsigned d = 0, depth = 1 + below(4); d < depth; d++)
            n += (size_t)snprintf(tmp + n, sizeof(tmp) - n, "%s%s", d ? "/" : "", words[below(17)]);
    } else if (kind < 15) {                       /* absolute */
        n += (size_t)snprintf(tmp, sizeof(tmp), "/local/domain/%u", below(5));
        for (unsigned d = 0, depth = below(4); d < depth; d++)
            n += (size_t)snprintf(tmp + n, sizeof(tmp) - n, "/%s", words[below(17)]);
    } else if (kind < 17) {                       /* hostile */
        static const char *const bad[] = { "..", "../0", "/local/domain/0/../1", "a//b", "a/", "/", "",
                                           "/a b", "\xff\xfe", ".", "//", "@", "@releaseDomain/x" };
        n = (size_t)snprintf(tmp, sizeof(tmp), "%s", bad[below(sizeof(bad) / sizeof(bad[0]))]);
    } else if (kind < 18) {                       /* special */
        n = (size_t)snprintf(tmp, sizeof(tmp), "%s", words[17 + below(2)]);
    } else if (kind < 19) {                       /* long */
        size_t len = 1 + below(XENSTORE_ABS_PATH_MAX + 40);
        tmp[0] = '/';
        for (n = 1; n < len; n++)
            tmp[n] = (n % 7 == 0) ? '/' : 'q';
        if (tmp[n - 1] == '/')
            tmp[n - 1] = 'q';
    } else {                                      /* random bytes */
        for (size_t len = below(40); n < len; n++)
            tmp[n] = (char)(1 + below(255));
    }
    if (*at + n + 1 > cap)
        return;
    memcpy(buf + *at, tmp, n);
    *at += n;
    buf[(*at)++] = 0;
}

static void gen_word(char *buf, size_t *at, size_t cap, const char *const *choices, unsigned nr)
{
    char tmp[32];
    int n;
    if (below(8) == 0)
        n = snprintf(tmp, sizeof(tmp), "%c%u", (char)('a' + below(26)), (unsigned)rnd() % 70000);
    else
        n = snprintf(tmp, sizeof(tmp), "%s", choices[below(nr)]);
    if (*at + (size_t)n + 1 > cap)
        return;
    memcpy(buf + *at, tmp, (size_t)n + 1);
    *at += (size_t)n + 1;
}

/* A random request from p into buf; returns the payload length. */
static size_t gen_request(struct peer *p, uint32_t *type, uint32_t *tx_id, char *buf, size_t cap)
{
    static const uint32_t common[] = { XS_READ, XS_WRITE, XS_MKDIR, XS_RM, XS_DIRECTORY, XS_WATCH,
                                       XS_UNWATCH, XS_TRANSACTION_START, XS_TRANSACTION_END, XS_GET_PERMS,
                                       XS_SET_PERMS, XS_DIRECTORY_PART, XS_WRITE, XS_READ };
    static const char *const perms[] = { "n0", "r1", "b2", "w3", "n1", "b0", "r3", "x", "" };
    static const char *const domids[] = { "0", "1", "2", "3", "4", "5", "32752", "-1", "" };
    static const char *const tokens[] = { "t", "tok", "FFFF888000001000", "" };
    static const char *const ends[] = { "T", "F", "X", "" };
    unsigned r = below(100);
    if (r < 75)
        *type = common[below(sizeof(common) / sizeof(common[0]))];
    else if (r < 95)
        *type = below(XS_TYPE_COUNT + 2);
    else
        *type = (uint32_t)rnd();
    *tx_id = 0;
    if (p->nr_txs && below(3) == 0)
        *tx_id = p->txs[below(p->nr_txs)];
    else if (below(30) == 0)
        *tx_id = (uint32_t)rnd() % 50;

    size_t at = 0;
    switch (*type) {
    case XS_WRITE: {
        gen_path(buf, &at, cap);
        size_t vlen = below(6) == 0 ? below(4096) : below(16);
        for (size_t i = 0; i < vlen && at < cap; i++)
            buf[at++] = (char)(below(4) ? 'a' + below(26) : below(256));
        break;
    }
    case XS_WATCH:
    case XS_UNWATCH:
        gen_path(buf, &at, cap);
        gen_word(buf, &at, cap, tokens, 4);
        break;
    case XS_SET_PERMS:
        gen_path(buf, &at, cap);
        for (unsigned i = 0, n = below(8); i < n; i++)
            gen_word(buf, &at, cap, perms, 9);
        break;
    case XS_TRANSACTION_END:
        gen_word(buf, &at, cap, ends, 4);
        break;
    case XS_DIRECTORY_PART:
        gen_path(buf, &at, cap);
        gen_word(buf, &at, cap, domids, 6);
        break;
    case XS_INTRODUCE:
        gen_word(buf, &at, cap, domids, 9);
        gen_word(buf, &at, cap, domids, 9);
        gen_word(buf, &at, cap, domids, 9);
        break;
    case XS_RELEASE:
    case XS_GET_DOMAIN_PATH:
    case XS_IS_DOMAIN_INTRODUCED:
    case XS_RESUME:
        gen_word(buf, &at, cap, domids, 9);
        break;
    case XS_SET_TARGET:
        gen_word(buf, &at, cap, domids, 9);
        gen_word(buf, &at, cap, domids, 9);
        break;
    default:
        if (below(8))
            gen_path(buf, &at, cap);
        else
            for (size_t n = below(64); at < n; at++)
                buf[at] = (char)rnd();
        break;
    }
    /* Now and then break the framing of the arguments. */
    if (at && below(20) == 0)
        at--;                       /* drop the last NUL */
    if (below(20) == 0 && at + 3 < cap) {
        memcpy(buf + at, "zz\0", 3);
        at += 3;
    }
    return at;
}

START_TEST(test_protocol_fuzz)
{
    enum { STEPS = 200000, ARENA = 3 << 20 };
    uint8_t *mem = malloc(ARENA);
    struct xs_limits lim;
    xs_limits_default(&lim);
    lim.output_soft = 4096;
    lim.output_hard = 16384;
    ck_assert_int_eq(xs_core_init(&core, mem, ARENA, &lim, NULL), 0);
    size_t baseline_bytes = core.arena.used_bytes, baseline_allocs = core.arena.nr_allocs;
    rng = 0x5eed0f1a2b3c4d5eull;
    for (unsigned i = 0; i < NR_DOMS; i++) {
        memset(&peers[i], 0, sizeof(peers[i]));
        peers[i].domid = (uint16_t)i;
    }
    resync();

    static char payload[XENSTORE_PAYLOAD_MAX + 64];
    static uint8_t wire[XS_HDR_SIZE + XENSTORE_PAYLOAD_MAX + 64];
    unsigned cutoffs = 0, sent = 0;
    for (unsigned step = 0; step < STEPS; step++) {
        struct peer *p = &peers[below(NR_DOMS)];
        if (below(200) == 0) {
            /* An oversized header: the connection must be refused. */
            struct xsd_sockmsg h = { .type = XS_WRITE, .req_id = 1, .len = XENSTORE_PAYLOAD_MAX + 1 + below(100000) };
            xs_hdr_encode(&h, wire);
            drain_all(p);
            FAST_ASSERT(xs_conn_feed(&core, p->conn, wire, XS_HDR_SIZE) == -1);
            if (p->domid)
                FAST_ASSERT(xs_core_release(&core, p->domid) == 0);
            else
                xs_conn_close(&core, p->conn);
            cutoffs++;
            resync();
            continue;
        }
        uint32_t type, tx_id;
        size_t len = gen_request(p, &type, &tx_id, payload, XENSTORE_PAYLOAD_MAX);
        struct xsd_sockmsg h = { .type = type, .req_id = req_counter++, .tx_id = tx_id, .len = (uint32_t)len };
        if (!h.req_id)
            h.req_id = req_counter++;
        xs_hdr_encode(&h, wire);
        memcpy(wire + XS_HDR_SIZE, payload, len);
        size_t total = XS_HDR_SIZE + len, off = 0;
        /* The reply is expected unless back-pressure stops it; every byte
         * must be taken eventually. */
        if (p->nr_pending == MAX_PENDING)
            drain_all(p);
        p->pending[p->nr_pending++] = h.req_id;
        while (off < total) {
            size_t piece = below(4) ? total - off : 1 + below((unsigned)(total - off));
            long rc = xs_conn_feed(&core, p->conn, wire + off, piece);
            FAST_ASSERT(rc >= 0);
            off += (size_t)rc;
            if ((size_t)rc < piece)
                drain(p, 1 + below(8192));   /* it is waiting for us to read */
        }
        sent++;
        if (type == XS_TRANSACTION_END && tx_id) {
            for (unsigned i = 0; i < p->nr_txs; i++)
                if (p->txs[i] == tx_id)
                    p->txs[i] = p->txs[--p->nr_txs];
        }
        if (type == XS_RESET_WATCHES)
            p->nr_txs = 0;
        /* Read some, or all, of what everyone has. */
        for (unsigned i = 0; i < NR_DOMS; i++)
            if (below(3))
                drain(&peers[i], below(2) ? SIZE_MAX : below(200));
        if (p->domid == 0 && (type == XS_RELEASE || type == XS_INTRODUCE)) {
            for (unsigned i = 1; i < NR_DOMS; i++)
                if (peers[i].conn != xs_conn_find(&core, peers[i].domid))
                    peers[i].conn = NULL;
            for (unsigned i = 0; i < NR_DOMS; i++)
                if (peers[i].conn)
                    drain_all(&peers[i]);
            resync();
        }
        if (step % 500 == 0) {
            /* dom0's random SET_PERMS and RMs take homes away; give them back. */
            for (unsigned i = 1; i < NR_DOMS; i++) {
                char home[32], perms[8];
                snprintf(home, sizeof(home), "/local/domain/%u", i);
                snprintf(perms, sizeof(perms), "n%u", i);
                xs_core_mkdir(&core, home);
                FAST_ASSERT(xs_core_set_perms_text(&core, home, perms) == 0);
            }
        }
        if (step % 2000 == 0) {
            FAST_ASSERT(xs_store_check(&core.store));
            FAST_ASSERT(xs_arena_check(&core.arena));
        }
    }
    unsigned replies = 0, events = 0, errors = 0;
    for (unsigned i = 0; i < NR_DOMS; i++) {
        drain_all(&peers[i]);
        FAST_ASSERT(peers[i].nr_pending == 0 && peers[i].in_len == 0);
        replies += peers[i].replies;
        events += peers[i].events;
        errors += peers[i].errors;
    }
    ck_assert(xs_store_check(&core.store));
    /* Plenty of both outcomes, and of events. */
    ck_assert_uint_gt(replies - errors, sent / 5);
    ck_assert_uint_gt(errors, sent / 5);
    ck_assert_uint_gt(events, 1000);
    ck_assert_uint_gt(cutoffs, 100);

    /* Everything goes back: connections (with their watches, transactions
     * and output), every node, then the arena is as it started. */
    while (core.conns)
        xs_conn_close(&core, core.conns);
    static char names[1 << 16];
    size_t nl;
    ck_assert_int_eq(xs_core_directory(&core, "/", names, sizeof(names), &nl), 0);
    for (size_t off = 0; off < nl; off += strlen(names + off) + 1) {
        char path[XS_PATH_BUF];
        snprintf(path, sizeof(path), "/%s", names + off);
        ck_assert_int_eq(xs_core_rm(&core, path), 0);
    }
    ck_assert_int_eq(xs_core_write(&core, "/", "", 0), 0);
    ck_assert_int_eq(xs_core_set_perms_text(&core, "/", "n0"), 0);
    ck_assert(xs_store_check(&core.store));
    ck_assert_uint_eq(core.store.nr_nodes, 1);
    ck_assert_uint_eq(core.arena.nr_allocs, baseline_allocs);
    ck_assert_uint_eq(core.arena.used_bytes, baseline_bytes);
    free(mem);
}
END_TEST

/* ---- model check ---- */

#define MODEL_PATHS 40   /* "/" and /a.. /c/c/c: 3 + 9 + 27 */

struct model {
    bool exists[MODEL_PATHS];
    char value[MODEL_PATHS][8];
};

static char model_path[MODEL_PATHS][16];
static int model_parent[MODEL_PATHS];

static void model_paths(void)
{
    unsigned n = 1;
    strcpy(model_path[0], "/");
    model_parent[0] = -1;
    for (unsigned lvl_start = 0, lvl_end = 1; n < MODEL_PATHS; lvl_start = lvl_end, lvl_end = n) {
        for (unsigned p = lvl_start; p < lvl_end; p++)
            for (char c = 'a'; c <= 'c' && n < MODEL_PATHS; c++) {
                snprintf(model_path[n], sizeof(model_path[n]), "%s%s%c", model_path[p], p ? "/" : "", c);
                model_parent[n] = (int)p;
                n++;
            }
    }
}

static bool model_below(unsigned node, unsigned top)
{
    for (int i = (int)node; i >= 0; i = model_parent[i])
        if ((unsigned)i == top)
            return true;
    return false;
}

static void model_create(struct model *m, unsigned i)
{
    for (int k = (int)i; k >= 0 && !m->exists[k]; k = model_parent[k]) {
        m->exists[k] = true;
        m->value[k][0] = 0;
    }
}

/* One random operation on both the store (in tx or not) and the model. */
static void model_step(struct xs_store *s, struct xs_tx *tx, struct model *m)
{
    static const struct xs_caller dom0 = { .domid = 0, .target = XS_NO_DOMID, .privileged = true };
    unsigned i = 1 + below(MODEL_PATHS - 1);
    const char *path = model_path[i];
    int rc;
    switch (below(5)) {
    case 0: {
        char v[8];
        snprintf(v, sizeof(v), "%u", below(1000));
        rc = xs_store_write(s, tx, &dom0, path, v, (uint32_t)strlen(v));
        FAST_ASSERT(rc == 0);
        model_create(m, i);
        strcpy(m->value[i], v);
        break;
    }
    case 1:
        rc = xs_store_mkdir(s, tx, &dom0, path);
        FAST_ASSERT(rc == 0);
        model_create(m, i);
        break;
    case 2: {
        rc = xs_store_rm(s, tx, &dom0, path);
        int want = m->exists[i] || m->exists[model_parent[i]] ? 0 : XEN_ENOENT;
        FAST_ASSERT_MSG(rc == want, "rm %s: %d, want %d", path, rc, want);
        for (unsigned k = 0; k < MODEL_PATHS; k++)
            if (model_below(k, i))
                m->exists[k] = false;
        break;
    }
    case 3: {
        const uint8_t *v;
        uint32_t len;
        rc = xs_store_read(s, tx, &dom0, path, &v, &len);
        FAST_ASSERT_MSG(rc == (m->exists[i] ? 0 : XEN_ENOENT), "read %s: %d", path, rc);
        if (!rc)
            FAST_ASSERT(len == strlen(m->value[i]) && (!len || !memcmp(v, m->value[i], len)));
        break;
    }
    default: {
        unsigned d = below(MODEL_PATHS);
        const char *names;
        uint32_t len;
        rc = xs_store_directory(s, tx, &dom0, model_path[d], &names, &len, NULL);
        FAST_ASSERT(rc == (m->exists[d] ? 0 : XEN_ENOENT));
        if (rc)
            break;
        /* Same set of names, each once. */
        unsigned want = 0, got = 0;
        for (unsigned k = 0; k < MODEL_PATHS; k++)
            if (m->exists[k] && model_parent[k] == (int)d) {
                want++;
                const char *leaf = strrchr(model_path[k], '/') + 1;
                bool found = false;
                for (uint32_t off = 0; off < len; off += (uint32_t)strlen(names + off) + 1)
                    found |= !strcmp(names + off, leaf);
                FAST_ASSERT_MSG(found, "%s missing from %s", leaf, model_path[d]);
            }
        for (uint32_t off = 0; off < len; off += (uint32_t)strlen(names + off) + 1)
            got++;
        FAST_ASSERT_MSG(got == want, "%s lists %u, want %u", model_path[d], got, want);
        break;
    }
    }
}

START_TEST(test_model_check)
{
    enum { ROUNDS = 4000, ARENA = 2 << 20 };
    uint8_t *mem = malloc(ARENA);
    struct xs_arena a;
    struct xs_store s;
    struct xs_limits lim;
    ck_assert(xs_arena_init(&a, mem, ARENA));
    xs_limits_default(&lim);
    ck_assert_int_eq(xs_store_init(&s, &a, &lim, NULL, NULL), 0);
    static const struct xs_caller dom0 = { .domid = 0, .target = XS_NO_DOMID, .privileged = true };
    model_paths();
    static struct model m, tm;
    memset(&m, 0, sizeof(m));
    m.exists[0] = true;
    rng = 0x0123456789abcdefull;
    unsigned commits = 0, aborts = 0;
    for (unsigned round = 0; round < ROUNDS; round++) {
        if (below(3)) {
            model_step(&s, NULL, &m);
        } else {
            struct xs_tx *tx = xs_store_tx_start(&s, 0);
            FAST_ASSERT(tx != NULL);
            tm = m;
            for (unsigned k = 0, n = 1 + below(12); k < n; k++)
                model_step(&s, tx, &tm);
            bool commit = below(4) != 0;
            FAST_ASSERT(xs_store_tx_end(&s, tx, &dom0, commit) == 0);
            if (commit) {
                m = tm;
                commits++;
            } else {
                aborts++;
            }
        }
        if (round % 100 == 0)
            FAST_ASSERT(xs_store_check(&s));
        /* The whole tree matches the model. */
        for (unsigned k = 0; k < MODEL_PATHS; k++) {
            const uint8_t *v;
            uint32_t len;
            int rc = xs_store_read(&s, NULL, &dom0, model_path[k], &v, &len);
            FAST_ASSERT_MSG(rc == (m.exists[k] ? 0 : XEN_ENOENT), "round %u: %s", round, model_path[k]);
        }
    }
    ck_assert(xs_store_check(&s));
    ck_assert_uint_gt(commits, 500);
    ck_assert_uint_gt(aborts, 100);
    free(mem);
}
END_TEST

static Suite *xs_fuzz_suite(void)
{
    Suite *s = suite_create("xs_fuzz");
    TCase *tc = tcase_create("fuzz");
    tcase_set_timeout(tc, 120);
    tcase_add_test(tc, test_protocol_fuzz);
    tcase_add_test(tc, test_model_check);
    suite_add_tcase(s, tc);
    return s;
}

UNIT_MAIN(xs_fuzz_suite)
