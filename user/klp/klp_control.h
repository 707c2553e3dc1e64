/* SPDX-License-Identifier: GPL-2.0 */
/* Changing livepatch state: disable, wait for the transition, force, unload. */
#ifndef LPS_KLP_CONTROL_H
#define LPS_KLP_CONTROL_H

/* Writes value to /sys/kernel/livepatch/<patch>/<attr>. */
int klp_control__write(const char *root, const char *patch, const char *attr, const char *value);
/*
 * Waits until the patch's sysfs directory is gone (the unpatch transition
 * completed), polling every 50 ms; -ETIMEDOUT after timeout_s.
 */
int klp_control__wait_gone(const char *root, const char *patch, double timeout_s);
/* Is the module loaded (/sys/module/<name>)? */
int klp_control__module_loaded(const char *name);
/*
 * delete_module(2), O_NONBLOCK; a module still referenced just after its
 * unpatch (EAGAIN, EBUSY) is retried for up to 5 s. -errno on failure.
 */
int klp_control__unload(const char *name);

/*
 * Loads a patch module (finit_module). On refusal why gets one sentence with
 * the errno and what the kernel logged about it, read from kmsg_fd (the
 * kernel log opened at its end before the call; -1 if unreadable), and
 * whether anything was left behind; -errno.
 */
int klp_control__load(const char *path, const char *patch, int kmsg_fd, char *why, size_t len);

/*
 * The whole revert: disable (a patch already gone is fine), wait up to
 * timeout_s for the unpatch transition, unload the module. On failure *step
 * says which of "disable", "wait" or "unload" failed; -errno.
 */
int klp_control__revert(const char *root, const char *patch, double timeout_s, const char **step);

#endif
