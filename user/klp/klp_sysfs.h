/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Reading /sys/kernel/livepatch: every patch with its state, objects and
 * functions, as the kernel shows them (Documentation/ABI/testing/
 * sysfs-kernel-livepatch). Attributes a kernel lacks read as -1.
 */
#ifndef LPS_KLP_SYSFS_H
#define LPS_KLP_SYSFS_H

#include <stdbool.h>
#include <stddef.h>

#define KLP_SYSFS_ROOT_DEFAULT "/sys/kernel/livepatch"

struct klp_func_entry {
	char *name;
	unsigned long sympos;
};

struct klp_object_entry {
	char *name;		/* "vmlinux" or a module name */
	int patched;		/* 1, 0; -1 before 6.1 */
	struct klp_func_entry *funcs;
	size_t nfuncs;
};

struct klp_patch_entry {
	char *name;
	int enabled, transition;
	int replace;		/* -1 before 6.11 */
	int stack_order;	/* -1 before 6.14 */
	struct klp_object_entry *objs;
	size_t nobjs;
};

struct klp_patch_list {
	struct klp_patch_entry *v;
	size_t n;
};

/*
 * All patches under root, sorted by name. -ENOENT when root does not exist (no
 * livepatch support, or no patch was ever loaded on a kernel that creates the
 * directory lazily); a patch that vanishes while being read is skipped.
 */
int klp_sysfs__list(const char *root, struct klp_patch_list *out);
/* One patch; -ENOENT when it is not loaded. */
int klp_sysfs__read_patch(const char *root, const char *name, struct klp_patch_entry *out);
void klp_patch_entry__free(struct klp_patch_entry *p);
void klp_patch_list__free(struct klp_patch_list *l);

/*
 * Kernels before 6.14 have no stack_order: derive it from the module list,
 * which the kernel keeps newest first (the last patch enabled is on top).
 * Patches with a kernel-provided stack_order are left alone.
 */
void klp_sysfs__fill_stack_order(struct klp_patch_list *l, const char *proc_modules);

/*
 * The same order for one patch read alone (klp_sysfs__read_patch): a stall
 * report shows what status shows.
 */
void klp_sysfs__fill_patch_stack_order(const char *root, struct klp_patch_entry *p,
				       const char *proc_modules);

/* Does this patch replace func (in any object)? */
/*
 * Every function the patch replaces, each name once (pointers into p),
 * NULL-terminated in a new array *out; the count, or -ENOMEM.
 */
int klp_patch_entry__functions(const struct klp_patch_entry *p, const char ***out);
bool klp_patch_entry__has_func(const struct klp_patch_entry *p, const char *func);

/* Is some loaded livepatch (enabled or in transition) replacing this function? */
bool klp_sysfs__is_patched(const char *root, const char *func);

/* The kernel's patch name for a module name or path: basename, no .ko, '-' to '_'. */
void klp_patch_name(const char *module, char *out, size_t len);

#endif
