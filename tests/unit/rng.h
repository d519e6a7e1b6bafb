/* SPDX-License-Identifier: MIT */
/* The seeded xorshift64 of the random-operation tests: the same sequence on
 * every host, so a failing seed and step can be replayed. Set `rng` to a
 * non-zero seed first. */
#ifndef LAMINA_TESTS_RNG_H
#define LAMINA_TESTS_RNG_H
#include <stdbool.h>
#include <stdint.h>

static uint64_t rng;

static inline uint64_t rnd(void)
{
    rng ^= rng << 13;
    rng ^= rng >> 7;
    rng ^= rng << 17;
    return rng;
}
static inline unsigned below(unsigned n) { return (unsigned)(rnd() % n); }
static inline bool chance(unsigned percent) { return below(100) < percent; }

#endif
