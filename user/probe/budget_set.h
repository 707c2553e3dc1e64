/* SPDX-License-Identifier: GPL-2.0 */
/*
 * CPU budgets for every function of a probe set (budget.h): one tick per
 * loop turn pauses and resumes each function's probes as its budget says,
 * from what its last window counted and what the kernel accounted to its
 * programs (BPF run-time statistics, on while the set is held).
 */
#ifndef LPS_BUDGET_SET_H
#define LPS_BUDGET_SET_H

#include "budget.h"
#include "probes.h"

struct budget_set;
struct json_object;

/*
 * Total cost of a call per ns of BPF run time, by attach method: what the
 * kernel accounts to the programs leaves out the trampoline or kprobe around
 * them. From make bench (docs/benchmarks.md, 2026-11, 6.12, instructions per
 * call): fentry 948 added in all against 312 for the empty pair, so the
 * programs' own share is 636 and the factor 948 / 636 = 1.49; kprobes add
 * 1424 in all for the same programs: 1424 / 636 = 2.24.
 */
#define BUDGET_FACTOR_FENTRY 1.49
#define BUDGET_FACTOR_KPROBE 2.24

/*
 * cpu_pct in (0, 100]; every function starts attached, its first window from
 * what its probes counted so far (read here). 0 or -errno (out of memory, or
 * the probes' reading failed); the caller says why.
 */
int budget_set__new(struct budget_set **out, struct probe_set *ps, double cpu_pct,
		    double now);
/*
 * Ends windows and gaps that are due: pauses or resumes probes. 0, or the
 * -errno of a probe that could not attach again (err says which).
 */
int budget_set__tick(struct budget_set *bs, struct probe_set *ps, double now,
		     struct probe_err *err);
/* When the next window or gap ends (the caller's loop sleeps no longer). */
double budget_set__next_due(const struct budget_set *bs);
const struct budget *budget_set__get(const struct budget_set *bs, size_t i);
/* "sampling" of function i: budget, duty, share attached, counted and estimated calls. */
struct json_object *budget_set__json(const struct budget_set *bs, size_t i, __u64 counted,
				     double now);
/* The same in one line for people (no newline). */
int budget_set__text(const struct budget_set *bs, size_t i, __u64 counted, double now,
		     char *buf, size_t len);
void budget_set__destroy(struct budget_set *bs);

#endif
