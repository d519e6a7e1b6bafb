/* SPDX-License-Identifier: MIT */
/* Shell commands for PCI devices and disks (blk_cmd.c). */
#ifndef DOM0_BLK_CMD_H
#define DOM0_BLK_CMD_H

void cmd_lspci(int argc, char **argv);
void cmd_lsblk(int argc, char **argv);
void cmd_blk(int argc, char **argv);

#endif
