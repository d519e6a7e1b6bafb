/* SPDX-License-Identifier: MIT */
/*
 * lib/xl_disk.c: xl's disk specifications in their forms (positional,
 * deprecated prefix, key=value, target= taking the rest), vdev numbering
 * as Linux and Xen encode it, errors that leave the output untouched, and
 * `disk = [...]` in xl.cfg through xlcfg_domain.
 */
#include "unit.h"
#include "xlcfg_domain.h"
#include <lamina/xl_disk.h>
#include <lamina/xlcfg.h>
#include <stdio.h>
#include <string.h>

static struct xl_disk d;
static char err[XL_DISK_ERR_MAX];

static void ok(const char *spec, const char *target, const char *vdev, uint32_t devid, bool w, bool cdrom)
{
    memset(&d, 0, sizeof(d));
    ck_assert_msg(xl_disk_parse(spec, &d, err, sizeof(err)) == 0, "'%s': %s", spec, err);
    ck_assert_str_eq(d.target, target);
    ck_assert_str_eq(d.vdev, vdev);
    ck_assert_uint_eq(d.devid, devid);
    ck_assert_msg(d.writable == w, "'%s': writable %d", spec, d.writable);
    ck_assert(d.cdrom == cdrom);
}

static void bad(const char *spec, const char *want)
{
    memset(&d, 0x5a, sizeof(d));
    struct xl_disk before = d;
    ck_assert_msg(xl_disk_parse(spec, &d, err, sizeof(err)) == -1, "'%s' parsed", spec);
    ck_assert_msg(strstr(err, want), "'%s': message '%s' lacks '%s'", spec, err, want);
    ck_assert(memcmp(&before, &d, sizeof(d)) == 0);
}

START_TEST(test_forms)
{
    ok("phy:/dev/vdb,xvda,w", "/dev/vdb", "xvda", 51712, true, false);
    ok("phy:/dev/vdb,xvdb,r", "/dev/vdb", "xvdb", 51728, false, false);
    ok("raw:/dev/vdc,xvdc,ro", "/dev/vdc", "xvdc", 51744, false, false);
    ok("/dev/vdb,raw,xvda,rw", "/dev/vdb", "xvda", 51712, true, false);
    ok("/dev/vdb,,xvda", "/dev/vdb", "xvda", 51712, true, false);
    ok("/dev/vdb,raw,xvda", "/dev/vdb", "xvda", 51712, true, false);
    ok("format=raw, vdev=xvda, access=rw, target=/dev/vdb", "/dev/vdb", "xvda", 51712, true, false);
    ok("vdev=xvdb,mode=r,target=/dev/vdb", "/dev/vdb", "xvdb", 51728, false, false);
}
END_TEST

START_TEST(test_target_rest_and_flags)
{
    /* target= takes the rest, commas and all... but ours must be a dom0
     * device name: no blanks. */
    ok("vdev=xvda,target=/dev/a,b", "/dev/a,b", "xvda", 51712, true, false);
    ok("/dev/sr0,,hdc,cdrom", "/dev/sr0", "hdc", (22 << 8) | 0, false, true);
    ok("vdev=xvdd,devtype=cdrom,target=/dev/sr0", "/dev/sr0", "xvdd", 51760, false, true);
    ok("backendtype=phy,vdev=xvda,target=/dev/vdb", "/dev/vdb", "xvda", 51712, true, false);
}
END_TEST

START_TEST(test_errors)
{
    bad("", "no target");
    bad("phy:/dev/vdb", "no vdev");
    bad("target=/dev/vdb", "no vdev");
    bad("phy:/dev/vdb,xvda,x", "access 'x'");
    bad("phy:/dev/vdb,sda9000,w", "not a virtual device");
    bad("phy:/dev/vdb,xvd,w", "not a virtual device");
    bad("phy:/dev/vdb,xvda0,w", "not a virtual device");
    bad("phy:/dev/vdb,foo,w", "not a virtual device");
    bad("/dev/vdb,qcow2,xvda,w", "format 'qcow2'");
    bad("file:/img,xvda,w", "prefix");
    bad("tap:aio:/img,xvda,w", "prefix");
    bad("phy:/dev/vdb,xvda,w,extra", "too many");
    bad("/dev/vdb,raw,xvda,w,more", "too many");
    bad("color=blue,phy:/dev/vdb,xvda", "unknown disk parameter 'color'");
    bad("vdev=xvda,devtype=floppy,target=/x", "devtype");
    bad("vdev=xvda,backendtype=qdisk,target=/x", "backendtype");
    bad("vdev=xvda,access=w,devtype=cdrom,target=/x", "cdrom cannot be writable");
    bad("vdev=xvda,target=", "empty target");
    bad("vdev=xvda,target=/dev/a b", "blank");
    bad("phy:/dev/aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa,xvda", "too long");
}
END_TEST

START_TEST(test_vdev_numbers)
{
    ck_assert_int_eq(xl_vdev_to_devid("xvda"), 51712);
    ck_assert_int_eq(xl_vdev_to_devid("xvdb"), 51728);
    ck_assert_int_eq(xl_vdev_to_devid("xvda1"), 51713);
    ck_assert_int_eq(xl_vdev_to_devid("xvda15"), 51727);
    ck_assert_int_eq(xl_vdev_to_devid("xvdp"), (202 << 8) | (15 << 4));
    /* Beyond 16 disks or 15 partitions: the extended form. */
    ck_assert_int_eq(xl_vdev_to_devid("xvdq"), (1 << 28) | (16 << 8));
    ck_assert_int_eq(xl_vdev_to_devid("xvda16"), (1 << 28) | 16);
    ck_assert_int_eq(xl_vdev_to_devid("xvdaa"), (1 << 28) | (26 << 8));
    ck_assert_int_eq(xl_vdev_to_devid("xvda255"), (1 << 28) | 255);
    ck_assert_int_eq(xl_vdev_to_devid("xvda256"), -1);
    ck_assert_int_eq(xl_vdev_to_devid("sda"), 8 << 8);
    ck_assert_int_eq(xl_vdev_to_devid("sdb2"), (8 << 8) | 18);
    ck_assert_int_eq(xl_vdev_to_devid("hda"), 3 << 8);
    ck_assert_int_eq(xl_vdev_to_devid("hdb"), (3 << 8) | 64);
    ck_assert_int_eq(xl_vdev_to_devid("hdc1"), (22 << 8) | 1);
    ck_assert_int_eq(xl_vdev_to_devid("51712"), 51712);
    ck_assert_int_eq(xl_vdev_to_devid("0"), -1);
    ck_assert_int_eq(xl_vdev_to_devid("xvdA"), -1);
    ck_assert_int_eq(xl_vdev_to_devid("xvda-1"), -1);
    ck_assert_int_eq(xl_vdev_to_devid(""), -1);
    ck_assert_int_eq(xl_vdev_to_devid("99999999999999999999"), -1);
}
END_TEST

START_TEST(test_config)
{
    ck_assert_int_eq(domain_from("name='a'\nkernel='k'\n"), 0);
    ck_assert_uint_eq(dom.nr_disks, 0);
    ck_assert_int_eq(domain_from("name='a'\nkernel='k'\ndisk = [ 'phy:/dev/vdb,xvda,w',\n"
                                 "  # the second\n  \"vdev=xvdb, access=ro, target=/dev/vdc\" ]\n"), 0);
    ck_assert_uint_eq(dom.nr_disks, 2);
    ck_assert_str_eq(dom.disks[0].target, "/dev/vdb");
    ck_assert_uint_eq(dom.disks[0].devid, 51712);
    ck_assert(dom.disks[0].writable);
    ck_assert_str_eq(dom.disks[1].target, "/dev/vdc");
    ck_assert_uint_eq(dom.disks[1].devid, 51728);
    ck_assert(!dom.disks[1].writable);
    ck_assert_int_eq(domain_from("name='a'\nkernel='k'\ndisk=[]\n"), 0);
    ck_assert_uint_eq(dom.nr_disks, 0);
    /* Errors name the line and the disk. */
    ck_assert_int_eq(domain_from("name='a'\nkernel='k'\ndisk='phy:/dev/vdb,xvda,w'\n"), -1);
    ck_assert_msg(strstr(cerr.msg, "line 3: 'disk' must be a list"), "%s", cerr.msg);
    ck_assert_int_eq(domain_from("name='a'\nkernel='k'\n\ndisk=['phy:/dev/vdb,xvda,w', 'phy:/dev/vdc,xvdz9999']\n"), -1);
    ck_assert_msg(strstr(cerr.msg, "line 4: disk 2: 'xvdz9999' is not a virtual device"), "%s", cerr.msg);
    ck_assert_int_eq(domain_from("name='a'\nkernel='k'\ndisk=['phy:/dev/vdb,xvda,w', 'phy:/dev/vdc,xvda']\n"), -1);
    ck_assert_msg(strstr(cerr.msg, "vdev xvda is used twice"), "%s", cerr.msg);
    ck_assert_int_eq(domain_from("name='a'\nkernel='k'\ndisk=[1]\n"), -1);
    ck_assert_msg(strstr(cerr.msg, "disk 1: each disk must be a string"), "%s", cerr.msg);
    ck_assert_int_eq(domain_from("name='a'\nkernel='k'\ndisk=['/a,,xvda','/a,,xvdb','/a,,xvdc','/a,,xvdd',"
                                 "'/a,,xvde','/a,,xvdf','/a,,xvdg','/a,,xvdh','/a,,xvdi']\n"), -1);
    ck_assert_msg(strstr(cerr.msg, "too many disks"), "%s", cerr.msg);
    /* Escapes inside list strings are decoded. */
    ck_assert_int_eq(domain_from("name='a'\nkernel='k'\ndisk=['phy:/dev/v\\x64b,xvda']\n"), 0);
    ck_assert_str_eq(dom.disks[0].target, "/dev/vdb");
}
END_TEST

static Suite *xl_disk_suite(void)
{
    Suite *s = suite_create("xl_disk");
    TCase *tc = tcase_create("xl_disk");
    tcase_add_test(tc, test_forms);
    tcase_add_test(tc, test_target_rest_and_flags);
    tcase_add_test(tc, test_errors);
    tcase_add_test(tc, test_vdev_numbers);
    tcase_add_test(tc, test_config);
    suite_add_tcase(s, tc);
    return s;
}

UNIT_MAIN(xl_disk_suite)
