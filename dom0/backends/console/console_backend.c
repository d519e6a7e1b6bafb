/* SPDX-License-Identifier: MIT */
/*
 * dom0's console backend: the other end of every domU's console ring
 * (xen-pv-abi.md §8.1), in the role of Xen's xenconsoled, and `xl console`.
 *
 * Design
 *
 * - One entry per domU, made by console_backend_add() when the toolstack
 *   builds the domain: the ring page stays mapped in a slot of dom0's
 *   mapping window (vmap.h; the last CONSOLE_BACKEND_VMAP_SLOTS slots, so
 *   the builder, which maps from slot 0 up, never meets them), and a dom0
 *   port is bound to the console port the builder offered (§3.9). The event
 *   handler only sets flags; all work happens in console_backend_poll(),
 *   from dom0's main loop.
 * - The guest controls the page. Its indices are read once per use and
 *   checked (lib/cons_ring: prod - cons never above the ring size); the
 *   indices we own are private copies, only ever written to the page; bytes
 *   are copied out once before anything looks at them. A bad index is not
 *   repaired: the domain's console is cut off (port closed, page unmapped,
 *   one message on dom0's console) and the others are served on.
 * - Bounded work: a poll moves at most BYTES_PER_POLL bytes in all and
 *   BYTES_PER_DOMAIN per domain, starting with a different domain each
 *   time. If data is left the poll says so (console_backend_has_work), so
 *   the main loop comes straight back after reading dom0's own input: a
 *   flooding guest slows its own output (its ring stays full, which is the
 *   flow control of §8.1) but starves neither the shell nor other domains.
 *   A guest that sends events with nothing in them has its port masked for
 *   the rest of an EVENT_WINDOW_NS window after EMPTY_EVENTS_MAX of them.
 * - Output nobody is attached to is logged line by line, each line
 *   "[d<id> <name>] " + text, with control bytes shown as \xNN and ANSI
 *   colour/cursor sequences dropped (lib/cons_ring's logger), in one
 *   console write per batch of whole lines. A line without its newline is
 *   logged anyway after PARTIAL_FLUSH_NS of quiet (prompts). `conlog off`
 *   (or dom0's command line conlog=off) stops the logging; output is then
 *   consumed and dropped, so guests never block on it.
 * - `xl console` attaches one domain: its output then goes to the physical
 *   console raw, byte for byte, and dom0's console input goes to its input
 *   ring (held in a small buffer while the ring is full) until Ctrl-]
 *   (0x1d). Other domains keep being logged meanwhile.
 * - Every ring is looked at once per RESCAN_NS even without an event, so
 *   output written without a notification (or before our port was bound)
 *   still comes out.
 */
#include <lamina/cmdline.h>
#include <lamina/cons_ring.h>
#include <lamina/fmt.h>
#include <lamina/string.h>
#include <guest/events.h>
#include <guest/hypercall.h>
#include <guest/pvclock.h>
#include <guest/runtime.h>
#include "../../kernel/console.h"
#include "../../kernel/shell.h"
#include "../../toolstack/vmap.h"
#include "../../toolstack/xl.h"
#include "../../xenstored/xenstored.h"
#include "console_backend.h"

#define MS 1000000ULL
#define BYTES_PER_POLL 4096
#define BYTES_PER_DOMAIN 1024
#define RESCAN_NS (1000 * MS)
#define PARTIAL_FLUSH_NS (500 * MS)
#define EVENT_WINDOW_NS (100 * MS)
#define EMPTY_EVENTS_MAX 64
#define INPUT_HOLD 256          /* input held back while a domain's ring is full */
#define CONS_NAME_MAX 64
#define LOG_BATCH 480           /* con_write turns '\n' into "\r\n": twice this fits one hypercall */

enum cons_state {
    CONS_FREE,
    CONS_LIVE,      /* mapped, port bound, served */
    CONS_CUT,       /* its ring was corrupt: nothing mapped or bound, kept for its name */
};

struct cons {
    struct cons_back ring;
    struct cons_log log;
    char name[CONS_NAME_MAX];
    enum cons_state state;
    unsigned port;                  /* dom0's end of the console channel */
    domid_t domid;
    /* Set by the event handler (upcall), cleared by the poll. */
    volatile bool kicked;
    volatile unsigned events;       /* events in the current window */
    /* Poll state. */
    bool backlog;                   /* look again at the next poll, kicked or not */
    bool masked;                    /* port masked for the rest of the window */
    uint64_t window_start_ns;
    uint64_t last_output_ns;
    size_t input_len;
    char input[INPUT_HOLD];
};

static struct cons consoles[CONSOLE_BACKEND_MAX];
static uint64_t first_slot;         /* vmap slot of consoles[0]; valid once set_up */
static bool set_up;
static bool logging = true;
static bool cmdline_read;           /* dom0's conlog= applied (or overridden by `conlog`) */
static struct cons *attached;       /* `xl console` target, or NULL */
static volatile bool any_kicked;    /* some handler ran since the last poll */
static bool more;                   /* the last poll left data behind */
static bool any_backlog;            /* some console wants the next poll */
static unsigned next_first;         /* round robin: where the next poll starts */
static uint64_t next_scan_ns;
static char data[BYTES_PER_DOMAIN]; /* bytes copied out of a ring */
static char log_batch[LOG_BATCH];
static size_t log_batch_len;

/* ---- setup ---------------------------------------------------------------- */

static void read_cmdline(void)
{
    char val[8];
    if (cmdline_read)
        return;
    cmdline_read = true;
    if (cmdline_find(start_info->cmd_line, "conlog", val, sizeof(val)) &&
        (strcmp(val, "off") == 0 || strcmp(val, "0") == 0))
        logging = false;
}

static int setup(void)
{
    read_cmdline();
    if (set_up)
        return 0;
    long rc = vmap_init();
    uint64_t total = vmap_max_slots();
    if (!rc && total < CONSOLE_BACKEND_VMAP_SLOTS)
        rc = -XEN_ENOSPC;
    /* The window's tables are made from slot 0 up, so reaching its end makes
     * all of them (one dom0 frame per 2 MiB of window), once. */
    if (!rc)
        rc = vmap_reserve(total);
    if (rc)
        return (int)rc;
    first_slot = total - CONSOLE_BACKEND_VMAP_SLOTS;
    set_up = true;
    return 0;
}

static uint64_t slot_of(const struct cons *c)
{
    return first_slot + (uint64_t)(c - consoles);
}

static struct cons *find(domid_t domid)
{
    for (unsigned i = 0; i < CONSOLE_BACKEND_MAX; i++)
        if (consoles[i].state != CONS_FREE && consoles[i].domid == domid)
            return &consoles[i];
    return NULL;
}

/* A fresh logger: line start, no escape sequence pending. */
static void log_reset(struct cons *c)
{
    char prefix[CONS_LOG_PREFIX_MAX];
    fmt_snprintf(prefix, sizeof(prefix), "[d%u %s] ", c->domid, c->name);
    cons_log_init(&c->log, prefix);
}

/* Upcall context: flags only. */
static void on_event(unsigned port, void *arg)
{
    struct cons *c = arg;
    (void)port;
    c->kicked = true;
    c->events++;
    any_kicked = true;
}

/* ---- output ---------------------------------------------------------------- */

static void log_batch_flush(void)
{
    if (log_batch_len)
        con_write(log_batch, log_batch_len);
    log_batch_len = 0;
}

static void log_emit(void *ctx, const char *line, size_t len)
{
    (void)ctx;
    if (log_batch_len + len > sizeof(log_batch))
        log_batch_flush();
    memcpy(log_batch + log_batch_len, line, len);
    log_batch_len += len;
}

static void log_partial(struct cons *c)
{
    cons_log_flush(&c->log, log_emit, NULL);
    log_batch_flush();
}

/* Where output copied out of c's ring goes. */
static void deliver(struct cons *c, const char *buf, size_t len)
{
    if (attached == c) {
        console_write(buf, len);        /* raw: the user asked for this guest */
    } else if (logging) {
        cons_log_feed(&c->log, buf, len, log_emit, NULL);
        log_batch_flush();
    }
}

/* ---- teardown ------------------------------------------------------------- */

static void detach(const char *why)
{
    struct cons *c = attached;
    attached = NULL;
    if (why)
        con_printf("\n[console of d%u (%s) %s]\n", c->domid, c->name, why);
    else
        con_write("\n", 1);
    shell_redraw();
}

/* Unbinds and unmaps; the entry's state is the caller's to set. */
static void release(struct cons *c)
{
    evtchn_set_handler(c->port, NULL, NULL);
    evtchn_close(c->port);
    if (c->masked)
        evtchn_unmask(c->port);     /* the next user of the port number starts clean */
    vmap_unmap(slot_of(c), 1);
    c->ring.intf = NULL;
    c->kicked = false;
    c->backlog = false;
    c->masked = false;
    c->input_len = 0;
}

static void cut_off(struct cons *c, const char *which)
{
    log_partial(c);
    con_printf("console: d%u (%s): %s ring indices out of range; console disconnected\n", c->domid,
               c->name, which);
    if (attached == c)
        detach("cut off");
    release(c);
    c->state = CONS_CUT;
}

/* ---- moving data ------------------------------------------------------------ */

/* Hands held input to the ring. Returns false if c was cut off. */
static bool push_input(struct cons *c, bool *notify)
{
    if (!c->input_len)
        return true;
    long n = cons_back_write(&c->ring, c->input, c->input_len);
    if (n == CONS_RING_CORRUPT) {
        cut_off(c, "input");
        return false;
    }
    if (n > 0) {
        memmove(c->input, c->input + n, c->input_len - (size_t)n);
        c->input_len -= (size_t)n;
        *notify = true;
    }
    if (c->input_len)
        c->backlog = true;
    return true;
}

/* Mask a port that keeps sending events with nothing in them. */
static void throttle(struct cons *c, uint64_t now, bool kicked, bool moved)
{
    if (now - c->window_start_ns >= EVENT_WINDOW_NS) {
        c->window_start_ns = now;
        c->events = 0;
        if (c->masked) {
            c->masked = false;
            evtchn_unmask(c->port);     /* raises it here if it fired meanwhile */
        }
        return;
    }
    if (kicked && moved)
        c->events = 0;                  /* only empty events count */
    if (!c->masked && c->events > EMPTY_EVENTS_MAX) {
        c->masked = true;
        evtchn_mask(c->port);
    }
    if (c->masked)
        c->backlog = true;              /* unmasked by a later poll */
}

/* One console's turn. *budget is what is left of this poll's bytes. */
static void serve(struct cons *c, uint64_t now, bool scan, size_t *budget)
{
    bool kicked = c->kicked;
    bool notify = false, moved = false;

    c->kicked = false;
    if (!kicked && !scan && !c->backlog)
        return;
    c->backlog = false;
    if (!push_input(c, &notify))
        return;
    size_t allow = *budget < BYTES_PER_DOMAIN ? *budget : BYTES_PER_DOMAIN;
    long n = cons_back_read(&c->ring, data, allow);
    if (n == CONS_RING_CORRUPT) {
        cut_off(c, "output");
        return;
    }
    if (n > 0) {
        deliver(c, data, (size_t)n);
        cons_back_publish(&c->ring);    /* after: "drained" means "printed" */
        *budget -= (size_t)n;
        c->last_output_ns = now;
        notify = moved = true;
    }
    long left = cons_back_out_pending(&c->ring);
    if (left != 0) {                    /* data left, or corrupt: the next poll sees */
        c->backlog = true;
        more = true;
    }
    if (cons_log_has_partial(&c->log)) {
        if (now - c->last_output_ns >= PARTIAL_FLUSH_NS)
            log_partial(c);
        else
            c->backlog = true;
    }
    if (notify)
        evtchn_send(c->port);
    throttle(c, now, kicked, moved || notify);
}

void console_backend_poll(void)
{
    if (!set_up)
        return;
    uint64_t now = pvclock_now_ns();
    bool scan = now >= next_scan_ns;
    if (!any_kicked && !any_backlog && !scan)
        return;
    /* Cleared before looking, so an event that comes in meanwhile makes
     * has_work() true again. */
    any_kicked = false;
    more = false;
    if (scan)
        next_scan_ns = now + RESCAN_NS;
    size_t budget = BYTES_PER_POLL;
    bool backlog = false;
    for (unsigned k = 0; k < CONSOLE_BACKEND_MAX; k++) {
        struct cons *c = &consoles[(next_first + k) % CONSOLE_BACKEND_MAX];
        if (c->state != CONS_LIVE)
            continue;
        if (budget == 0) {
            /* Out of bytes: whoever has something waits for the next poll,
             * which comes at once and starts further on. */
            if (c->kicked || c->backlog || scan) {
                c->backlog = true;
                more = true;
            }
        } else {
            serve(c, now, scan, &budget);
        }
        backlog |= c->state == CONS_LIVE && c->backlog;
    }
    any_backlog = backlog;
    next_first = (next_first + 1) % CONSOLE_BACKEND_MAX;
}

bool console_backend_has_work(void)
{
    return any_kicked || more;
}

/* ---- add / remove ------------------------------------------------------------- */

/* A console/<key> number of domain `domid` from xenstore, at most max. */
static int read_console_node(domid_t domid, const char *key, uint64_t max, uint64_t *out)
{
    char path[64], v[24];
    fmt_snprintf(path, sizeof(path), "/local/domain/%u/console/%s", domid, key);
    long rc = xenstored_read_str(path, v, sizeof(v));
    if (rc)
        return (int)rc;
    uint64_t n = 0;
    if (!v[0])
        return -XEN_EINVAL;
    for (const char *p = v; *p; p++) {
        if (*p < '0' || *p > '9' || n > (max - (uint64_t)(*p - '0')) / 10)
            return -XEN_EINVAL;
        n = n * 10 + (uint64_t)(*p - '0');
    }
    *out = n;
    return 0;
}

int console_backend_add(domid_t domid, const char *name)
{
    int rc = setup();
    if (rc)
        return rc;
    uint64_t console_mfn, remote_port;
    if ((rc = read_console_node(domid, "ring-ref", UINT64_MAX >> 12, &console_mfn)) ||
        (rc = read_console_node(domid, "port", UINT32_MAX, &remote_port)))
        return rc;
    /* A domain id is unique among live domains: an entry still there
     * belongs to a domain that went without console_backend_remove(). */
    if (find(domid))
        console_backend_remove(domid);
    struct cons *c = NULL;
    for (unsigned i = 0; i < CONSOLE_BACKEND_MAX && !c; i++)
        if (consoles[i].state == CONS_FREE)
            c = &consoles[i];
    if (!c)
        return -XEN_ENOSPC;
    long hrc = vmap_map(slot_of(c), &console_mfn, 1, domid);
    if (hrc) {
        vmap_unmap(slot_of(c), 1);
        return (int)hrc;
    }
    long port = evtchn_bind_interdomain(domid, (unsigned)remote_port);
    if (port <= 0) {
        vmap_unmap(slot_of(c), 1);
        return port ? (int)port : -XEN_EINVAL;
    }
    memset(c, 0, sizeof(*c));
    c->domid = domid;
    c->port = (unsigned)port;
    strlcpy(c->name, name ? name : "", sizeof(c->name));
    log_reset(c);
    cons_back_init(&c->ring, vmap_va(slot_of(c)));
    c->window_start_ns = pvclock_now_ns();
    c->state = CONS_LIVE;
    /* Binding marked our port pending: the handler runs as soon as it is
     * unmasked, and the first poll drains what the guest wrote already. */
    evtchn_set_handler(c->port, on_event, c);
    evtchn_unmask(c->port);
    c->kicked = true;
    any_kicked = true;
    /* Where xenconsoled names the pty `xl console` opens; ours is served
     * in dom0's shell, and the value only says so. */
    char path[64], tty[32];
    fmt_snprintf(path, sizeof(path), "/local/domain/%u/console/tty", domid);
    fmt_snprintf(tty, sizeof(tty), "dom0-console-backend:%u", domid);
    (void)xenstored_write_str(path, tty);
    return 0;
}

void console_backend_remove(domid_t domid)
{
    struct cons *c = find(domid);
    if (!c)
        return;
    if (c->state == CONS_LIVE) {
        /* Its last words: at most one ring's worth, already written. */
        for (size_t done = 0; done < XENCONS_OUT_SIZE;) {
            long n = cons_back_read(&c->ring, data, sizeof(data));
            if (n <= 0)
                break;
            deliver(c, data, (size_t)n);
            cons_back_publish(&c->ring);
            done += (size_t)n;
        }
        log_partial(c);
        if (attached == c)
            detach("closed: the domain is gone");
        release(c);
    }
    c->state = CONS_FREE;
}

/* ---- xl console ------------------------------------------------------------------ */

size_t console_backend_input(const char *buf, size_t len)
{
    struct cons *c = attached;
    if (!c)
        return 0;
    size_t n = 0;
    while (n < len && buf[n] != CONSOLE_BACKEND_ESCAPE)
        n++;
    size_t room = INPUT_HOLD - c->input_len;
    size_t take = n < room ? n : room;  /* the rest is dropped, as by a full UART */
    memcpy(c->input + c->input_len, buf, take);
    c->input_len += take;
    bool notify = false;
    if (push_input(c, &notify) && notify)
        evtchn_send(c->port);
    if (c->state == CONS_LIVE && c->input_len)
        any_backlog = true;
    if (n < len) {
        if (attached == c)
            detach(NULL);
        return n + 1;
    }
    return len;
}

bool console_backend_attached(void)
{
    return attached != NULL;
}

static void console_usage(void)
{
    con_printf("Usage: xl console [-t pv] [-n 0] <Domain>\n"
               "Attach to a domain's console; Ctrl-] returns to dom0.\n");
}

void console_backend_xl_console(int argc, char **argv)
{
    const char *what = NULL;
    for (int i = 1; i < argc; i++) {
        bool has_value = i + 1 < argc;
        if (strcmp(argv[i], "-t") == 0 && has_value) {
            if (strcmp(argv[++i], "pv") != 0) {
                con_printf("xl console: only the pv console exists\n");
                return;
            }
        } else if (strcmp(argv[i], "-n") == 0 && has_value) {
            if (strcmp(argv[++i], "0") != 0) {
                con_printf("xl console: only console 0 exists\n");
                return;
            }
        } else if (argv[i][0] == '-' || what) {
            console_usage();
            return;
        } else {
            what = argv[i];
        }
    }
    if (!what) {
        console_usage();
        return;
    }
    if (strcmp(what, "0") == 0 || strcmp(what, "Domain-0") == 0) {
        con_printf("xl console: this is Domain-0's console\n");
        return;
    }
    /* As xl: the domain by name or id, then its console as xenstore
     * describes it (console/tty, written when the backend took it). */
    domid_t domid;
    if (!xl_resolve_domain(what, &domid)) {
        con_printf("xl: domain '%s' does not exist\n", what);
        return;
    }
    char path[64], tty[32];
    fmt_snprintf(path, sizeof(path), "/local/domain/%u/console/tty", domid);
    struct cons *c = find(domid);
    if (xenstored_read_str(path, tty, sizeof(tty)) || !c) {
        con_printf("xl: domain %u has no console (no console/tty in xenstore)\n", domid);
        return;
    }
    if (c->state != CONS_LIVE) {
        con_printf("xl console: the console of d%u (%s) was cut off (corrupt ring)\n", c->domid, c->name);
        return;
    }
    log_partial(c);
    log_reset(c);       /* after detaching, logging starts on a clean line */
    con_printf("Connected to d%u (%s). Escape character is '^]'.\n", c->domid, c->name);
    attached = c;
    c->kicked = true;
    any_kicked = true;
}

/* ---- logging switch ------------------------------------------------------------------ */

void console_backend_set_logging(bool on)
{
    cmdline_read = true;            /* an explicit choice wins over conlog= */
    if (!on)
        for (unsigned i = 0; i < CONSOLE_BACKEND_MAX; i++)
            if (consoles[i].state == CONS_LIVE)
                log_partial(&consoles[i]);
    logging = on;
}

void console_backend_cmd_conlog(int argc, char **argv)
{
    read_cmdline();
    if (argc == 2 && (strcmp(argv[1], "on") == 0 || strcmp(argv[1], "off") == 0)) {
        console_backend_set_logging(strcmp(argv[1], "on") == 0);
    } else if (argc != 1) {
        con_printf("Usage: conlog [on|off]\n");
        return;
    }
    con_printf("domU console logging is %s\n", logging ? "on" : "off");
}
