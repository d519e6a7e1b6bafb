/* SPDX-License-Identifier: MIT */
/*
 * ldt_test: a Linux user program that gives itself an LDT with
 * modify_ldt(2), loads a selector from it, and has forked children do the
 * same and exit (so the kernel frees LDTs while other processes run). Under
 * Xen PV every step goes through MMUEXT_SET_LDT, update_descriptor and the
 * hypervisor's lazy LDT loading. Prints "LDT-TEST: ok ..." on success.
 */
#include <asm/ldt.h>
#include <stdio.h>
#include <string.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#define CHILDREN 20

static int install_data_entry(unsigned index)
{
    struct user_desc d;
    memset(&d, 0, sizeof(d));
    d.entry_number = index;
    d.limit = 0xfffff;
    d.seg_32bit = 1;
    d.limit_in_pages = 1;
    d.useable = 1;
    return (int)syscall(SYS_modify_ldt, 1, &d, sizeof(d));
}

static unsigned short ldt_selector(unsigned index)
{
    return (unsigned short)(index << 3 | 4 | 3);
}

/* Loads the selector into %ds, touches memory through it, reads %ds back. */
static unsigned short load_and_read_ds(unsigned short sel)
{
    volatile int probe = 41;
    unsigned short got;
    __asm__ volatile("mov %0, %%ds" : : "r"(sel) : "memory");
    probe++;
    __asm__ volatile("mov %%ds, %0" : "=r"(got));
    __asm__ volatile("mov %0, %%ds" : : "r"((unsigned short)0) : "memory");
    return probe == 42 ? got : 0;
}

int main(void)
{
    if (install_data_entry(0) != 0) {
        perror("LDT-TEST: modify_ldt");
        return 1;
    }
    unsigned short got = load_and_read_ds(ldt_selector(0));
    if (got != ldt_selector(0)) {
        printf("LDT-TEST: FAILED: %%ds read back %#x\n", got);
        return 1;
    }
    unsigned char table[16];
    long n = syscall(SYS_modify_ldt, 0, table, sizeof(table));
    int good_children = 0;
    for (int i = 0; i < CHILDREN; i++) {
        pid_t pid = fork();
        if (pid == 0) {
            int ok = install_data_entry(1) == 0 && load_and_read_ds(ldt_selector(1)) == ldt_selector(1) &&
                     load_and_read_ds(ldt_selector(0)) == ldt_selector(0);
            _exit(ok ? 0 : 1);
        }
        int status = 0;
        if (pid > 0 && waitpid(pid, &status, 0) == pid && WIFEXITED(status) && WEXITSTATUS(status) == 0)
            good_children++;
    }
    if (n != (long)sizeof(table) || good_children != CHILDREN) {
        printf("LDT-TEST: FAILED: read %ld bytes, %d/%d children ok\n", n, good_children, CHILDREN);
        return 1;
    }
    printf("LDT-TEST: ok selector %#x, %d children with their own LDT\n", got, CHILDREN);
    return 0;
}
