/* SPDX-License-Identifier: MIT */
/* The console ring shared between a domU and its console backend (xen-pv-abi.md §8.1). */
#ifndef LAMINA_PUBLIC_IO_CONSOLE_H
#define LAMINA_PUBLIC_IO_CONSOLE_H
#include <stdint.h>

typedef uint32_t XENCONS_RING_IDX;
#define XENCONS_IN_SIZE  1024
#define XENCONS_OUT_SIZE 2048
#define MASK_XENCONS_IDX(idx, size) ((idx) & ((size) - 1))

struct xencons_interface {
    char in[XENCONS_IN_SIZE];
    char out[XENCONS_OUT_SIZE];
    XENCONS_RING_IDX in_cons, in_prod;
    XENCONS_RING_IDX out_cons, out_prod;
};
_Static_assert(__builtin_offsetof(struct xencons_interface, in_cons) == 3072, "xencons");
#endif
