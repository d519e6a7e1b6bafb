/* SPDX-License-Identifier: MIT */
/* The xenbus device states, written as decimal strings in a device
 * directory's `state` node (xen-pv-abi.md §8.4). */
#ifndef LAMINA_PUBLIC_IO_XENBUS_H
#define LAMINA_PUBLIC_IO_XENBUS_H

#define XenbusStateUnknown       0
#define XenbusStateInitialising  1
#define XenbusStateInitWait      2   /* backend: ready for the frontend's details */
#define XenbusStateInitialised   3   /* frontend: ring and port published */
#define XenbusStateConnected     4
#define XenbusStateClosing       5
#define XenbusStateClosed        6
#define XenbusStateReconfiguring 7
#define XenbusStateReconfigured  8

#endif
