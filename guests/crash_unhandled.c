/* SPDX-License-Identifier: MIT */
/*
 * crash_unhandled: a guest with no trap table touches hypervisor memory.
 * The #PF has no handler, so the hypervisor must crash the domain
 * (xen-pv-abi.md §4.3) and carry on itself. The line after the access must
 * never be printed.
 */
#include <guest/runtime.h>
#include <guest/test.h>

#define HV_IMAGE_VA 0xffff82d000100000UL

void kernel_main(void)
{
    test_begin("crash_unhandled");
    printf("crash_unhandled: reading hypervisor memory with no trap table\n");
    uint64_t v = *(volatile uint64_t *)HV_IMAGE_VA;
    printf("crash_unhandled: AFTER-FAULT survived the read (0x%lx): this line must not appear\n", v);
    test_finish();
}
