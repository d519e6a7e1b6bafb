/* SPDX-License-Identifier: MIT */
/* Hypercall handlers: `do_<name>` takes the raw argument registers (rdi, rsi,
 * rdx, r10, r8 as xen-pv-abi.md §1.1 orders them) and returns 0, a positive
 * value, or -XEN_E*. Privilege is checked inside each handler, in one place. */
#ifndef HV_HYPERCALL_H
#define HV_HYPERCALL_H
#include <hv/lib.h>
#include <asm/regs.h>

typedef long (*hypercall_fn)(uint64_t a1, uint64_t a2, uint64_t a3, uint64_t a4, uint64_t a5);

void do_hypercall(struct cpu_regs *regs);
long hypercall_dispatch(uint64_t nr, const uint64_t args[5]);
bool hypercall_can_continue(void);

long do_set_trap_table(uint64_t table);
long do_mmu_update(uint64_t reqs, uint64_t count, uint64_t done, uint64_t foreigndom);
long do_stack_switch(uint64_t ss, uint64_t sp);
long do_set_callbacks(uint64_t event, uint64_t failsafe, uint64_t syscall);
long do_fpu_taskswitch(uint64_t set);
long do_set_debugreg(uint64_t reg, uint64_t value);
long do_get_debugreg(uint64_t reg);
long do_memory_op(uint64_t cmd, uint64_t arg);
long do_multicall(uint64_t list, uint64_t count);
long do_update_va_mapping(uint64_t va, uint64_t val, uint64_t flags);
long do_set_timer_op(uint64_t timeout);
long do_xen_version(uint64_t cmd, uint64_t arg);
long do_console_io(uint64_t cmd, uint64_t count, uint64_t buf);
long do_grant_table_op(uint64_t cmd, uint64_t ops, uint64_t count);
long do_vm_assist(uint64_t cmd, uint64_t type);
long do_iret(void);
long do_vcpu_op(uint64_t cmd, uint64_t vcpuid, uint64_t arg);
long do_set_segment_base(uint64_t which, uint64_t base);
long do_mmuext_op(uint64_t ops, uint64_t count, uint64_t done, uint64_t foreigndom);
long do_sched_op(uint64_t cmd, uint64_t arg);
long do_callback_op(uint64_t cmd, uint64_t arg);
long do_event_channel_op(uint64_t cmd, uint64_t arg);
long do_physdev_op(uint64_t cmd, uint64_t arg);
long do_domctl(uint64_t arg);
long do_sysctl(uint64_t arg);
long do_set_gdt(uint64_t frame_list, uint64_t entries);
long do_update_descriptor(uint64_t maddr, uint64_t desc);
long do_grant_table_op(uint64_t cmd, uint64_t ops, uint64_t count);
long do_update_va_mapping_otherdomain(uint64_t va, uint64_t val, uint64_t flags, uint64_t domid);

#endif
