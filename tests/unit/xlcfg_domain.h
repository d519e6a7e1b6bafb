/* SPDX-License-Identifier: MIT */
/* For the xl.cfg device tests (test_xl_disk.c, test_xl_vif.c): a config
 * text parsed (which must succeed) and turned into a domain config; the
 * result's return value, `dom` and `cerr` are what the tests look at. */
#ifndef LAMINA_TEST_XLCFG_DOMAIN_H
#define LAMINA_TEST_XLCFG_DOMAIN_H
#include <string.h>
#include <check.h>
#include <lamina/xlcfg.h>

static struct xlcfg cfg;
static struct xl_domain_config dom;
static struct xlcfg_error cerr;

static inline int domain_from(const char *text)
{
    xlcfg_init(&cfg);
    ck_assert_msg(xlcfg_parse(&cfg, text, strlen(text), &cerr) == 0, "%s", cerr.msg);
    return xlcfg_domain(&cfg, &dom, &cerr);
}

#endif
