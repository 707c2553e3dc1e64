// SPDX-License-Identifier: GPL-2.0
/* The CPU budget's duty cycle (budget.h): how long to stay attached, how long away. */
#include <math.h>
#include "budget.h"

/* A window shorter than this is mostly the attach itself. */
#define BUDGET_MIN_WINDOW_S 0.02

void budget__init(struct budget *b, double cpu_pct, double overhead_factor, double now)
{
	*b = (struct budget){
		.cpu_pct = cpu_pct,
		.overhead_factor = overhead_factor >= 1 ? overhead_factor : 1,
		.phase = BUDGET_ATTACHED,
		.phase_end = now + BUDGET_WINDOW_S,
		.window_start = now,
		.duty = 1,
		.started = now,
		.stopped = INFINITY,
	};
}

double budget__full_cost_pct(const struct budget *b)
{
	return b->calls_per_s * b->ns_per_call * b->overhead_factor / 1e9 * 100;
}

double budget__cost_pct(const struct budget *b)
{
	double full = budget__full_cost_pct(b);

	if (b->duty >= 1 || b->cycle_s <= 0)
		return full;
	return ((b->next_window_s + b->switch_wall_s) * full + b->switch_cpu_s * 100) / b->cycle_s;
}

/* Stays attached (no budget, not measured, under it, or over it by too little to switch). */
static enum budget_phase stay(struct budget *b, double now)
{
	b->duty = 1;
	b->cycle_s = 0;
	b->phase = BUDGET_ATTACHED;
	b->window_start = now;
	b->phase_end = now + BUDGET_WINDOW_S;
	return b->phase;
}

enum budget_phase budget__window_done(struct budget *b, double now, __u64 calls,
				      __u64 run_ns, __u64 runs)
{
	double full, window = BUDGET_WINDOW_S, gap, window_s = now - b->window_start;
	/*
	 * As shares of a CPU: the probes attached (f), the budget (p); what a
	 * cycle's switches take: CPU seconds of the thread (c), wall seconds
	 * at the full cost (s).
	 */
	double f, p, c = b->switch_cpu_s, s = b->switch_wall_s;

	b->windows++;
	b->attached_s += window_s;
	if (window_s > 0)
		b->calls_per_s = (double)calls / window_s;
	/* Per call, not per run: entry and return are two runs of one call. */
	if (runs && calls)
		b->ns_per_call = (double)run_ns / (double)calls;
	full = budget__full_cost_pct(b);
	/*
	 * Not measured yet (no calls, or statistics off from the start), or no
	 * budget for this function (cpu_pct 0), or within it: stay attached.
	 */
	if (b->cpu_pct <= 0 || b->ns_per_call <= 0 || full <= b->cpu_pct)
		return stay(b, now);
	f = full / 100, p = b->cpu_pct / 100;
	/*
	 * A cycle of window w, switches s and gap g costs (w + s) f + c seconds
	 * of CPU in w + s + g: within the budget p when
	 * g = ((w + s) f + c) / p - w - s (s and c 0: duty p / f).
	 */
	gap = ((window + s) * f + c) / p - window - s;
	/* Too short a gap to pay for its switches: attached, over budget. */
	if (gap < BUDGET_MIN_GAP_S)
		return stay(b, now);
	if (gap > BUDGET_MAX_GAP_S) {
		/*
		 * Keep a regression visible within the gap: a shorter window
		 * instead, w = (p (g + s) - s f - c) / (f - p); the shortest one
		 * may still be over the budget, and the cost says so.
		 */
		gap = BUDGET_MAX_GAP_S;
		window = fmax(BUDGET_MIN_WINDOW_S, (p * (gap + s) - s * f - c) / (f - p));
	}
	b->cycle_s = window + s + gap;
	b->duty = window / b->cycle_s;
	b->phase = BUDGET_DETACHED;
	b->phase_end = now + gap;
	/* The next window's length rides along: the gap ends, then window seconds. */
	b->next_window_s = window;
	return b->phase;
}

void budget__gap_done(struct budget *b, double now)
{
	b->phase = BUDGET_ATTACHED;
	b->window_start = now;
	b->phase_end = now + (b->next_window_s > 0 ? b->next_window_s : BUDGET_WINDOW_S);
}

bool budget__done_since(const struct budget *b, __u64 mark, double now)
{
	return b->windows > mark && (b->phase == BUDGET_DETACHED ? now >= b->phase_end : b->duty >= 1);
}

__u64 budget__window_mark(const struct budget *b)
{
	return b->windows + (b->phase == BUDGET_ATTACHED);
}

bool budget__window_since(const struct budget *b, __u64 mark)
{
	return b->windows > mark;
}

bool budget__held(const struct budget *b, __u64 mark, bool holding, double now)
{
	return holding && budget__done_since(b, mark, now);
}

void budget__stop(struct budget *b, double now)
{
	if (b->phase == BUDGET_ATTACHED) {
		b->attached_s += fmax(0, now - b->window_start);
		b->windows++;
	}
	b->phase = BUDGET_DETACHED;
	b->phase_end = INFINITY;
	/* What was sampled ends here: a revert after it is no gap of the budget's. */
	b->stopped = now;
}

double budget__attached_s(const struct budget *b, double now)
{
	return b->attached_s + (b->phase == BUDGET_ATTACHED ? fmax(0, now - b->window_start) : 0);
}

double budget__sampled(const struct budget *b, double now)
{
	double elapsed;

	now = fmin(now, b->stopped);
	elapsed = now - b->started;

	if (elapsed <= 0)
		return 1;
	return fmin(1, budget__attached_s(b, now) / elapsed);
}

double budget__estimate_calls(const struct budget *b, __u64 counted, double now)
{
	double s = budget__sampled(b, now);

	return s > 0 ? (double)counted / s : 0;
}
