/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Kernel function names the running kernel knows (/proc/kallsyms) and those
 * ftrace can hook (available_filter_functions): does a function exist, in which
 * object, how many symbols share its name, can it be traced.
 */
#ifndef LPS_KSYMS_H
#define LPS_KSYMS_H

#include <stdbool.h>
#include <stddef.h>
#include <linux/types.h>

struct name_table;

/* Text symbols from /proc/kallsyms. */
int ksyms__load(struct name_table **out);
/* Functions ftrace can trace; -EPERM/-ENOENT when tracefs refuses or is absent. */
int ftrace_funcs__load(struct name_table **out);
/* Either format from any path (kallsyms: "addr type name [mod]", else "name [mod]"). */
int name_table__load_file(const char *path, bool kallsyms, struct name_table **out);
void name_table__free(struct name_table *t);

/*
 * The text symbol containing addr, from a kallsyms table (addresses need
 * root), or NULL; *module (may be NULL) gets its object, NULL for vmlinux.
 */
const char *name_table__at(struct name_table *t, __u64 addr, const char **module);

/*
 * How many entries carry this name; *module (may be NULL) gets the first one's
 * object: NULL for vmlinux, else the module name (owned by the table).
 */
size_t name_table__count(const struct name_table *t, const char *name, const char **module);

/* How many entries carry this name in one object (module NULL: vmlinux). */
size_t name_table__count_in(const struct name_table *t, const char *name, const char *module);

/*
 * The address of the nth (from 1, in the file's order: the kernel's sympos)
 * symbol of this name in one object; 0 when there is none or it is hidden.
 */
__u64 name_table__addr_in(const struct name_table *t, const char *name, const char *module,
			  size_t nth);
/* Does any symbol belong to this module (is it loaded)? */
bool name_table__has_module(const struct name_table *t, const char *module);
/*
 * Another name of the code at addr in the same object that the table listed
 * names (available_filter_functions) carries, or NULL: a syscall wrapper
 * aliased to its body, where ftrace lists only one of the names.
 */
const char *name_table__alias(struct name_table *t, __u64 addr, const char *module,
			      const struct name_table *listed);

#endif
