/* SPDX-License-Identifier: MIT */
/*
 * Port I/O from PV guests (xen-pv-abi.md §4.9, docs/pci.md). Ring 3 has no
 * I/O bitmap, so every in/out a guest executes raises #GP and comes here:
 *  - the virtual IOPL decides whether the instruction is allowed at all
 *    (guest kernel: IOPL >= 1, guest user: IOPL 3), else the #GP is the
 *    guest's;
 *  - the privileged domain's access to a port the hypervisor does not own is
 *    performed as is; PCI configuration space (0xcf8 as a 32-bit address
 *    latch, data at 0xcfc-0xcff) is done by the hypervisor with mechanism #1
 *    on the domain's behalf, with one filter (below);
 *  - everything else reads as all ones and writes are dropped, as Xen does
 *    for ports a domain was not granted.
 */
#include <hv/pv.h>
#include <hv/io.h>
#include <asm/x86.h>

#define PCI_CONF_ADDR 0xcf8
#define PCI_CONF_DATA 0xcfc
#define CF8_ENABLE    (1u << 31)

#define PCI_STATUS          0x06
#define PCI_STATUS_CAPS     0x10
#define PCI_CAP_PTR         0x34
#define PCI_CAP_ID_MSI      0x05
#define PCI_CAP_ID_MSIX     0x11
#define PCI_MSI_ENABLE      0x0001   /* in the capability's message control word */
#define PCI_MSIX_ENABLE     0x8000
#define PCI_MAX_CAPS        48       /* 192 bytes of capabilities / 4 */

/* Ports the hypervisor drives (hv/io.h). The PCI configuration ports are
 * listed too: they are never passed through (0xcf9 is q35's reset control). */
static const struct { uint16_t first, last; } hv_ports[] = {
    { 0x20, 0x21 }, { 0xa0, 0xa1 }, { 0x4d0, 0x4d1 },   /* PICs and their ELCR */
    { 0x40, 0x43 }, { 0x61, 0x61 },                     /* PIT, its gate and speaker port */
    { 0x3f8, 0x3ff },                                   /* COM1: the console */
    { PCI_CONF_ADDR, PCI_CONF_DATA + 3 },
};

bool ioport_hv_owned(unsigned port, unsigned size)
{
    for (unsigned i = 0; i < ARRAY_SIZE(hv_ports); i++)
        if (port <= hv_ports[i].last && hv_ports[i].first < port + size)
            return true;
    return acpi_ioport_owned(port, size);
}

static uint32_t port_in(unsigned port, unsigned size)
{
    return size == 1 ? inb((uint16_t)port) : size == 2 ? inw((uint16_t)port) : inl((uint16_t)port);
}

static void port_out(unsigned port, unsigned size, uint32_t val)
{
    if (size == 1)
        outb((uint16_t)port, (uint8_t)val);
    else if (size == 2)
        outw((uint16_t)port, (uint16_t)val);
    else
        outl((uint16_t)port, val);
}

/* One configuration access of `size` bytes at register `reg` (naturally
 * aligned) of the function `cf8` selects. Interrupts are off in the
 * hypervisor, so the address latch cannot change under us. */
static uint32_t cfg_read(uint32_t cf8, unsigned reg, unsigned size)
{
    outl(PCI_CONF_ADDR, (cf8 & ~0xffu) | (reg & 0xfc));
    return port_in(PCI_CONF_DATA + (reg & 3), size);
}

static void cfg_write(uint32_t cf8, unsigned reg, unsigned size, uint32_t val)
{
    outl(PCI_CONF_ADDR, (cf8 & ~0xffu) | (reg & 0xfc));
    port_out(PCI_CONF_DATA + (reg & 3), size, val);
}

/* Clears bit `bit` of the 16-bit register at `at` in a write of `size`
 * bytes of `val` at `reg`, if the write covers it. */
static uint32_t clear_bit16(uint32_t val, unsigned reg, unsigned size, unsigned at, unsigned bit)
{
    unsigned byte = at + bit / 8;
    if (byte < reg || byte >= reg + size)
        return val;
    return val & ~(1u << ((byte - reg) * 8 + bit % 8));
}

/* The one filter: MSI and MSI-X stay disabled. No device interrupt is routed
 * to any domain yet, and a message the device sent would land on the
 * hypervisor's local APIC with a vector it never handed out. Everything else
 * the privileged domain writes reaches the device, as under Xen. */
static uint32_t filter_cfg_write(uint32_t cf8, unsigned reg, unsigned size, uint32_t val)
{
    if (reg < 0x40 || !(cfg_read(cf8, PCI_STATUS, 2) & PCI_STATUS_CAPS))
        return val;
    unsigned pos = cfg_read(cf8, PCI_CAP_PTR, 1) & 0xfc;
    for (unsigned n = 0; n < PCI_MAX_CAPS && pos >= 0x40; n++) {
        uint32_t hdr = cfg_read(cf8, pos, 2);
        if ((hdr & 0xff) == PCI_CAP_ID_MSI)
            val = clear_bit16(val, reg, size, pos + 2, 0);
        else if ((hdr & 0xff) == PCI_CAP_ID_MSIX)
            val = clear_bit16(val, reg, size, pos + 2, 15);
        pos = (hdr >> 8) & 0xfc;
    }
    return val;
}

/* Returns the value read (all ones where nothing answers). */
static uint32_t pci_conf_access(struct domain *d, unsigned port, unsigned size, bool in, uint32_t val)
{
    if (port == PCI_CONF_ADDR && size == 4) {
        if (!in)
            d->pci_cf8 = val;
        return d->pci_cf8;
    }
    unsigned off = port - PCI_CONF_DATA;
    if (port < PCI_CONF_DATA || off + size > 4 || !(d->pci_cf8 & CF8_ENABLE))
        return ~0u;
    unsigned reg = (d->pci_cf8 & 0xfc) + off;
    if (in)
        return cfg_read(d->pci_cf8, reg, size);
    cfg_write(d->pci_cf8, reg, size, filter_cfg_write(d->pci_cf8, reg, size, val));
    return ~0u;
}

bool pv_emulate_io(struct vcpu *v, struct cpu_regs *regs, unsigned port, unsigned size, bool in)
{
    if (v->iopl < (v->in_kernel ? 1 : 3))
        return false;
    struct domain *d = v->domain;
    uint32_t val = in ? ~0u : (uint32_t)regs->rax;
    if (d->is_privileged) {
        if (port + size > PCI_CONF_ADDR && port < PCI_CONF_DATA + 4)
            val = pci_conf_access(d, port, size, in, val);
        else if (!ioport_hv_owned(port, size) && in)
            val = port_in(port, size);
        else if (!ioport_hv_owned(port, size))
            port_out(port, size, val);
    }
    if (in) {
        uint64_t mask = size == 1 ? 0xff : size == 2 ? 0xffff : 0xffffffffull;
        /* A 32-bit in zero-extends into rax; 8 and 16 bits merge. */
        regs->rax = size == 4 ? val : (regs->rax & ~mask) | (val & mask);
    }
    return true;
}
