/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Where a verdict is made: each check compares one function's observed window
 * with its baseline under the rules and says pass, fail or inconclusive, with
 * its evidence. Adding a check is one function and one line in the table.
 */
#ifndef LPS_JUDGE_H
#define LPS_JUDGE_H

#include <stdbool.h>
#include <linux/types.h>
#include "lpsentinel.h"
#include "rules_set.h"

enum verdict { VERDICT_PASS = 0, VERDICT_INCONCLUSIVE = 1, VERDICT_FAIL = 2 };

#define JUDGE_MAX_CHECKS 6

struct check_result {
	const char *check;		/* "latency", "errors", "lock_contention", ... */
	enum verdict result;
	char detail[256];		/* the evidence, for people */
	double p;			/* the test's p-value; 1 when not computed */
	/*
	 * NULL: the check saw everything it judges. Otherwise what it covered,
	 * static text ("sleeping locks only: ..."): its pass is not a clean pass.
	 */
	const char *coverage;
};

struct func_judgement {
	struct check_result checks[JUDGE_MAX_CHECKS];
	size_t n;
	enum verdict verdict;		/* the worst of the checks */
};

/* One function's window: what its checks compare. */
struct func_window {
	const struct lps_hist *hist;
	double seconds;				/* how long the window lasted; 0: unknown */
	const struct lps_func_signals *sig;	/* NULL: signals not recorded */
	size_t faults;				/* kernel log faults pinned on it */
	const char *fault_line;			/* the first one's opening line */
	bool none;	/* baseline only: there is none (a function first seen patched) */
	const char *incomparable;	/* baseline only: why its latencies cannot be compared */
	const char *lock_coverage;	/* observed only: lock_coverage__host(), NULL: all locks */
	/*
	 * Observed only, under a CPU budget (engine_look.sampled): seconds the
	 * probes were attached since the function's last call was seen (in the
	 * last look, and the looks before it that saw none: idle_track__look);
	 * seconds above is then the attached time too, never the window's length.
	 */
	double idle_s;
};

/* The system's window, for the system checks. */
struct sys_window {
	double seconds;
	const struct lps_func_signals *sig;	/* system-wide lock contention */
	const struct lps_hist *runq;		/* run-queue latency */
	size_t faults;				/* every kernel log fault */
	const char *fault_line;
	bool log_unreadable;			/* faults unknown: kernel_faults inconclusive */
	const char *lock_coverage;		/* observed only: as in func_window */
};

/*
 * Judges one function. alpha is the significance level this look may spend
 * (judge__alpha_for_look); a check fails only with both significance and the
 * rules' practical effect. Checks that need signals are skipped without them.
 */
void judge__function(const struct func_window *baseline, const struct func_window *observed,
		     const struct rules_set *r, double alpha, struct func_judgement *out);
/*
 * The same over k strata (hosts, for `pool`): baseline[h] and observed[h] are
 * one function's windows on host h. Each check compares every host with its
 * own before (stratified tests: stats.h) and pools the effect with before
 * standardized to after's composition; hosts without a comparable baseline
 * are left out, faults add up. k == 1 is judge__function exactly.
 */
#define JUDGE_MAX_STRATA 256
void judge__strata(const struct func_window *baseline, const struct func_window *observed,
		   size_t k, const struct rules_set *r, double alpha, struct func_judgement *out);
/* The same for the system checks (system-wide contention, run queue, kernel faults). */
void judge__system(const struct sys_window *baseline, const struct sys_window *observed,
		   const struct rules_set *r, double alpha, struct func_judgement *out);

/*
 * Alpha spending over looks (power family, rho = 2): by time fraction t of
 * the observe window the looks have spent alpha * t^2 in all, so early looks
 * can only catch clear regressions and the false-revert rate stays <= alpha.
 * Returns the share of look k at fraction t_now after one at t_prev.
 */
double judge__alpha_for_look(double alpha, double t_prev, double t_now);

const char *verdict__name(enum verdict v);

/* The first check of j[0..n) (and of sys, may be NULL) that saw only part of what it judges. */
const struct check_result *judge__partial(const struct func_judgement *j, size_t n,
					  const struct func_judgement *sys);

#endif
