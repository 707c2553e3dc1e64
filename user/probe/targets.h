/* SPDX-License-Identifier: GPL-2.0 */
/*
 * What the running kernel lets lpsentinel see of each function a livepatch
 * replaces: one decision, used by inspect and gate. A target is measured
 * (a probe name and how to attach), not measured (the kernel patches it, but
 * nothing can watch it now: a module not loaded, no traceable name), or
 * invalid (the kernel would refuse the patch).
 */
#ifndef LPS_TARGETS_H
#define LPS_TARGETS_H

#include <stdbool.h>
#include <linux/types.h>
#include "klp_module.h"
#include "ksyms.h"
#include "probes.h"

enum target_state {
	TARGET_UNKNOWN,		/* kallsyms unreadable: the running kernel cannot be asked */
	TARGET_MEASURED,
	TARGET_NOT_MEASURED,
	TARGET_INVALID,
};

struct target_res {
	enum target_state state;
	char probe[128];	/* the symbol probes attach to: the function or an alias */
	bool alias;		/* probe is another name of the function's code */
	const char *module;	/* the object, NULL: vmlinux (owned by the klp_target) */
	__u64 addr;		/* non-zero: attach kprobes at this address (a shared name) */
	bool kprobe_only;	/* a module's function, or attached by address */
	char why[200];		/* not measured or invalid: the reason */
};

/*
 * Decides for target t with the kernel's symbol tables: ksyms NULL when
 * /proc/kallsyms cannot be read, ftrace NULL when available_filter_functions
 * cannot (every existing function is then taken as traceable).
 */
void target__resolve(const struct klp_target *t, struct name_table *ksyms,
		     const struct name_table *ftrace, struct target_res *out);

/* The same for the running kernel's tables, loaded once per call. */
int targets__resolve_all(const struct klp_module_info *m, struct target_res *out);

/* The probe set's view of a measured target. */
void target__spec(const struct klp_target *t, const struct target_res *r, struct probe_spec *out);

const char *target_state__name(enum target_state s);

#endif
