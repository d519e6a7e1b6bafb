/* SPDX-License-Identifier: MIT */
/*
 * lib/xs_store.c: the node tree (implicit parents, listings, recursive
 * removal), Xen's permission rules and ownership, quotas, transactions
 * (isolation, conflicts, removal inside one, the node limit), what a
 * departed domain leaves behind, change notifications, and running out of
 * arena memory. xs_store_check runs after every test.
 */
#include "unit.h"
#include <lamina/xs_store.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static struct xs_arena arena;
static struct xs_store store;
static struct xs_limits lim;
static uint8_t *mem;
static const struct xs_caller dom0 = { .domid = 0, .target = XS_NO_DOMID, .privileged = true };
static const struct xs_caller dom1 = { .domid = 1, .target = XS_NO_DOMID, .privileged = false };
static const struct xs_caller dom2 = { .domid = 2, .target = XS_NO_DOMID, .privileged = false };

/* Changes reported by the store, as "path" or "path*" (recursive). */
static char changes[64][128];
static unsigned nr_changes;

static void record(void *ctx, const char *path, size_t len, bool recursive, const struct xs_perm *perms,
                   uint32_t nr)
{
    (void)ctx;
    ck_assert_uint_ge(nr, 1);
    ck_assert_ptr_nonnull(perms);
    if (nr_changes < 64)
        snprintf(changes[nr_changes++], 128, "%.*s%s", (int)len, path, recursive ? "*" : "");
}

static void start(size_t arena_size)
{
    mem = malloc(arena_size);
    ck_assert(xs_arena_init(&arena, mem, arena_size));
    xs_limits_default(&lim);
    ck_assert_int_eq(xs_store_init(&store, &arena, &lim, record, NULL), 0);
    nr_changes = 0;
}

static void setup(void)
{
    start(4 << 20);
}

static void teardown(void)
{
    ck_assert_msg(xs_store_check(&store), "store invariants broken");
    free(mem);
}

static int wr(const struct xs_caller *c, struct xs_tx *tx, const char *path, const char *value)
{
    return xs_store_write(&store, tx, c, path, value, (uint32_t)strlen(value));
}

/* Reads a value as a string into a static buffer; "" and the errno on error. */
static const char *rd(const struct xs_caller *c, struct xs_tx *tx, const char *path, int *err)
{
    static char buf[4200];
    const uint8_t *v;
    uint32_t len;
    int rc = xs_store_read(&store, tx, c, path, &v, &len);
    if (err)
        *err = rc;
    if (rc)
        return "";
    if (len)
        memcpy(buf, v, len);
    buf[len] = 0;
    return buf;
}

/* A directory listing with names separated by ',' ("" for none). */
static const char *ls(const struct xs_caller *c, struct xs_tx *tx, const char *path, int *err)
{
    static char buf[8192];
    const char *names;
    uint32_t len;
    uint64_t gen;
    int rc = xs_store_directory(&store, tx, c, path, &names, &len, &gen);
    if (err)
        *err = rc;
    if (rc)
        return "";
    if (len)
        memcpy(buf, names, len);
    for (uint32_t i = 0; i + 1 < len; i++)
        if (!buf[i])
            buf[i] = ',';
    buf[len ? len - 1 : 0] = 0;
    return buf;
}

static int setp(const struct xs_caller *c, struct xs_tx *tx, const char *path, const char *text)
{
    struct xs_perm p[16];
    uint32_t n = 0;
    char copy[128];
    snprintf(copy, sizeof(copy), "%s", text);
    for (char *tok = strtok(copy, " "); tok; tok = strtok(NULL, " "))
        ck_assert(xs_perm_parse(tok, &p[n++]));
    return xs_store_set_perms(&store, tx, c, path, p, n);
}

static const char *perms_text(const char *path)
{
    static char buf[256];
    const struct xs_perm *p;
    uint32_t n;
    ck_assert_int_eq(xs_store_get_perms(&store, NULL, &dom0, path, &p, &n), 0);
    buf[0] = 0;
    for (uint32_t i = 0; i < n; i++) {
        char one[8];
        xs_perm_format(&p[i], one);
        if (i)
            strcat(buf, " ");
        strcat(buf, one);
    }
    return buf;
}

/* /local/domain/<id> owned by id, readable by nobody else (as xl makes it). */
static void make_home(unsigned id)
{
    char path[64], perms[32];
    snprintf(path, sizeof(path), "/local/domain/%u", id);
    snprintf(perms, sizeof(perms), "n%u", id);
    ck_assert_int_eq(xs_store_mkdir(&store, NULL, &dom0, path), 0);
    ck_assert_int_eq(setp(&dom0, NULL, path, perms), 0);
}

START_TEST(test_write_read_implicit_parents)
{
    int err;
    ck_assert_int_eq(wr(&dom0, NULL, "/a/b/c", "hello"), 0);
    ck_assert_str_eq(rd(&dom0, NULL, "/a/b/c", &err), "hello");
    ck_assert_str_eq(rd(&dom0, NULL, "/a/b", &err), "");
    ck_assert_int_eq(err, 0);
    ck_assert_str_eq(ls(&dom0, NULL, "/", &err), "a");
    ck_assert_str_eq(ls(&dom0, NULL, "/a/b", &err), "c");
    ck_assert_str_eq(ls(&dom0, NULL, "/a/b/c", &err), "");
    ck_assert_int_eq(err, 0);
    rd(&dom0, NULL, "/a/x", &err);
    ck_assert_int_eq(err, XEN_ENOENT);
    ls(&dom0, NULL, "/nope", &err);
    ck_assert_int_eq(err, XEN_ENOENT);
    /* Values are bytes: NULs inside, empty, rewritten. */
    ck_assert_int_eq(xs_store_write(&store, NULL, &dom0, "/a/bin", "x\0y", 3), 0);
    const uint8_t *v;
    uint32_t len;
    ck_assert_int_eq(xs_store_read(&store, NULL, &dom0, "/a/bin", &v, &len), 0);
    ck_assert_uint_eq(len, 3);
    ck_assert_mem_eq(v, "x\0y", 3);
    ck_assert_int_eq(wr(&dom0, NULL, "/a/bin", ""), 0);
    ck_assert_int_eq(xs_store_read(&store, NULL, &dom0, "/a/bin", &v, &len), 0);
    ck_assert_uint_eq(len, 0);
    ck_assert_str_eq(ls(&dom0, NULL, "/a", &err), "b,bin");
    /* Each write reported once, at the written path. */
    ck_assert_uint_eq(nr_changes, 3);
    ck_assert_str_eq(changes[0], "/a/b/c");
    ck_assert_str_eq(changes[2], "/a/bin");
}
END_TEST

START_TEST(test_mkdir_rm)
{
    int err;
    ck_assert_int_eq(xs_store_mkdir(&store, NULL, &dom0, "/d/e"), 0);
    ck_assert_int_eq(wr(&dom0, NULL, "/d/e", "keep"), 0);
    nr_changes = 0;
    ck_assert_int_eq(xs_store_mkdir(&store, NULL, &dom0, "/d/e"), 0);
    ck_assert_str_eq(rd(&dom0, NULL, "/d/e", &err), "keep");
    ck_assert_uint_eq(nr_changes, 0);   /* nothing changed, nothing fired */

    for (int i = 0; i < 20; i++) {
        char p[64];
        snprintf(p, sizeof(p), "/d/e/f%d/g/h", i);
        ck_assert_int_eq(wr(&dom0, NULL, p, "v"), 0);
    }
    nr_changes = 0;
    ck_assert_int_eq(xs_store_rm(&store, NULL, &dom0, "/d/e"), 0);
    ck_assert_uint_eq(nr_changes, 1);
    ck_assert_str_eq(changes[0], "/d/e*");
    ck_assert_str_eq(ls(&dom0, NULL, "/d", &err), "");
    rd(&dom0, NULL, "/d/e/f3/g/h", &err);
    ck_assert_int_eq(err, XEN_ENOENT);
    ck_assert_uint_eq(store.nr_nodes, 2);   /* "/" and "/d" */
    /* Removing what is missing: fine if the parent exists. */
    ck_assert_int_eq(xs_store_rm(&store, NULL, &dom0, "/d/e"), 0);
    ck_assert_int_eq(xs_store_rm(&store, NULL, &dom0, "/d/e/f"), XEN_ENOENT);
    ck_assert_int_eq(xs_store_rm(&store, NULL, &dom0, "/"), XEN_EINVAL);
}
END_TEST

START_TEST(test_deep_tree)
{
    /* As deep as a path can go: walks must not recurse. */
    static char path[XENSTORE_ABS_PATH_MAX + 1];
    size_t n = 0;
    while (n + 2 <= XENSTORE_ABS_PATH_MAX) {
        path[n++] = '/';
        path[n++] = 'x';
    }
    path[n] = 0;
    ck_assert_int_eq(wr(&dom0, NULL, path, "deep"), 0);
    ck_assert_uint_eq(store.nr_nodes, 1 + XENSTORE_ABS_PATH_MAX / 2);
    ck_assert(xs_store_check(&store));
    ck_assert_int_eq(xs_store_rm(&store, NULL, &dom0, "/x"), 0);
    ck_assert_uint_eq(store.nr_nodes, 1);
}
END_TEST

START_TEST(test_permissions)
{
    int err;
    make_home(1);
    make_home(2);
    /* A domain works in its home; what it creates it owns. */
    ck_assert_int_eq(wr(&dom1, NULL, "/local/domain/1/data/x", "1"), 0);
    ck_assert_str_eq(perms_text("/local/domain/1/data/x"), "n1");
    ck_assert_uint_eq(xs_store_domain_nodes(&store, 1), 3);
    /* Others see nothing, not even whether a node exists. */
    rd(&dom2, NULL, "/local/domain/1/data/x", &err);
    ck_assert_int_eq(err, XEN_EACCES);
    rd(&dom2, NULL, "/local/domain/1/nothere", &err);
    ck_assert_int_eq(err, XEN_EACCES);
    rd(&dom1, NULL, "/local/domain/1/nothere", &err);
    ck_assert_int_eq(err, XEN_ENOENT);
    ck_assert_int_eq(wr(&dom2, NULL, "/local/domain/1/data/x", "2"), XEN_EACCES);
    ck_assert_int_eq(wr(&dom2, NULL, "/local/domain/1/new", "2"), XEN_EACCES);
    ck_assert_int_eq(xs_store_rm(&store, NULL, &dom2, "/local/domain/1/data"), XEN_EACCES);
    ck_assert_int_eq(xs_store_mkdir(&store, NULL, &dom2, "/local/domain/1/data"), XEN_EACCES);
    ck_assert_int_eq(wr(&dom1, NULL, "/local/x", "1"), XEN_EACCES);
    ck_assert_int_eq(wr(&dom1, NULL, "/tool/x", "1"), XEN_EACCES);
    ck_assert_int_eq(xs_store_rm(&store, NULL, &dom1, "/local/domain/2"), XEN_EACCES);

    /* Grant dom2 read access: an entry of its own. */
    ck_assert_int_eq(setp(&dom1, NULL, "/local/domain/1/data/x", "n1 r2"), 0);
    ck_assert_str_eq(rd(&dom2, NULL, "/local/domain/1/data/x", &err), "1");
    ck_assert_int_eq(wr(&dom2, NULL, "/local/domain/1/data/x", "2"), XEN_EACCES);
    /* The first entry is everyone else's default. */
    ck_assert_int_eq(setp(&dom1, NULL, "/local/domain/1/data/x", "b1"), 0);
    ck_assert_int_eq(wr(&dom2, NULL, "/local/domain/1/data/x", "2"), 0);
    ck_assert_str_eq(perms_text("/local/domain/1/data/x"), "b1");   /* still owned by 1 */
    /* Only the owner may change a list, and not give the node away. */
    ck_assert_int_eq(setp(&dom2, NULL, "/local/domain/1/data/x", "b2"), XEN_EACCES);
    ck_assert_int_eq(setp(&dom1, NULL, "/local/domain/1/data/x", "n2"), XEN_EACCES);
    ck_assert_int_eq(setp(&dom0, NULL, "/local/domain/1/data/x", "n2"), 0);
    ck_assert_uint_eq(xs_store_domain_nodes(&store, 2), 2);
    ck_assert_uint_eq(xs_store_domain_nodes(&store, 1), 2);
    rd(&dom1, NULL, "/local/domain/1/data/x", &err);
    ck_assert_int_eq(err, XEN_EACCES);
    /* Permissions of ancestors do not matter, only the node's own. */
    ck_assert_int_eq(wr(&dom0, NULL, "/local/domain/1/pub", "p"), 0);
    ck_assert_int_eq(setp(&dom0, NULL, "/local/domain/1/pub", "r0"), 0);
    ck_assert_str_eq(rd(&dom2, NULL, "/local/domain/1/pub", &err), "p");
    /* dom0's creations inherit the parent's list unchanged. */
    ck_assert_int_eq(wr(&dom0, NULL, "/local/domain/1/pub/q", "q"), 0);
    ck_assert_str_eq(perms_text("/local/domain/1/pub/q"), "r0");

    /* Targets act for their target domain. */
    struct xs_caller dm = { .domid = 3, .target = 1, .privileged = false };
    ck_assert_int_eq(wr(&dm, NULL, "/local/domain/1/data/y", "dm"), 0);
    ck_assert_str_eq(perms_text("/local/domain/1/data/y"), "n3");

    /* Bad lists. */
    ck_assert_int_eq(xs_store_set_perms(&store, NULL, &dom1, "/local/domain/1/data", NULL, 0), XEN_EINVAL);
    struct xs_perm many[XS_PERMS_MAX + 1];
    for (unsigned i = 0; i <= XS_PERMS_MAX; i++)
        many[i] = (struct xs_perm){ .domid = (uint16_t)(i + 1), .perm = XS_PERM_READ };
    many[0].domid = 1;
    ck_assert_int_eq(xs_store_set_perms(&store, NULL, &dom1, "/local/domain/1/data", many, 6), XEN_ENOSPC);
    ck_assert_int_eq(xs_store_set_perms(&store, NULL, &dom1, "/local/domain/1/data", many, 5), 0);
    ck_assert_int_eq(xs_store_set_perms(&store, NULL, &dom0, "/local/domain/1/data", many, XS_PERMS_MAX + 1),
                     XEN_ENOSPC);
    ck_assert_int_eq(xs_store_set_perms(&store, NULL, &dom0, "/local/domain/1/data", many, XS_PERMS_MAX), 0);
}
END_TEST

START_TEST(test_quotas)
{
    make_home(1);
    char path[64];
    static char big[5000];
    memset(big, 'v', sizeof(big));
    ck_assert_int_eq(xs_store_write(&store, NULL, &dom1, "/local/domain/1/v", big, lim.value_max), 0);
    ck_assert_int_eq(xs_store_write(&store, NULL, &dom1, "/local/domain/1/v", big, lim.value_max + 1), XEN_ENOSPC);
    ck_assert_int_eq(xs_store_write(&store, NULL, &dom0, "/local/domain/1/v", big, 4000), 0);

    /* Node quota: the home and v count already. */
    unsigned made = 0;
    for (unsigned i = 0;; i++) {
        snprintf(path, sizeof(path), "/local/domain/1/n%u", i);
        int rc = wr(&dom1, NULL, path, "x");
        if (rc) {
            ck_assert_int_eq(rc, XEN_ENOSPC);
            break;
        }
        made++;
    }
    ck_assert_uint_eq(made, lim.nodes_per_domain - 2);
    ck_assert_uint_eq(xs_store_domain_nodes(&store, 1), lim.nodes_per_domain);
    /* Several missing parents count all at once: nothing partial. */
    ck_assert_int_eq(xs_store_rm(&store, NULL, &dom1, "/local/domain/1/n0"), 0);
    ck_assert_int_eq(wr(&dom1, NULL, "/local/domain/1/a/b", "x"), XEN_ENOSPC);
    int err;
    rd(&dom1, NULL, "/local/domain/1/a", &err);
    ck_assert_int_eq(err, XEN_ENOENT);
    ck_assert_int_eq(wr(&dom1, NULL, "/local/domain/1/a", "x"), 0);
    /* dom0 has no quota, even creating nodes a domain owns. */
    ck_assert_int_eq(wr(&dom0, NULL, "/local/domain/1/by0/x", "x"), 0);
    ck_assert_uint_eq(xs_store_domain_nodes(&store, 1), lim.nodes_per_domain + 2);
}
END_TEST

START_TEST(test_byte_quotas)
{
    /* Paths and values a domain owns are counted; past the limit, ENOSPC. */
    make_home(1);
    static char value[2048];
    memset(value, 'v', sizeof(value));
    char path[64];
    unsigned i;
    int rc = 0;
    for (i = 0; i < 1000; i++) {
        snprintf(path, sizeof(path), "/local/domain/1/big%u", i);
        rc = xs_store_write(&store, NULL, &dom1, path, value, sizeof(value));
        if (rc)
            break;
    }
    ck_assert_int_eq(rc, XEN_ENOSPC);
    ck_assert_uint_lt(i, 130);
    ck_assert_uint_le(xs_store_domain_bytes(&store, 1), lim.bytes_per_domain);
    ck_assert_uint_gt(xs_store_domain_bytes(&store, 1), lim.bytes_per_domain - 2 * sizeof(value) - 64);
    /* Shrinking is always fine, and makes room. */
    ck_assert_int_eq(wr(&dom1, NULL, "/local/domain/1/big0", "x"), 0);
    ck_assert_int_eq(xs_store_write(&store, NULL, &dom1, path, value, 1000), 0);
    /* dom0 is not limited; what it gives a domain counts for it. */
    ck_assert_int_eq(xs_store_write(&store, NULL, &dom0, "/local/domain/1/by0", value, sizeof(value)), 0);
    ck_assert_int_eq(xs_store_rm(&store, NULL, &dom0, "/local/domain/1"), 0);
    ck_assert_uint_eq(xs_store_domain_bytes(&store, 1), 0);

    /* A transaction's own memory is bounded too. */
    make_home(1);
    struct xs_tx *tx = xs_store_tx_start(&store, 1);
    for (i = 0; i < 100; i++) {
        snprintf(path, sizeof(path), "/local/domain/1/t%u", i);
        rc = xs_store_write(&store, tx, &dom1, path, value, sizeof(value));
        if (rc)
            break;
    }
    ck_assert_int_eq(rc, XEN_ENOSPC);
    ck_assert_uint_le(tx->mem, lim.tx_bytes);
    ck_assert_uint_gt(i, 10);
    ck_assert_int_eq(xs_store_tx_end(&store, tx, &dom1, true), 0);
    ck_assert_uint_eq(xs_store_domain_nodes(&store, 1), 1 + i);
    /* And the byte quota holds at commit, across transactions. */
    ck_assert_int_eq(wr(&dom1, NULL, "/local/domain/1/w1", "1"), 0);
    ck_assert_int_eq(wr(&dom1, NULL, "/local/domain/1/w2", "2"), 0);
    store.lim.bytes_per_domain = xs_store_domain_bytes(&store, 1) + 3000;
    struct xs_tx *a = xs_store_tx_start(&store, 1), *b = xs_store_tx_start(&store, 1);
    ck_assert_int_eq(xs_store_write(&store, a, &dom1, "/local/domain/1/w1", value, 2000), 0);
    ck_assert_int_eq(xs_store_write(&store, b, &dom1, "/local/domain/1/w2", value, 2000), 0);
    ck_assert_int_eq(xs_store_tx_end(&store, a, &dom1, true), 0);
    ck_assert_int_eq(xs_store_tx_end(&store, b, &dom1, true), XEN_ENOSPC);
    ck_assert_int_eq(xs_store_write(&store, NULL, &dom1, "/local/domain/1/w2", value, 2000), XEN_ENOSPC);
    ck_assert_int_eq(xs_store_write(&store, NULL, &dom1, "/local/domain/1/w2", value, 1000), 0);
}
END_TEST

START_TEST(test_tx_isolation_and_commit)
{
    int err;
    ck_assert_int_eq(wr(&dom0, NULL, "/t/a", "1"), 0);
    struct xs_tx *tx = xs_store_tx_start(&store, 0);
    ck_assert_ptr_nonnull(tx);
    ck_assert_int_eq(wr(&dom0, tx, "/t/a", "2"), 0);
    ck_assert_int_eq(wr(&dom0, tx, "/t/new/deep", "3"), 0);
    ck_assert_int_eq(xs_store_rm(&store, tx, &dom0, "/t/a"), 0);
    ck_assert_int_eq(wr(&dom0, tx, "/t/a", "4"), 0);
    /* Inside: its own changes; outside: nothing yet. */
    ck_assert_str_eq(rd(&dom0, tx, "/t/a", &err), "4");
    ck_assert_str_eq(ls(&dom0, tx, "/t", &err), "new,a");
    ck_assert_str_eq(rd(&dom0, NULL, "/t/a", &err), "1");
    rd(&dom0, NULL, "/t/new", &err);
    ck_assert_int_eq(err, XEN_ENOENT);
    nr_changes = 0;
    ck_assert_int_eq(xs_store_tx_end(&store, tx, &dom0, true), 0);
    ck_assert_str_eq(rd(&dom0, NULL, "/t/a", &err), "4");
    ck_assert_str_eq(rd(&dom0, NULL, "/t/new/deep", &err), "3");
    ck_assert_str_eq(ls(&dom0, NULL, "/t", &err), "new,a");
    /* Events come at commit. */
    ck_assert_uint_ge(nr_changes, 2);

    /* Aborting changes nothing. */
    tx = xs_store_tx_start(&store, 0);
    ck_assert_int_eq(xs_store_rm(&store, tx, &dom0, "/t"), 0);
    ls(&dom0, tx, "/t", &err);
    ck_assert_int_eq(err, XEN_ENOENT);
    nr_changes = 0;
    ck_assert_int_eq(xs_store_tx_end(&store, tx, &dom0, false), 0);
    ck_assert_uint_eq(nr_changes, 0);
    ck_assert_str_eq(rd(&dom0, NULL, "/t/new/deep", &err), "3");

    /* A removal inside commits as one recursive change. */
    tx = xs_store_tx_start(&store, 0);
    ck_assert_int_eq(xs_store_rm(&store, tx, &dom0, "/t"), 0);
    nr_changes = 0;
    ck_assert_int_eq(xs_store_tx_end(&store, tx, &dom0, true), 0);
    ck_assert_uint_eq(nr_changes, 1);
    ck_assert_str_eq(changes[0], "/t*");
    ck_assert_uint_eq(store.nr_nodes, 1);
}
END_TEST

START_TEST(test_tx_conflicts)
{
    int err;
    ck_assert_int_eq(wr(&dom0, NULL, "/c/x", "1"), 0);
    ck_assert_int_eq(wr(&dom0, NULL, "/c/y", "1"), 0);

    /* Something it read changed: EAGAIN, and nothing applied. */
    struct xs_tx *tx = xs_store_tx_start(&store, 0);
    rd(&dom0, tx, "/c/x", &err);
    ck_assert_int_eq(wr(&dom0, tx, "/c/y", "tx"), 0);
    ck_assert_int_eq(wr(&dom0, NULL, "/c/x", "other"), 0);
    ck_assert_int_eq(xs_store_tx_end(&store, tx, &dom0, true), XEN_EAGAIN);
    ck_assert_str_eq(rd(&dom0, NULL, "/c/y", &err), "1");

    /* Something it wrote changed. */
    tx = xs_store_tx_start(&store, 0);
    ck_assert_int_eq(wr(&dom0, tx, "/c/y", "tx"), 0);
    ck_assert_int_eq(wr(&dom0, NULL, "/c/y", "other"), 0);
    ck_assert_int_eq(xs_store_tx_end(&store, tx, &dom0, true), XEN_EAGAIN);

    /* It saw a path missing, and it appeared. */
    tx = xs_store_tx_start(&store, 0);
    rd(&dom0, tx, "/c/z", &err);
    ck_assert_int_eq(err, XEN_ENOENT);
    ck_assert_int_eq(wr(&dom0, NULL, "/c/z", "new"), 0);
    ck_assert_int_eq(xs_store_tx_end(&store, tx, &dom0, true), XEN_EAGAIN);

    /* It listed a directory, and a child was added. */
    tx = xs_store_tx_start(&store, 0);
    ls(&dom0, tx, "/c", &err);
    ck_assert_int_eq(wr(&dom0, NULL, "/c/w", "new"), 0);
    ck_assert_int_eq(xs_store_tx_end(&store, tx, &dom0, true), XEN_EAGAIN);

    /* Unrelated changes do not conflict. */
    tx = xs_store_tx_start(&store, 0);
    ck_assert_int_eq(wr(&dom0, tx, "/c/x", "mine"), 0);
    ck_assert_int_eq(wr(&dom0, NULL, "/c/y", "theirs"), 0);
    ck_assert_int_eq(wr(&dom0, NULL, "/elsewhere", "theirs"), 0);
    ck_assert_int_eq(xs_store_tx_end(&store, tx, &dom0, true), 0);
    ck_assert_str_eq(rd(&dom0, NULL, "/c/x", &err), "mine");

    /* Two transactions on one node: the first commit wins. */
    struct xs_tx *a = xs_store_tx_start(&store, 0), *b = xs_store_tx_start(&store, 0);
    ck_assert_int_eq(wr(&dom0, a, "/c/x", "a"), 0);
    ck_assert_int_eq(wr(&dom0, b, "/c/x", "b"), 0);
    ck_assert_int_eq(xs_store_tx_end(&store, b, &dom0, true), 0);
    ck_assert_int_eq(xs_store_tx_end(&store, a, &dom0, true), XEN_EAGAIN);
    ck_assert_str_eq(rd(&dom0, NULL, "/c/x", &err), "b");

    /* Set-perms changes the generation too. */
    tx = xs_store_tx_start(&store, 0);
    rd(&dom0, tx, "/c/x", &err);
    ck_assert_int_eq(setp(&dom0, NULL, "/c/x", "r0"), 0);
    ck_assert_int_eq(xs_store_tx_end(&store, tx, &dom0, true), XEN_EAGAIN);
}
END_TEST

START_TEST(test_tx_limits_and_quota)
{
    make_home(1);
    int err;
    /* Too many touched paths: ENOSPC for that request, tx still usable. */
    struct xs_tx *tx = xs_store_tx_start(&store, 1);
    char path[64];
    int rc = 0;
    unsigned i;
    for (i = 0; i < 2 * lim.tx_nodes; i++) {
        snprintf(path, sizeof(path), "/local/domain/1/k%u", i);
        rd(&dom1, tx, path, &rc);
        if (rc != XEN_ENOENT)
            break;
    }
    ck_assert_int_eq(rc, XEN_ENOSPC);
    ck_assert_uint_le(i, lim.tx_nodes);
    ck_assert_int_eq(xs_store_tx_end(&store, tx, &dom1, false), 0);

    /* Quota counted inside a transaction, and again at commit. */
    lim.nodes_per_domain = 10;
    store.lim.nodes_per_domain = 10;
    tx = xs_store_tx_start(&store, 1);
    for (i = 0; i < 9; i++) {
        snprintf(path, sizeof(path), "/local/domain/1/q%u", i);
        ck_assert_int_eq(wr(&dom1, tx, path, "x"), 0);
    }
    ck_assert_int_eq(wr(&dom1, tx, "/local/domain/1/q9", "x"), XEN_ENOSPC);
    struct xs_tx *tx2 = xs_store_tx_start(&store, 1);
    ck_assert_int_eq(wr(&dom1, tx2, "/local/domain/1/other/a", "x"), 0);
    ck_assert_int_eq(xs_store_tx_end(&store, tx2, &dom1, true), 0);
    /* The home changed (new child): conflict first. */
    ck_assert_int_eq(xs_store_tx_end(&store, tx, &dom1, true), XEN_EAGAIN);
    rd(&dom1, NULL, "/local/domain/1/q0", &err);
    ck_assert_int_eq(err, XEN_ENOENT);
}
END_TEST

START_TEST(test_tx_rm_subtree_conflict)
{
    int err;
    ck_assert_int_eq(wr(&dom0, NULL, "/r/a/b", "1"), 0);
    struct xs_tx *tx = xs_store_tx_start(&store, 0);
    ck_assert_int_eq(xs_store_rm(&store, tx, &dom0, "/r/a"), 0);
    /* Someone adds below the removed node meanwhile. */
    ck_assert_int_eq(wr(&dom0, NULL, "/r/a/c", "2"), 0);
    ck_assert_int_eq(xs_store_tx_end(&store, tx, &dom0, true), XEN_EAGAIN);
    ck_assert_str_eq(ls(&dom0, NULL, "/r/a", &err), "b,c");

    /* Re-created in the same transaction after removal. */
    tx = xs_store_tx_start(&store, 0);
    ck_assert_int_eq(xs_store_rm(&store, tx, &dom0, "/r/a"), 0);
    ck_assert_int_eq(wr(&dom0, tx, "/r/a/d", "3"), 0);
    ck_assert_int_eq(xs_store_tx_end(&store, tx, &dom0, true), 0);
    ck_assert_str_eq(ls(&dom0, NULL, "/r/a", &err), "d");
    ck_assert_uint_eq(store.nr_nodes, 4);
}
END_TEST

START_TEST(test_forget_domain)
{
    int err;
    make_home(5);
    ck_assert_int_eq(wr(&dom0, NULL, "/local/domain/0/backend/vbd/5/0/state", "1"), 0);
    ck_assert_int_eq(setp(&dom0, NULL, "/local/domain/0/backend/vbd/5/0/state", "n0 r5 b7"), 0);
    struct xs_caller d5 = { .domid = 5, .target = XS_NO_DOMID, .privileged = false };
    ck_assert_int_eq(wr(&d5, NULL, "/local/domain/5/x", "1"), 0);
    xs_store_forget_domain(&store, 5);
    ck_assert_str_eq(perms_text("/local/domain/5"), "n0");
    ck_assert_str_eq(perms_text("/local/domain/5/x"), "n0");
    ck_assert_str_eq(perms_text("/local/domain/0/backend/vbd/5/0/state"), "n0 b7");
    ck_assert_uint_eq(xs_store_domain_nodes(&store, 5), 0);
    /* A new domain 5 inherits nothing. */
    rd(&d5, NULL, "/local/domain/5/x", &err);
    ck_assert_int_eq(err, XEN_EACCES);
}
END_TEST

START_TEST(test_out_of_memory)
{
    /* A small arena: fill it up; every failure is clean and the tree stays
     * sound; freeing makes room again. */
    teardown();
    start(96 * 1024);
    store.lim.value_max = 4096;
    static char value[3000];
    memset(value, 'm', sizeof(value));
    char path[64];
    unsigned ok = 0;
    int rc = 0;
    for (unsigned i = 0; i < 1000; i++) {
        snprintf(path, sizeof(path), "/m/n%u/deeper/still", i);
        rc = xs_store_write(&store, NULL, &dom0, path, value, sizeof(value));
        if (rc)
            break;
        ok++;
    }
    ck_assert_int_eq(rc, XEN_ENOMEM);
    ck_assert(xs_store_check(&store));
    /* Transactions fail cleanly too. */
    struct xs_tx *tx = xs_store_tx_start(&store, 0);
    if (tx) {
        for (unsigned i = 0; i < 100 && !rc; i++) {
            snprintf(path, sizeof(path), "/m/t%u", i);
            rc = xs_store_write(&store, tx, &dom0, path, value, sizeof(value));
        }
        xs_store_tx_end(&store, tx, &dom0, true);
    }
    ck_assert(xs_store_check(&store));
    ck_assert_int_eq(xs_store_rm(&store, NULL, &dom0, "/m"), 0);
    ck_assert_uint_eq(store.nr_nodes, 1);
    ck_assert_int_eq(xs_store_write(&store, NULL, &dom0, "/m/again", value, sizeof(value)), 0);
    ck_assert_uint_gt(ok, 3);
}
END_TEST

static Suite *xs_store_suite(void)
{
    Suite *s = suite_create("xs_store");
    TCase *tc = tcase_create("store");
    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_add_test(tc, test_write_read_implicit_parents);
    tcase_add_test(tc, test_mkdir_rm);
    tcase_add_test(tc, test_deep_tree);
    tcase_add_test(tc, test_permissions);
    tcase_add_test(tc, test_quotas);
    tcase_add_test(tc, test_byte_quotas);
    tcase_add_test(tc, test_tx_isolation_and_commit);
    tcase_add_test(tc, test_tx_conflicts);
    tcase_add_test(tc, test_tx_limits_and_quota);
    tcase_add_test(tc, test_tx_rm_subtree_conflict);
    tcase_add_test(tc, test_forget_domain);
    tcase_add_test(tc, test_out_of_memory);
    suite_add_tcase(s, tc);
    return s;
}

UNIT_MAIN(xs_store_suite)
