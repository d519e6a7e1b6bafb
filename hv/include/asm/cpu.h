/* SPDX-License-Identifier: MIT */
/* Per-CPU state and descriptor tables. */
#ifndef ASM_CPU_H
#define ASM_CPU_H
#include <hv/lib.h>
#include <asm/regs.h>

/* Hypervisor selectors live in Xen's reserved GDT page (xen-pv-abi.md §4.1). */
#define HV_CS   0xe008
#define HV_DS   0xe010
#define HV_TSS  0xe040
#define HV_LDT  0xe050
#define LDT_MAX_ENTS 8192    /* MMUEXT_SET_LDT's limit: 16 pages */
#define GDT_ENTRIES (FIRST_RESERVED_GDT_ENTRY + 512)

struct tss64 {
    uint32_t reserved0;
    uint64_t rsp[3];
    uint64_t reserved1;
    uint64_t ist[7];
    uint64_t reserved2;
    uint16_t reserved3;
    uint16_t iomap_base;
} __packed;

struct vcpu;

/* Field order up to guest_rsp is fixed by PERCPU_* in asm/regs.h. */
struct percpu {
    struct percpu *self;
    uint64_t stack_top;        /* where the register frame of a guest entry ends */
    uint64_t guest_rsp;        /* scratch for the syscall entry */
    unsigned cpu_id;
    struct vcpu *current;      /* the vCPU whose frame is on this stack, or NULL */
    struct tss64 tss;
};
_Static_assert(offsetof(struct percpu, stack_top) == PERCPU_STACK_TOP, "stack_top");
_Static_assert(offsetof(struct percpu, guest_rsp) == PERCPU_GUEST_RSP, "guest_rsp");

static inline struct percpu *this_cpu(void)
{
    struct percpu *p;
    __asm__ volatile("mov %%gs:0, %0" : "=r"(p));
    return p;
}

/* The guest register frame of the current entry (top of the stack). */
static inline struct cpu_regs *guest_regs(void)
{
    return (struct cpu_regs *)(this_cpu()->stack_top - sizeof(struct cpu_regs));
}

void cpu_init_bsp(void);
/* This CPU's GDT: guest descriptors below FIRST_RESERVED_GDT_ENTRY, ours above. */
uint64_t *cpu_gdt(void);
bool cpu_has_smep(void);
/* This CPU's LDT (LDT_MAX_ENTS entries): the hypervisor copies the running
 * vCPU's LDT here, as it does for the GDT. */
uint64_t *cpu_ldt(void);
/* Loads the first `ents` entries of cpu_ldt() as the LDT; 0 loads none. */
void cpu_load_ldt(unsigned ents);

#endif
