/* SPDX-License-Identifier: MIT */
/*
 * xenstored inside dom0 (xen-pv-abi.md §8.2-§8.4): the store and protocol
 * logic of lib/xs_core, served to each introduced domain over its ring page
 * and store event channel, plus a direct API through which the rest of
 * dom0 (the toolstack) reads and writes the store as dom0.
 *
 * Threading: everything here runs from dom0's main loop, never from an
 * event upcall. The store event channels' handler only sets a flag (and
 * the main loop's wake flag), which xenstored_poll() acts on.
 *
 * Mapping: each domain's ring page is mapped through dom0's vmap window
 * (dom0/toolstack/vmap.h) at one of XENSTORED_MAX_DOMAINS slots just below
 * the console backend's (the window's last CONSOLE_BACKEND_VMAP_SLOTS), kept
 * for xenstored from the first introduction on. The domain builder maps
 * from slot 0 and must stay below them (it does by far: they are ~1 GiB up).
 *
 * Errors are 0 or -errno (Xen's numbers), as elsewhere in dom0.
 */
#ifndef DOM0_XENSTORED_H
#define DOM0_XENSTORED_H
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <public/xen.h>

/* Domains served at once. */
#define XENSTORED_MAX_DOMAINS 64
/* Memory for the whole store, its connections and queues (dom0 .bss). */
#define XENSTORED_ARENA_BYTES (4u << 20)

/* Sets up the store with dom0's own nodes (/local/domain/0/{name,domid}).
 * `wake` (may be NULL) is set, besides xenstored's own flag, whenever a
 * store event arrives or work is left over: pass the flag the main loop's
 * block_until() waits on. Returns 0 or -errno. */
long xenstored_init(volatile bool *wake);
/* Serves every domain with something pending: requests in, replies and
 * watch events out, notifications. Returns at once (a flag test) when no
 * event came since the last call. Call it every time the main loop wakes,
 * before blocking again. Returns true if any ring moved. */
bool xenstored_poll(void);
/* Whether xenstored_poll() has work (an event came, or a previous call
 * used up its budget). */
bool xenstored_pending(void);

/*
 * Domains. Typical order for `xl create`: build the domain (paused), write
 * its home with xs_domain_write_home(), xs_domain_introduce() with the
 * store page and the port the builder allocated (start_info.store_mfn /
 * store_evtchn, §3.9), unpause. On destruction: xs_domain_release(), then
 * xenstored_rm("/local/domain/<id>").
 */
/* Writes /local/domain/<id> as xl does: readable by the domain, with name
 * (if not NULL), domid, memory/{static-max,target} (if memory_kib),
 * cpu/<n>/availability for vcpus, control/ (shutdown, sysrq, feature-*
 * writable by the domain, platform-feature-xs_reset_watches = 1), and
 * device/, data/, error/, drivers/, feature/, attr/. */
long xs_domain_write_home(domid_t domid, const char *name, uint64_t memory_kib, unsigned vcpus);
/* Maps the domain's store page (machine frame store_mfn), binds its store
 * port (an unbound port of the domain with remote dom0), starts serving
 * it and fires @introduceDomain. Writes a minimal home first if there is
 * none. -EEXIST if the domain is served already. */
long xs_domain_introduce(domid_t domid, uint64_t store_mfn, uint32_t remote_port);
/* Stops serving the domain: unbinds, unmaps, drops its watches and
 * transactions, hands the nodes it owned to dom0 and fires
 * @releaseDomain. -ENOENT if it was not served. */
long xs_domain_release(domid_t domid);
/* Whether the domain is served (introduced, not released). A domain that
 * broke its ring stays introduced but is no longer served. */
bool xs_domain_introduced(domid_t domid);
/* Fires @releaseDomain, e.g. when a domain shuts down (VIRQ_DOM_EXC) but
 * is not released yet, as Xen's xenstored does. */
void xenstored_fire_release(void);

/* The store as dom0 sees it. Paths are absolute, or relative to
 * /local/domain/0. Changes fire watches. */
long xenstored_read(const char *path, char *buf, size_t cap, size_t *len);
/* Reads a value as a NUL-terminated string (-E2BIG if cap is too small). */
long xenstored_read_str(const char *path, char *buf, size_t cap);
long xenstored_write(const char *path, const void *value, size_t len);
long xenstored_write_str(const char *path, const char *value);
long xenstored_mkdir(const char *path);
long xenstored_rm(const char *path);
/* Child names, each followed by a NUL. */
long xenstored_directory(const char *path, char *buf, size_t cap, size_t *len);
/* Permissions as text, e.g. "n0 r5" (owner dom0, domain 5 may read). */
long xenstored_set_perms(const char *path, const char *perms);

/* dom0's own "watch": fn is called for every change to a node (path of
 * `len` bytes, not NUL-terminated), from inside the store, so it must only
 * note the change (set a flag) and act later from the main loop. One hook;
 * dom0's main loop passes every change to the block and net backends,
 * which watch their frontends' states with it. */
typedef void (*xenstored_change_fn)(const char *path, size_t len);
void xenstored_set_change_hook(xenstored_change_fn fn);

#endif
