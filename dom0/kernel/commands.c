/* SPDX-License-Identifier: MIT */
/* The commands of dom0's shell. */
#include <guest/hypercall.h>
#include <guest/pvclock.h>
#include <guest/runtime.h>
#include "../backends/net/net_backend.h"
#include "blk_cmd.h"
#include "net_cmd.h"
#include "clock.h"
#include "console.h"
#include "shell.h"
#include "../toolstack/xl.h"
#include "../backends/console/console_backend.h"
#include "../xenstored/xs_cmd.h"

#define NS_PER_SEC 1000000000UL

static void print_uptime(void)
{
    uint64_t ns = pvclock_now_ns();
    uint64_t sec = ns / NS_PER_SEC;

    con_printf("uptime: %lu.%03lu s (%lu:%02lu:%02lu)\n", sec, (ns % NS_PER_SEC) / 1000000,
               sec / 3600, sec / 60 % 60, sec % 60);
}

static void cmd_help(int argc, char **argv)
{
    (void)argc;
    (void)argv;
    con_printf("commands:\n");
    for (const struct shell_command *cmd = shell_commands; cmd->name; cmd++)
        con_printf("  %-14s %s\n", cmd->name, cmd->help);
}

static void cmd_info(int argc, char **argv)
{
    char extra[XEN_EXTRAVERSION_LEN + 1] = { 0 };
    struct wallclock wc;
    struct civil_time t;

    (void)argc;
    (void)argv;
    long v = hyp_xen_version(XENVER_version, NULL);
    if (hyp_xen_version(XENVER_extraversion, extra) != 0)
        extra[0] = '\0';
    extra[XEN_EXTRAVERSION_LEN] = '\0';
    if (v < 0)
        con_printf("hypervisor: xen_version failed (%ld)\n", v);
    else
        con_printf("hypervisor: Xen ABI %lu.%lu%s\n", (unsigned long)v >> 16,
                   (unsigned long)v & 0xffff, extra);
    uint64_t pages = start_info->nr_pages;
    con_printf("dom0 memory: %lu pages (%lu MiB)\n", pages, pages * PAGE_SIZE >> 20);
    print_uptime();
    wallclock_now(&wc);
    civil_from_unix(wc.sec, &t);
    con_printf("date: %04ld-%02u-%02u %02u:%02u:%02u UTC\n", t.year, t.month, t.day, t.hour,
               t.minute, t.second);
}

static void cmd_uptime(int argc, char **argv)
{
    (void)argc;
    (void)argv;
    print_uptime();
}

static void cmd_poweroff(int argc, char **argv)
{
    (void)argc;
    (void)argv;
    con_printf("dom0: powering off\n");
    runtime_shutdown(SHUTDOWN_poweroff);
}

static void cmd_reboot(int argc, char **argv)
{
    (void)argc;
    (void)argv;
    con_printf("dom0: rebooting\n");
    runtime_shutdown(SHUTDOWN_reboot);
}

const struct shell_command shell_commands[] = {
    { "help", "list the commands", cmd_help },
    { "info", "hypervisor version, dom0 memory, uptime, date", cmd_info },
    { "uptime", "time since the hypervisor started", cmd_uptime },
    { "poweroff", "shut dom0 down; the machine powers off", cmd_poweroff },
    { "reboot", "shut dom0 down for a reboot", cmd_reboot },
    { "xl", "create, list and destroy domains ('xl help')", cmd_xl },
    { "conlog", "log domU console output here: conlog [on|off]", console_backend_cmd_conlog },
    { "lspci", "list the PCI devices dom0 found", cmd_lspci },
    { "lsblk", "list disks and partitions with their sizes", cmd_lsblk },
    { "xenstore-ls", "list the store: xenstore-ls [PATH]", cmd_xenstore_ls },
    { "xenstore-read", "read store values: xenstore-read PATH...", cmd_xenstore_read },
    { "xenstore-write", "write store values: xenstore-write PATH VALUE...", cmd_xenstore_write },
    { "blk", "blk read|write|flush DEV ...: sector I/O on a disk ('blk' for usage)", cmd_blk },
    { "netif", "list network devices: MAC, link, counters", cmd_netif },
    { "arping", "arping [DEV [TARGET [SOURCE]]]: ARP request, print the reply's MAC", cmd_arping },
    { "vswitch", "the virtual switch's ports (vifs, uplink) and counters", net_backend_cmd_vswitch },
    { NULL, NULL, NULL },
};
