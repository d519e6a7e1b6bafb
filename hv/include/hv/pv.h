/* SPDX-License-Identifier: MIT */
/* The PV CPU and MMU interfaces used across the hypervisor. */
#ifndef HV_PV_H
#define HV_PV_H
#include <hv/sched.h>

#define TRAP_divide_error 0
#define TRAP_debug 1
#define TRAP_nmi 2
#define TRAP_int3 3
#define TRAP_overflow 4
#define TRAP_invalid_op 6
#define TRAP_no_device 7
#define TRAP_double_fault 8
#define TRAP_gp_fault 13
#define TRAP_page_fault 14

/* Delivers an exception to the guest's handler (crashes the domain if it has
 * none). Returns false if the domain crashed. */
bool pv_inject_trap(struct vcpu *v, struct cpu_regs *regs, unsigned vector, bool has_error,
                    uint32_t error_code);
void pv_handle_exception(struct cpu_regs *regs);
void pv_toggle_guest_mode(struct vcpu *v);
void pv_set_virtual_ts(struct vcpu *v, bool ts);
bool pv_emulate_privileged(struct vcpu *v, struct cpu_regs *regs);
bool pv_emulate_invalid_op(struct vcpu *v, struct cpu_regs *regs);
/* in/out of `size` bytes at `port` (pv/io.c); false: the guest's own #GP. */
bool pv_emulate_io(struct vcpu *v, struct cpu_regs *regs, unsigned port, unsigned size, bool in);
void pv_cpuid(struct vcpu *v, uint32_t leaf, uint32_t sub, uint32_t res[4]);
/* PV MMU (arch/x86_64/pv/mm.c). */
int pv_get_page_type(struct page_info *pg, unsigned type, struct domain *d);
void pv_put_page_type(struct page_info *pg);
bool pv_get_page(struct page_info *pg, struct domain *d);
void pv_put_page(struct page_info *pg);
int pv_pin_table(struct domain *d, mfn_t mfn, unsigned type);
int pv_set_baseptr(struct vcpu *v, mfn_t mfn, bool user);
void pv_write_hypercall_page(uint8_t *page);
struct page_info *pv_l1_for_va(struct vcpu *v, uint64_t va, uint64_t *l1e);
int pv_mod_l1_entry(struct page_info *l1, unsigned index, uint64_t val, struct domain *d);
uint64_t *pv_grant_l1_slot(struct vcpu *v, uint64_t addr, bool is_maddr);
void pv_grant_l1_write(uint64_t *slot, uint64_t val);
bool pv_ptwr_emulate(struct vcpu *v, struct cpu_regs *regs, uint64_t cr2, uint32_t err);
/* Guest GDTs and LDTs (arch/x86_64/pv/descriptor.c). */
int pv_validate_seg_desc_page(mfn_t mfn);
void pv_load_gdt(struct vcpu *v, unsigned prev_ents);
void pv_load_ldt(struct vcpu *v);
long pv_set_ldt(struct vcpu *v, uint64_t base, unsigned ents);
bool pv_ldt_fault(struct vcpu *v, uint32_t error_code);
void pv_vcpu_release_desc_tables(struct vcpu *v);
/* May take v's LDT frames (so v is not const). */
bool pv_selector_usable(struct vcpu *v, uint16_t sel, bool code);

#endif
