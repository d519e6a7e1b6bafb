/* SPDX-License-Identifier: MIT */
/* x86-64 4-level page-table entries (Intel SDM vol. 3 §4.5; AMD APM vol. 2 §5.3). */
#ifndef ASM_PAGE_H
#define ASM_PAGE_H
#include <stdint.h>

#define _PAGE_PRESENT  (1ull << 0)
#define _PAGE_RW       (1ull << 1)
#define _PAGE_USER     (1ull << 2)
#define _PAGE_PWT      (1ull << 3)
#define _PAGE_PCD      (1ull << 4)
#define _PAGE_ACCESSED (1ull << 5)
#define _PAGE_DIRTY    (1ull << 6)
#define _PAGE_PSE      (1ull << 7)    /* in L2/L3: superpage; in L1: PAT */
#define _PAGE_PAT      (1ull << 7)
#define _PAGE_GLOBAL   (1ull << 8)
#define _PAGE_AVAIL    (7ull << 9)
#define _PAGE_GUEST_KERNEL (1ull << 52) /* Xen's marker for kernel-only L1 entries */
#define _PAGE_GNTTAB   (1ull << 62)   /* reserved for grant mappings */
#define _PAGE_NX       (1ull << 63)
#define PTE_ADDR_MASK  0x000ffffffffff000ull
#define PTE_AVAIL_HIGH (0x3ffull << 52)   /* bits 52-61 */

static inline unsigned l4_index(uint64_t va) { return (va >> 39) & 511; }
static inline unsigned l3_index(uint64_t va) { return (va >> 30) & 511; }
static inline unsigned l2_index(uint64_t va) { return (va >> 21) & 511; }
static inline unsigned l1_index(uint64_t va) { return (va >> 12) & 511; }
static inline uint64_t pte_mfn(uint64_t pte) { return (pte & PTE_ADDR_MASK) >> 12; }
static inline int va_is_canonical(uint64_t va) { return (uint64_t)((int64_t)(va << 16) >> 16) == va; }

#endif
