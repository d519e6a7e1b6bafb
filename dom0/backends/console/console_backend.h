/* SPDX-License-Identifier: MIT */
/*
 * dom0's console backend (our xenconsoled): serves every domU's console ring
 * (xen-pv-abi.md §8.1) and `xl console`. Design notes and the contract with
 * the main loop are at the top of console_backend.c; docs/console.md is the
 * user's view. Everything here runs in dom0's main loop, never in an upcall.
 */
#ifndef DOM0_CONSOLE_BACKEND_H
#define DOM0_CONSOLE_BACKEND_H
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <public/xen.h>

/* Consoles served at once; each keeps one page of dom0's mapping window
 * (vmap.h) mapped, in the window's last CONSOLE_BACKEND_VMAP_SLOTS slots.
 * Nothing else may map there while a console is live. */
#define CONSOLE_BACKEND_MAX 32
#define CONSOLE_BACKEND_VMAP_SLOTS CONSOLE_BACKEND_MAX

/* xl's default escape character: Ctrl-] ends `xl console`. */
#define CONSOLE_BACKEND_ESCAPE 0x1d

/* Starts serving domain `domid`'s console as xenconsoled does: from what
 * the toolstack wrote in xenstore, /local/domain/<id>/console/ring-ref (the
 * ring's machine frame) and console/port (an unbound port of the domain
 * offered to dom0). Maps the page, binds a dom0 port, and writes
 * console/tty, which `xl console` looks for. `name` is used for the log
 * prefix. Best called before the domain first runs; output it wrote before
 * is picked up too. Returns 0 or -errno (the domain can run without a
 * console). */
int console_backend_add(domid_t domid, const char *name);
/* Stops serving `domid`: logs what is left in its ring, detaches `xl
 * console` from it, closes the port and unmaps the page. Call it before the
 * domain is destroyed (afterwards works too: the page lives on while it is
 * mapped); a domid that is not served is ignored. An add for a domid still
 * served removes the old entry first. */
void console_backend_remove(domid_t domid);

/* Moves output and input for every console, a bounded amount per call.
 * Call it every time the main loop wakes; it returns at once when nothing
 * happened. */
void console_backend_poll(void);
/* True when the backend wants console_backend_poll() to run again without
 * blocking: an event came in since the last poll, or a ring still holds
 * data after the last poll's budget ran out. The main loop's wake-up
 * condition must include it. Safe to call with events masked. */
bool console_backend_has_work(void);

/* dom0's console input while `xl console` is attached: it goes to the
 * domain's input ring, up to and including the escape character, which
 * detaches and redraws dom0's prompt. Returns how many bytes of buf it took
 * (0 when not attached); the rest belongs to the shell. */
size_t console_backend_input(const char *buf, size_t len);
/* Whether `xl console` is attached (the shell then prints no prompt). */
bool console_backend_attached(void);

/* `xl console [-t pv] [-n 0] <Domain>`: argv[0] is "console". Attaches and
 * returns; the main loop then routes input with console_backend_input(). */
void console_backend_xl_console(int argc, char **argv);
/* The shell command `conlog [on|off]`: whether domU output that nobody is
 * attached to is logged to dom0's console as "[d<id> <name>] <line>". On
 * by default; dom0's command line `conlog=off` starts with it off. */
void console_backend_cmd_conlog(int argc, char **argv);
void console_backend_set_logging(bool on);

#endif
