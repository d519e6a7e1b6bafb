/* SPDX-License-Identifier: MIT */
#include <lamina/fmt.h>
#include "xs_domain.h"
#include "../xenstored/xenstored.h"

void xs_forget_domain(domid_t domid)
{
    char path[32];
    /* -ENOENT (never introduced, or already released) is fine here. */
    (void)xs_domain_release(domid);
    fmt_snprintf(path, sizeof(path), "/local/domain/%u", domid);
    (void)xenstored_rm(path);
}
