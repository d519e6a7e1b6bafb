/* SPDX-License-Identifier: MIT */
/* The virtual IDT and the C side of the entry stubs in trap_entry.S. */
#include <guest/events.h>
#include <guest/hypercall.h>
#include <guest/runtime.h>
#include <guest/traps.h>

#define NR_VECTORS 256
#define EVENT_VECTOR 256            /* what trap_entry.S pushes for an upcall */
#define TRAP_FLAG_MASK_EVENTS 4     /* trap_info.flags bit 2 (§4.3) */

extern const uint64_t trap_stubs[NR_VECTORS];
extern const char probe_read_at[], probe_read_done[];
extern const char probe_write_at[], probe_write_done[];

static trap_handler_fn handlers[NR_VECTORS];
static bool is_installed[NR_VECTORS];
static uint8_t vector_dpl[NR_VECTORS];
/* One entry per vector plus the terminator (address 0). */
static struct trap_info table[NR_VECTORS + 1];

struct probe_fault probe_fault;

static long reload_table(void)
{
    unsigned n = 0;

    for (unsigned v = 0; v < NR_VECTORS; v++) {
        if (!is_installed[v])
            continue;
        table[n] = (struct trap_info){
            .vector = (uint8_t)v,
            .flags = (uint8_t)(vector_dpl[v] | TRAP_FLAG_MASK_EVENTS),
            .cs = FLAT_KERNEL_CS,
            .address = trap_stubs[v],
        };
        n++;
    }
    table[n] = (struct trap_info){ 0 };
    return hyp_set_trap_table(table);
}

long traps_install(void)
{
    for (unsigned v = 0; v < 32; v++) {
        is_installed[v] = true;
        vector_dpl[v] = (v == TRAP_BP || v == 4) ? 3 : 0;
    }
    return reload_table();
}

long traps_set_vector(unsigned vector, unsigned dpl, trap_handler_fn handler)
{
    if (vector >= NR_VECTORS)
        return -XEN_EINVAL;
    is_installed[vector] = true;
    vector_dpl[vector] = (uint8_t)(dpl & 3);
    handlers[vector] = handler;
    return reload_table();
}

long traps_clear_vector(unsigned vector)
{
    if (vector >= NR_VECTORS)
        return -XEN_EINVAL;
    is_installed[vector] = false;
    handlers[vector] = NULL;
    return reload_table();
}

void traps_set_handler(unsigned vector, trap_handler_fn handler)
{
    if (vector < NR_VECTORS)
        handlers[vector] = handler;
}

uint64_t trap_cr2(void)
{
    return vcpu0->arch.cr2;
}

/* A fault inside one of the probe instructions resumes at its fixup. */
static bool apply_probe_fixup(struct trap_frame *f)
{
    const char *resume;

    if (f->rip == (uint64_t)(uintptr_t)probe_read_at)
        resume = probe_read_done;
    else if (f->rip == (uint64_t)(uintptr_t)probe_write_at)
        resume = probe_write_done;
    else
        return false;
    probe_fault.vector = f->vector;
    probe_fault.error_code = f->error_code;
    probe_fault.cr2 = f->vector == TRAP_PF ? trap_cr2() : 0;
    f->rax = f->vector + 1;
    f->rip = (uint64_t)(uintptr_t)resume;
    return true;
}

void trap_dispatch(struct trap_frame *f);
void trap_dispatch(struct trap_frame *f)
{
    if (f->vector == EVENT_VECTOR) {
        events_dispatch();
    } else if (!apply_probe_fixup(f)) {
        trap_handler_fn h = f->vector < NR_VECTORS ? handlers[f->vector] : NULL;
        if (!h || !h(f))
            runtime_panic("unhandled trap: vector %lu error 0x%lx rip 0x%lx cs 0x%lx cr2 0x%lx\n",
                          f->vector, f->error_code, f->rip, f->cs,
                          f->vector == TRAP_PF ? trap_cr2() : 0UL);
    }
    /* Bits 32-39 of the bounce frame's cs carry the old event mask (§4.4);
     * hand iret a plain selector. */
    f->cs &= 0xffff;
}
