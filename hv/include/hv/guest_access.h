/* SPDX-License-Identifier: MIT */
/*
 * Reading and writing guest memory by guest virtual address, through the
 * current vCPU's page tables. Every address a guest passes is checked here:
 * canonical, no wrap, and nowhere inside the hypervisor's reserved range
 * (xen-pv-abi.md §2 "Guest-pointer checks"). Faults are caught by the
 * exception table and reported as -EFAULT; CR0.WP makes read-only guest
 * mappings (its page tables) unwritable for us too. Read a guest argument
 * once, into hypervisor memory, and validate the copy.
 */
#ifndef HV_GUEST_ACCESS_H
#define HV_GUEST_ACCESS_H
#include <hv/lib.h>
#include <asm/page.h>

size_t copy_guest_bytes(void *dst, const void *src, size_t n);

static inline bool guest_range_ok(uint64_t va, uint64_t len)
{
    if (len == 0)
        return true;
    uint64_t last = va + len - 1;
    if (last < va || !va_is_canonical(va) || !va_is_canonical(last) || (va >> 63) != (last >> 63))
        return false;
    return last < HYPERVISOR_VIRT_START || va >= HYPERVISOR_VIRT_END;
}

static inline __must_check int copy_from_guest(void *dst, uint64_t src, size_t len)
{
    if (!guest_range_ok(src, len))
        return -XEN_EFAULT;
    return copy_guest_bytes(dst, (const void *)src, len) ? -XEN_EFAULT : 0;
}

static inline __must_check int copy_to_guest(uint64_t dst, const void *src, size_t len)
{
    if (!guest_range_ok(dst, len))
        return -XEN_EFAULT;
    return copy_guest_bytes((void *)dst, src, len) ? -XEN_EFAULT : 0;
}

#endif
