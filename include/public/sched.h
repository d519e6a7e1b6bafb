/* SPDX-License-Identifier: MIT */
/* sched_op (#29) commands and arguments (xen-pv-abi.md §6.3). */
#ifndef LAMINA_PUBLIC_SCHED_H
#define LAMINA_PUBLIC_SCHED_H
#include <stdint.h>

#define SCHEDOP_yield           0
#define SCHEDOP_block           1
#define SCHEDOP_shutdown        2
#define SCHEDOP_poll            3
#define SCHEDOP_remote_shutdown 4
#define SCHEDOP_shutdown_code   5
#define SCHEDOP_watchdog        6
#define SCHEDOP_pin_override    7

#define SHUTDOWN_poweroff   0
#define SHUTDOWN_reboot     1
#define SHUTDOWN_suspend    2
#define SHUTDOWN_crash      3
#define SHUTDOWN_watchdog   4
#define SHUTDOWN_soft_reset 5

struct sched_shutdown { uint32_t reason; };
struct sched_poll {
    uint64_t ports;     /* guest pointer to an array of uint32_t ports */
    uint32_t nr_ports;
    uint32_t pad0;
    uint64_t timeout;   /* absolute system time in ns, 0 = none */
};
#define SCHED_POLL_MAX_PORTS 128

_Static_assert(sizeof(struct sched_poll) == 24, "sched_poll");
#endif
