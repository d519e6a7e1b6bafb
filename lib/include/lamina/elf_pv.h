/* SPDX-License-Identifier: MIT */
/*
 * Parsing and loading of ELF64 Xen PV kernels (xen-pv-abi.md §3.1-3.2). Used
 * by the hypervisor to build dom0 and by dom0's domain builder; fuzzed and
 * unit-tested on the host. The image is hostile: every offset and size is
 * checked against the buffer before it is read, and nothing is written
 * outside the destination the caller describes.
 */
#ifndef LAMINA_ELF_PV_H
#define LAMINA_ELF_PV_H
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define ELF_PV_STR_MAX 64
#define ELF_PV_MAX_PHDRS 64

/* What the notes and program headers say about a PV kernel. Addresses are
 * guest virtual unless named p*. Notes not present read as 0 / "". */
struct elf_pv_info {
    uint64_t entry;          /* XEN_ELFNOTE_ENTRY, else e_entry */
    uint64_t virt_base;      /* XEN_ELFNOTE_VIRT_BASE, default 0 */
    uint64_t paddr_offset;   /* XEN_ELFNOTE_PADDR_OFFSET, default 0 */
    uint64_t pstart, pend;   /* min p_paddr / max p_paddr+p_memsz over PT_LOAD */
    uint64_t virt_kstart;    /* pstart + virt_base - paddr_offset */
    uint64_t virt_kend;      /* pend + virt_base - paddr_offset */
    uint64_t hypercall_page; /* XEN_ELFNOTE_HYPERCALL_PAGE (virtual), 0 = none */
    uint64_t init_p2m;       /* XEN_ELFNOTE_INIT_P2M, 0 = none */
    uint64_t hv_start_low;   /* XEN_ELFNOTE_HV_START_LOW, 0 = none */
    uint32_t supported_features; /* XEN_ELFNOTE_SUPPORTED_FEATURES bitmap */
    bool mod_start_pfn;      /* XEN_ELFNOTE_MOD_START_PFN != 0 */
    bool has_xen_notes;      /* at least one "Xen" note was found */
    char xen_version[ELF_PV_STR_MAX];
    char guest_os[ELF_PV_STR_MAX];
    char guest_version[ELF_PV_STR_MAX];
    char loader[ELF_PV_STR_MAX];
    char features[256];      /* XEN_ELFNOTE_FEATURES string */
};

/* Error codes: 0 on success, otherwise one of these (negative). */
enum elf_pv_error {
    ELF_PV_OK = 0,
    ELF_PV_ETRUNC = -1,     /* a header, table or segment lies outside the buffer */
    ELF_PV_ENOTELF = -2,    /* bad magic, class, data encoding, version */
    ELF_PV_EARCH = -3,      /* not ET_EXEC/EM_X86_64 */
    ELF_PV_ENOLOAD = -4,    /* no PT_LOAD segment, or filesz > memsz, or overflow */
    ELF_PV_ENOTXEN = -5,    /* XEN_VERSION not "xen-3.0*" or loader not "generic" and guest_os not "linux" */
    ELF_PV_ELAYOUT = -6,    /* entry outside the kernel, virt_base > kstart, INIT_P2M inside the kernel,
                               or an address that overflows */
    ELF_PV_ENOSPC = -7,     /* the destination is too small */
};

/* Parses and checks the image. Returns 0 and fills *info, or an elf_pv_error. */
int elf_pv_parse(const void *image, size_t image_size, struct elf_pv_info *info);

/* Copies each PT_LOAD segment to offset (p_paddr - pstart) of dst and zeroes
 * each segment's bss (p_filesz..p_memsz). Bytes of dst not covered by any
 * segment are left untouched. Requires dst_size >= pend - pstart. `info` must
 * come from elf_pv_parse of the same image. Returns 0 or an elf_pv_error. */
int elf_pv_load(const void *image, size_t image_size, const struct elf_pv_info *info,
                void *dst, size_t dst_size);

/* A short human-readable name for an elf_pv_error. */
const char *elf_pv_strerror(int err);

#endif
