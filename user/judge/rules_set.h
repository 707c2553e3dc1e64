/* SPDX-License-Identifier: GPL-2.0 */
/*
 * What the judge is told: window lengths, significance, and for each check
 * whether it runs and its practical thresholds. Filled from built-in defaults
 * and a rules file (user/rules/), read by the judge (user/judge/).
 */
#ifndef LPS_RULES_SET_H
#define LPS_RULES_SET_H

#include <stdbool.h>
#include <linux/types.h>

struct rules_set {
	double baseline_s, observe_s, transition_timeout_s, revert_timeout_s, look_interval_s;
	__u64 min_calls;
	bool inconclusive_revert;
	double alpha;
	/*
	 * Percent of a CPU the function's probes may cost in gate (whose
	 * --cpu-budget wins over it); 0: attached throughout. budget.h.
	 */
	double cpu_budget_pct;
	struct {
		bool enabled;
		double ratio, min_delta_ns;
	} latency;
	struct {
		bool enabled;
		__u64 min_errors;
		double rate_increase;
	} errors;
	struct {
		bool enabled;
		__u64 min_events;	/* per function: contentions inside it after... */
		double rate_increase;	/* ...and their growth per call */
		double sys_ratio;	/* system-wide: contentions per second after/before... */
		__u64 sys_min_events;	/* ...and at least this many more */
	} lock_contention;
	struct {
		bool enabled;
		__u64 max_events;	/* kernel log faults tolerated in the observe window */
		__u64 min_page_faults;	/* page faults inside a function after... */
		double page_fault_rate_increase;	/* ...and their growth per call */
	} kernel_faults;
	struct {
		bool enabled;
		double ratio, min_delta_ns;
	} runqueue_latency;
};

#endif
