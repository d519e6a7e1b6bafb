/* SPDX-License-Identifier: MIT */
/*
 * lib/xlcfg.c: the xl.cfg subset (syntax, values, errors with line numbers),
 * command-line overrides, the domain description xl create reads, and the
 * rule that a failed parse changes nothing (checked byte for byte). Config
 * texts are passed in malloc blocks of exactly their length, without a NUL,
 * so ASan catches any read past the end.
 */
#include "unit.h"
#include <lamina/xlcfg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static struct xlcfg cfg, snapshot;
static struct xlcfg_error err;

/* Parses `text` (as an exact-size buffer) into cfg; returns the result. */
static int parse(const char *text)
{
    size_t len = strlen(text);
    char *copy = malloc(len ? len : 1);
    ck_assert_ptr_nonnull(copy);
    memcpy(copy, text, len);
    memset(&err, 0, sizeof(err));
    int rc = xlcfg_parse(&cfg, copy, len, &err);
    free(copy);
    return rc;
}

/* A fresh config from `text`, which must parse. */
static void load(const char *text)
{
    xlcfg_init(&cfg);
    ck_assert_msg(parse(text) == 0, "parse failed: %s", err.msg);
}

/* `text` must fail with a message containing `want` and change nothing. */
static void expect_error(const char *text, unsigned line, const char *want)
{
    memcpy(&snapshot, &cfg, sizeof(cfg));
    ck_assert_int_eq(parse(text), -1);
    ck_assert_msg(strstr(err.msg, want), "message '%s' lacks '%s' (input %s)", err.msg, want, text);
    ck_assert_uint_eq(err.line, line);
    char prefix[32];
    snprintf(prefix, sizeof(prefix), "line %u: ", line);
    ck_assert_msg(strncmp(err.msg, prefix, strlen(prefix)) == 0, "message '%s'", err.msg);
    ck_assert_msg(memcmp(&snapshot, &cfg, sizeof(cfg)) == 0, "a failed parse changed the config: %s", text);
}

static const char *str(const char *key)
{
    const struct xlcfg_setting *s = xlcfg_get(&cfg, key);
    ck_assert_msg(s != NULL, "no %s", key);
    ck_assert_int_eq(s->type, XLCFG_STRING);
    ck_assert_uint_eq(strlen(xlcfg_text(&cfg, s)), s->len);
    return xlcfg_text(&cfg, s);
}

static uint64_t num(const char *key)
{
    const struct xlcfg_setting *s = xlcfg_get(&cfg, key);
    ck_assert_msg(s != NULL, "no %s", key);
    ck_assert_int_eq(s->type, XLCFG_NUMBER);
    return s->number;
}

START_TEST(syntax)
{
    load("# a comment\n"
         "name = 'victim'   # trailing comment\n"
         "\n"
         "   kernel=\"/usr/lib/lamina/guests/victim.elf\"\r\n"
         "memory = 16; vcpus = 1;\n"
         "maxmem = 0x20\n"
         "extra = 'a \"quoted\" word'\n"
         "cmdline = \"tab\\there\\nnl \\\\ \\' \\\" \\x41\\101\"\n"
         "disk = [ 'phy:/dev/vg/a,xvda,w',\n"
         "         # a comment inside a list\n"
         "         'file:/b.img,xvdb,r', ]\n"
         "empty = []\n"
         "nested = [ [1, 2], ['x'], 0x10 ]\n"
         "last = 1");
    ck_assert_str_eq(str("name"), "victim");
    ck_assert_str_eq(str("kernel"), "/usr/lib/lamina/guests/victim.elf");
    ck_assert_uint_eq(num("memory"), 16);
    ck_assert_uint_eq(num("vcpus"), 1);
    ck_assert_uint_eq(num("maxmem"), 32);
    ck_assert_str_eq(str("extra"), "a \"quoted\" word");
    ck_assert_str_eq(str("cmdline"), "tab\there\nnl \\ ' \" AA");
    const struct xlcfg_setting *disk = xlcfg_get(&cfg, "disk");
    ck_assert_int_eq(disk->type, XLCFG_LIST);
    ck_assert_uint_eq(disk->line, 9);
    ck_assert_str_eq(xlcfg_text(&cfg, disk), "[ 'phy:/dev/vg/a,xvda,w',\n"
                                             "         # a comment inside a list\n"
                                             "         'file:/b.img,xvdb,r', ]");
    ck_assert_str_eq(xlcfg_text(&cfg, xlcfg_get(&cfg, "empty")), "[]");
    ck_assert_int_eq(xlcfg_get(&cfg, "nested")->type, XLCFG_LIST);
    ck_assert_uint_eq(num("last"), 1);
    ck_assert_uint_eq(xlcfg_get(&cfg, "last")->line, 14);
    ck_assert_ptr_null(xlcfg_get(&cfg, "missing"));
    ck_assert_ptr_null(xlcfg_get(&cfg, "nam"));
    ck_assert_str_eq(xlcfg_text(&cfg, xlcfg_get(&cfg, "memory")), "");
}
END_TEST

START_TEST(later_settings_win)
{
    load("memory = 16\nname = 'a'\nmemory = 32\n");
    ck_assert_uint_eq(num("memory"), 32);
    ck_assert_uint_eq(xlcfg_get(&cfg, "memory")->line, 3);
    ck_assert_int_eq(parse("memory = 'x'\n"), 0);     /* a second file appends */
    ck_assert_str_eq(str("memory"), "x");
}
END_TEST

START_TEST(empty_inputs)
{
    load("");
    ck_assert_uint_eq(cfg.nr, 0);
    load("\n\n   \n# only comments\n;;\n");
    ck_assert_uint_eq(cfg.nr, 0);
    load("a=1");     /* no final newline */
    ck_assert_uint_eq(num("a"), 1);
}
END_TEST

START_TEST(syntax_errors)
{
    xlcfg_init(&cfg);
    expect_error("name = 'victim\n", 1, "unterminated string");
    expect_error("\n\nname = \"x\nmemory = 1\n", 3, "unterminated string");
    expect_error("name 'x'\n", 1, "expected '=' after 'name'");
    expect_error("name\n", 1, "expected '=' after 'name'");
    expect_error("a = 1\nname =\n", 2, "'name' has no value");
    expect_error("name = # nothing\n", 1, "'name' has no value");
    expect_error("name = victim\n", 1, "strings need quotes");
    expect_error("memory = 12abc\n", 1, "bad number");
    expect_error("memory = 1.5\n", 1, "bad number");
    expect_error("memory = 0x\n", 1, "bad number");
    expect_error("memory = 0xfg\n", 1, "bad number");
    expect_error("memory = 18446744073709551616\n", 1, "number too large");
    expect_error("memory = 0x10000000000000000\n", 1, "number too large");
    expect_error("memory = 16 32\n", 1, "unexpected '3' after the value of 'memory'");
    expect_error("name = 'a' 'b'\n", 1, "unexpected");
    expect_error("= 3\n", 1, "expected a setting");
    expect_error("1abc = 3\n", 1, "expected a setting");
    expect_error("a = 1\n\x01\n", 2, "\\x01");
    expect_error("s = 'bad \\q escape'\n", 1, "unknown escape '\\q'");
    expect_error("s = 'nul \\0 inside'\n", 1, "NUL");
    expect_error("s = 'nul \\x00 inside'\n", 1, "NUL");
    expect_error("s = 'x \\x'\n", 1, "\\x needs hex digits");
    expect_error("s = 'octal \\777'\n", 1, "octal escape out of range");
    expect_error("s = 'ends in backslash\\", 1, "unterminated string");
    expect_error("abcdefghijabcdefghijabcdefghijab = 1\n", 1, "too long");
}
END_TEST

START_TEST(nul_byte_in_text)
{
    static const char text[] = "a = 'x\0y'\n";
    xlcfg_init(&cfg);
    memcpy(&snapshot, &cfg, sizeof(cfg));
    char *copy = malloc(sizeof(text) - 1);
    memcpy(copy, text, sizeof(text) - 1);
    ck_assert_int_eq(xlcfg_parse(&cfg, copy, sizeof(text) - 1, &err), -1);
    ck_assert_ptr_nonnull(strstr(err.msg, "NUL"));
    ck_assert_int_eq(memcmp(&snapshot, &cfg, sizeof(cfg)), 0);
    free(copy);
}
END_TEST

START_TEST(list_errors)
{
    xlcfg_init(&cfg);
    expect_error("disk = [ 'a',\n 'b'\n", 3, "unterminated list");
    expect_error("disk = [ 'a' 'b' ]\n", 1, "expected ',' or ']'");
    expect_error("disk = [ , ]\n", 1, "expected a list element");
    expect_error("disk = [ x ]\n", 1, "expected a list element");
    expect_error("disk = [ 'a', ['b', ]\n", 2, "unterminated list");
    expect_error("disk = [[[[[[[[[1]]]]]]]]]\n", 1, "nested more than 8 deep");
    expect_error("disk = [ 'a\n' ]\n", 1, "unterminated string");
    expect_error("disk = [ 'a' ] x\n", 1, "unexpected 'x'");
    /* Eight levels are fine. */
    load("disk = [[[[[[[[1]]]]]]]]\n");
}
END_TEST

START_TEST(failed_parse_changes_nothing)
{
    load("name = 'keep'\nmemory = 16\n");
    /* Errors after a few good settings of the same file. */
    expect_error("kernel = '/k'\nextra = 'x'\nmemory = 'oops\n", 3, "unterminated string");
    expect_error("kernel = '/k'\ndisk = [ 'a', 'b'", 2, "unterminated list");
    ck_assert_ptr_null(xlcfg_get(&cfg, "kernel"));
    ck_assert_str_eq(str("name"), "keep");
    ck_assert_uint_eq(num("memory"), 16);
    ck_assert_uint_eq(cfg.nr, 2);
}
END_TEST

START_TEST(limits)
{
    char big[16384];
    size_t n = 0;
    /* Exactly the maximum number of settings parses; one more fails. */
    for (unsigned i = 0; i < XLCFG_MAX_SETTINGS; i++)
        n += (size_t)snprintf(big + n, sizeof(big) - n, "k%u = %u\n", i, i);
    load(big);
    ck_assert_uint_eq(cfg.nr, XLCFG_MAX_SETTINGS);
    xlcfg_init(&cfg);
    snprintf(big + n, sizeof(big) - n, "one_more = 1\n");
    expect_error(big, XLCFG_MAX_SETTINGS + 1, "too many settings");

    /* Text beyond the pool. */
    xlcfg_init(&cfg);
    n = (size_t)snprintf(big, sizeof(big), "a = '");
    memset(big + n, 'x', XLCFG_POOL_SIZE);
    n += XLCFG_POOL_SIZE;
    snprintf(big + n, sizeof(big) - n, "'\n");
    expect_error(big, 1, "configuration too large");
    /* The same, through a list. */
    n = (size_t)snprintf(big, sizeof(big), "d = ['");
    memset(big + n, 'y', XLCFG_POOL_SIZE);
    n += XLCFG_POOL_SIZE;
    snprintf(big + n, sizeof(big) - n, "']\n");
    expect_error(big, 1, "configuration too large");
    /* Just fits: POOL_SIZE - 1 bytes of string plus its NUL. */
    n = (size_t)snprintf(big, sizeof(big), "a = '");
    memset(big + n, 'z', XLCFG_POOL_SIZE - 1);
    n += XLCFG_POOL_SIZE - 1;
    snprintf(big + n, sizeof(big) - n, "'\n");
    load(big);
    ck_assert_uint_eq(strlen(str("a")), XLCFG_POOL_SIZE - 1);
}
END_TEST

static int override(const char *assignment)
{
    memset(&err, 0, sizeof(err));
    return xlcfg_override(&cfg, assignment, &err);
}

START_TEST(overrides)
{
    load("name = 'victim'\nkernel = '/k'\nmemory = 16\nextra = 'seconds=3'\n");
    ck_assert_int_eq(override("name=victim2"), 0);
    ck_assert_str_eq(str("name"), "victim2");
    ck_assert_uint_eq(xlcfg_get(&cfg, "name")->line, 0);
    ck_assert_int_eq(override("memory=32"), 0);
    ck_assert_uint_eq(num("memory"), 32);
    ck_assert_int_eq(override("extra='seconds=60 verbose'"), 0);
    ck_assert_str_eq(str("extra"), "seconds=60 verbose");
    ck_assert_int_eq(override("extra=seconds=5"), 0);     /* bare: literal */
    ck_assert_str_eq(str("extra"), "seconds=5");
    ck_assert_int_eq(override("extra="), 0);
    ck_assert_str_eq(str("extra"), "");
    ck_assert_int_eq(override("root = \"/dev/xvda1\""), 0);
    ck_assert_str_eq(str("root"), "/dev/xvda1");
    ck_assert_int_eq(override("disk=['a','b']"), 0);
    ck_assert_int_eq(xlcfg_get(&cfg, "disk")->type, XLCFG_LIST);
    ck_assert_int_eq(override("memory=0x40"), 0);
    ck_assert_uint_eq(num("memory"), 64);

    memcpy(&snapshot, &cfg, sizeof(cfg));
    static const char *const bad[] = {
        "=5", "memory", "memory 5", "5=5", "memory=12x", "memory=5 6", "extra='open",
        "disk=['a',", "extra='a' b", "abcdefghijabcdefghijabcdefghijab=1",
    };
    for (unsigned i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        ck_assert_msg(override(bad[i]) == -1, "%s was accepted", bad[i]);
        ck_assert_msg(strncmp(err.msg, "override '", 10) == 0, "message %s", err.msg);
        ck_assert_uint_eq(err.line, 0);
        ck_assert_msg(memcmp(&snapshot, &cfg, sizeof(cfg)) == 0, "%s changed the config", bad[i]);
    }
    /* A word that is not a number stays a string; the domain check says so. */
    ck_assert_int_eq(override("memory=lots"), 0);
    struct xl_domain_config d;
    ck_assert_int_eq(xlcfg_domain(&cfg, &d, &err), -1);
    ck_assert_str_eq(err.msg, "command line: 'memory' must be a number, not a string");
}
END_TEST

static struct xl_domain_config dom;

static int domain(const char *text)
{
    load(text);
    memset(&dom, 0x5a, sizeof(dom));
    memset(&err, 0, sizeof(err));
    return xlcfg_domain(&cfg, &dom, &err);
}

static void expect_domain_error(const char *text, const char *want)
{
    struct xl_domain_config before;
    ck_assert_int_eq(domain(text), -1);
    memset(&before, 0x5a, sizeof(before));
    ck_assert_msg(memcmp(&before, &dom, sizeof(dom)) == 0, "output written on error");
    ck_assert_msg(strcmp(err.msg, want) == 0, "got '%s', want '%s'", err.msg, want);
}

START_TEST(domain_config)
{
    ck_assert_int_eq(domain("name = 'victim'\nkernel = '/usr/lib/lamina/guests/victim.elf'\n"
                            "memory = 16\nvcpus = 1\nextra = 'seconds=3'\nroot = '/dev/xvda1'\n"
                            "on_poweroff = 'preserve'\non_crash = 'coredump-destroy'\n"
                            "ramdisk = '/boot/initrd'\nvif = [ 'bridge=xenbr0' ]\nunknown_key = 5\n"),
                     0);
    ck_assert_str_eq(dom.name, "victim");
    ck_assert_str_eq(dom.kernel, "/usr/lib/lamina/guests/victim.elf");
    ck_assert_str_eq(dom.ramdisk, "/boot/initrd");
    ck_assert_uint_eq(dom.memory_mib, 16);
    ck_assert_uint_eq(dom.vcpus, 1);
    ck_assert_str_eq(dom.cmdline, "root=/dev/xvda1 seconds=3");
    ck_assert_uint_eq(dom.on_poweroff, XL_ACTION_PRESERVE);
    ck_assert_uint_eq(dom.on_reboot, XL_ACTION_RESTART);
    ck_assert_uint_eq(dom.on_crash, XL_ACTION_COREDUMP_DESTROY);

    /* Defaults. */
    ck_assert_int_eq(domain("name='a'\nkernel='/k'\n"), 0);
    ck_assert_uint_eq(dom.memory_mib, XL_DEFAULT_MEMORY_MIB);
    ck_assert_uint_eq(dom.vcpus, 1);
    ck_assert_str_eq(dom.cmdline, "");
    ck_assert_str_eq(dom.ramdisk, "");
    ck_assert_uint_eq(dom.on_poweroff, XL_ACTION_DESTROY);
    ck_assert_uint_eq(dom.on_reboot, XL_ACTION_RESTART);
    ck_assert_uint_eq(dom.on_crash, XL_ACTION_DESTROY);

    /* The command line: cmdline wins; root alone; extra alone. */
    ck_assert_int_eq(domain("name='a'\nkernel='/k'\ncmdline='console=hvc0'\nroot='/r'\nextra='x'\n"), 0);
    ck_assert_str_eq(dom.cmdline, "console=hvc0");
    ck_assert_int_eq(domain("name='a'\nkernel='/k'\nroot='/r'\n"), 0);
    ck_assert_str_eq(dom.cmdline, "root=/r");
    ck_assert_int_eq(domain("name='a'\nkernel='/k'\nextra='quiet'\n"), 0);
    ck_assert_str_eq(dom.cmdline, "quiet");

    /* Every action name round-trips. */
    for (unsigned a = XL_ACTION_DESTROY; a <= XL_ACTION_SOFT_RESET; a++) {
        char text[128];
        snprintf(text, sizeof(text), "name='a'\nkernel='/k'\non_reboot='%s'\n", xl_action_name(a));
        ck_assert_int_eq(domain(text), 0);
        ck_assert_uint_eq(dom.on_reboot, a);
    }
    ck_assert_str_eq(xl_action_name(99), "?");
}
END_TEST

START_TEST(domain_errors)
{
    expect_domain_error("kernel='/k'\n", "the configuration has no 'name'");
    expect_domain_error("name='a'\n", "the configuration has no 'kernel'");
    expect_domain_error("name=''\nkernel='/k'\n", "line 1: 'name' is empty");
    expect_domain_error("name=1\nkernel='/k'\n", "line 1: 'name' must be a string in quotes, not a number");
    expect_domain_error("name='a b'\nkernel='/k'\n",
                        "line 1: 'name' may only hold letters, digits, '_', '-' and '.'");
    expect_domain_error("name='a/b'\nkernel='/k'\n",
                        "line 1: 'name' may only hold letters, digits, '_', '-' and '.'");
    expect_domain_error("name='42'\nkernel='/k'\n",
                        "line 1: 'name' cannot be a number (it would read as a domain id)");
    expect_domain_error("name='a'\nkernel=['/k']\n", "line 2: 'kernel' must be a string in quotes, not a list");
    expect_domain_error("name='a'\nkernel='/k'\nmemory='16'\n", "line 3: 'memory' must be a number, not a string");
    expect_domain_error("name='a'\nkernel='/k'\nmemory=0\n", "line 3: 'memory' = 0 is out of range (1 to 1048576)");
    expect_domain_error("name='a'\nkernel='/k'\n\nvcpus=2\n",
                        "line 4: vcpus = 2: only 1 vCPU per domain is supported for now");
    expect_domain_error("name='a'\nkernel='/k'\nvcpus=0\n", "line 3: 'vcpus' = 0 is out of range (1 to 4096)");
    expect_domain_error("name='a'\nkernel='/k'\non_crash='reboot'\n",
                        "line 3: 'on_crash' must be destroy, restart, preserve, rename-restart, "
                        "coredump-destroy, coredump-restart or soft-reset");
    expect_domain_error("name='a'\nkernel='/k'\non_crash='a-very-long-action-name-here'\n",
                        "line 3: 'on_crash' is too long (at most 23 characters)");

    /* Lengths: exactly the maximum fits; one more does not. */
    char text[3000], name[XL_NAME_MAX + 1];
    memset(name, 'n', sizeof(name));
    name[XL_NAME_MAX - 1] = '\0';
    snprintf(text, sizeof(text), "name='%s'\nkernel='/k'\n", name);
    ck_assert_int_eq(domain(text), 0);
    name[XL_NAME_MAX - 1] = 'n';
    name[XL_NAME_MAX] = '\0';
    snprintf(text, sizeof(text), "name='%s'\nkernel='/k'\n", name);
    expect_domain_error(text, "line 1: 'name' is too long (at most 63 characters)");
    char extra[XL_CMDLINE_MAX + 1];
    memset(extra, 'e', sizeof(extra));
    extra[XL_CMDLINE_MAX - 1] = '\0';
    snprintf(text, sizeof(text), "name='a'\nkernel='/k'\nextra='%s'\n", extra);
    ck_assert_int_eq(domain(text), 0);
    ck_assert_uint_eq(strlen(dom.cmdline), XL_CMDLINE_MAX - 1);
    snprintf(text, sizeof(text), "name='a'\nkernel='/k'\nroot='/r'\nextra='%s'\n", extra);
    expect_domain_error(text, "line 4: 'root' and 'extra' together are too long (at most 1023 characters)");
}
END_TEST

static uint64_t rng_state;
static uint64_t rnd(void)
{
    rng_state ^= rng_state >> 12;
    rng_state ^= rng_state << 25;
    rng_state ^= rng_state >> 27;
    return rng_state * 0x2545f4914f6cdd1dULL;
}

START_TEST(mutation)
{
    static const char base[] = "# victim\nname = 'victim'\nkernel = \"/usr/lib/lamina/guests/victim.elf\"\n"
                               "memory = 16; vcpus = 1\nextra = 'seconds=3 \\x41'\n"
                               "disk = [ 'a', [1, 0x2], ]\non_crash = 'preserve'\n";
    static const char alphabet[] = "'\"[],;#=\\\n \t0x9aZ_\r";
    char buf[sizeof(base) + 8];
    unsigned parsed = 0, failed = 0;

    rng_state = 0x786c63666721ULL;
    for (unsigned round = 0; round < 20000; round++) {
        size_t len = sizeof(base) - 1;
        memcpy(buf, base, len);
        unsigned nr = 1 + (unsigned)(rnd() % 3);
        for (unsigned i = 0; i < nr && len; i++) {
            size_t at = (size_t)(rnd() % len);
            switch (rnd() % 4) {
            case 0:
                buf[at] = (char)rnd();
                break;
            case 1:
                buf[at] = alphabet[rnd() % (sizeof(alphabet) - 1)];
                break;
            case 2:
                len = at;
                break;
            default: /* delete a byte */
                memmove(buf + at, buf + at + 1, len - at - 1);
                len--;
                break;
            }
        }
        char *copy = malloc(len ? len : 1);
        memcpy(copy, buf, len);
        xlcfg_init(&cfg);
        ck_assert_int_eq(xlcfg_parse(&cfg, "name = 'keep'\n", 14, &err), 0);
        memcpy(&snapshot, &cfg, sizeof(cfg));
        int rc = xlcfg_parse(&cfg, copy, len, &err);
        free(copy);
        if (rc) {
            failed++;
            FAST_ASSERT(rc == -1 && strncmp(err.msg, "line ", 5) == 0 && err.line >= 1);
            FAST_ASSERT(memchr(err.msg, '\0', sizeof(err.msg)) != NULL);
            FAST_ASSERT(memcmp(&snapshot, &cfg, sizeof(cfg)) == 0);
            continue;
        }
        parsed++;
        for (unsigned i = 0; i < cfg.nr; i++) {
            const struct xlcfg_setting *s = &cfg.settings[i];
            FAST_ASSERT(memchr(s->key, '\0', sizeof(s->key)) != NULL && s->key[0]);
            if (s->type != XLCFG_NUMBER)
                FAST_ASSERT(s->off + s->len < cfg.pool_used && cfg.pool[s->off + s->len] == '\0');
        }
        struct xl_domain_config d;
        if (xlcfg_domain(&cfg, &d, &err) == 0) {
            FAST_ASSERT(d.name[0] && strlen(d.name) < sizeof(d.name));
            FAST_ASSERT(strlen(d.cmdline) < sizeof(d.cmdline) && d.vcpus == 1);
        }
    }
    ck_assert_uint_gt(parsed, 1000);
    ck_assert_uint_gt(failed, 1000);
}
END_TEST

static Suite *xlcfg_suite(void)
{
    Suite *s = suite_create("xlcfg");
    TCase *syn = tcase_create("syntax");
    tcase_add_test(syn, syntax);
    tcase_add_test(syn, later_settings_win);
    tcase_add_test(syn, empty_inputs);
    tcase_add_test(syn, syntax_errors);
    tcase_add_test(syn, nul_byte_in_text);
    tcase_add_test(syn, list_errors);
    tcase_add_test(syn, failed_parse_changes_nothing);
    tcase_add_test(syn, limits);
    tcase_add_test(syn, overrides);
    suite_add_tcase(s, syn);

    TCase *dom_tc = tcase_create("domain");
    tcase_add_test(dom_tc, domain_config);
    tcase_add_test(dom_tc, domain_errors);
    suite_add_tcase(s, dom_tc);

    TCase *fuzz = tcase_create("mutation");
    tcase_set_timeout(fuzz, 300);
    tcase_add_test(fuzz, mutation);
    suite_add_tcase(s, fuzz);
    return s;
}

UNIT_MAIN(xlcfg_suite)
