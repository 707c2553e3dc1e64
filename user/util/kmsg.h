/* SPDX-License-Identifier: GPL-2.0 */
/* The kernel log (/dev/kmsg): records with their monotonic timestamps. */
#ifndef LPS_KMSG_H
#define LPS_KMSG_H

#include <stdbool.h>
#include <stddef.h>
#include <linux/types.h>

/* Opens the log for kmsg__read, at its end to read only what comes next; fd or -errno. */
int kmsg__open(const char *path, bool from_end);
/*
 * Parses one record of N bytes in REC (REC has room for N + 1): *TEXT points
 * into REC at its message, cut at the first newline and escaped (printable
 * ASCII); -EINVAL when it is not a record.
 */
int kmsg__parse(char *rec, size_t n, const char **text, __u64 *ts_usec);
/* Calls fn for every record not yet read from fd, without blocking; fn returns non-zero to stop. */
int kmsg__read(int fd, int (*fn)(const char *text, __u64 ts_usec, void *arg), void *arg);

/*
 * Calls fn(text, ts_usec, arg) for every record now in the kernel's buffer,
 * oldest first, without blocking; fn returns non-zero to stop. Records lost
 * to buffer wrap-around are skipped.
 */
int kmsg__scan(const char *path, int (*fn)(const char *text, __u64 ts_usec, void *arg),
	       void *arg);

/* Monotonic microseconds now, the clock kmsg timestamps use. */
__u64 kmsg__now_usec(void);

#endif
