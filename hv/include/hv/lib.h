/* SPDX-License-Identifier: MIT */
/* Basic definitions every hypervisor file uses: types, logging, assertions. */
#ifndef HV_LIB_H
#define HV_LIB_H

#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <lamina/string.h>
#include <public/xen.h>

#define ARRAY_SIZE(a) (sizeof(a) / sizeof((a)[0]))
#define MIN(a, b) ((a) < (b) ? (a) : (b))
#define MAX(a, b) ((a) > (b) ? (a) : (b))
#define ALIGN_UP(x, a) (((x) + (a) - 1) & ~((__typeof__(x))(a) - 1))
#define ALIGN_DOWN(x, a) ((x) & ~((__typeof__(x))(a) - 1))
#define likely(x) __builtin_expect(!!(x), 1)
#define unlikely(x) __builtin_expect(!!(x), 0)
#define __noreturn __attribute__((noreturn))
#define __must_check __attribute__((warn_unused_result))
#define __packed __attribute__((packed))
#define barrier() __asm__ volatile("" ::: "memory")
#define READ_ONCE(x) (*(const volatile __typeof__(x) *)&(x))
#define WRITE_ONCE(x, v) (*(volatile __typeof__(x) *)&(x) = (v))

/* Log levels (loglvl= on the command line; default "info"). */
enum log_level { LOG_ERR, LOG_WARN, LOG_INFO, LOG_DEBUG };
extern enum log_level hv_loglvl;

void printk(enum log_level lvl, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
void vprintk(enum log_level lvl, const char *fmt, va_list ap);
#define pr_err(...)   printk(LOG_ERR, __VA_ARGS__)
#define pr_warn(...)  printk(LOG_WARN, __VA_ARGS__)
#define pr_info(...)  printk(LOG_INFO, __VA_ARGS__)
#define pr_debug(...) printk(LOG_DEBUG, __VA_ARGS__)

/* Messages a guest can trigger at will: rate-limited so a guest cannot flood
 * the console (and through it slow the machine). */
bool guest_log_allowed(void);
#define pr_guest(...) do { if (guest_log_allowed()) printk(LOG_WARN, __VA_ARGS__); } while (0)

__noreturn void panic(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/* BUG_ON is for internal corruption only, never for guest-controlled values. */
#define BUG_ON(cond) do { if (unlikely(cond)) panic("BUG at %s:%d: %s", __FILE__, __LINE__, #cond); } while (0)
#if LAMINA_DEBUG
#define ASSERT(cond) BUG_ON(!(cond))
#else
#define ASSERT(cond) do { if (0) (void)(cond); } while (0)
#endif

#endif
