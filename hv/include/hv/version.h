/* SPDX-License-Identifier: MIT */
/* Lamina's version, and the Xen interface version it reports to guests
 * (Linux reads xenstore keys only if the major is >= 4, xen-pv-abi.md §4.8). */
#ifndef HV_VERSION_H
#define HV_VERSION_H
#define LAMINA_VERSION_STRING "0.1.0"
#define LAMINA_XEN_MAJOR 4
#define LAMINA_XEN_MINOR 17
#define LAMINA_XEN_EXTRA "-lamina"
const char *hv_command_line(void);
#endif
