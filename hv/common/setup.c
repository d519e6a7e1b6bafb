/* SPDX-License-Identifier: MIT */
/*
 * start_hv: from the boot loader's hand-off to the first guest instruction.
 * Options (hypervisor command line): loglvl=err|warn|info|debug|all,
 * dom0_mem=SIZE (default: 256M, capped by what is free), console=com1 (the
 * only console), noreboot (halt instead of resetting when dom0 reboots or
 * crashes). A panic always prints its state and halts.
 */
#include <hv/bootinfo.h>
#include <hv/console.h>
#include <hv/sched.h>
#include <hv/version.h>
#include <asm/cpu.h>
#include <asm/x86.h>
#include <lamina/cmdline.h>
#include <lamina/fmt.h>

#define DEFAULT_DOM0_MEM (256ull << 20)

static struct boot_info boot_info;
bool opt_noreboot;

void acpi_init(const uint8_t *rsdp_copy);
struct domain *construct_dom0(const struct boot_info *bi, uint64_t dom0_mem_bytes);

const char *hv_command_line(void) { return boot_info.cmdline; }

void panic(const char *fmt, ...)
{
    char msg[256];
    va_list ap;
    local_irq_disable();
    va_start(ap, fmt);
    fmt_vsnprintf(msg, sizeof(msg), fmt, ap);
    va_end(ap);
    hv_loglvl = LOG_DEBUG;
    printk(LOG_ERR, "PANIC: %s", msg);
    printk(LOG_ERR, "machine halted");
    for (;;)
        halt();
}

static void parse_options(const char *cmdline, uint64_t *dom0_mem)
{
    char val[64];
    if (cmdline_find(cmdline, "loglvl", val, sizeof(val))) {
        static const char *const names[] = { "err", "warn", "info", "debug" };
        bool known = false;
        for (unsigned i = 0; i < ARRAY_SIZE(names); i++)
            if (!strcmp(val, names[i])) {
                hv_loglvl = (enum log_level)i;
                known = true;
            }
        if (!strcmp(val, "all")) {
            hv_loglvl = LOG_DEBUG;
            known = true;
        }
        if (!known)
            pr_warn("loglvl=%s: unknown level (err, warn, info, debug, all); keeping info", val);
    }
    if (cmdline_find(cmdline, "dom0_mem", val, sizeof(val)) && parse_size(val, dom0_mem))
        pr_warn("dom0_mem=%s: not a size (e.g. 128M); using the default", val);
    if (cmdline_find(cmdline, "console", val, sizeof(val)) && strcmp(val, "com1"))
        pr_warn("console=%s: only com1 exists; using com1", val);
    opt_noreboot = cmdline_find(cmdline, "noreboot", NULL, 0);
}

void start_hv(uint32_t magic, uint32_t info_pa);
void start_hv(uint32_t magic, uint32_t info_pa)
{
    uint64_t dom0_mem = DEFAULT_DOM0_MEM;

    console_init();
    bootinfo_parse(magic, info_pa, &boot_info);
    parse_options(boot_info.cmdline, &dom0_mem);
    uint64_t ram = 0;
    for (unsigned i = 0; i < boot_info.nr_regions; i++)
        if (boot_info.regions[i].type == MEM_RAM)
            ram += boot_info.regions[i].size;
    pr_info("Lamina %s hypervisor (Xen %d.%d PV ABI), %lu MiB RAM, booted by %s via %s",
            LAMINA_VERSION_STRING, LAMINA_XEN_MAJOR, LAMINA_XEN_MINOR, (unsigned long)(ram >> 20),
            boot_info.loader[0] ? boot_info.loader : "an unnamed loader", boot_info.protocol);
    pr_info("command line: %s", boot_info.cmdline);
    for (unsigned i = 0; i < boot_info.nr_regions; i++)
        pr_debug(" e820 %016lx-%016lx type %u", (unsigned long)boot_info.regions[i].base,
                 (unsigned long)(boot_info.regions[i].base + boot_info.regions[i].size),
                 boot_info.regions[i].type);
    for (unsigned i = 0; i < boot_info.nr_modules; i++)
        pr_info("module %u: %lu KiB '%s'", i,
                (unsigned long)((boot_info.modules[i].end - boot_info.modules[i].start) >> 10),
                boot_info.modules[i].cmdline);

    cpu_init_bsp();
    mm_init(&boot_info);
    apic_init();
    time_init();
    acpi_init(boot_info.have_rsdp ? boot_info.rsdp : NULL);
    ioapic_route_isa_irq(COM1_IRQ, VECTOR_COM1);
    console_enable_rx_irq();

    construct_dom0(&boot_info, dom0_mem);
    pr_info("starting dom0 (%lu ms after boot)", (unsigned long)(time_now_ns() / 1000000));
    sched_start();
}
