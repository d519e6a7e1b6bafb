/* SPDX-License-Identifier: MIT */
/* Check reporting for the conformance guests (format in guest/test.h). */
#include <public/sched.h>
#include <guest/runtime.h>
#include <guest/test.h>

static const char *guest = "guest";
static unsigned nr_passed, nr_failed;

void test_begin(const char *guest_name)
{
    guest = guest_name;
    printf("GUEST %s START\n", guest);
}

void test_report_done(void)
{
    printf("GUEST %s DONE passed=%u failed=%u\n", guest, nr_passed, nr_failed);
}

void test_finish(void)
{
    test_report_done();
    runtime_shutdown(SHUTDOWN_poweroff);
}

static bool report(const char *check, bool ok)
{
    if (ok) {
        nr_passed++;
        printf("CHECK %s:%s ok\n", guest, check);
    } else {
        nr_failed++;
    }
    return ok;
}

bool check_hex(const char *check, uint64_t got, uint64_t want)
{
    if (!report(check, got == want))
        printf("CHECK %s:%s FAIL got=0x%lx want=0x%lx\n", guest, check, got, want);
    return got == want;
}

bool check_int(const char *check, int64_t got, int64_t want)
{
    if (!report(check, got == want))
        printf("CHECK %s:%s FAIL got=%ld want=%ld\n", guest, check, got, want);
    return got == want;
}

bool check_int2(const char *check, int64_t got, int64_t want1, int64_t want2)
{
    bool ok = got == want1 || got == want2;
    if (!report(check, ok))
        printf("CHECK %s:%s FAIL got=%ld want=%ld|%ld\n", guest, check, got, want1, want2);
    return ok;
}

bool check_range(const char *check, uint64_t got, uint64_t lo, uint64_t hi)
{
    bool ok = got >= lo && got <= hi;
    if (!report(check, ok))
        printf("CHECK %s:%s FAIL got=0x%lx want=[0x%lx,0x%lx]\n", guest, check, got, lo, hi);
    return ok;
}

bool check_true(const char *check, bool cond, const char *got, const char *want)
{
    if (!report(check, cond))
        printf("CHECK %s:%s FAIL got=%s want=%s\n", guest, check, got, want);
    return cond;
}

bool check_cond_hex(const char *check, bool cond, uint64_t got, const char *want)
{
    if (!report(check, cond))
        printf("CHECK %s:%s FAIL got=0x%lx want=%s\n", guest, check, got, want);
    return cond;
}

bool check_negative(const char *check, int64_t got)
{
    if (!report(check, got < 0))
        printf("CHECK %s:%s FAIL got=%ld want=<0\n", guest, check, got);
    return got < 0;
}
