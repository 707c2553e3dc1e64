/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Gate rules (rules/default.yaml, parsed with libyaml): defaults, then
 * per-function overrides matched by glob, applied in file order.
 */
#ifndef LPS_RULES_H
#define LPS_RULES_H

#include <stdbool.h>
#include <stddef.h>
#include <yaml.h>
#include <linux/types.h>

struct rules_set {
	double baseline_s, observe_s, transition_timeout_s, revert_timeout_s, look_interval_s;
	__u64 min_calls;
	bool inconclusive_revert;
	double alpha;
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

struct rules {
	yaml_document_t doc;	/* kept: overrides are applied from its nodes */
	bool loaded;
	struct rules_set defaults;
	int *overrides;		/* node ids of the functions: entries */
	char **globs;
	size_t noverrides;
	const char **watch;	/* watch: functions the daemon keeps baselines for */
	size_t nwatch;
};

/* Built-in defaults, the same as rules/default.yaml ships. */
void rules__builtin(struct rules_set *s);
/* Parses and validates path; on error why says "path:line: reason". */
int rules__load(const char *path, struct rules *r, char *why, size_t len);
/* The rules for one function: defaults, then every matching override. */
void rules__for_function(const struct rules *r, const char *func, struct rules_set *out);
void rules__free(struct rules *r);

#endif
