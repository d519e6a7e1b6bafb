/* SPDX-License-Identifier: MIT */
/*
 * Port I/O from a PV kernel (xen-pv-abi.md §4.9): the instructions fault in
 * ring 3 and the hypervisor emulates them once the virtual IOPL allows it
 * (PHYSDEVOP_set_iopl; 1 for the guest kernel). Which ports really reach
 * hardware is the hypervisor's choice: docs/pci.md.
 */
#ifndef GUEST_PORTIO_H
#define GUEST_PORTIO_H
#include <stdint.h>
#include <guest/hypercall.h>

static inline long set_iopl(unsigned iopl)
{
    struct physdev_set_iopl arg = { .iopl = iopl };
    return hyp_physdev_op(PHYSDEVOP_set_iopl, &arg);
}

static inline void outb(uint16_t port, uint8_t v) { __asm__ volatile("outb %0, %1" : : "a"(v), "Nd"(port)); }
static inline void outw(uint16_t port, uint16_t v) { __asm__ volatile("outw %0, %1" : : "a"(v), "Nd"(port)); }
static inline void outl(uint16_t port, uint32_t v) { __asm__ volatile("outl %0, %1" : : "a"(v), "Nd"(port)); }
static inline uint8_t inb(uint16_t port)
{
    uint8_t v;
    __asm__ volatile("inb %1, %0" : "=a"(v) : "Nd"(port));
    return v;
}
static inline uint16_t inw(uint16_t port)
{
    uint16_t v;
    __asm__ volatile("inw %1, %0" : "=a"(v) : "Nd"(port));
    return v;
}
static inline uint32_t inl(uint16_t port)
{
    uint32_t v;
    __asm__ volatile("inl %1, %0" : "=a"(v) : "Nd"(port));
    return v;
}

#endif
