/* SPDX-License-Identifier: MIT */
/*
 * lib/xl_vif.c: xl's vif specifications (keys, defaults, errors that leave
 * the output untouched), MAC parsing, formatting and generation in Xen's
 * 00:16:3e range, devid numbering, and `vif = [...]` through xlcfg_domain.
 */
#include "unit.h"
#include "xlcfg_domain.h"
#include <lamina/xl_vif.h>
#include <lamina/xlcfg.h>
#include <stdio.h>
#include <string.h>

static struct xl_vif v;
static char err[XL_VIF_ERR_MAX];

static void ok(const char *spec)
{
    memset(&v, 0x5a, sizeof(v));
    ck_assert_msg(xl_vif_parse(spec, &v, err, sizeof(err)) == 0, "'%s': %s", spec, err);
}

static void bad(const char *spec, const char *want)
{
    memset(&v, 0x5a, sizeof(v));
    struct xl_vif before = v;
    ck_assert_msg(xl_vif_parse(spec, &v, err, sizeof(err)) == -1, "'%s' parsed", spec);
    ck_assert_msg(strstr(err, want), "'%s': message '%s' lacks '%s'", spec, err, want);
    ck_assert(memcmp(&before, &v, sizeof(v)) == 0);
}

START_TEST(test_defaults)
{
    ok("");
    ck_assert(!v.have_mac);
    ck_assert_int_eq(v.devid, -1);
    ck_assert_str_eq(v.bridge, "xenbr0");
    ck_assert_str_eq(v.vifname, "");
    ck_assert_str_eq(v.ip, "");
    ck_assert_str_eq(v.script, "");
    ok(" , ,");
    ck_assert_str_eq(v.bridge, "xenbr0");
}
END_TEST

START_TEST(test_keys)
{
    char text[XL_VIF_MAC_TEXT];
    ok("mac=00:16:3E:0a:Bc:ff, bridge=br1 ,ip=10.0.0.2 10.0.1.2/24,vifname=web0,devid=3,backend=0,"
       "type=vif,script=vif-bridge,model=e1000");
    ck_assert(v.have_mac);
    xl_mac_format(v.mac, text);
    ck_assert_str_eq(text, "00:16:3e:0a:bc:ff");
    ck_assert_str_eq(v.bridge, "br1");
    ck_assert_str_eq(v.ip, "10.0.0.2 10.0.1.2/24");
    ck_assert_str_eq(v.vifname, "web0");
    ck_assert_int_eq(v.devid, 3);
    ck_assert_str_eq(v.script, "vif-bridge");
    ok("type=ioemu,backend=Domain-0,devid=0,devid=65535");
    ck_assert_int_eq(v.devid, 65535);
    ok("bridge=0123456789abcde");
    ck_assert_str_eq(v.bridge, "0123456789abcde");
}
END_TEST

START_TEST(test_errors)
{
    bad("mac=00:16:3e:00:00", "not a MAC address");
    bad("mac=00:16:3e:00:00:00:00", "not a MAC address");
    bad("mac=00-16-3e-00-00-01", "not a MAC address");
    bad("mac=00:16:3e:0g:00:01", "not a MAC address");
    bad("mac=0:16:3e:00:00:01", "not a MAC address");
    bad("mac=01:16:3e:00:00:01", "multicast");
    bad("mac=ff:ff:ff:ff:ff:ff", "multicast");
    bad("bridge=", "not an interface name");
    bad("bridge=0123456789abcdef", "not an interface name");
    bad("bridge=a/b", "not an interface name");
    bad("vifname=a b", "not an interface name");
    bad("vifname=..", "not an interface name");
    bad("ip=", "not a list of addresses");
    bad("ip=10.0.0.1;rm", "not a list of addresses");
    bad("devid=", "not a number");
    bad("devid=01", "not a number");
    bad("devid=65536", "up to 65535");
    bad("devid=99999999999999", "up to 65535");
    bad("devid=-1", "not a number");
    bad("backend=1", "only Domain-0");
    bad("type=foo", "must be vif or ioemu");
    bad("rate=10Mb/s", "unknown vif parameter 'rate'");
    bad("mac", "needs a value");
    bad("bridge=xenbr0,00:16:3e:00:00:01", "needs a value");
    bad("ip=0123456789012345678901234567890123456789012345678901234567890123456789"
        "0123456789012345678901234567890", "too long");
    bad("script=a\tb", "control character");
}
END_TEST

START_TEST(test_mac)
{
    uint8_t m[6], m2[6];
    char text[XL_VIF_MAC_TEXT];
    ck_assert_int_eq(xl_mac_parse("aa:BB:cc:00:01:ff", m), 0);
    xl_mac_format(m, text);
    ck_assert_str_eq(text, "aa:bb:cc:00:01:ff");
    memset(m2, 7, sizeof(m2));
    ck_assert_int_eq(xl_mac_parse("aa:bb:cc:00:01:ff ", m2), -1);
    ck_assert_int_eq(xl_mac_parse("", m2), -1);
    ck_assert_int_eq(m2[0], 7);
    /* Generated: Xen's prefix, unicast, and the low bytes follow the seed. */
    unsigned distinct = 0;
    uint8_t prev[6] = { 0 };
    for (uint64_t seed = 0; seed < 64; seed++) {
        xl_mac_generate(seed, m);
        ck_assert(m[0] == 0x00 && m[1] == 0x16 && m[2] == 0x3e);
        ck_assert((m[0] & 3) == 0);
        distinct += memcmp(m, prev, 6) != 0;
        memcpy(prev, m, 6);
    }
    ck_assert_uint_eq(distinct, 64);
    xl_mac_generate(12345, m);
    xl_mac_generate(12345, m2);
    ck_assert(memcmp(m, m2, 6) == 0);
}
END_TEST

START_TEST(test_devids)
{
    struct xl_vif vifs[4];
    for (unsigned i = 0; i < 4; i++)
        ck_assert_int_eq(xl_vif_parse("", &vifs[i], err, sizeof(err)), 0);
    ck_assert_int_eq(xl_vif_parse("devid=5,mac=00:16:3e:00:00:05", &vifs[1], err, sizeof(err)), 0);
    ck_assert_int_eq(xl_vif_fill_defaults(vifs, 4, 0, 99, err, sizeof(err)), 0);
    ck_assert_int_eq(vifs[0].devid, 0);
    ck_assert_int_eq(vifs[1].devid, 5);
    ck_assert_int_eq(vifs[2].devid, 6);
    ck_assert_int_eq(vifs[3].devid, 7);
    ck_assert(vifs[1].mac[5] == 5);
    ck_assert(vifs[0].have_mac && vifs[2].have_mac && memcmp(vifs[0].mac, vifs[2].mac, 6) != 0);
    /* network-attach starts above the domain's highest. */
    ck_assert_int_eq(xl_vif_parse("", &vifs[0], err, sizeof(err)), 0);
    ck_assert_int_eq(xl_vif_fill_defaults(vifs, 1, 3, 1, err, sizeof(err)), 0);
    ck_assert_int_eq(vifs[0].devid, 3);
    /* An auto devid meeting a later explicit one. */
    ck_assert_int_eq(xl_vif_parse("", &vifs[0], err, sizeof(err)), 0);
    ck_assert_int_eq(xl_vif_parse("devid=0", &vifs[1], err, sizeof(err)), 0);
    ck_assert_int_eq(xl_vif_fill_defaults(vifs, 2, 0, 1, err, sizeof(err)), -1);
    ck_assert_msg(strstr(err, "vif 2: devid 0 is used twice"), "%s", err);
    ck_assert_int_eq(xl_vif_parse("", &vifs[0], err, sizeof(err)), 0);
    ck_assert_int_eq(xl_vif_fill_defaults(vifs, 1, XL_VIF_DEVID_MAX + 1, 1, err, sizeof(err)), -1);
    ck_assert_msg(strstr(err, "no devid left"), "%s", err);
}
END_TEST

START_TEST(test_config)
{
    ck_assert_int_eq(domain_from("name='a'\nkernel='k'\n"), 0);
    ck_assert_uint_eq(dom.nr_vifs, 0);
    ck_assert_int_eq(domain_from("name='a'\nkernel='k'\nvif = [ '',\n  # a second\n"
                                 "  'mac=00:16:3e:01:02:03,bridge=br9' ]\n"), 0);
    ck_assert_uint_eq(dom.nr_vifs, 2);
    ck_assert_int_eq(dom.vifs[0].devid, -1);
    ck_assert(!dom.vifs[0].have_mac);
    ck_assert_str_eq(dom.vifs[1].bridge, "br9");
    ck_assert(dom.vifs[1].have_mac && dom.vifs[1].mac[5] == 3);
    ck_assert_int_eq(domain_from("name='a'\nkernel='k'\nvif='mac=00:16:3e:01:02:03'\n"), -1);
    ck_assert_msg(strstr(cerr.msg, "line 3: 'vif' must be a list"), "%s", cerr.msg);
    ck_assert_int_eq(domain_from("name='a'\nkernel='k'\n\nvif=['', 'mac=zz']\n"), -1);
    ck_assert_msg(strstr(cerr.msg, "line 4: vif 2: mac 'zz' is not a MAC"), "%s", cerr.msg);
    ck_assert_int_eq(domain_from("name='a'\nkernel='k'\nvif=['devid=1', 'devid=1']\n"), -1);
    ck_assert_msg(strstr(cerr.msg, "vif 2: devid 1 is used twice"), "%s", cerr.msg);
    ck_assert_int_eq(domain_from("name='a'\nkernel='k'\nvif=[7]\n"), -1);
    ck_assert_msg(strstr(cerr.msg, "vif 1: each vif must be a string"), "%s", cerr.msg);
    ck_assert_int_eq(domain_from("name='a'\nkernel='k'\nvif=['','','','','','','','','']\n"), -1);
    ck_assert_msg(strstr(cerr.msg, "too many vifs"), "%s", cerr.msg);
}
END_TEST

static Suite *xl_vif_suite(void)
{
    Suite *s = suite_create("xl_vif");
    TCase *tc = tcase_create("xl_vif");
    tcase_add_test(tc, test_defaults);
    tcase_add_test(tc, test_keys);
    tcase_add_test(tc, test_errors);
    tcase_add_test(tc, test_mac);
    tcase_add_test(tc, test_devids);
    tcase_add_test(tc, test_config);
    suite_add_tcase(s, tc);
    return s;
}

UNIT_MAIN(xl_vif_suite)
