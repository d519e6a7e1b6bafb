/* SPDX-License-Identifier: MIT */
#include "clock.h"

#define SECS_PER_DAY 86400ULL
#define DAYS_PER_400Y 146097ULL

void civil_from_unix(uint64_t unix_sec, struct civil_time *out)
{
    uint64_t days = unix_sec / SECS_PER_DAY;
    uint64_t rem = unix_sec % SECS_PER_DAY;

    out->hour = (unsigned)(rem / 3600);
    out->minute = (unsigned)(rem / 60 % 60);
    out->second = (unsigned)(rem % 60);

    /*
     * Count from 0000-03-01 so that the leap day is the last day of a
     * "year" that runs March..February: then every 400-year era has the
     * same 146097 days and months have a fixed pattern from March on.
     * 1970-01-01 is day 719468 after 0000-03-01.
     */
    uint64_t z = days + 719468;
    uint64_t era = z / DAYS_PER_400Y;
    uint64_t doe = z - era * DAYS_PER_400Y;                        /* 0..146096 */
    uint64_t yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365; /* 0..399 */
    uint64_t doy = doe - (365 * yoe + yoe / 4 - yoe / 100);          /* 0..365 */
    uint64_t mp = (5 * doy + 2) / 153;                               /* 0 = March */
    out->day = (unsigned)(doy - (153 * mp + 2) / 5 + 1);
    out->month = (unsigned)(mp < 10 ? mp + 3 : mp - 9);
    out->year = (int64_t)(yoe + era * 400) + (out->month <= 2 ? 1 : 0);
}
