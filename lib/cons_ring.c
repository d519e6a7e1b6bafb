/* SPDX-License-Identifier: MIT */
/* The backend's end of a console ring and the line logger; see cons_ring.h. */
#include <lamina/cons_ring.h>

#define ESC 0x1b
#define ESC_NONE 0
#define ESC_SEEN 1      /* after ESC */
#define ESC_CSI 2       /* after ESC [ */
#define CSI_MAX 32      /* a longer "sequence" is shown, not swallowed */

void cons_back_init(struct cons_back *r, volatile struct xencons_interface *intf)
{
    r->intf = intf;
    r->out_cons = intf->out_cons;
    r->in_prod = intf->in_prod;
}

long cons_back_out_pending(const struct cons_back *r)
{
    XENCONS_RING_IDX used = r->intf->out_prod - r->out_cons;
    return used > XENCONS_OUT_SIZE ? CONS_RING_CORRUPT : (long)used;
}

long cons_back_read(struct cons_back *r, char *dst, size_t max)
{
    volatile struct xencons_interface *intf = r->intf;
    XENCONS_RING_IDX prod = intf->out_prod;      /* the one read of the guest's index */
    XENCONS_RING_IDX used = prod - r->out_cons;

    if (used > XENCONS_OUT_SIZE)
        return CONS_RING_CORRUPT;
    /* The bytes are read after the index that covers them (§8.1). */
    __atomic_thread_fence(__ATOMIC_ACQUIRE);
    size_t n = used < max ? used : max;
    for (size_t i = 0; i < n; i++)
        dst[i] = intf->out[MASK_XENCONS_IDX(r->out_cons + (XENCONS_RING_IDX)i, XENCONS_OUT_SIZE)];
    r->out_cons += (XENCONS_RING_IDX)n;
    return (long)n;
}

void cons_back_publish(struct cons_back *r)
{
    /* Our reads are done before the guest may reuse the space. */
    __atomic_thread_fence(__ATOMIC_RELEASE);
    r->intf->out_cons = r->out_cons;
}

long cons_back_write(struct cons_back *r, const char *src, size_t len)
{
    volatile struct xencons_interface *intf = r->intf;
    XENCONS_RING_IDX cons = intf->in_cons;       /* the one read of the guest's index */
    XENCONS_RING_IDX used = r->in_prod - cons;

    if (used > XENCONS_IN_SIZE)
        return CONS_RING_CORRUPT;
    /* The guest's reads of the space it freed are done before we reuse it. */
    __atomic_thread_fence(__ATOMIC_ACQUIRE);
    size_t room = XENCONS_IN_SIZE - used;
    size_t n = len < room ? len : room;
    for (size_t i = 0; i < n; i++)
        intf->in[MASK_XENCONS_IDX(r->in_prod + (XENCONS_RING_IDX)i, XENCONS_IN_SIZE)] = src[i];
    r->in_prod += (XENCONS_RING_IDX)n;
    /* The bytes are visible before the index that covers them. */
    __atomic_thread_fence(__ATOMIC_RELEASE);
    intf->in_prod = r->in_prod;
    return (long)n;
}

/* ---- the line logger ---------------------------------------------------- */

void cons_log_init(struct cons_log *l, const char *prefix)
{
    size_t n = 0;
    for (; n < CONS_LOG_PREFIX_MAX - 1 && prefix[n]; n++) {
        char c = prefix[n];
        if (c < 0x20 || c > 0x7e)
            c = '?';
        l->line[n] = c;
    }
    l->prefix_len = n;
    l->len = n;
    l->esc_state = ESC_NONE;
    l->esc_len = 0;
}

bool cons_log_has_partial(const struct cons_log *l)
{
    return l->len > l->prefix_len;
}

static void end_line(struct cons_log *l, cons_log_emit_fn emit, void *ctx)
{
    l->line[l->len++] = '\n';
    emit(ctx, l->line, l->len);
    l->len = l->prefix_len;
}

void cons_log_flush(struct cons_log *l, cons_log_emit_fn emit, void *ctx)
{
    if (cons_log_has_partial(l))
        end_line(l, emit, ctx);
}

/* Appends `n` bytes of shown text, starting a new line first if they would
 * not leave room for the '\n'. */
static void put(struct cons_log *l, const char *text, size_t n, cons_log_emit_fn emit, void *ctx)
{
    if (l->len + n + 1 > CONS_LOG_LINE_MAX)
        end_line(l, emit, ctx);
    for (size_t i = 0; i < n; i++)
        l->line[l->len++] = text[i];
}

static void put_hex(struct cons_log *l, uint8_t b, cons_log_emit_fn emit, void *ctx)
{
    static const char digits[] = "0123456789abcdef";
    char text[4] = { '\\', 'x', digits[b >> 4], digits[b & 15] };
    put(l, text, sizeof(text), emit, ctx);
}

/* One byte outside an escape sequence. */
static void put_byte(struct cons_log *l, uint8_t b, cons_log_emit_fn emit, void *ctx)
{
    char c = (char)b;
    if (b == '\n') {
        end_line(l, emit, ctx);
    } else if (b == '\r') {
        /* CR LF is a line end; a lone CR (a redrawn line) just goes. */
    } else if (b == '\t') {
        put(l, " ", 1, emit, ctx);
    } else if (b == ESC) {
        l->esc_state = ESC_SEEN;
    } else if (b >= 0x20 && b <= 0x7e) {
        put(l, &c, 1, emit, ctx);
    } else {
        put_hex(l, b, emit, ctx);
    }
}

void cons_log_feed(struct cons_log *l, const char *data, size_t len, cons_log_emit_fn emit, void *ctx)
{
    for (size_t i = 0; i < len; i++) {
        uint8_t b = (uint8_t)data[i];
        if (l->esc_state == ESC_SEEN) {
            l->esc_state = ESC_NONE;
            if (b == '[') {
                l->esc_state = ESC_CSI;
                l->esc_len = 0;
                continue;
            }
            put_hex(l, ESC, emit, ctx);     /* not CSI: show the ESC, then the byte */
        } else if (l->esc_state == ESC_CSI) {
            /* Parameter and intermediate bytes 0x20-0x3f, then a final byte
             * 0x40-0x7e ends it; anything else (or a runaway) ends it too and
             * is handled as ordinary output. */
            if (b >= 0x20 && b <= 0x3f && l->esc_len < CSI_MAX) {
                l->esc_len++;
                continue;
            }
            l->esc_state = ESC_NONE;
            if (b >= 0x40 && b <= 0x7e)
                continue;
        }
        put_byte(l, b, emit, ctx);
    }
}
