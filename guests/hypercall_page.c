/* SPDX-License-Identifier: MIT */
/*
 * hypercall_page: a kernel that asks the builder for a hypercall page with
 * XEN_ELFNOTE_HYPERCALL_PAGE gets one filled with the stubs of
 * xen-pv-abi.md §1.3, and calls through it work, including the iret slot.
 */
#include <public/elfnote.h>
#include <lamina/string.h>
#include <guest/hypercall.h>
#include <guest/runtime.h>
#include <guest/test.h>
#include <guest/traps.h>

#define XEN_STR_(x) #x
#define XEN_STR(x) XEN_STR_(x)
#define SLOT_SIZE 32
#define NR_SLOTS 128

/* The page itself (in the image, so the builder fills it before entry),
 * and the note that points at it. */
__asm__(
    ".pushsection .text.hypercall_page, \"ax\"\n"
    ".balign 4096\n"
    ".globl hypercall_page\n"
    "hypercall_page: .fill 4096, 1, 0\n"
    ".popsection\n"
    ".pushsection .note.Xen, \"a\", @note\n"
    ".balign 4\n"
    ".long 4, 8, " XEN_STR(XEN_ELFNOTE_HYPERCALL_PAGE) "\n"
    ".asciz \"Xen\"\n"
    ".balign 4\n"
    ".quad hypercall_page\n"
    ".popsection\n");
extern const uint8_t hypercall_page[4096];

/* The iret slot is jumped to with the frame already built (§1.3, §4.5):
 * ss, rsp, rflags, cs, rip, flags on the stack, then the stub pushes rcx,
 * r11 and rax. Resumes at iret_landing with rax = 0x1234abcd. */
__asm__(
    ".text\n"
    ".globl iret_via_page, iret_landing\n"
    "iret_via_page:\n"
    "  pushq %rbx\n"
    "  movq %rsp, %rbx\n"
    "  pushq $0xe02b\n"                 /* ss */
    "  pushq %rbx\n"                    /* rsp to resume with */
    "  pushfq\n"                        /* rflags */
    "  orq $0x200, (%rsp)\n"            /* IF: events enabled after iret */
    "  pushq $0xe030\n"                 /* cs, RPL 0: stay in kernel mode */
    "  leaq iret_landing(%rip), %rax\n"
    "  pushq %rax\n"                    /* rip */
    "  pushq $0\n"                      /* flags */
    "  movq $0x1234abcd, %rax\n"
    "  leaq hypercall_page + 23 * 32(%rip), %rcx\n"
    "  jmp *%rcx\n"
    "iret_landing:\n"
    "  cmpq %rsp, %rbx\n"
    "  je 1f\n"
    "  xorl %eax, %eax\n"               /* wrong stack: report 0 */
    "  movq %rbx, %rsp\n"
    "1:\n"
    "  popq %rbx\n"
    "  ret\n");
uint64_t iret_via_page(void);

typedef long (*stub_fn)(uint64_t a1, uint64_t a2, uint64_t a3);

static long call_slot(unsigned nr, uint64_t a1, uint64_t a2, uint64_t a3)
{
    /* The stubs take arguments in the hypercall registers; rdi/rsi/rdx are
     * also the first three C argument registers, so a plain call works. */
    stub_fn fn = (stub_fn)(uintptr_t)(hypercall_page + nr * SLOT_SIZE);
    return fn(a1, a2, a3);
}

static bool slot_matches(unsigned nr)
{
    const uint8_t *s = hypercall_page + nr * SLOT_SIZE;
    uint8_t want[SLOT_SIZE];
    unsigned n = 0;

    memset(want, 0xcc, sizeof(want));
    want[n++] = 0x51;                   /* push %rcx */
    want[n++] = 0x41;                   /* push %r11 */
    want[n++] = 0x53;
    if (nr == __HYPERVISOR_iret)
        want[n++] = 0x50;               /* push %rax */
    want[n++] = 0xb8;                   /* mov $nr, %eax */
    want[n++] = (uint8_t)nr;
    want[n++] = 0;
    want[n++] = 0;
    want[n++] = 0;
    want[n++] = 0x0f;                   /* syscall */
    want[n++] = 0x05;
    if (nr != __HYPERVISOR_iret) {
        want[n++] = 0x41;               /* pop %r11 */
        want[n++] = 0x5b;
        want[n++] = 0x59;               /* pop %rcx */
        want[n++] = 0xc3;               /* ret */
    }
    return memcmp(s, want, SLOT_SIZE) == 0;
}

void kernel_main(void)
{
    test_begin("hypercall_page");
    check_int("set_trap_table", traps_install(), 0);

    /* §1.3: every slot holds the stub for its number, the rest is 0xCC. */
    unsigned bad = NR_SLOTS;
    for (unsigned nr = 0; nr < NR_SLOTS; nr++) {
        if (!slot_matches(nr)) {
            bad = nr;
            break;
        }
    }
    check_int("all_slots_match_first_bad", bad, NR_SLOTS);
    check_true("iret_slot_layout", slot_matches(__HYPERVISOR_iret), "different bytes",
               "51 41 53 50 b8 17 00 00 00 0f 05 cc..");

    /* Calls through the page. */
    long v = call_slot(__HYPERVISOR_xen_version, XENVER_version, 0, 0);
    check_int("xen_version_via_page", v, hyp_xen_version(XENVER_version, NULL));
    check_int("pagesize_via_page", call_slot(__HYPERVISOR_xen_version, XENVER_pagesize, 0, 0), 4096);
    static const char msg[] = "hypercall_page: console_io through the page\n";
    check_int("console_io_via_page",
              call_slot(__HYPERVISOR_console_io, CONSOLEIO_write, sizeof(msg) - 1, (uint64_t)(uintptr_t)msg), 0);
    check_int("unknown_via_page_enosys", call_slot(100, 0, 0, 0), -XEN_ENOSYS);

    /* §1.3/§4.5: jumping to the iret slot resumes at the frame's rip with
     * rax and rsp from the frame, and IF=1 unmasks events. */
    vcpu0->evtchn_upcall_mask = 1;
    check_hex("iret_via_page", iret_via_page(), 0x1234abcd);
    check_int("iret_via_page_unmasks", vcpu0->evtchn_upcall_mask, 0);
    vcpu0->evtchn_upcall_mask = 1;
    test_finish();
}
