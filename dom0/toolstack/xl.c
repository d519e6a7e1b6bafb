/* SPDX-License-Identifier: MIT */
/*
 * xl create / list / destroy. Domains are listed from the hypervisor
 * (getdomaininfo), named from xl's own records. A failing `xl create`
 * changes nothing: the config is checked whole before the builder runs, and
 * the builder destroys what it half-built.
 */
#include <stdarg.h>
#include <lamina/fmt.h>
#include <lamina/string.h>
#include <lamina/xlcfg.h>
#include <public/sched.h>
#include <guest/hypercall.h>
#include <guest/pvclock.h>
#include <guest/runtime.h>
#include "../kernel/console.h"
#include "../kernel/shell.h"
#include "build.h"
#include "sysctl.h"
#include "xs_domain.h"
#include "../xenstored/xenstored.h"
#include "domctl.h"
#include "sysctl.h"
#include "initrd.h"
#include "xl.h"
#include "../backends/console/console_backend.h"
#include "../backends/block/block_backend.h"
#include "xl_block.h"
#include "xl_network.h"

#define MAX_RECORDS 32
#define CONFIG_DIR "/etc/xen/"
#define NS_PER_SEC 1000000000ULL
#define MIN_RESTART_INTERVAL_NS (10 * NS_PER_SEC)   /* xl's guard against restart loops */
#define MAX_DOMID 0x7fef

struct record {
    bool in_use;
    bool handled;           /* its shutdown was dealt with (preserve) */
    domid_t domid;
    uint64_t started_ns;
    struct xl_domain_config cfg;
};

static struct record records[MAX_RECORDS];
/* xl_reap() called at the prompt: its messages need a line of their own
 * and the prompt redrawn after them. */
static bool reap_at_prompt, reap_printed;
static struct xlcfg parsed;         /* 9 KiB: static, like everything large here */
static struct xl_domain_config new_cfg;

static void notice(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static void notice(const char *fmt, ...)
{
    char buf[256];
    va_list ap;

    if (reap_at_prompt && !reap_printed)
        con_write("\n", 1);
    reap_printed = true;
    va_start(ap, fmt);
    int n = fmt_vsnprintf(buf, sizeof(buf), fmt, ap);
    va_end(ap);
    con_write(buf, n < 0 ? 0 : (size_t)n >= sizeof(buf) ? sizeof(buf) - 1 : (size_t)n);
}

static struct record *record_by_domid(domid_t domid)
{
    for (unsigned i = 0; i < MAX_RECORDS; i++)
        if (records[i].in_use && records[i].domid == domid)
            return &records[i];
    return NULL;
}

static struct record *record_by_name(const char *name)
{
    for (unsigned i = 0; i < MAX_RECORDS; i++)
        if (records[i].in_use && strcmp(records[i].cfg.name, name) == 0)
            return &records[i];
    return NULL;
}

static struct record *free_record(void)
{
    for (unsigned i = 0; i < MAX_RECORDS; i++)
        if (!records[i].in_use)
            return &records[i];
    return NULL;
}

/* Whether `domid` exists; fills *info when it does. */
static bool domain_info(domid_t domid, struct xen_domctl_getdomaininfo *info)
{
    return domctl_getdomaininfo(domid, info) == 0 && info->domain == domid;
}

static bool parse_domid(const char *s, domid_t *out)
{
    uint64_t v = 0;
    if (!*s)
        return false;
    for (; *s; s++) {
        if (*s < '0' || *s > '9')
            return false;
        v = v * 10 + (uint64_t)(*s - '0');
        if (v > MAX_DOMID)
            return false;
    }
    *out = (domid_t)v;
    return true;
}

/* `what` as xl names a domain: a number is an id, anything else a name. */
bool xl_resolve_domain(const char *what, domid_t *domid)
{
    struct xen_domctl_getdomaininfo info;
    if (parse_domid(what, domid))
        return domain_info(*domid, &info);
    if (strcmp(what, "Domain-0") == 0) {
        *domid = 0;
        return true;
    }
    const struct record *r = record_by_name(what);
    if (!r)
        return false;
    *domid = r->domid;
    return true;
}

/* ---- xl list ------------------------------------------------------------ */

static const char *domain_name(domid_t domid)
{
    if (domid == 0)
        return "Domain-0";
    const struct record *r = record_by_domid(domid);
    return r ? r->cfg.name : "(null)";
}

static void print_row(const struct xen_domctl_getdomaininfo *info)
{
    uint32_t f = info->flags;
    bool shutdown = f & XEN_DOMINF_shutdown;
    unsigned reason = (f >> XEN_DOMINF_shutdownshift) & 0xff;
    /* Seconds with one decimal, rounded like printf's %8.1f. */
    uint64_t tenths = (info->cpu_time + 50000000ULL) / 100000000ULL;
    con_printf("%-40s %5u %5lu %5u     %c%c%c%c%c%c  %6lu.%lu\n", domain_name(info->domain), info->domain,
               info->tot_pages * PAGE_SIZE >> 20, info->nr_online_vcpus,
               (f & XEN_DOMINF_running) ? 'r' : '-', (f & XEN_DOMINF_blocked) ? 'b' : '-',
               (f & XEN_DOMINF_paused) ? 'p' : '-', shutdown ? 's' : '-',
               shutdown && reason == SHUTDOWN_crash ? 'c' : '-', (f & XEN_DOMINF_dying) ? 'd' : '-',
               tenths / 10, tenths % 10);
}

static void cmd_list(int argc, char **argv)
{
    struct xen_domctl_getdomaininfo info;
    domid_t wanted[16];
    int nr_wanted = 0;

    for (int i = 1; i < argc; i++) {
        if (nr_wanted == (int)ARRAY_SIZE(wanted) || !xl_resolve_domain(argv[i], &wanted[nr_wanted])) {
            con_printf("xl: domain '%s' does not exist\n", argv[i]);
            return;
        }
        nr_wanted++;
    }
    con_printf("%-40s %5s %5s %5s\t%s\t%s\n", "Name", "ID", "Mem", "VCPUs", "State", "Time(s)");
    if (nr_wanted) {
        for (int i = 0; i < nr_wanted; i++)
            if (domain_info(wanted[i], &info))
                print_row(&info);
        return;
    }
    for (unsigned id = 0; id <= MAX_DOMID && domctl_getdomaininfo((domid_t)id, &info) == 0; id = info.domain + 1u)
        print_row(&info);
}

/* ---- xl create ---------------------------------------------------------- */

/* Stops every backend of the domain and drops its xenstore entries. */
static void forget_domain(domid_t domid)
{
    block_backend_remove_domain(domid);
    xl_network_remove_domain(domid);
    console_backend_remove(domid);
    xs_forget_domain(domid);
}

/* Builds the domain paused, gives it its disks and vifs, then lets it run unless
 * `paused`. On failure nothing is left. */
static int create_domain(const struct xl_domain_config *cfg, bool paused, domid_t *domid, char *why, size_t size)
{
    if (xl_block_check(DOMID_SELF, cfg->disks, cfg->nr_disks, why, size))
        return -1;
    if (build_domain(cfg, true, domid, why, size))
        return -1;
    for (unsigned i = 0; i < cfg->nr_disks; i++) {
        if (xl_block_attach(*domid, &cfg->disks[i], why, size))
            goto undo;
    }
    for (unsigned i = 0; i < cfg->nr_vifs; i++) {
        if (xl_network_attach(*domid, &cfg->vifs[i], why, size))
            goto undo;
    }
    long rc = paused ? 0 : domctl_unpause(*domid);
    if (!rc)
        return 0;
    fmt_snprintf(why, size, "cannot unpause it (%s)", xen_errno_name(rc));
undo:
    forget_domain(*domid);
    domctl_destroy(*domid);
    return -1;
}

/* Reads the config: the path as given, else (a bare name) under /etc/xen. */
static int read_config(const char *arg, char *path, size_t path_size, const void **text, size_t *len)
{
    const char *why;
    fmt_snprintf(path, path_size, "%s", arg);
    if (initrd_file(path, text, len, &why) == 0)
        return 0;
    if (!strchr(arg, '/')) {
        const char *why2;
        fmt_snprintf(path, path_size, CONFIG_DIR "%s", arg);
        if (initrd_file(path, text, len, &why2) == 0)
            return 0;
        fmt_snprintf(path, path_size, "%s", arg);
    }
    con_printf("Failed to read config file: %s: %s\n", path, why);
    return -1;
}

static void cmd_create(int argc, char **argv)
{
    bool paused = false, attach = false;
    const char *file = NULL;
    int first_override = argc;

    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "-p") == 0) {
            paused = true;
        } else if (strcmp(argv[i], "-c") == 0) {
            attach = true;
        } else if (argv[i][0] == '-') {
            con_printf("xl create: unknown option '%s'\n", argv[i]);
            return;
        } else if (!file) {
            file = argv[i];
        } else {
            first_override = i;
            break;
        }
    }
    if (!file) {
        con_printf("Usage: xl create [-p] [-c] <ConfigFile> [key=value ...]\n");
        return;
    }

    char path[XL_PATH_MAX];
    const void *text;
    size_t len;
    struct xlcfg_error err;
    if (read_config(file, path, sizeof(path), &text, &len))
        return;
    con_printf("Parsing config from %s\n", path);
    xlcfg_init(&parsed);
    if (xlcfg_parse(&parsed, text, len, &err)) {
        con_printf("%s: %s\n", path, err.msg);
        con_printf("Failed to parse config: no domain created\n");
        return;
    }
    for (int i = first_override; i < argc; i++) {
        if (xlcfg_override(&parsed, argv[i], &err)) {
            con_printf("xl: %s\n", err.msg);
            con_printf("Failed to parse config: no domain created\n");
            return;
        }
    }
    if (xlcfg_domain(&parsed, &new_cfg, &err)) {
        /* Errors in an override say "command line: ..." themselves. */
        if (strncmp(err.msg, "command line", 12) == 0)
            con_printf("xl: %s\n", err.msg);
        else
            con_printf("%s: %s\n", path, err.msg);
        con_printf("Failed to parse config: no domain created\n");
        return;
    }
    char why[160];
    if (xl_network_prepare(new_cfg.vifs, new_cfg.nr_vifs, why, sizeof(why))) {
        con_printf("%s: %s\nFailed to parse config: no domain created\n", path, why);
        return;
    }
    const struct record *dup = record_by_name(new_cfg.name);
    if (strcmp(new_cfg.name, "Domain-0") == 0 || dup) {
        con_printf("xl: domain '%s' already exists (id %u)\n", new_cfg.name, dup ? dup->domid : 0);
        return;
    }
    struct record *r = free_record();
    if (!r) {
        con_printf("xl: too many domains (xl keeps at most %u)\n", MAX_RECORDS);
        return;
    }
    domid_t domid;
    if (create_domain(&new_cfg, paused, &domid, why, sizeof(why))) {
        con_printf("xl: cannot create domain '%s': %s\n", new_cfg.name, why);
        return;
    }
    *r = (struct record){ .in_use = true, .domid = domid, .started_ns = pvclock_now_ns() };
    r->cfg = new_cfg;
    if (attach) {
        /* -c: straight into the new domain's console, as xl does. */
        char id[8];
        fmt_snprintf(id, sizeof(id), "%u", domid);
        char *console_argv[] = { (char *)(uintptr_t)"console", id };
        console_backend_xl_console(2, console_argv);
    }
}

/* ---- xl destroy and shutdown handling ------------------------------------ */

static long destroy(struct record *r, domid_t domid)
{
    forget_domain(domid);
    long rc = domctl_destroy(domid);
    if (rc == 0 && r)
        r->in_use = false;
    return rc;
}

static void cmd_destroy(int argc, char **argv)
{
    domid_t domid;
    if (argc != 2) {
        con_printf("Usage: xl destroy <Domain>\n");
        return;
    }
    if (!xl_resolve_domain(argv[1], &domid)) {
        con_printf("xl: domain '%s' does not exist\n", argv[1]);
        return;
    }
    if (domid == 0) {
        con_printf("xl: cannot destroy Domain-0 (use poweroff)\n");
        return;
    }
    long rc = destroy(record_by_domid(domid), domid);
    if (rc)
        con_printf("xl: destroy of domain %u failed (%s)\n", domid, xen_errno_name(rc));
}

static unsigned action_for(const struct record *r, unsigned reason)
{
    switch (reason) {
    case SHUTDOWN_poweroff:
        return r->cfg.on_poweroff;
    case SHUTDOWN_reboot:
        return r->cfg.on_reboot;
    case SHUTDOWN_suspend:
        return XL_ACTION_PRESERVE;      /* no save/restore yet: keep it */
    default:                            /* crash, watchdog, soft_reset */
        return r->cfg.on_crash;
    }
}

static void restart(struct record *r)
{
    char why[160];
    domid_t domid;
    const char *name = r->cfg.name;
    if (pvclock_now_ns() - r->started_ns < MIN_RESTART_INTERVAL_NS) {
        notice("xl: domain '%s' is restarting too fast: destroyed, not restarted\n", name);
        destroy(r, r->domid);
        return;
    }
    forget_domain(r->domid);
    domctl_destroy(r->domid);
    if (create_domain(&r->cfg, false, &domid, why, sizeof(why))) {
        notice("xl: cannot restart domain '%s': %s\n", name, why);
        r->in_use = false;
        return;
    }
    r->domid = domid;
    r->started_ns = pvclock_now_ns();
    r->handled = false;
}

void xl_reap(bool at_prompt)
{
    struct xen_domctl_getdomaininfo info;
    reap_at_prompt = at_prompt;
    reap_printed = false;
    for (unsigned i = 0; i < MAX_RECORDS; i++) {
        struct record *r = &records[i];
        if (!r->in_use)
            continue;
        if (!domain_info(r->domid, &info)) {
            forget_domain(r->domid);
            r->in_use = false;      /* gone some other way */
            continue;
        }
        if (!(info.flags & XEN_DOMINF_shutdown) || r->handled)
            continue;
        switch (action_for(r, (info.flags >> XEN_DOMINF_shutdownshift) & 0xff)) {
        case XL_ACTION_DESTROY:
        case XL_ACTION_COREDUMP_DESTROY:        /* no core dumps yet */
            destroy(r, r->domid);
            break;
        case XL_ACTION_RESTART:
        case XL_ACTION_RENAME_RESTART:
        case XL_ACTION_COREDUMP_RESTART:
        case XL_ACTION_SOFT_RESET:
            restart(r);
            break;
        default:                                /* preserve */
            r->handled = true;
            break;
        }
    }
    if (reap_at_prompt && reap_printed)
        shell_redraw();
}

/* xl pause / unpause <Domain>. */
static void cmd_pause(int argc, char **argv, bool pause)
{
    domid_t domid;
    if (argc != 2) {
        con_printf("Usage: xl %s <Domain>\n", pause ? "pause" : "unpause");
        return;
    }
    if (!xl_resolve_domain(argv[1], &domid)) {
        con_printf("xl: domain '%s' does not exist\n", argv[1]);
        return;
    }
    if (domid == 0) {
        con_printf("xl: cannot %s Domain-0\n", pause ? "pause" : "unpause");
        return;
    }
    long rc = pause ? domctl_pause(domid) : domctl_unpause(domid);
    if (rc)
        con_printf("xl: %s of domain %u failed (%s)\n", pause ? "pause" : "unpause", domid,
                   xen_errno_name(rc));
}

/* xl shutdown / reboot <Domain>: Xen's PV protocol (xen-pv-abi.md §8.4):
 * write "poweroff" or "reboot" to the guest's control/shutdown node; a PV
 * kernel watching it shuts itself down, and on_poweroff/on_reboot then
 * apply. A guest that does not watch the node simply ignores it. */
static void cmd_shutdown(int argc, char **argv, bool reboot)
{
    domid_t domid;
    const char *verb = reboot ? "reboot" : "shutdown";
    if (argc != 2) {
        con_printf("Usage: xl %s <Domain>\n", verb);
        return;
    }
    if (!xl_resolve_domain(argv[1], &domid)) {
        con_printf("xl: domain '%s' does not exist\n", argv[1]);
        return;
    }
    if (domid == 0) {
        con_printf("xl: use poweroff for Domain-0\n");
        return;
    }
    char path[48];
    fmt_snprintf(path, sizeof(path), "/local/domain/%u/control/shutdown", domid);
    long rc = xenstored_write_str(path, reboot ? "reboot" : "poweroff");
    if (rc)
        con_printf("xl: %s of domain %u failed (%s)\n", verb, domid, xen_errno_name(rc));
}

/* xl info: xl's "key : value" report of the host and the hypervisor. */
static void cmd_info(void)
{
    struct xen_sysctl_physinfo pi;
    char extra[16] = "", caps[1024] = "", cmdline[1024] = "";
    long rc = sysctl_physinfo(&pi);
    if (rc) {
        con_printf("xl: physinfo failed (%s)\n", xen_errno_name(rc));
        return;
    }
    long ver = hyp_xen_version(XENVER_version, NULL);
    (void)hyp_xen_version(XENVER_extraversion, extra);
    (void)hyp_xen_version(XENVER_capabilities, caps);
    (void)hyp_xen_version(XENVER_commandline, cmdline);
    extra[sizeof(extra) - 1] = caps[sizeof(caps) - 1] = cmdline[sizeof(cmdline) - 1] = '\0';
#define ROW(key, fmt, ...) con_printf("%-23s: " fmt "\n", key, __VA_ARGS__)
    ROW("host", "%s", "lamina");
    ROW("machine", "%s", "x86_64");
    ROW("nr_cpus", "%u", pi.nr_cpus);
    ROW("max_cpu_id", "%u", pi.nr_cpus - 1);
    ROW("nr_nodes", "%u", pi.nr_nodes);
    ROW("cores_per_socket", "%u", pi.cores_per_socket);
    ROW("threads_per_core", "%u", pi.threads_per_core);
    ROW("cpu_mhz", "%u.%03u", pi.cpu_khz / 1000, pi.cpu_khz % 1000);
    ROW("virt_caps", "%s", "pv");
    ROW("total_memory", "%lu", (unsigned long)(pi.total_pages >> 8));
    ROW("free_memory", "%lu", (unsigned long)(pi.free_pages >> 8));
    ROW("xen_major", "%ld", ver >> 16);
    ROW("xen_minor", "%ld", ver & 0xffff);
    ROW("xen_extra", "%s", extra);
    ROW("xen_version", "%ld.%ld%s", ver >> 16, ver & 0xffff, extra);
    ROW("xen_caps", "%s", caps);
    ROW("xen_scheduler", "%s", "lamina-rr");
    ROW("xen_pagesize", "%ld", hyp_xen_version(XENVER_pagesize, NULL));
    ROW("platform_params", "virt_start=0x%lx", (unsigned long)HYPERVISOR_VIRT_START);
    ROW("xen_commandline", "%s", cmdline);
    ROW("xend_config_format", "%d", 4);
#undef ROW
}

/* xl dmesg: the hypervisor's log (the newest 16 KiB of it). */
static void cmd_dmesg(void)
{
    char buf[256];     /* below con_printf's own buffer, so nothing is cut */
    uint64_t index = 0;
    for (;;) {
        long n = sysctl_readconsole(&index, buf, sizeof(buf) - 1);
        if (n < 0) {
            con_printf("xl: readconsole failed (%s)\n", xen_errno_name(n));
            return;
        }
        if (n == 0)
            return;
        buf[n] = '\0';
        con_printf("%s", buf);
    }
}

static void usage(void)
{
    con_printf("Usage: xl <subcommand> [args]\n"
               "  create [-p] [-c] <ConfigFile> [key=value ...]\n"
               "                                            create a domain (-p: leave it paused,\n"
               "                                            -c: attach its console)\n"
               "  list [Domain ...]                         list domains\n"
               "  destroy <Domain>                          terminate a domain immediately\n"
               "  console [-t pv] [-n 0] <Domain>           attach to a domain's console (Ctrl-] detaches)\n"
               "  pause <Domain> / unpause <Domain>         stop / resume a domain's vCPUs\n"
               "  shutdown <Domain> / reboot <Domain>       ask the guest to power off / reboot\n"
               "  info                                      the host and hypervisor\n"
               "  dmesg                                     the hypervisor's log\n"
               "  block-list <Domain(s)>                    list a domain's virtual block devices\n"
               "  block-attach <Domain> <disk-spec>         add a disk, e.g. phy:ram0,xvdb,w\n"
               "  block-detach <Domain> <DevId>             remove a disk (vdev name or number)\n"
               "  network-list <Domain(s)>                  list a domain's virtual network interfaces\n"
               "  network-attach <Domain> [<nic-spec>]      add a vif, e.g. mac=00:16:3e:00:00:01 bridge=xenbr0\n"
               "  network-detach <Domain> <DevId|mac>       remove a vif\n"
               "<ConfigFile> is a path in dom0's initrd or a name under " CONFIG_DIR
               "; <Domain> is a name or an id.\n");
}

void cmd_xl(int argc, char **argv)
{
    xl_reap(false);
    if (argc < 2) {
        usage();
        return;
    }
    const char *sub = argv[1];
    if (strcmp(sub, "list") == 0 || strcmp(sub, "li") == 0)
        cmd_list(argc - 1, argv + 1);
    else if (strcmp(sub, "create") == 0)
        cmd_create(argc - 1, argv + 1);
    else if (strcmp(sub, "destroy") == 0)
        cmd_destroy(argc - 1, argv + 1);
    else if (strcmp(sub, "pause") == 0 || strcmp(sub, "unpause") == 0)
        cmd_pause(argc - 1, argv + 1, sub[0] == 'p');
    else if (strcmp(sub, "shutdown") == 0 || strcmp(sub, "reboot") == 0)
        cmd_shutdown(argc - 1, argv + 1, sub[0] == 'r');
    else if (strcmp(sub, "info") == 0)
        cmd_info();
    else if (strcmp(sub, "dmesg") == 0)
        cmd_dmesg();
    else if (strcmp(sub, "console") == 0)
        console_backend_xl_console(argc - 1, argv + 1);
    else if (strcmp(sub, "block-list") == 0)
        cmd_block_list(argc - 1, argv + 1);
    else if (strcmp(sub, "block-attach") == 0)
        cmd_block_attach(argc - 1, argv + 1);
    else if (strcmp(sub, "block-detach") == 0)
        cmd_block_detach(argc - 1, argv + 1);
    else if (strcmp(sub, "network-list") == 0)
        cmd_network_list(argc - 1, argv + 1);
    else if (strcmp(sub, "network-attach") == 0)
        cmd_network_attach(argc - 1, argv + 1);
    else if (strcmp(sub, "network-detach") == 0)
        cmd_network_detach(argc - 1, argv + 1);
    else if (strcmp(sub, "help") == 0)
        usage();
    else
        con_printf("xl: unknown subcommand '%s' (try 'xl help')\n", sub);
}
