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
#include "signals.h"

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
 * cpu_pct[i] in (0, 100] for function i, or 0: none, attached throughout;
 * every function starts attached, its first window from what its probes
 * counted so far (read here). 0 or -errno (out of memory, or the probes'
 * reading failed); the caller says why.
 */
int budget_set__new(struct budget_set **out, struct probe_set *ps, const double *cpu_pct,
		    double now);
/*
 * The health signals sharing the probe set's task stacks (before the first
 * tick): the budget tells them each function's windows (signals__window) and
 * turns their syscall-entry probe off while every function is in a gap.
 */
void budget_set__signals(struct budget_set *bs, struct signals *sig);
/*
 * Ends windows and gaps that are due: pauses or resumes probes. 0, or the
 * -errno of a probe that could not attach again (err says which).
 */
int budget_set__tick(struct budget_set *bs, struct probe_set *ps, double now,
		     struct probe_err *err);
/*
 * The mode a budget attaches (ATTACH_KPROBE) for the mode asked, or -EINVAL
 * with why set: fentry probes attached again missed calls in the lab (6.12,
 * TCG), session probes are not paused (docs/limits.md).
 */
int budget_set__mode(enum attach_mode asked, enum attach_mode *out, const char **why);
/* A verb's window under budgets (gate's baseline and observe): marks its start. */
void budget_set__mark(struct budget_set *bs);
/*
 * Waits at least seconds, ticking the budgets at their due times and
 * verifying the probes every 0.2 s; with whole, then on until every function
 * has had an attached window since the mark and the gap after it ended, or
 * is attached for good (budget__done_since()), those done held meanwhile.
 * 0; -EINTR when stop() says so; -errno of a probe that failed (err says
 * which).
 */
int budget_set__wait(struct budget_set *bs, struct probe_set *ps, double seconds, bool whole,
		     bool (*stop)(void), struct probe_err *err);
/* Seconds function i's probes were attached since the start. */
double budget_set__attached_s(const struct budget_set *bs, size_t i, double now);
/*
 * Judging is over (gate): every budgeted function's probes are paused and
 * its budget closed, so none runs over its budget while the patch is
 * reverted or the report written.
 */
void budget_set__stop(struct budget_set *bs, struct probe_set *ps, double now);
/* When the next window or gap ends (the caller's loop sleeps no longer). */
double budget_set__next_due(const struct budget_set *bs);
const struct budget *budget_set__get(const struct budget_set *bs, size_t i);
/* "sampling" of function i: budget, duty, share attached, counted and estimated calls. */
struct json_object *budget_set__json(const struct budget_set *bs, size_t i, __u64 counted,
				     double now);
/* The same in one line for people (no newline). */
int budget_set__text(const struct budget_set *bs, size_t i, __u64 counted, double now,
		     char *buf, size_t len);
/*
 * A verb's report on a span of the run (trace's intervals): the span starts
 * at budget_set__new and at each budget_set__span_start. Its "sampling" is
 * the share of the span function i was attached, and its calls estimated
 * from the counted ones by that share. The text is empty (0) for a function
 * attached throughout the span.
 */
void budget_set__span_start(struct budget_set *bs, double now);
struct json_object *budget_set__span_json(const struct budget_set *bs, size_t i, __u64 counted,
					  double now);
int budget_set__span_text(const struct budget_set *bs, size_t i, __u64 counted, double now,
			  char *buf, size_t len);
void budget_set__destroy(struct budget_set *bs);

#endif
