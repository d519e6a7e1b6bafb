/* SPDX-License-Identifier: MIT */
/* xenstore-read, xenstore-write and xenstore-ls for dom0's shell; see xs_cmd.h. */
#include <lamina/fmt.h>
#include <lamina/string.h>
#include <public/errno.h>
#include "../kernel/console.h"
#include "../toolstack/domctl.h"
#include "xenstored.h"
#include "xs_cmd.h"

#define XS_CMD_PATH_MAX 256
#define XS_CMD_VALUE_MAX 256
#define XS_CMD_DEPTH_MAX 12

void cmd_xenstore_read(int argc, char **argv)
{
    if (argc < 2) {
        con_printf("Usage: xenstore-read PATH...\n");
        return;
    }
    for (int i = 1; i < argc; i++) {
        char v[XS_CMD_VALUE_MAX];
        long rc = xenstored_read_str(argv[i], v, sizeof(v));
        if (rc) {
            con_printf("xenstore-read: couldn't read path %s (%s)\n", argv[i], xen_errno_name(rc));
            return;
        }
        con_printf("%s\n", v);
    }
}

void cmd_xenstore_write(int argc, char **argv)
{
    if (argc < 3 || argc % 2 == 0) {
        con_printf("Usage: xenstore-write PATH VALUE [PATH VALUE]...\n");
        return;
    }
    for (int i = 1; i + 1 < argc; i += 2) {
        long rc = xenstored_write_str(argv[i], argv[i + 1]);
        if (rc) {
            con_printf("xenstore-write: could not write path %s (%s)\n", argv[i], xen_errno_name(rc));
            return;
        }
    }
}

/* One node and its children, indented one space per level, as xenstore-ls
 * prints them: name = "value". */
static void list_node(char *path, size_t len, const char *name, unsigned depth)
{
    char v[XS_CMD_VALUE_MAX];
    if (xenstored_read_str(path, v, sizeof(v)))
        v[0] = '\0';
    if (name)
        con_printf("%*s%s = \"%s\"\n", (int)(depth - 1), "", name, v);
    char kids[1024];
    size_t klen = 0;
    if (depth >= XS_CMD_DEPTH_MAX || xenstored_directory(path, kids, sizeof(kids), &klen))
        return;
    for (size_t off = 0; off < klen;) {
        const char *kid = kids + off;
        size_t n = strlen(kid);
        off += n + 1;
        int w = fmt_snprintf(path + len, XS_CMD_PATH_MAX - len, "%s%s", len > 1 ? "/" : "", kid);
        if (w < 0 || (size_t)w >= XS_CMD_PATH_MAX - len)
            continue;
        list_node(path, len + (size_t)w, kid, depth + 1);
        path[len] = '\0';
    }
}

void cmd_xenstore_ls(int argc, char **argv)
{
    char path[XS_CMD_PATH_MAX];
    int n = fmt_snprintf(path, sizeof(path), "%s", argc > 1 ? argv[1] : "/");
    if (n <= 0 || (size_t)n >= sizeof(path)) {
        con_printf("Usage: xenstore-ls [PATH]\n");
        return;
    }
    list_node(path, (size_t)n, NULL, 0);
}
