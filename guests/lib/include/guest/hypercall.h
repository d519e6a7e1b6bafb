/* SPDX-License-Identifier: MIT */
/*
 * Hypercalls from a 64-bit PV guest kernel (xen-pv-abi.md §1.1): `syscall`
 * with the number in rax and arguments in rdi, rsi, rdx, r10, r8. The
 * hypervisor may clobber every argument register as well as rcx and r11, so
 * all of them are declared as outputs; only rax carries a result.
 */
#ifndef GUEST_HYPERCALL_H
#define GUEST_HYPERCALL_H
#include <stdint.h>
#include <public/xen.h>
#include <public/sched.h>
#include <public/event_channel.h>
#include <public/vcpu.h>
#include <public/version.h>
#include <public/memory.h>
#include <public/callback.h>
#include <public/physdev.h>
#include <public/grant_table.h>

static inline long hypercall5(uint64_t nr, uint64_t a1, uint64_t a2, uint64_t a3,
                              uint64_t a4, uint64_t a5)
{
    register uint64_t r10 __asm__("r10") = a4;
    register uint64_t r8 __asm__("r8") = a5;
    uint64_t rax = nr;

    __asm__ volatile("syscall"
                     : "+a"(rax), "+D"(a1), "+S"(a2), "+d"(a3), "+r"(r10), "+r"(r8)
                     :
                     : "rcx", "r11", "memory");
    return (long)rax;
}

#define HC_ARG(x) ((uint64_t)(uintptr_t)(x))
#define hypercall0(nr) hypercall5((nr), 0, 0, 0, 0, 0)
#define hypercall1(nr, a) hypercall5((nr), HC_ARG(a), 0, 0, 0, 0)
#define hypercall2(nr, a, b) hypercall5((nr), HC_ARG(a), HC_ARG(b), 0, 0, 0)
#define hypercall3(nr, a, b, c) hypercall5((nr), HC_ARG(a), HC_ARG(b), HC_ARG(c), 0, 0)
#define hypercall4(nr, a, b, c, d) \
    hypercall5((nr), HC_ARG(a), HC_ARG(b), HC_ARG(c), HC_ARG(d), 0)

static inline long hyp_set_trap_table(const struct trap_info *table)
{
    return hypercall1(__HYPERVISOR_set_trap_table, table);
}

static inline long hyp_mmu_update(const struct mmu_update *req, unsigned count,
                                  unsigned *done, unsigned foreigndom)
{
    return hypercall4(__HYPERVISOR_mmu_update, req, count, done, foreigndom);
}

static inline long hyp_mmuext_op(const struct mmuext_op *op, unsigned count,
                                 unsigned *done, unsigned foreigndom)
{
    return hypercall4(__HYPERVISOR_mmuext_op, op, count, done, foreigndom);
}

static inline long hyp_update_va_mapping(uint64_t va, uint64_t pte, uint64_t flags)
{
    return hypercall3(__HYPERVISOR_update_va_mapping, va, pte, flags);
}

static inline long hyp_memory_op(unsigned cmd, void *arg)
{
    return hypercall2(__HYPERVISOR_memory_op, cmd, arg);
}

static inline long hyp_xen_version(int cmd, void *arg)
{
    return hypercall2(__HYPERVISOR_xen_version, (unsigned)cmd, arg);
}

static inline long hyp_console_io(unsigned cmd, unsigned count, const void *buf)
{
    return hypercall3(__HYPERVISOR_console_io, cmd, count, buf);
}

static inline long hyp_sched_op(int cmd, void *arg)
{
    return hypercall2(__HYPERVISOR_sched_op, (unsigned)cmd, arg);
}

static inline long hyp_vcpu_op(int cmd, unsigned vcpu, void *arg)
{
    return hypercall3(__HYPERVISOR_vcpu_op, (unsigned)cmd, vcpu, arg);
}

static inline long hyp_event_channel_op(int cmd, void *arg)
{
    return hypercall2(__HYPERVISOR_event_channel_op, (unsigned)cmd, arg);
}

static inline long hyp_callback_op(int cmd, const void *arg)
{
    return hypercall2(__HYPERVISOR_callback_op, (unsigned)cmd, arg);
}

static inline long hyp_physdev_op(int cmd, void *arg)
{
    return hypercall2(__HYPERVISOR_physdev_op, (unsigned)cmd, arg);
}

static inline long hyp_fpu_taskswitch(int set)
{
    return hypercall1(__HYPERVISOR_fpu_taskswitch, (unsigned)set);
}

static inline long hyp_set_debugreg(int reg, uint64_t value)
{
    return hypercall2(__HYPERVISOR_set_debugreg, (unsigned)reg, value);
}

static inline long hyp_get_debugreg(int reg)
{
    return hypercall1(__HYPERVISOR_get_debugreg, (unsigned)reg);
}

static inline long hyp_vm_assist(unsigned cmd, unsigned type)
{
    return hypercall2(__HYPERVISOR_vm_assist, cmd, type);
}

static inline long hyp_set_segment_base(unsigned which, uint64_t base)
{
    return hypercall2(__HYPERVISOR_set_segment_base, which, base);
}

/* grant_table_op (#20): `count` operations of the type `cmd` names; each
 * op has its own status (GNTST_*), the return value is for the call. */
static inline long hyp_grant_table_op(unsigned cmd, void *ops, unsigned count)
{
    return hypercall3(__HYPERVISOR_grant_table_op, cmd, ops, count);
}

static inline long hyp_shutdown(unsigned reason)
{
    struct sched_shutdown arg = { .reason = reason };
    return hyp_sched_op(SCHEDOP_shutdown, &arg);
}

#endif
