/* SPDX-License-Identifier: MIT */
/* dom0 shell commands that read the store, as Xen's xenstore-read and
 * xenstore-ls do (paths absolute or relative to /local/domain/0). */
#ifndef DOM0_XS_CMD_H
#define DOM0_XS_CMD_H

void cmd_xenstore_read(int argc, char **argv);
/* xenstore-write PATH VALUE...: as dom0 (tests stand in for a backend with it). */
void cmd_xenstore_write(int argc, char **argv);
void cmd_xenstore_ls(int argc, char **argv);

#endif
