/* SPDX-License-Identifier: MIT */
/* Shell commands for network devices (net_cmd.c). */
#ifndef DOM0_NET_CMD_H
#define DOM0_NET_CMD_H

void cmd_netif(int argc, char **argv);
void cmd_arping(int argc, char **argv);

#endif
