/* SPDX-License-Identifier: MIT */
/*
 * A general-purpose allocator over one caller-given block of memory, for
 * code that must not use libc's malloc (xenstored's store in dom0, and the
 * same code on the host). Blocks carry an 8-byte header with their size and
 * their physical predecessor's size; free blocks sit on power-of-two
 * segregated lists and merge with free neighbours on release, so freeing is
 * O(1) and allocating is a short search. Pointers are 8-byte aligned. Not
 * thread-safe: one owner at a time.
 *
 * Limits: the arena is used up to 2 GiB; one allocation is at most
 * XS_ARENA_MAX_ALLOC bytes.
 */
#ifndef LAMINA_XS_ARENA_H
#define LAMINA_XS_ARENA_H
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define XS_ARENA_BINS 32
#define XS_ARENA_MAX_ALLOC (1u << 30)

struct xs_arena_free;

struct xs_arena {
    uint8_t *start, *end;                          /* the blocks: [start, end) */
    struct xs_arena_free *bins[XS_ARENA_BINS];     /* free blocks by floor(log2(size)) */
    size_t used_bytes;                             /* in allocated blocks, headers included */
    size_t peak_bytes;
    size_t nr_allocs;                              /* live allocations */
    size_t nr_failed;                              /* allocations refused so far */
};

/* Takes [mem, mem + size) for the arena. Returns false if it is too small
 * to hold even one block. */
bool xs_arena_init(struct xs_arena *a, void *mem, size_t size);
/* Returns size bytes (size 0 gives a valid minimal block), or NULL. */
void *xs_arena_alloc(struct xs_arena *a, size_t size);
/* Releases a pointer from xs_arena_alloc; NULL is ignored. */
void xs_arena_free(struct xs_arena *a, void *p);
/* Bytes usable at p (at least what was asked for). */
size_t xs_arena_usable(const void *p);
/* Bytes still free in total (not necessarily in one piece). */
size_t xs_arena_free_bytes(const struct xs_arena *a);
/* Walks every block and free list; false if any invariant is broken. For
 * tests and debug checks: O(blocks). */
bool xs_arena_check(const struct xs_arena *a);

#endif
