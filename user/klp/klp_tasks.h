/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Who holds up a livepatch transition: tasks whose /proc/<pid>/task/<tid>/
 * patch_state has not reached the transition's target (-1 idle, 0 unpatched,
 * 1 patched), with their kernel stacks.
 */
#ifndef LPS_KLP_TASKS_H
#define LPS_KLP_TASKS_H

#include <stddef.h>
#include "klp_sysfs.h"

struct klp_blocker {
	int pid, tid;
	int state;
	char comm[16 * 4 + 1];	/* TASK_COMM_LEN, escaped: the task chooses it */
	char *stack;	/* /proc/<pid>/task/<tid>/stack (escaped lines), NULL when unreadable */
};

/*
 * Tasks not yet in target_state (1 while patching, 0 while unpatching), from
 * proc_root (normally "/proc"). The kernel sets every task to the target as it
 * passes a safe point; the rest are the blockers.
 */
int klp_tasks__blockers(const char *proc_root, int target_state, struct klp_blocker **out,
			size_t *n);
void klp_blockers__free(struct klp_blocker *b, size_t n);

/* What holds up one patch's transition right now. */
struct klp_transition_info {
	int target;		/* 1 patching, 0 unpatching */
	double elapsed_s;	/* since the kernel logged its start; < 0 unknown */
	struct klp_blocker *blockers;
	size_t nblockers;
};

int klp_transition_info__read(const struct klp_patch_entry *p, struct klp_transition_info *t);
void klp_transition_info__free(struct klp_transition_info *t);

#endif
