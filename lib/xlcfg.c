/* SPDX-License-Identifier: MIT */
/*
 * xl.cfg subset parser; see lamina/xlcfg.h. A hand-written recursive-descent
 * parser over a (pointer, end) cursor: it never reads past `end`, never
 * needs the text to be NUL-terminated, and bounds list nesting. Settings and
 * their text are only ever appended, and everything past the used parts is
 * kept zero, so undoing a failed parse is resetting two counters and zeroing
 * what was appended.
 */
#include <stdarg.h>
#include <lamina/xlcfg.h>
#include <lamina/fmt.h>
#include <lamina/string.h>

#define MAX_LIST_DEPTH 8

struct parser {
    struct xlcfg *cfg;
    const char *p, *end;
    unsigned line;
    const char *override;   /* the assignment, for messages; NULL in a file */
    struct xlcfg_error *err;
    char *out;              /* when set, decoded strings go here instead of the pool */
    size_t out_len, out_cap;
};

void xlcfg_init(struct xlcfg *cfg)
{
    memset(cfg, 0, sizeof(*cfg));
}

static int perr(struct parser *ps, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static int perr(struct parser *ps, const char *fmt, ...)
{
    char what[XLCFG_ERR_MAX];
    va_list ap;

    va_start(ap, fmt);
    fmt_vsnprintf(what, sizeof(what), fmt, ap);
    va_end(ap);
    if (ps->override) {
        ps->err->line = 0;
        fmt_snprintf(ps->err->msg, sizeof(ps->err->msg), "override '%.40s': %s", ps->override, what);
    } else {
        ps->err->line = ps->line;
        fmt_snprintf(ps->err->msg, sizeof(ps->err->msg), "line %u: %s", ps->line, what);
    }
    return -1;
}

/* A character for an error message: itself if printable, else a hex escape. */
static const char *show_char(char c, char buf[8])
{
    if (c >= 0x20 && c < 0x7f)
        fmt_snprintf(buf, 8, "'%c'", c);
    else
        fmt_snprintf(buf, 8, "\\x%02x", (unsigned)(unsigned char)c);
    return buf;
}

static bool at_end(const struct parser *ps)
{
    return ps->p >= ps->end;
}

static char peek(const struct parser *ps)
{
    if (at_end(ps))
        return '\0';
    return *ps->p;
}

static bool is_ident_start(char c)
{
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_';
}

static bool is_ident_char(char c)
{
    return is_ident_start(c) || (c >= '0' && c <= '9');
}

static bool is_digit(char c)
{
    return c >= '0' && c <= '9';
}

static void skip_blanks(struct parser *ps)
{
    while (!at_end(ps) && (*ps->p == ' ' || *ps->p == '\t' || *ps->p == '\r'))
        ps->p++;
}

/* Blanks, newlines and comments: what may separate list elements. */
static void skip_space_and_comments(struct parser *ps)
{
    for (;;) {
        skip_blanks(ps);
        if (peek(ps) == '#') {
            while (!at_end(ps) && *ps->p != '\n')
                ps->p++;
        } else if (peek(ps) == '\n') {
            ps->p++;
            ps->line++;
        } else {
            return;
        }
    }
}

static int pool_put(struct parser *ps, char c)
{
    if (ps->out) {
        if (ps->out_len >= ps->out_cap)
            return perr(ps, "string too long");
        ps->out[ps->out_len++] = c;
        return 0;
    }
    struct xlcfg *cfg = ps->cfg;
    if (cfg->pool_used >= sizeof(cfg->pool))
        return perr(ps, "configuration too large (over %u bytes of text)", XLCFG_POOL_SIZE);
    cfg->pool[cfg->pool_used++] = c;
    return 0;
}

/* Decodes one escape after the backslash; returns the byte or -1. */
static int parse_escape(struct parser *ps)
{
    char buf[8];
    if (at_end(ps))
        return perr(ps, "unterminated string");
    char c = *ps->p++;
    switch (c) {
    case 'n': return '\n';
    case 't': return '\t';
    case 'r': return '\r';
    case 'a': return '\a';
    case 'b': return '\b';
    case 'f': return '\f';
    case 'v': return '\v';
    case '\\': case '\'': case '"':
        return c;
    case 'x': {
        int v = 0, n = 0;
        while (n < 2 && !at_end(ps) && fmt_hex_digit(*ps->p) >= 0) {
            v = v * 16 + fmt_hex_digit(*ps->p++);
            n++;
        }
        if (n == 0)
            return perr(ps, "\\x needs hex digits");
        return v ? v : perr(ps, "a string cannot contain a NUL byte");
    }
    default:
        if (c >= '0' && c <= '7') {
            int v = c - '0', n = 1;
            while (n < 3 && !at_end(ps) && *ps->p >= '0' && *ps->p <= '7') {
                v = v * 8 + (*ps->p++ - '0');
                n++;
            }
            if (v > 0xff)
                return perr(ps, "octal escape out of range");
            return v ? v : perr(ps, "a string cannot contain a NUL byte");
        }
        if (c >= 0x20 && c < 0x7f)
            return perr(ps, "unknown escape '\\%c' in a string", c);
        return perr(ps, "unknown escape before %s in a string", show_char(c, buf));
    }
}

/* A quoted string; decoded into the pool when `store`, else only checked. */
static int parse_string(struct parser *ps, bool store)
{
    char quote = *ps->p++;
    for (;;) {
        if (at_end(ps) || *ps->p == '\n')
            return perr(ps, "unterminated string (missing %c)", quote);
        char c = *ps->p++;
        if (c == quote)
            break;
        int v = (unsigned char)c;
        if (c == '\0')
            return perr(ps, "a string cannot contain a NUL byte");
        if (c == '\\' && (v = parse_escape(ps)) < 0)
            return -1;
        if (store && pool_put(ps, (char)v))
            return -1;
    }
    return store ? pool_put(ps, '\0') : 0;
}

static int parse_number(struct parser *ps, uint64_t *out)
{
    uint64_t v = 0;
    unsigned base = 10, digits = 0;
    if (ps->end - ps->p >= 2 && ps->p[0] == '0' && (ps->p[1] == 'x' || ps->p[1] == 'X')) {
        base = 16;
        ps->p += 2;
    }
    while (!at_end(ps)) {
        int d = fmt_hex_digit(*ps->p);
        if (d < 0 || (unsigned)d >= base)
            break;
        if (v > (UINT64_MAX - (unsigned)d) / base)
            return perr(ps, "number too large");
        v = v * base + (unsigned)d;
        digits++;
        ps->p++;
    }
    if (digits == 0 || is_ident_char(peek(ps)) || peek(ps) == '.')
        return perr(ps, "bad number");
    *out = v;
    return 0;
}

static int parse_list(struct parser *ps, unsigned depth);

/* One list element: checked only (lists are kept raw). */
static int parse_element(struct parser *ps, unsigned depth)
{
    char buf[8];
    char c = peek(ps);
    uint64_t ignored;
    if (c == '\'' || c == '"')
        return parse_string(ps, false);
    if (is_digit(c))
        return parse_number(ps, &ignored);
    if (c == '[')
        return parse_list(ps, depth + 1);
    if (at_end(ps))
        return perr(ps, "unterminated list");
    return perr(ps, "expected a list element, got %s", show_char(c, buf));
}

static int parse_list(struct parser *ps, unsigned depth)
{
    char buf[8];
    if (depth > MAX_LIST_DEPTH)
        return perr(ps, "lists nested more than %u deep", MAX_LIST_DEPTH);
    ps->p++;    /* '[' */
    for (;;) {
        skip_space_and_comments(ps);
        if (peek(ps) == ']' && !at_end(ps)) {
            ps->p++;
            return 0;
        }
        if (parse_element(ps, depth))
            return -1;
        skip_space_and_comments(ps);
        if (at_end(ps))
            return perr(ps, "unterminated list (missing ])");
        if (*ps->p == ',') {
            ps->p++;
            continue;
        }
        if (*ps->p != ']')
            return perr(ps, "expected ',' or ']' in a list, got %s", show_char(*ps->p, buf));
    }
}

static struct xlcfg_setting *new_setting(struct parser *ps, const char *key, size_t key_len)
{
    struct xlcfg *cfg = ps->cfg;
    if (cfg->nr >= XLCFG_MAX_SETTINGS) {
        perr(ps, "too many settings (at most %u)", XLCFG_MAX_SETTINGS);
        return NULL;
    }
    struct xlcfg_setting *s = &cfg->settings[cfg->nr];
    memset(s, 0, sizeof(*s));
    memcpy(s->key, key, key_len);
    s->line = ps->override ? 0 : ps->line;
    return s;
}

/* A value at the cursor, appended as the setting `key` (NUL-terminated). */
static int parse_value(struct parser *ps, const char *key)
{
    char buf[8];
    struct xlcfg_setting *s = new_setting(ps, key, strlen(key));
    if (!s)
        return -1;
    char c = peek(ps);
    size_t start = ps->cfg->pool_used;
    if (c == '\'' || c == '"') {
        s->type = XLCFG_STRING;
        if (parse_string(ps, true))
            return -1;
    } else if (is_digit(c)) {
        s->type = XLCFG_NUMBER;
        if (parse_number(ps, &s->number))
            return -1;
    } else if (c == '[') {
        s->type = XLCFG_LIST;
        const char *open = ps->p;
        if (parse_list(ps, 1))
            return -1;
        for (const char *q = open; q < ps->p; q++)
            if (pool_put(ps, *q))
                return -1;
        if (pool_put(ps, '\0'))
            return -1;
    } else if (at_end(ps) || c == '\n' || c == '#' || c == ';') {
        return perr(ps, "'%s' has no value", key);
    } else {
        return perr(ps, "bad value for '%s': %s (strings need quotes)", key, show_char(c, buf));
    }
    if (s->type != XLCFG_NUMBER) {
        s->off = (uint32_t)start;
        s->len = (uint32_t)(ps->cfg->pool_used - start - 1);
    }
    ps->cfg->nr++;
    return 0;
}

/* Copies the identifier at the cursor into key[XLCFG_KEY_MAX], NUL-terminated
 * (messages print it with %s: the text itself has no NUL to stop at). */
static int take_key(struct parser *ps, char *key)
{
    const char *start = ps->p;
    while (!at_end(ps) && is_ident_char(*ps->p))
        ps->p++;
    size_t len = (size_t)(ps->p - start);
    if (len >= XLCFG_KEY_MAX) {
        memcpy(key, start, 20);
        key[20] = '\0';
        return perr(ps, "key '%s...' too long (at most %u characters)", key, XLCFG_KEY_MAX - 1);
    }
    memcpy(key, start, len);
    key[len] = '\0';
    return 0;
}

/* key = value, at the cursor (which is on an identifier). */
static int parse_setting(struct parser *ps)
{
    char buf[8], key[XLCFG_KEY_MAX];
    if (take_key(ps, key))
        return -1;
    skip_blanks(ps);
    if (peek(ps) != '=' || at_end(ps))
        return perr(ps, "expected '=' after '%s'", key);
    ps->p++;
    skip_blanks(ps);
    if (parse_value(ps, key))
        return -1;
    skip_blanks(ps);
    char c = peek(ps);
    if (at_end(ps) || c == '\n' || c == '#')
        return 0;
    if (c == ';') {
        ps->p++;
        return 0;
    }
    return perr(ps, "unexpected %s after the value of '%s'", show_char(c, buf), key);
}

static void rollback(struct xlcfg *cfg, unsigned nr, size_t pool_used)
{
    memset(&cfg->settings[nr], 0, (cfg->nr - nr) * sizeof(cfg->settings[0]));
    memset(&cfg->pool[pool_used], 0, cfg->pool_used - pool_used);
    /* A setting that failed half-way was never counted but may be written. */
    if (cfg->nr < XLCFG_MAX_SETTINGS)
        memset(&cfg->settings[cfg->nr], 0, sizeof(cfg->settings[0]));
    cfg->nr = nr;
    cfg->pool_used = pool_used;
}

int xlcfg_parse(struct xlcfg *cfg, const char *text, size_t len, struct xlcfg_error *err)
{
    char buf[8];
    struct parser ps = { .cfg = cfg, .p = text, .end = text + len, .line = 1, .err = err };
    unsigned nr0 = cfg->nr;
    size_t pool0 = cfg->pool_used;

    for (;;) {
        skip_blanks(&ps);
        if (at_end(&ps))
            return 0;
        char c = *ps.p;
        if (c == '\n') {
            ps.p++;
            ps.line++;
        } else if (c == '#') {
            while (!at_end(&ps) && *ps.p != '\n')
                ps.p++;
        } else if (c == ';') {
            ps.p++;
        } else if (!is_ident_start(c)) {
            perr(&ps, "expected a setting (key = value), got %s", show_char(c, buf));
            break;
        } else if (parse_setting(&ps)) {
            break;
        }
    }
    rollback(cfg, nr0, pool0);
    return -1;
}

int xlcfg_override(struct xlcfg *cfg, const char *assignment, struct xlcfg_error *err)
{
    char buf[8], key[XLCFG_KEY_MAX];
    size_t len = strlen(assignment);
    struct parser ps = { .cfg = cfg, .p = assignment, .end = assignment + len, .line = 0,
                         .override = assignment, .err = err };
    unsigned nr0 = cfg->nr;
    size_t pool0 = cfg->pool_used;

    if (!is_ident_start(peek(&ps)))
        return perr(&ps, "expected key=value");
    if (take_key(&ps, key))
        return -1;
    skip_blanks(&ps);
    if (peek(&ps) != '=' || at_end(&ps))
        return perr(&ps, "expected key=value");
    ps.p++;
    skip_blanks(&ps);
    char c = peek(&ps);
    if (!at_end(&ps) && (c == '\'' || c == '"' || c == '[' || is_digit(c))) {
        if (parse_value(&ps, key))
            goto fail;
        skip_blanks(&ps);
        if (!at_end(&ps)) {
            perr(&ps, "unexpected %s after the value", show_char(*ps.p, buf));
            goto fail;
        }
        return 0;
    }
    /* A bare word: the rest, literally. */
    struct xlcfg_setting *s = new_setting(&ps, key, strlen(key));
    if (!s)
        goto fail;
    s->type = XLCFG_STRING;
    s->off = (uint32_t)cfg->pool_used;
    for (; !at_end(&ps); ps.p++) {
        if (pool_put(&ps, *ps.p))
            goto fail;
    }
    if (pool_put(&ps, '\0'))
        goto fail;
    s->len = (uint32_t)(cfg->pool_used - s->off - 1);
    cfg->nr++;
    return 0;
fail:
    rollback(cfg, nr0, pool0);
    return -1;
}

const struct xlcfg_setting *xlcfg_get(const struct xlcfg *cfg, const char *key)
{
    for (unsigned i = cfg->nr; i-- > 0;)
        if (strcmp(cfg->settings[i].key, key) == 0)
            return &cfg->settings[i];
    return NULL;
}

const char *xlcfg_text(const struct xlcfg *cfg, const struct xlcfg_setting *s)
{
    return s->type == XLCFG_NUMBER ? "" : &cfg->pool[s->off];
}

int xlcfg_list_string(const struct xlcfg *cfg, const struct xlcfg_setting *s, unsigned index, char *buf,
                      size_t size)
{
    struct xlcfg_error ignored;
    const char *text = xlcfg_text(cfg, s);
    struct parser ps = { .p = text, .end = text + s->len, .line = 1, .err = &ignored };
    if (s->type != XLCFG_LIST || !size)
        return -1;
    ps.p++;    /* '[': the list was checked when it was parsed */
    for (unsigned i = 0;; i++) {
        skip_space_and_comments(&ps);
        if (at_end(&ps) || *ps.p == ']')
            return 1;
        char c = *ps.p;
        if (i == index) {
            if (c != '\'' && c != '"')
                return -1;
            ps.out = buf;
            ps.out_cap = size;
            return parse_string(&ps, true) ? -1 : 0;
        }
        if (parse_element(&ps, 1))
            return -1;
        skip_space_and_comments(&ps);
        if (peek(&ps) == ',')
            ps.p++;
    }
}

/* ---- The domain description ------------------------------------------- */

static const char *const action_names[] = {
    [XL_ACTION_DESTROY] = "destroy",
    [XL_ACTION_RESTART] = "restart",
    [XL_ACTION_PRESERVE] = "preserve",
    [XL_ACTION_RENAME_RESTART] = "rename-restart",
    [XL_ACTION_COREDUMP_DESTROY] = "coredump-destroy",
    [XL_ACTION_COREDUMP_RESTART] = "coredump-restart",
    [XL_ACTION_SOFT_RESET] = "soft-reset",
};

const char *xl_action_name(unsigned action)
{
    return action < sizeof(action_names) / sizeof(action_names[0]) ? action_names[action] : "?";
}

static int derr(struct xlcfg_error *err, const struct xlcfg_setting *s, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
static int derr(struct xlcfg_error *err, const struct xlcfg_setting *s, const char *fmt, ...)
{
    char what[XLCFG_ERR_MAX];
    va_list ap;

    va_start(ap, fmt);
    fmt_vsnprintf(what, sizeof(what), fmt, ap);
    va_end(ap);
    err->line = s ? s->line : 0;
    if (s && s->line)
        fmt_snprintf(err->msg, sizeof(err->msg), "line %u: %s", s->line, what);
    else if (s)
        fmt_snprintf(err->msg, sizeof(err->msg), "command line: %s", what);
    else
        fmt_snprintf(err->msg, sizeof(err->msg), "%s", what);
    return -1;
}

static const char *type_name(unsigned type)
{
    return type == XLCFG_NUMBER ? "a number" : type == XLCFG_LIST ? "a list" : "a string";
}

/* A string key into buf; missing is fine unless `required`. */
static int get_string(const struct xlcfg *cfg, const char *key, bool required, char *buf,
                      size_t size, struct xlcfg_error *err)
{
    const struct xlcfg_setting *s = xlcfg_get(cfg, key);
    buf[0] = '\0';
    if (!s)
        return required ? derr(err, NULL, "the configuration has no '%s'", key) : 0;
    if (s->type != XLCFG_STRING)
        return derr(err, s, "'%s' must be a string in quotes, not %s", key, type_name(s->type));
    if (s->len >= size)
        return derr(err, s, "'%s' is too long (at most %zu characters)", key, size - 1);
    if (required && s->len == 0)
        return derr(err, s, "'%s' is empty", key);
    memcpy(buf, xlcfg_text(cfg, s), s->len + 1);
    return 0;
}

static int get_number(const struct xlcfg *cfg, const char *key, uint64_t dflt, uint64_t min,
                      uint64_t max, uint64_t *out, struct xlcfg_error *err)
{
    const struct xlcfg_setting *s = xlcfg_get(cfg, key);
    if (!s) {
        *out = dflt;
        return 0;
    }
    if (s->type != XLCFG_NUMBER)
        return derr(err, s, "'%s' must be a number, not %s", key, type_name(s->type));
    if (s->number < min || s->number > max)
        return derr(err, s, "'%s' = %lu is out of range (%lu to %lu)", key,
                    (unsigned long)s->number, (unsigned long)min, (unsigned long)max);
    *out = s->number;
    return 0;
}

static int get_action(const struct xlcfg *cfg, const char *key, unsigned dflt, uint8_t *out,
                      struct xlcfg_error *err)
{
    char word[24];
    if (get_string(cfg, key, false, word, sizeof(word), err))
        return -1;
    if (!word[0]) {
        *out = (uint8_t)dflt;
        return 0;
    }
    for (unsigned a = 0; a < sizeof(action_names) / sizeof(action_names[0]); a++) {
        if (strcmp(word, action_names[a]) == 0) {
            *out = (uint8_t)a;
            return 0;
        }
    }
    return derr(err, xlcfg_get(cfg, key),
                "'%s' must be destroy, restart, preserve, rename-restart, coredump-destroy, "
                "coredump-restart or soft-reset", key);
}

static int check_name(const struct xlcfg *cfg, const char *name, struct xlcfg_error *err)
{
    bool all_digits = true;
    for (const char *c = name; *c; c++) {
        bool ok = (*c >= 'a' && *c <= 'z') || (*c >= 'A' && *c <= 'Z') || is_digit(*c) ||
                  *c == '_' || *c == '-' || *c == '.';
        if (!ok)
            return derr(err, xlcfg_get(cfg, "name"),
                        "'name' may only hold letters, digits, '_', '-' and '.'");
        all_digits = all_digits && is_digit(*c);
    }
    if (all_digits)
        return derr(err, xlcfg_get(cfg, "name"), "'name' cannot be a number (it would read as a domain id)");
    return 0;
}

/* A list of device specs (`disk`, `vif`): each element a string of at most
 * `max` - 1 characters, at most `limit` of them, handed to `one` with its
 * index; which returns 0, or -1 with its reason in why. */
typedef int (*spec_fn)(struct xl_domain_config *d, unsigned i, const char *spec, char *why, size_t size);

static int get_specs(const struct xlcfg *cfg, const char *key, const char *example, unsigned limit,
                     spec_fn one, struct xl_domain_config *d, struct xlcfg_error *err)
{
    const struct xlcfg_setting *s = xlcfg_get(cfg, key);
    char spec[256], why[XLCFG_ERR_MAX];
    if (!s)
        return 0;
    if (s->type != XLCFG_LIST)
        return derr(err, s, "'%s' must be a list, e.g. [ '%s' ]", key, example);
    for (unsigned i = 0;; i++) {
        int rc = xlcfg_list_string(cfg, s, i, spec, sizeof(spec));
        if (rc == 1)
            return 0;
        if (rc < 0)
            return derr(err, s, "%s %u: each %s must be a string of at most %zu characters", key, i + 1, key,
                        sizeof(spec) - 1);
        if (i == limit)
            return derr(err, s, "too many %ss (at most %u)", key, limit);
        if (one(d, i, spec, why, sizeof(why)))
            return derr(err, s, "%s %u: %s", key, i + 1, why);
    }
}

static int one_disk(struct xl_domain_config *d, unsigned i, const char *spec, char *why, size_t size)
{
    struct xl_disk *disk = &d->disks[i];
    if (xl_disk_parse(spec, disk, why, size))
        return -1;
    for (unsigned j = 0; j < i; j++) {
        if (d->disks[j].devid == disk->devid) {
            fmt_snprintf(why, size, "vdev %s is used twice", disk->vdev);
            return -1;
        }
    }
    d->nr_disks = i + 1;
    return 0;
}

static int one_vif(struct xl_domain_config *d, unsigned i, const char *spec, char *why, size_t size)
{
    struct xl_vif *vif = &d->vifs[i];
    if (xl_vif_parse(spec, vif, why, size))
        return -1;
    for (unsigned j = 0; j < i && vif->devid >= 0; j++) {
        if (d->vifs[j].devid == vif->devid) {
            fmt_snprintf(why, size, "devid %d is used twice", (int)vif->devid);
            return -1;
        }
    }
    d->nr_vifs = i + 1;
    return 0;
}

int xlcfg_domain(const struct xlcfg *cfg, struct xl_domain_config *out, struct xlcfg_error *err)
{
    static struct xl_domain_config d;   /* 3.6 KiB: not on a small kernel stack */
    char root[XL_CMDLINE_MAX], extra[XL_CMDLINE_MAX];
    uint64_t vcpus = 1;

    memset(&d, 0, sizeof(d));
    if (get_string(cfg, "name", true, d.name, sizeof(d.name), err) || check_name(cfg, d.name, err) ||
        get_string(cfg, "kernel", true, d.kernel, sizeof(d.kernel), err) ||
        get_string(cfg, "ramdisk", false, d.ramdisk, sizeof(d.ramdisk), err) ||
        get_number(cfg, "memory", XL_DEFAULT_MEMORY_MIB, 1, 1u << 20, &d.memory_mib, err) ||
        get_number(cfg, "vcpus", 1, 1, 1u << 12, &vcpus, err) ||
        get_string(cfg, "cmdline", false, d.cmdline, sizeof(d.cmdline), err) ||
        get_string(cfg, "root", false, root, sizeof(root), err) ||
        get_string(cfg, "extra", false, extra, sizeof(extra), err) ||
        get_action(cfg, "on_poweroff", XL_ACTION_DESTROY, &d.on_poweroff, err) ||
        get_action(cfg, "on_reboot", XL_ACTION_RESTART, &d.on_reboot, err) ||
        get_action(cfg, "on_crash", XL_ACTION_DESTROY, &d.on_crash, err) ||
        get_specs(cfg, "disk", "phy:/dev/vdb,xvda,w", XL_MAX_DISKS, one_disk, &d, err) ||
        get_specs(cfg, "vif", "mac=00:16:3e:00:00:01,bridge=xenbr0", XL_MAX_VIFS, one_vif, &d, err))
        return -1;
    if (vcpus != 1)
        return derr(err, xlcfg_get(cfg, "vcpus"), "vcpus = %lu: only 1 vCPU per domain is supported for now",
                    (unsigned long)vcpus);
    d.vcpus = 1;
    /* xl: `cmdline` wins; otherwise "root=<root>" and `extra`, space-separated. */
    if (!xlcfg_get(cfg, "cmdline")) {
        int n;
        if (root[0])
            n = fmt_snprintf(d.cmdline, sizeof(d.cmdline), "root=%s%s%s", root, extra[0] ? " " : "", extra);
        else
            n = fmt_snprintf(d.cmdline, sizeof(d.cmdline), "%s", extra);
        if (n < 0 || (size_t)n >= sizeof(d.cmdline))
            return derr(err, xlcfg_get(cfg, "extra"), "'root' and 'extra' together are too long (at most %u characters)",
                        XL_CMDLINE_MAX - 1);
    }
    *out = d;
    return 0;
}
