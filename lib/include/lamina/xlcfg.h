/* SPDX-License-Identifier: MIT */
/*
 * The subset of xl.cfg (xl's domain configuration files) that dom0's
 * toolstack understands today. Syntax: `key = value` settings, one per line
 * or separated by ';'; `#` starts a comment; values are strings in '...' or
 * "..." (C-style backslash escapes), unsigned numbers (decimal or 0x hex), or
 * lists [ v, v, ... ] which may span lines and are only kept as raw text for
 * now. A key set twice keeps its last value, so command-line overrides are
 * simply appended settings.
 *
 * Parsing is transactional: a file or override with any error leaves the
 * configuration exactly as it was, and the error names the line. Everything
 * lives in fixed-size structs (no allocation); builds freestanding and on the
 * host.
 */
#ifndef LAMINA_XLCFG_H
#define LAMINA_XLCFG_H
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <lamina/xl_disk.h>
#include <lamina/xl_vif.h>

#define XLCFG_KEY_MAX 32           /* identifier bytes, NUL included */
#define XLCFG_MAX_SETTINGS 64
#define XLCFG_POOL_SIZE 8192       /* decoded strings and raw lists, NULs included */
#define XLCFG_ERR_MAX 160

enum xlcfg_type {
    XLCFG_STRING = 1,
    XLCFG_NUMBER = 2,
    XLCFG_LIST = 3,
};

struct xlcfg_setting {
    char key[XLCFG_KEY_MAX];
    uint8_t type;                  /* enum xlcfg_type */
    unsigned line;                 /* 1-based; 0 for a command-line override */
    uint64_t number;               /* XLCFG_NUMBER */
    uint32_t off, len;             /* text in the pool (strings decoded, lists raw) */
};

struct xlcfg {
    unsigned nr;
    struct xlcfg_setting settings[XLCFG_MAX_SETTINGS];
    size_t pool_used;
    char pool[XLCFG_POOL_SIZE];
};

struct xlcfg_error {
    unsigned line;                 /* 0: not tied to a line of the file */
    char msg[XLCFG_ERR_MAX];       /* "line 3: ..." or "override 'x=y': ..." */
};

void xlcfg_init(struct xlcfg *cfg);

/* Appends the settings of a whole file (`len` bytes, need not be
 * NUL-terminated). Returns 0, or -1 with *err filled and cfg unchanged. */
int xlcfg_parse(struct xlcfg *cfg, const char *text, size_t len, struct xlcfg_error *err);

/* Appends one `key=value` given on xl's command line. The value is parsed as
 * in a file when it starts with a quote, a digit or '['; anything else is
 * taken literally as a string (so `name=web1` works without shell quoting).
 * Returns 0, or -1 with *err filled and cfg unchanged. */
int xlcfg_override(struct xlcfg *cfg, const char *assignment, struct xlcfg_error *err);

/* The last setting of `key`, or NULL. */
const struct xlcfg_setting *xlcfg_get(const struct xlcfg *cfg, const char *key);
/* The NUL-terminated text of a string or list setting. */
const char *xlcfg_text(const struct xlcfg *cfg, const struct xlcfg_setting *s);
/* Element `index` (from 0) of a list setting, which must be a string,
 * decoded into buf (NUL-terminated). Returns 0, 1 when the list has no
 * such element, or -1 when it is not a string or does not fit. */
int xlcfg_list_string(const struct xlcfg *cfg, const struct xlcfg_setting *s, unsigned index, char *buf,
                      size_t size);

/* What xl does when a domain shuts down (xl.cfg on_poweroff/on_reboot/on_crash). */
enum xl_action {
    XL_ACTION_DESTROY,
    XL_ACTION_RESTART,
    XL_ACTION_PRESERVE,
    XL_ACTION_RENAME_RESTART,
    XL_ACTION_COREDUMP_DESTROY,
    XL_ACTION_COREDUMP_RESTART,
    XL_ACTION_SOFT_RESET,
};

#define XL_NAME_MAX 64
#define XL_PATH_MAX 256
#define XL_CMDLINE_MAX 1024        /* start_info.cmd_line, NUL included */

/* A PV domain as xl create needs it. */
struct xl_domain_config {
    char name[XL_NAME_MAX];
    uint64_t memory_mib;
    unsigned vcpus;
    char kernel[XL_PATH_MAX];
    char ramdisk[XL_PATH_MAX];     /* "" when none */
    char cmdline[XL_CMDLINE_MAX];  /* `cmdline`, else "root=<root> <extra>" */
    uint8_t on_poweroff, on_reboot, on_crash;   /* enum xl_action */
    unsigned nr_disks;
    struct xl_disk disks[XL_MAX_DISKS];         /* `disk`, in order */
    unsigned nr_vifs;
    struct xl_vif vifs[XL_MAX_VIFS];            /* `vif`, in order; devid -1 and no MAC
                                                   until xl_vif_fill_defaults */
};

#define XL_DEFAULT_MEMORY_MIB 32   /* libxl's default for a PV guest without `memory` */

/*
 * Reads the keys xl create uses: name (required; letters, digits, '_', '-',
 * '.'; not only digits), kernel (required), memory (MiB), vcpus (must be 1
 * for now), ramdisk, cmdline, extra, root, on_poweroff (default destroy),
 * on_reboot (restart), on_crash (destroy), disk (xl_disk.h) and vif
 * (xl_vif.h; devids checked for reuse, auto ones left -1). Other keys are ignored, as xl
 * ignores keys it does not know. Returns 0, or -1 with *err naming the key
 * and its line; *out is only written on success.
 */
int xlcfg_domain(const struct xlcfg *cfg, struct xl_domain_config *out, struct xlcfg_error *err);

/* "destroy", "restart", ... as written in xl.cfg. */
const char *xl_action_name(unsigned action);

#endif
