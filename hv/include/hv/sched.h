/* SPDX-License-Identifier: MIT */
/*
 * Domains and virtual CPUs. A vCPU's guest registers live at the top of the
 * per-CPU stack while it runs and in vcpu->regs otherwise; context_switch()
 * moves them. Everything here is touched with interrupts off (single pCPU).
 */
#ifndef HV_SCHED_H
#define HV_SCHED_H
#include <hv/lib.h>
#include <hv/mm.h>
#include <hv/time.h>
#include <hv/console.h>
#include <asm/regs.h>
#include <public/vcpu.h>
#include <public/event_channel.h>

#define MAX_VCPUS_PER_DOMAIN 1    /* SMP guests arrive with the SMP issue */
#define MAX_DOMAINS 256
#define GNTTAB_MAX_FRAMES 64       /* Xen's default gnttab_max_frames */

enum evtchn_state {
    ECS_FREE = 0, ECS_RESERVED, ECS_UNBOUND, ECS_INTERDOMAIN, ECS_VIRQ, ECS_IPI,
};

struct active_grant;
struct grant_mapping;

struct evtchn {
    uint8_t state;           /* enum evtchn_state */
    uint8_t notify_vcpu;
    uint16_t remote_domid;   /* UNBOUND: who may bind; INTERDOMAIN: the peer */
    uint32_t remote_port;    /* INTERDOMAIN */
    uint32_t virq;           /* VIRQ */
};

struct vcpu {
    /* FXSAVE image of the guest's x87/SSE state while it is not running
     * (first: FXSAVE needs 16-byte alignment and vcpus are page-aligned). */
    uint8_t fpu_state[512] __attribute__((aligned(16)));
    struct domain *domain;
    unsigned vcpu_id;
    struct cpu_regs regs;            /* valid while not running */
    bool is_initialised;             /* has a context (VCPUOP_initialise or builder) */
    bool is_up;                      /* not VCPUOP_down */
    bool is_blocked;                 /* SCHEDOP_block / poll, until an event */
    bool is_running;
    bool in_kernel;                  /* guest kernel mode (§4.2) */
    bool virtual_ts;                 /* fpu_taskswitch (§4.7) */
    uint8_t iopl;                    /* virtual IOPL (PHYSDEVOP_set_iopl) */

    mfn_t guest_table;               /* kernel L4, holds an L4 type ref */
    mfn_t guest_table_user;          /* user L4 or 0 */
    uint64_t fs_base, gs_base_kernel, gs_base_user;
    uint16_t ds, es, fs, gs;         /* selectors, saved at context switch */
    uint64_t kernel_ss, kernel_sp;   /* stack_switch */
    uint64_t debugreg[8];            /* virtual DR0-3, DR6, DR7 (not yet loaded into hardware) */
    mfn_t gdt_frames[16];            /* set_gdt: each holds a seg_desc type ref */
    unsigned gdt_ents;
    /* MMUEXT_SET_LDT: the guest's LDT address and size. Its frames are taken
     * lazily, on first use (xen-pv-abi.md §4.7); while ldt_loaded, each of
     * the ldt_frames covering ldt_ents holds a seg_desc type ref. */
    uint64_t ldt_base;
    unsigned ldt_ents;
    bool ldt_loaded;
    mfn_t ldt_frames[16];

    struct trap_info trap_ctxt[256];
    uint64_t event_callback, failsafe_callback, syscall_callback;
    bool failsafe_masks, syscall_masks;

    struct vcpu_info *vcpu_info;     /* hypervisor VA (shared_info slot or registered) */
    mfn_t vcpu_info_mfn;             /* registered frame (holds a writable ref) or INVALID */
    uint64_t runstate_guest;         /* guest VA of the runstate area, 0 = none */
    struct vcpu_runstate_info runstate;

    struct timer singleshot_timer;
    struct timer periodic_timer;
    uint64_t periodic_period_ns;
    int virq_to_port[NR_VIRQS];

    uint32_t poll_ports[8];          /* SCHEDOP_poll: ports being waited for */
    unsigned nr_poll_ports;
    struct timer poll_timer;

    struct vcpu *runq_next;
};

struct domain {
    domid_t domain_id;
    bool is_privileged;
    bool is_shut_down;               /* shut down or crashed; never runs again */
    bool is_dying;                   /* being destroyed: unreachable by id */
    unsigned pause_count;            /* runs only at 0; new domUs start at 1 */
    uint64_t cpu_time_ns;
    unsigned shutdown_reason;
    uint64_t vm_assist;              /* bitmap of VMASST_TYPE_* */

    struct shared_info *shared_info;
    mfn_t shared_info_mfn;

    struct vcpu *vcpus[MAX_VCPUS_PER_DOMAIN];
    unsigned max_vcpus;

    unsigned long tot_pages, max_pages;
    uint32_t page_list_head;         /* frames owned, linked through page_info.next */

    struct evtchn *evtchn;           /* NR_EVENT_CHANNELS entries */

    mfn_t gnttab_frames[GNTTAB_MAX_FRAMES];   /* v1 table, shared with the domain */
    unsigned gnttab_nr_frames;
    struct active_grant *gnttab_active[GNTTAB_MAX_FRAMES];  /* one page per table frame */
    struct grant_mapping **maptrack;  /* page of maptrack frame pointers (hv/gnttab.h) */
    unsigned maptrack_frames;
    uint32_t maptrack_free;           /* 1 + first free handle, 0 = none */

    struct console_line con_line;    /* partial console_io line (domUs) */

    uint64_t mem_map_pages;          /* XENMEM_memory_map: one RAM entry of this size, 0 = none */
    uint32_t pci_cf8;                /* PCI config address latch (pv/io.c; privileged domain) */
    uint64_t hypercall_page_mfn;
};

extern struct domain *domain_list[MAX_DOMAINS];
static inline struct vcpu *current_vcpu(void);
struct domain *domain_create(domid_t id, bool privileged);
struct domain *domain_by_id(domid_t id);     /* NULL if absent or being destroyed */
/* Releases everything a shut-down domain holds and frees its id. */
void domain_destroy(struct domain *d);
/* noreboot on the command line: halt rather than reset when dom0 goes. */
extern bool opt_noreboot;
/* Stops the domain for good: prints why, tears down what it holds. */
void domain_shutdown(struct domain *d, unsigned reason);
void domain_crash(struct domain *d, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
int domain_assign_page(struct domain *d, mfn_t mfn);
const char *shutdown_reason_name(unsigned reason);

void vcpu_wake(struct vcpu *v);
void vcpu_block(struct vcpu *v);
void vcpu_kick(struct vcpu *v);
void sched_add_vcpu(struct vcpu *v);
void sched_remove_vcpu(struct vcpu *v);
void sched_kick_domain(struct domain *d);
void sched_yield(void);
void sched_start(void) __noreturn;
void vcpu_update_time(struct vcpu *v);
void vcpu_update_runstate(struct vcpu *v, unsigned state);

/* Event channels (common/evtchn.c). */
int evtchn_init(struct domain *d);
void evtchn_destroy(struct domain *d);
void evtchn_set_pending(struct vcpu *v, unsigned port);
void send_guest_vcpu_virq(struct vcpu *v, unsigned virq);
void send_guest_global_virq(struct domain *d, unsigned virq);
void gnttab_destroy(struct domain *d);
int evtchn_alloc_unbound_port(struct domain *d, domid_t remote, uint32_t *port);
long do_event_channel_op(uint64_t cmd, uint64_t arg);

#include <asm/cpu.h>
static inline struct vcpu *current_vcpu(void) { return this_cpu()->current; }
static inline struct domain *current_domain(void) { return this_cpu()->current->domain; }

#endif
