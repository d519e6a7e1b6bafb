/* SPDX-License-Identifier: MIT */
/*
 * `xl`, dom0's toolstack command: create, list and destroy domains with xl's
 * syntax and output. xl keeps each domain's name and configuration (there is
 * no xenstore yet) and acts on domains that shut down (VIRQ_DOM_EXC) as
 * their on_poweroff/on_reboot/on_crash settings say.
 */
#ifndef DOM0_XL_H
#define DOM0_XL_H
#include <stdbool.h>
#include <public/xen.h>

/* The shell command: argv[0] is "xl". */
void cmd_xl(int argc, char **argv);
/* Handles domains that have shut down since the last call; called when
 * VIRQ_DOM_EXC fires (at_prompt: messages then get their own line and the
 * shell's prompt is redrawn) and before every xl command. */
void xl_reap(bool at_prompt);
/* A domain as xl names it (a number is an id, anything else a name). */
bool xl_resolve_domain(const char *what, domid_t *domid);

#endif
