/* SPDX-License-Identifier: MIT */
/* Assertions and small helpers for the host tests of the hypervisor's PV
 * MMU code (test_pv_mm.c, test_descriptor.c), on top of hv_harness.h. */
#ifndef LAMINA_HV_ASSERTS_H
#define LAMINA_HV_ASSERTS_H
#include <check.h>
#include <hv/mm.h>

static inline uint64_t pte(mfn_t m, uint64_t flags) { return (m << PAGE_SHIFT) | flags; }
static inline uint64_t *tab(mfn_t m) { return harness_frame(m); }

/* A frame's general count, type and type count. */
#define ASSERT_PG(m, cnt, typ, tcnt)                                                               \
    do {                                                                                           \
        const struct page_info *p_ = mfn_to_page(m);                                               \
        ck_assert_msg(p_->count == (cnt) && p_->type == (typ) && p_->type_count == (tcnt),         \
                      "mfn %lu: count %u type %u type_count %u, want %u %u %u",                    \
                      (unsigned long)(m), p_->count, p_->type, p_->type_count, (unsigned)(cnt),    \
                      (unsigned)(typ), (unsigned)(tcnt));                                          \
    } while (0)
/* Held only by its allocation: no mapping, no type. */
#define ASSERT_ALLOC_ONLY(m) ASSERT_PG(m, 1, PGT_none, 0)
/* Every count and entry rule holds, recomputed from scratch. */
#define ASSERT_AUDIT()                                                                             \
    do {                                                                                           \
        const char *why_ = harness_audit();                                                        \
        ck_assert_msg(why_ == NULL, "audit: %s", why_);                                            \
    } while (0)

#endif
