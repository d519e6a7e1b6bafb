/* SPDX-License-Identifier: MIT */
/* Marsaglia's xorshift64 (shifts 13, 7, 17): deterministic garbage for the
 * hostile guests, so a failing run can be replayed. *state must not be 0. */
#ifndef GUEST_XORSHIFT_H
#define GUEST_XORSHIFT_H
#include <stdint.h>

static inline uint64_t xorshift64(uint64_t *state)
{
    uint64_t x = *state;
    x ^= x << 13;
    x ^= x >> 7;
    x ^= x << 17;
    return *state = x;
}

#endif
