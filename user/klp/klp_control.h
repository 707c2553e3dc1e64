/* SPDX-License-Identifier: GPL-2.0 */
/* The sysfs writes and module calls the lifecycle (lifecycle.c) is made of. */
#ifndef LPS_KLP_CONTROL_H
#define LPS_KLP_CONTROL_H

/* Writes value to /sys/kernel/livepatch/<patch>/<attr>. */
int klp_control__write(const char *root, const char *patch, const char *attr, const char *value);
/*
 * Waits until the patch's sysfs directory is gone (the unpatch transition
 * completed), polling every 50 ms; -ETIMEDOUT at deadline (CLOCK_MONOTONIC s,
 * clock__now_s), looked at once even when the deadline has passed.
 */
int klp_control__wait_gone(const char *root, const char *patch, double deadline);
/* Is the module loaded (/sys/module/<name>)? */
int klp_control__module_loaded(const char *name);
/*
 * Is the loaded module <name> a livepatch module? The kernel taints every
 * module that says livepatch=Y with TAINT_LIVEPATCH, 'K' in
 * /sys/module/<name>/taint: 1 yes, 0 no (or no such loaded module), -errno
 * when the file cannot be read.
 */
int klp_control__is_livepatch(const char *name);
/*
 * delete_module(2), O_NONBLOCK, of a livepatch module only (-EPERM for any
 * other: lpsentinel takes out patches, never the modules they patch); a
 * module still referenced just after its unpatch (EAGAIN, EBUSY) is retried
 * for up to 5 s, never past deadline (one try at least). -errno on failure.
 */
int klp_control__unload(const char *name, double deadline);

#endif
