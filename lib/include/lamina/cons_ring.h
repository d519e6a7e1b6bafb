/* SPDX-License-Identifier: MIT */
/*
 * The backend's end of a console ring (xen-pv-abi.md §8.1), and the line
 * logger that turns a guest's raw output into prefixed, printable lines.
 * Pure C over memory the caller maps. The guest can rewrite the shared page
 * at any moment, so each of its indices is read once and checked, and the
 * indices the backend owns (out_cons, in_prod) live in private copies that
 * are only ever written to the page, never read back.
 */
#ifndef LAMINA_CONS_RING_H
#define LAMINA_CONS_RING_H
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <public/io/console.h>

/* A ring whose guest index is more than the ring's size away from ours. */
#define CONS_RING_CORRUPT (-1L)

struct cons_back {
    volatile struct xencons_interface *intf;
    XENCONS_RING_IDX out_cons;  /* ours: output consumed so far */
    XENCONS_RING_IDX in_prod;   /* ours: input produced so far */
};

/* Starts from the indices the page holds now (all 0 in a fresh page). */
void cons_back_init(struct cons_back *r, volatile struct xencons_interface *intf);
/* Output bytes waiting (out_prod - out_cons), or CONS_RING_CORRUPT. */
long cons_back_out_pending(const struct cons_back *r);
/* Copies up to `max` waiting output bytes to `dst` and consumes them in
 * our copy of out_cons. Returns the count, or CONS_RING_CORRUPT with nothing
 * consumed. The guest sees the space freed only at cons_back_publish(). */
long cons_back_read(struct cons_back *r, char *dst, size_t max);
/* Writes our out_cons to the page. A backend calls it once it has passed
 * the bytes on, so a guest that waits for out_cons == out_prod (pvgrub, a
 * guest about to power off) knows its output is out. */
void cons_back_publish(struct cons_back *r);
/* Queues up to `len` input bytes from `src` (in_prod is written after the
 * bytes). Returns how many fit (0 when the ring is full), or
 * CONS_RING_CORRUPT with nothing queued. */
long cons_back_write(struct cons_back *r, const char *src, size_t len);

/*
 * The line logger. Each line it emits is the prefix, the line's text and a
 * '\n', at most CONS_LOG_LINE_MAX bytes: printable ASCII and space stay,
 * a tab becomes a space, CR is dropped, ANSI CSI sequences (ESC [ ... final,
 * colours and cursor moves) are removed, and every other byte is shown as
 * \xNN. A longer line is cut into several. Nothing a guest sends can reach
 * the terminal as a control character.
 */
#define CONS_LOG_LINE_MAX 200
#define CONS_LOG_PREFIX_MAX 64

typedef void (*cons_log_emit_fn)(void *ctx, const char *line, size_t len);

struct cons_log {
    char line[CONS_LOG_LINE_MAX];   /* the prefix, then the current line's text */
    size_t prefix_len;
    size_t len;                     /* bytes of line[] in use, prefix included */
    uint8_t esc_state;              /* 0, or inside ESC / ESC [ ... */
    uint8_t esc_len;                /* bytes of the CSI sequence seen so far */
};

/* `prefix` is copied (cut to CONS_LOG_PREFIX_MAX - 1 bytes, non-printable
 * bytes shown as '?'). */
void cons_log_init(struct cons_log *l, const char *prefix);
/* Feeds raw output; calls emit once per completed line. */
void cons_log_feed(struct cons_log *l, const char *data, size_t len, cons_log_emit_fn emit, void *ctx);
/* Whether text of an unfinished line is held back. */
bool cons_log_has_partial(const struct cons_log *l);
/* Emits the unfinished line, if any, as a line of its own. */
void cons_log_flush(struct cons_log *l, cons_log_emit_fn emit, void *ctx);

#endif
