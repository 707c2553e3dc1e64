/* SPDX-License-Identifier: GPL-2.0 */
/*
 * A CPU budget for a hot function (trace --cpu-budget): its
 * probes run in attached windows that take a fraction of the time, the duty,
 * chosen so that what they cost stays within the budget.
 *
 * Why windows and not sampled calls: a probe that runs on every call and
 * samples inside costs at least the empty fentry+fexit pair per call (the
 * floor, docs/benchmarks.md), so a function called a million times a second
 * costs tens of percent of a CPU whatever the probe does. Only a detached
 * probe costs nothing. Call counts are then exact inside the windows and
 * estimated over the whole run (counted / duty); every report says so.
 *
 * The controller is plain arithmetic on what the windows measured (calls,
 * and the kernel's BPF run-time statistics of the function's programs), so it
 * is unit-tested without a kernel; the verbs attach and detach (probes.h).
 */
#ifndef LPS_BUDGET_H
#define LPS_BUDGET_H

#include <stdbool.h>
#include <linux/types.h>

/* The shortest attached window: an attach costs milliseconds of kernel time. */
#define BUDGET_WINDOW_S 0.25
/* The longest detached gap: a regression still shows within a minute. */
#define BUDGET_MAX_GAP_S 30.0
/*
 * The shortest detached gap worth a detach and an attach, each a text patch
 * and, for kretprobes, a tracefs event: a function only a little over its
 * budget (duty above 0.7) stays attached, and over_budget says so.
 */
#define BUDGET_MIN_GAP_S 0.1

enum budget_phase {
	BUDGET_ATTACHED = 0,
	BUDGET_DETACHED,
};

struct budget {
	double cpu_pct;		/* the budget: percent of one CPU */
	/*
	 * What a call costs in all, per ns of BPF run time the kernel accounts
	 * to the programs: the trampoline or kprobe around them is not counted
	 * there (make bench: the floor over the lpsentinel probe's run time).
	 */
	double overhead_factor;
	enum budget_phase phase;
	double phase_end;	/* clock__now_s() when the phase ends */
	double window_start;	/* clock__now_s() when the attached window began */
	double next_window_s;	/* length of the window after the gap */
	double duty;		/* fraction of time attached; 1 until measured */
	double ns_per_call;	/* BPF run time per call, last measured; 0: not yet */
	/*
	 * What the last detach and attach took: CPU seconds of the verb's
	 * thread in the system calls, and seconds of wall time. While they run
	 * the kprobes may fire already (attach) or still (detach), at the full
	 * cost per call: a cycle is charged its window and that wall time at the
	 * full cost, and the thread's CPU, and the gap is sized to pay for all
	 * three (lab, 6.12 under instruction counting: a cycle cost twice its
	 * window's share when only the window was charged). 0 until measured.
	 */
	double switch_cpu_s, switch_wall_s;
	double cycle_s;		/* window, switches and gap of the current cycle; 0: attached */
	double calls_per_s;	/* call rate in the last attached window */
	double attached_s;	/* time attached, all windows */
	double started;		/* clock__now_s() at budget__init */
	double stopped;		/* clock__now_s() at budget__stop; INFINITY until then */
	__u64 windows;		/* attached windows ended */
};

/* Starts attached (the first window measures); cpu_pct in (0, 100], 0: no budget (attached). */
void budget__init(struct budget *b, double cpu_pct, double overhead_factor, double now);

/*
 * The attached window (since b->window_start) ends now: calls it counted, and the BPF run time and runs of the function's programs in it
 * (runs 0: statistics were off, the previous cost per call stands). Returns
 * the phase that follows (BUDGET_ATTACHED when the budget allows always-on),
 * with b->phase_end set.
 */
enum budget_phase budget__window_done(struct budget *b, double now, __u64 calls,
				      __u64 run_ns, __u64 runs);

/* A detached gap ended: the next window starts attached. */
void budget__gap_done(struct budget *b, double now);

/*
 * A verb's window under a budget (gate's baseline, its observe window) lasts
 * whole cycles: it ends when every function has had an attached window in
 * it (b->windows past the mark taken at its start) and the gap after it
 * has ended, or is attached for good (it fits its budget). Inside the
 * window the share attached is then the duty, and the verb's cost the
 * budget, or less. Functions do not wait for each other's gaps to line up:
 * once the window has run past its asked length (holding), a function that
 * is done is held as it is, no window ended or begun (budget__held), until
 * the others are done too: a gap stays a gap, and a function attached for
 * good stays attached without a new measurement that could send it away.
 */
bool budget__done_since(const struct budget *b, __u64 mark, double now);
/*
 * For a budget that is never held (the watch daemon's, whose windows run on
 * whatever is judged): a mark now, and whether a whole window has ended
 * since it (one open at the mark does not count: part of it came before).
 * The gap after it adds nothing to judge, and the daemon's cost runs on.
 */
__u64 budget__window_mark(const struct budget *b);
bool budget__window_since(const struct budget *b, __u64 mark);
bool budget__held(const struct budget *b, __u64 mark, bool holding, double now);
/* Judging is over: the window open now is closed (counted) and no other opens. */
void budget__stop(struct budget *b, double now);

/* Seconds attached since the start, the window open now included as far as it went. */
double budget__attached_s(const struct budget *b, double now);

/* Share of the elapsed time the probes were attached, in [0, 1]. */
double budget__sampled(const struct budget *b, double now);

/* What the probes would cost attached all the time, percent of one CPU (0: not measured). */
double budget__full_cost_pct(const struct budget *b);

/*
 * What the budget costs now, percent of one CPU: the share attached times
 * the full cost, and the switches spread over the cycle (0: not measured).
 */
double budget__cost_pct(const struct budget *b);

/* Calls over the whole run, from those counted in windows: counted / sampled share. */
double budget__estimate_calls(const struct budget *b, __u64 counted, double now);

#endif
