/* SPDX-License-Identifier: MIT */
/* What the boot loader told us, in one form for both multiboot protocols. */
#ifndef HV_BOOTINFO_H
#define HV_BOOTINFO_H
#include <hv/lib.h>

#define BOOT_MAX_REGIONS 128
#define BOOT_MAX_MODULES 16
#define BOOT_CMDLINE_MAX 1024

enum mem_type { MEM_RAM = 1, MEM_RESERVED = 2, MEM_ACPI = 3, MEM_NVS = 4, MEM_BAD = 5 };

struct mem_region {
    uint64_t base;
    uint64_t size;
    uint32_t type;          /* enum mem_type (e820 numbering) */
};

struct boot_module {
    uint64_t start, end;    /* physical [start, end) */
    char cmdline[BOOT_CMDLINE_MAX];   /* arguments, without the image path */
};

#define BOOT_RSDP_MAX 36    /* an ACPI 2.0 RSDP */

struct boot_info {
    const char *protocol;   /* "multiboot1" or "multiboot2" */
    char loader[64];
    char cmdline[BOOT_CMDLINE_MAX];   /* hypervisor options, without the image path */
    unsigned nr_regions;
    struct mem_region regions[BOOT_MAX_REGIONS];
    unsigned nr_modules;
    struct boot_module modules[BOOT_MAX_MODULES];
    /* The loader's copy of the ACPI RSDP (multiboot2's ACPI tags), copied
     * here because the memory it sits in is not reserved: the frame
     * allocator may reuse it before ACPI is read. */
    bool have_rsdp;
    uint8_t rsdp[BOOT_RSDP_MAX];
};

/* Fills *bi from the loader's structures; panics on an unknown loader magic.
 * Runs on the boot page tables (first 4 GiB reachable through the direct map). */
void bootinfo_parse(uint32_t magic, uint32_t info_pa, struct boot_info *bi);

#endif
