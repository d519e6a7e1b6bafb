/* SPDX-License-Identifier: MIT */
/*
 * The toolstack's side of virtual block devices: xenstore directories as
 * libxl writes them, and `xl block-list / block-attach / block-detach`.
 */
#ifndef DOM0_XL_BLOCK_H
#define DOM0_XL_BLOCK_H
#include <stdbool.h>
#include <stddef.h>
#include <public/xen.h>
#include <lamina/xl_disk.h>

/* Writes the backend and frontend directories of `disk` for the domain
 * and starts its backend. Refuses (nothing written) an unknown target, a
 * vdev the domain already has, and a disk another domain uses writably (or
 * any use of it when this one is writable), as xl does. Returns 0, or -1
 * with the reason in why. */
int xl_block_attach(domid_t domid, const struct xl_disk *disk, char *why, size_t why_size);
/* Checks the same things for several disks at once (before a domain is
 * built). */
int xl_block_check(domid_t domid, const struct xl_disk *disks, unsigned n, char *why, size_t why_size);

/* Shared with the vif side: writes <dir>/<key> = the formatted value
 * (Xen's -errno), and reads <dir>/<key> as a number (dflt when missing
 * or not one). */
#define XL_DEV_DIR_MAX 64
/* A device's backend and frontend directories, as libxl names them:
 * /local/domain/0/backend/<kind>/<domid>/<devid> and
 * /local/domain/<domid>/device/<kind>/<devid>. */
void xl_dev_paths(domid_t domid, const char *kind, uint32_t devid, char be[XL_DEV_DIR_MAX], char fe[XL_DEV_DIR_MAX]);
/* Makes both directories with libxl's permissions and the backend keys
 * every device has (frontend, frontend-id, online 1, state 1). The caller
 * writes the rest, the frontend's state last. Returns 0 or -errno. */
long xl_dev_dirs(domid_t domid, const char *be, const char *fe);
long xl_dev_put(const char *dir, const char *key, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
long xl_dev_read_num(const char *dir, const char *key, long dflt);
/* dir/key as text for printing, `dflt` if absent: guests may write these
 * nodes, so bytes outside printable ASCII become '?' (nothing a guest
 * writes reaches dom0's terminal as a control sequence). */
void xl_dev_read_text(const char *dir, const char *key, char *buf, size_t cap, const char *dflt);
/* argv[first..argc) joined with commas into buf, as xl joins the parts of
 * a device spec; false when it does not fit. */
bool xl_join_spec(int argc, char **argv, int first, char *buf, size_t size);
/* The common start of `xl block-attach` / `network-attach`: argv[1] must
 * name a domU and argv[2..] join into `spec`; prints xl's message and
 * returns false otherwise. `min_argc` is 3 when a spec is required. */
bool xl_attach_args(int argc, char **argv, int min_argc, const char *usage, const char *what, domid_t *domid,
                    char *spec, size_t spec_size);
/* The detach commands' arguments (<Domain> <Dev>): false after printing
 * `usage` or that the domain does not exist. */
bool xl_detach_args(int argc, char **argv, const char *usage, domid_t *domid);
/* `xl block-list` / `network-list`: prints `header`, then calls fn for each
 * domain argv[1..] names (xl's message for those that do not exist). */
void xl_list_domains(int argc, char **argv, const char *usage, const char *header, void (*fn)(domid_t));

void cmd_block_list(int argc, char **argv);
void cmd_block_attach(int argc, char **argv);
void cmd_block_detach(int argc, char **argv);

#endif
