/* SPDX-License-Identifier: MIT */
/* Calendar arithmetic for dom0's clock output (UTC, proleptic Gregorian). */
#ifndef DOM0_CLOCK_H
#define DOM0_CLOCK_H
#include <stdint.h>

struct civil_time {
    int64_t year;
    unsigned month;     /* 1-12 */
    unsigned day;       /* 1-31 */
    unsigned hour, minute, second;
};

/* Splits seconds since 1970-01-01 00:00:00 UTC into a calendar date. */
void civil_from_unix(uint64_t unix_sec, struct civil_time *out);

#endif
