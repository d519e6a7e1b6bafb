/* SPDX-License-Identifier: MIT */
/* System control for dom0's toolstack (include/public/sysctl.h): the
 * machine's facts for `xl info` and the hypervisor's log for `xl dmesg`. */
#include <hv/hypercall.h>
#include <hv/sched.h>
#include <hv/guest_access.h>
#include <public/sysctl.h>

static long read_console(struct xen_sysctl_readconsole *rc)
{
    char chunk[256];
    uint32_t done = 0;
    if (!guest_range_ok(rc->buffer, rc->count))
        return -XEN_EFAULT;
    while (done < rc->count) {
        size_t n = console_history_read(&rc->index, chunk, MIN(sizeof(chunk), (size_t)(rc->count - done)));
        if (!n)
            break;
        if (copy_to_guest(rc->buffer + done, chunk, n))
            return -XEN_EFAULT;
        done += (uint32_t)n;
    }
    rc->count = done;
    return 0;
}

long do_sysctl(uint64_t arg)
{
    struct xen_sysctl op;
    if (!current_domain()->is_privileged)
        return -XEN_EPERM;
    if (copy_from_guest(&op, arg, sizeof(op)))
        return -XEN_EFAULT;
    if (op.interface_version != LAMINA_SYSCTL_INTERFACE_VERSION)
        return -XEN_EACCES;
    long rc;
    switch (op.cmd) {
    case XEN_SYSCTL_readconsole:
        rc = read_console(&op.u.readconsole);
        break;
    case XEN_SYSCTL_physinfo:
        memset(&op.u.physinfo, 0, sizeof(op.u.physinfo));
        op.u.physinfo.nr_cpus = 1;
        op.u.physinfo.threads_per_core = 1;
        op.u.physinfo.cores_per_socket = 1;
        op.u.physinfo.nr_nodes = 1;
        op.u.physinfo.cpu_khz = (uint32_t)tsc_khz();
        op.u.physinfo.total_pages = total_ram_frames();
        op.u.physinfo.free_pages = free_frame_count();
        op.u.physinfo.max_mfn = max_mfn;
        rc = 0;
        break;
    default:
        return -XEN_ENOSYS;
    }
    if (rc)
        return rc;
    return copy_to_guest(arg, &op, sizeof(op));
}
