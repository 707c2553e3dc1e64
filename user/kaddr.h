/* SPDX-License-Identifier: GPL-2.0 */
/* Kernel addresses to function names (/proc/kallsyms, sorted), for stack traces. */
#ifndef LPS_KADDR_H
#define LPS_KADDR_H

#include <linux/types.h>

struct kaddr_table;

/* Loads the text symbols of path (normally /proc/kallsyms); needs root for addresses. */
int kaddr__load(const char *path, struct kaddr_table **out);
/* The function containing addr, or NULL; *module gets its module or NULL for vmlinux. */
const char *kaddr__lookup(const struct kaddr_table *t, __u64 addr, const char **module);
void kaddr__free(struct kaddr_table *t);

#endif
