/* SPDX-License-Identifier: GPL-2.0 */
/* One gate run's state, shared by its flow (cmd_gate.c) and its report (gate_report.c). */
#ifndef LPS_GATE_H
#define LPS_GATE_H

#include <stdbool.h>
#include <stdio.h>
#include <json-c/json.h>
#include "hist.h"
#include "engine.h"
#include "judge.h"
#include "kfaults.h"
#include "klp_module.h"
#include "lifecycle.h"
#include "klp_sysfs.h"
#include "budget_set.h"
#include "probes.h"
#include "rules.h"
#include "self_cost.h"
#include "signals.h"
#include "targets.h"
#include "timeline.h"

struct gate_args {
	const char *module, *rules_path;
	const char *state_dir;		/* where a watch daemon's control socket may be */
	double baseline_s, observe_s;	/* 0: from the rules */
	double cpu_budget;		/* percent of a CPU per function; 0: attached throughout */
	bool json, standalone;
	const char *html;		/* --html: the report's file; NULL: none */
	/* Module parameters after "--", checked; joined as finit_module takes them. */
	char **param_v;
	size_t param_n;
	char params[KLP_PARAMS_MAX];
};

struct gate {
	struct gate_args a;
	struct rules rules;
	struct rules_set def;
	struct klp_module_info mod;
	struct klp_life life;		/* opened once, inspected, loaded, reverted */
	struct probe_set *ps;
	/*
	 * --cpu-budget or the rules' cpu_budget for at least one function:
	 * the probes come and go in windows (budget_set.h), so
	 * the judge gets the seconds each function was attached (sampled[i])
	 * instead of the windows' lengths. NULL without a budget.
	 */
	struct budget_set *bs;
	double *budget_pct;	/* per function: --cpu-budget, or the rules' cpu_budget; 0: none */
	struct gate_sampled {
		double base_s;		/* attached in the baseline */
		double obs_start;	/* budget_set__attached_s() when observing began */
		struct idle_track idle;	/* attached since its last call was seen */
	} *sampled;
	struct self_cost sc;		/* BPF statistics on for the whole run */
	/*
	 * Every target as the running kernel lets us see it (mod.n of them);
	 * the n measured ones are probe set entries 0..n, target[i] is the
	 * index of entry i in mod.targets.
	 */
	struct target_res *res;
	size_t *target;
	size_t n;
	struct lps_hist *h0, *h1, *h2, *now, *base, *obs;
	struct rules_set *fr;		/* per-function rules */
	struct func_judgement *j;
	/* Health signals at the same points as the histograms; sig NULL without them. */
	struct signals *sig;
	char sig_why[200];
	struct signals_snapshot s0, s1, s2, snow, sbase, sobs;
	double t_base, t_obs_start, t_obs;	/* window lengths and start, seconds */
	int kmsg_fd;			/* the kernel log from the observe window's start */
	struct kfault_log faults;
	const char **names;		/* per function: old name, replacement, NULL */
	const char **all_names;		/* every old and replacement name, NULL-terminated */
	int log_err;			/* the kernel log could not be read: -errno */
	struct func_judgement sysj;
	enum verdict verdict;
	const char *action, *reason;
	int looks;
	__u64 calls_seen;		/* calls of every function up to the last look */
	bool operational;	/* reverted because the gate could not judge, not on a verdict */
	int record_err;		/* the note for status (gate_record.h) could not be written */
	char revert_why[640];	/* a revert that failed: what is left */
	struct timeline tl;		/* load, transition, looks, revert: for the report */
};

/* Where one look stands in the observe window. */
struct gate_look {
	double t_prev, t, look_s;
	double at;		/* clock__now_s() just before the look's reading */
	enum engine_stop stop;
};

/*
 * One look of the observe window: the evidence from g->now (cumulative
 * histograms), g->snow (signals) and the kernel log, judged by the engine.
 */
void gate__look(struct gate *g, const struct gate_look *look, struct engine_decision *out);
void gate__free(struct gate *g);
/* gate's command line into a (its table is cli_verb_gate): 0, or a usage error said. */
int gate__parse_args(int argc, char **argv, struct gate_args *a);

/*
 * The verdict, every function's checks and histograms: JSON or text on
 * stdout, and with --html the report too. 0, or -EIO when the report could
 * not be written (said).
 */
int gate__print(const struct gate *g);

/*
 * Hands the patch to the watch daemon on fd (closed here) and prints its
 * verdict; the exit code. A busy daemon is asked again for a minute.
 */
int gate__via_daemon(const struct gate_args *a, int fd);
/*
 * No daemon's socket to reach (why says what connect met): when a watch
 * daemon nonetheless runs on a->state_dir (its lock is held), judging here
 * would make two judges of one patch: refused in one line, CLI_EXIT_ERROR.
 * CLI_RUN when no daemon runs there.
 */
int gate__refuse_second_judge(const struct gate_args *a, const char *why);
/*
 * The daemon's reply to a gate, checked (a malformed one is an error) and
 * printed to out as gate prints it (json: the document as it came); the
 * exit code, and for CLI_EXIT_ERROR one line in why.
 */
int gate__daemon_reply(FILE *out, bool json, struct json_object *doc, char *why, size_t len);

#endif
