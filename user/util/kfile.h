/* SPDX-License-Identifier: GPL-2.0 */
/* The kernel's control files (livepatch sysfs, tracefs): one string written. */
#ifndef LPS_KFILE_H
#define LPS_KFILE_H

/*
 * Opens path O_WRONLY | O_CLOEXEC | flags (O_APPEND for kprobe_events) and
 * writes s in one write(2), as the kernel wants a command; 0, or the -errno of
 * the open or of the write.
 */
int kfile__write(const char *path, int flags, const char *s);

#endif
