/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Kernel faults from the kernel log: warnings, BUGs, Oopses, soft lockups, RCU
 * stalls and hung tasks, each with the functions of its call trace, so a fault
 * can be pinned on a patched function (by its name or its replacement's).
 */
#ifndef LPS_KFAULTS_H
#define LPS_KFAULTS_H

#include <stdbool.h>
#include <stddef.h>

#define KFAULT_TRACE_MAX 24

struct kfault {
	const char *kind;	/* "warning", "bug", "oops", "soft_lockup", "rcu_stall", "hung_task" */
	char line[256];		/* the record that opened it */
	char *trace[KFAULT_TRACE_MAX];	/* function names from its call trace */
	size_t ntrace;
};

struct kfault_log {
	struct kfault *v;
	size_t n;
	bool in_trace;		/* the records after the last fault still belong to it */
};

/* Feeds one kernel log record; -ENOMEM only. */
int kfault_log__feed(struct kfault_log *l, const char *text);
/* Does fault f's call trace name any of names (NULL-terminated)? Returns the name or NULL. */
const char *kfault__names(const struct kfault *f, const char *const *names);
/*
 * How many faults of the log name one of names (NULL-terminated: a
 * function's old and new code); *first gets the opening line of the first
 * such fault, NULL if none.
 */
size_t kfault_log__count_naming(const struct kfault_log *l, const char *const *names,
				const char **first);
void kfault_log__free(struct kfault_log *l);

#endif
