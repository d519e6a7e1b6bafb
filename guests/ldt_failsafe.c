/* SPDX-License-Identifier: MIT */
/*
 * ldt_failsafe: a guest LDT (MMUEXT_SET_LDT, xen-pv-abi.md §4.7), whose
 * frames the hypervisor takes on first use and then keeps read-only, and
 * the failsafe callback (§4.4, §4.6), which reports a data selector the
 * hypervisor could not reload when it switched back to this vCPU.
 */
#include <guest/hypercall.h>
#include <guest/pvclock.h>
#include <guest/runtime.h>
#include <guest/test.h>
#include <guest/traps.h>
#include <public/callback.h>

#define MS 1000000ULL
#define DATA_DPL3   0x00cff2000000ffffull   /* present, S, read/write data */
#define CODE64_DPL3 0x00affa000000ffffull
#define DATA_DPL0   0x00cf92000000ffffull   /* the hypervisor raises DPL to 3 */
#define TSS64       0x0000890000000067ull   /* never legal in a guest table */
#define LDT_SEL(i)  ((uint16_t)((i) << 3 | 4 | 3))
#define LDT_ENTS    3

static uint64_t ldt_page[PAGE_SIZE / 8] __attribute__((aligned(PAGE_SIZE)));
static uint64_t bad_page[PAGE_SIZE / 8] __attribute__((aligned(PAGE_SIZE)));

/* Written by failsafe_entry: the ds, es, fs, gs words of the frame. */
uint64_t failsafe_segs[4];
int64_t failsafe_count;
void failsafe_entry(void);

/*
 * The failsafe frame is rcx, r11, ds, es, fs, gs, then rip, cs, rflags,
 * rsp, ss (§4.4). Record the selectors, restore rcx/r11, drop the six words
 * and return through the iret hypercall (§4.5) like any bounce frame.
 */
__asm__(
    "    .text\n"
    "    .globl failsafe_entry\n"
    "failsafe_entry:\n"
    "    pushq %rax\n"
    "    movq 0x18(%rsp), %rax\n"
    "    movq %rax, failsafe_segs(%rip)\n"
    "    movq 0x20(%rsp), %rax\n"
    "    movq %rax, failsafe_segs+8(%rip)\n"
    "    movq 0x28(%rsp), %rax\n"
    "    movq %rax, failsafe_segs+16(%rip)\n"
    "    movq 0x30(%rsp), %rax\n"
    "    movq %rax, failsafe_segs+24(%rip)\n"
    "    incq failsafe_count(%rip)\n"
    "    popq %rax\n"
    "    movq (%rsp), %rcx\n"
    "    movq 8(%rsp), %r11\n"
    "    addq $0x30, %rsp\n"
    "    pushq $0\n"
    "    pushq %rcx\n"
    "    pushq %r11\n"
    "    pushq %rax\n"
    "    movl $23, %eax\n"     /* __HYPERVISOR_iret */
    "    syscall\n"
    "    ud2\n");

static struct {
    uint64_t vector, error_code;
    unsigned count;
} gp;

/* A #GP from `mov %ax, %ds` (2 bytes): note it and step over. */
static bool record_gp(struct trap_frame *f)
{
    gp.vector = f->vector;
    gp.error_code = f->error_code;
    gp.count++;
    f->rip += 2;
    return true;
}

static void load_ds(uint16_t sel)
{
    __asm__ volatile("mov %0, %%ds" : : "a"(sel) : "memory");
}

static uint16_t read_ds(void)
{
    uint16_t s;
    __asm__ volatile("mov %%ds, %0" : "=r"(s));
    return s;
}

static long set_ldt(const void *base, unsigned ents)
{
    struct mmuext_op op = { .cmd = MMUEXT_SET_LDT, .arg1.linear_addr = (uint64_t)(uintptr_t)base,
                            .arg2.nr_ents = ents };
    unsigned done = 0;
    return hyp_mmuext_op(&op, 1, &done, DOMID_SELF);
}

static long update_descriptor(const volatile void *va, uint64_t desc)
{
    return hypercall2(__HYPERVISOR_update_descriptor, va_to_mfn(va) << 12 | ((uint64_t)(uintptr_t)va & 0xfff),
                      desc);
}

/* Remaps one of our pages with or without write access. */
static long remap(const void *va, bool writable)
{
    uint64_t pte = va_to_mfn(va) << 12 | PTE_P | PTE_A | PTE_D | (writable ? PTE_RW : 0);
    return hyp_update_va_mapping((uint64_t)(uintptr_t)va, pte, UVMF_INVLPG);
}

/* Sleeps for a few ms (SCHEDOP_poll on no pending port), so the hypervisor
 * switches away from this vCPU and back. */
static void sleep_briefly(void)
{
    uint32_t port = 0;
    struct sched_poll poll = { .ports = (uint64_t)(uintptr_t)&port, .nr_ports = 1,
                               .timeout = pvclock_now_ns() + 3 * MS };
    hyp_sched_op(SCHEDOP_poll, &poll);
}

static void test_ldt(void)
{
    ldt_page[1] = DATA_DPL0;
    ldt_page[2] = CODE64_DPL3;
    check_int("ldt_page_readonly", remap(ldt_page, false), 0);
    check_int("set_ldt", set_ldt(ldt_page, LDT_ENTS), 0);

    /* First use: the hypervisor takes the frame and the load succeeds. */
    gp.count = 0;
    load_ds(LDT_SEL(1));
    check_int("ldt_selector_loads_without_gp", gp.count, 0);
    check_hex("ldt_selector_in_ds", read_ds(), LDT_SEL(1));
    check_hex("ldt_entry_dpl_raised", ldt_page[1], DATA_DPL3);
    check_int("ldt_page_writable_refused", remap(ldt_page, true), -XEN_EINVAL);
    check_int("ldt_descriptor_tss_refused", update_descriptor(&ldt_page[2], TSS64), -XEN_EINVAL);

    /* Beyond the LDT's limit, and a code selector as data: the guest's #GP. */
    load_ds(LDT_SEL(LDT_ENTS + 2));
    check_int("ldt_beyond_limit_gp", gp.count, 1);
    check_hex("ldt_beyond_limit_error", gp.error_code, LDT_SEL(LDT_ENTS + 2) & ~3u);
    load_ds(0);

    /* An LDT page mapped writable is never taken: #GP to the guest. */
    check_int("set_ldt_on_writable_page", set_ldt(bad_page, 1), 0);
    gp.count = 0;
    load_ds(LDT_SEL(0));
    check_int("writable_ldt_page_gp", gp.count, 1);
    check_int("writable_ldt_page_still_writable", remap(bad_page, true), 0);

    /* Dropping the LDT gives the frame back: writable again. */
    check_int("set_ldt_none", set_ldt(NULL, 0), 0);
    check_int("ldt_page_writable_after_release", remap(ldt_page, true), 0);
}

static void test_failsafe(void)
{
    struct callback_register cb = { .type = CALLBACKTYPE_failsafe, .flags = CALLBACKF_mask_events,
                                    .address = (uint64_t)(uintptr_t)failsafe_entry };
    check_int("register_failsafe", hyp_callback_op(CALLBACKOP_register, &cb), 0);

    ldt_page[1] = DATA_DPL3;
    check_int("failsafe_ldt_readonly", remap(ldt_page, false), 0);
    check_int("failsafe_set_ldt", set_ldt(ldt_page, LDT_ENTS), 0);
    load_ds(LDT_SEL(1));

    /* A switch away and back with a usable selector: no failsafe. */
    sleep_briefly();
    check_int("no_failsafe_for_good_selector", failsafe_count, 0);
    check_hex("good_selector_kept", read_ds(), LDT_SEL(1));

    /* Pull the descriptor from under %ds, then get switched out and in. */
    check_int("descriptor_not_present", update_descriptor(&ldt_page[1], 0), 0);
    sleep_briefly();
    check_int("failsafe_delivered_once", failsafe_count, 1);
    check_hex("failsafe_frame_ds", failsafe_segs[0], LDT_SEL(1));
    check_hex("failsafe_ds_now_null", read_ds(), 0);
    check_int("failsafe_ldt_release", set_ldt(NULL, 0), 0);
}

void kernel_main(void)
{
    test_begin("ldt_failsafe");
    check_int("set_trap_table", traps_install(), 0);
    traps_set_handler(TRAP_GP, record_gp);
    test_ldt();
    test_failsafe();
    test_report_done();
}
