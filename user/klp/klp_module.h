/* SPDX-License-Identifier: GPL-2.0 */
/*
 * What a livepatch module will replace, read from the .ko file alone: the
 * upstream klp_patch/klp_object/klp_func arrays (found through relocations,
 * laid out as the array symbols' sizes say) or kpatch-build's .kpatch.funcs.
 */
#ifndef LPS_KLP_MODULE_H
#define LPS_KLP_MODULE_H

#include <stddef.h>

struct klp_target {
	char *object;		/* "vmlinux" or a module name */
	char *function;		/* old function name */
	unsigned long sympos;	/* 0: the only symbol of that name */
	char *replacement;	/* symbol of the new function in the patch module */
};

struct klp_module_info {
	char *patch;		/* the name the kernel will use */
	char *style;		/* "klp" (upstream arrays) or "kpatch" */
	int replace;		/* atomic replace: 1/0, -1 when it cannot be read */
	struct klp_target *targets;
	size_t n;
};

/* Reads path; on failure why (len bytes) says what is wrong, in one line. */
int klp_module__inspect(const char *path, struct klp_module_info *out, char *why, size_t len);
/* The same from an open descriptor (path only names the patch when modinfo does not). */
int klp_module__inspect_fd(int fd, const char *path, struct klp_module_info *out, char *why,
			   size_t len);
void klp_module_info__free(struct klp_module_info *m);

#endif
