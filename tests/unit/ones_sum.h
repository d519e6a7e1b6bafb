/* SPDX-License-Identifier: MIT */
/* The tests' own RFC 1071 one's complement sum, written the plain way (a
 * 64-bit total of big-endian words, folded at the end) so it shares nothing
 * with lib/netcsum.c, which the checksum tests check against it. */
#ifndef LAMINA_TESTS_ONES_SUM_H
#define LAMINA_TESTS_ONES_SUM_H
#include <stdint.h>

/* `len` bytes added to `sum` (an odd last byte is a word's high half), folded. */
static inline uint16_t ones_sum(const uint8_t *p, uint32_t len, uint64_t sum)
{
    for (uint32_t i = 0; i < len; i++)
        sum += (i & 1) ? p[i] : (uint64_t)p[i] << 8;
    while (sum >> 16)
        sum = (sum & 0xffff) + (sum >> 16);
    return (uint16_t)sum;
}

#endif
