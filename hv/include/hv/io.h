/* SPDX-License-Identifier: MIT */
/*
 * I/O resources and who owns them (docs/pci.md). The hypervisor drives only
 * the local APIC, the IO-APIC, COM1, the PICs, the PIT and ACPI's PM1 control
 * and reset registers; everything else belongs to the privileged domain:
 *  - device memory (machine frames that are not RAM: PCI BARs, firmware
 *    areas) may be mapped by it, never by a domU, and never the hypervisor's
 *    own MMIO pages. Such frames hold no page_info references: they are not
 *    memory the allocator hands out, so there is nothing to count;
 *  - ports the hypervisor does not use are performed for it on #GP, subject
 *    to its virtual IOPL; PCI configuration space goes through the
 *    hypervisor's own mechanism #1 accesses (pv/io.c).
 */
#ifndef HV_IO_H
#define HV_IO_H
#include <hv/mm.h>

#define LAPIC_BASE  0xfee00000ull
#define IOAPIC_BASE 0xfec00000ull

/* One past the highest frame the CPU can address (CPUID 0x80000008). */
extern mfn_t max_io_mfn;

/* Device memory: not RAM, and addressable. RAM holes inside the frame table
 * are owned by DOMID_IO; everything above the frame table is device memory. */
static inline bool mfn_is_io(mfn_t mfn)
{
    return mfn < max_io_mfn && (!mfn_valid(mfn) || mfn_to_page(mfn)->owner == DOMID_IO);
}

/* The hypervisor's own MMIO: nobody else may map it. */
static inline bool io_mfn_hv_owned(mfn_t mfn)
{
    return mfn == LAPIC_BASE >> PAGE_SHIFT || mfn == IOAPIC_BASE >> PAGE_SHIFT;
}

/* True if any of ports [port, port+size) belongs to the hypervisor. */
bool ioport_hv_owned(unsigned port, unsigned size);
/* ACPI's share of those: the PM1 control blocks and the reset register. */
bool acpi_ioport_owned(unsigned port, unsigned size);

#endif
