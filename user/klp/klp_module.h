/* SPDX-License-Identifier: GPL-2.0 */
/*
 * What a livepatch module will replace, read from the .ko file alone: the
 * upstream klp_patch/klp_object/klp_func arrays (found through relocations,
 * laid out as the array symbols' sizes say) or kpatch-build's .kpatch.funcs.
 */
#ifndef LPS_KLP_MODULE_H
#define LPS_KLP_MODULE_H

#include <stdbool.h>
#include <stddef.h>
#include "identity.h"

struct klp_target {
	char *object;		/* "vmlinux" or a module name */
	char *function;		/* old function name */
	unsigned long sympos;	/* 0: the only symbol of that name */
	char *replacement;	/* symbol of the new function in the patch module */
};

/* One klp_object: a module (or vmlinux) and how many of its functions the patch replaces. */
struct klp_object_info {
	char *name;		/* "vmlinux" or a module name */
	size_t nfuncs;		/* 0: callbacks, shadow variables or states only */
};

struct klp_module_info {
	char *patch;		/* the name the kernel will use */
	char *style;		/* "klp" (upstream arrays) or "kpatch" */
	/*
	 * atomic replace as built: 1/0, -1 when it cannot be read. A module may
	 * set it at load (a parameter copied into the klp_patch by its init):
	 * has_params says the file declares parameters.
	 */
	int replace;
	bool has_params;
	struct klp_target *targets;
	size_t n;		/* may be 0: a patch of states or callbacks alone */
	struct klp_object_info *objects;	/* in the patch's order (kpatch: of first use) */
	size_t nobjects;
	char build_id[IDENTITY_HEX_MAX];	/* its .note.gnu.build-id as hex; "" if none */
};

/* Reads path; on failure why (len bytes) says what is wrong, in one line. */
int klp_module__inspect(const char *path, struct klp_module_info *out, char *why, size_t len);
/* The same from an open descriptor (path only names the patch when modinfo does not). */
int klp_module__inspect_fd(int fd, const char *path, struct klp_module_info *out, char *why,
			   size_t len);
void klp_module_info__free(struct klp_module_info *m);

#endif
