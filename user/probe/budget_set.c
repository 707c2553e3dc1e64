// SPDX-License-Identifier: GPL-2.0
/* CPU budgets of a probe set's functions (budget_set.h). */
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <bpf/bpf.h>
#include <json-c/json.h>
#include "budget_set.h"
#include "clock.h"
#include "log.h"

struct budget_fn {
	struct budget b;
	__u64 calls0, run_ns0, runs0;	/* at the start of the current window */
	__u64 sys_ns0;			/* the signals' syscall probe's run time then */
	/*
	 * Counted before the budget's clock started (between attach and the
	 * verb's start): exact, and not in any window, so never scaled up.
	 */
	__u64 calls_before;
	double switch_s;		/* spent in attaching and detaching */
	double pause_cpu, resume_cpu;	/* CPU seconds the last detach, the last attach took */
	double pause_wall, resume_wall;	/* and their wall seconds */
	__u64 windows_at_mark;		/* b.windows at budget_set__mark() */
	/* The span a verb reports on (trace's interval): attached seconds at its start. */
	double span_att;
	__u64 span_before;		/* calls_before, in the first span only */
};

struct budget_set {
	struct budget_fn *f;
	size_t n;
	struct lps_hist *h;	/* one reading of every function */
	int stats_fd;		/* BPF run-time statistics, on while held */
	struct signals *sig;	/* the set's health signals, or NULL */
	bool sys_off;		/* their syscall-entry probe is off: every function in a gap */
	double span_from;	/* clock__now_s() when the span began */
};

static double factor_of(enum attach_mode mode)
{
	return mode == ATTACH_KPROBE ? BUDGET_FACTOR_KPROBE : BUDGET_FACTOR_FENTRY;
}

/* Marks the start of function i's window: counts and run time so far. */
static void window_start(const struct budget_set *bs, const struct probe_set *ps, size_t i,
			 __u64 calls)
{
	struct budget_fn *f = &bs->f[i];

	f->calls0 = calls;
	if (probe_set__func_run_stats(ps, i, &f->run_ns0, &f->runs0))
		f->run_ns0 = f->runs0 = 0;
	if (!bs->sig || signals__syscall_run_ns(bs->sig, &f->sys_ns0))
		f->sys_ns0 = 0;
}

/*
 * The signals' syscall-entry probe runs on every system call while some
 * function has no budget or measures its first window (syscalls() below):
 * what it ran in function i's window is charged to the function, in the
 * function's run time (its factor applied, the syscall probe's trampoline
 * counted as fentry's). With several functions attached at once each is
 * charged all of it: a budget errs on the side of the host.
 */
static __u64 syscall_charge(const struct budget_set *bs, const struct probe_set *ps, size_t i)
{
	__u64 now_ns;

	if (!bs->sig || !bs->f[i].sys_ns0 || signals__syscall_run_ns(bs->sig, &now_ns) ||
	    now_ns < bs->f[i].sys_ns0)
		return 0;
	return (__u64)((double)(now_ns - bs->f[i].sys_ns0) * BUDGET_FACTOR_FENTRY /
		       factor_of(probe_set__info(ps, i)->mode));
}

int budget_set__new(struct budget_set **out, struct probe_set *ps, const double *cpu_pct,
		    double now)
{
	struct budget_set *bs = calloc(1, sizeof(*bs));
	size_t n = probe_set__count(ps);
	int ret;

	*out = NULL;
	if (!bs)
		return -ENOMEM;
	bs->n = n;
	bs->stats_fd = -1;
	bs->f = calloc(n ? n : 1, sizeof(*bs->f));
	bs->h = calloc(n ? n : 1, sizeof(*bs->h));
	if (!bs->f || !bs->h) {
		budget_set__destroy(bs);
		return -ENOMEM;
	}
	/* Without run-time statistics no cost is measured and nothing pauses. */
	bs->stats_fd = bpf_enable_stats(BPF_STATS_RUN_TIME);
	if (bs->stats_fd < 0)
		lps_warn("--cpu-budget: the kernel refused BPF run-time statistics (%s); "
			 "the probes stay attached", strerror(errno));
	/* The first window starts from what the probes counted so far. */
	ret = probe_set__read(ps, bs->h);
	if (ret) {
		budget_set__destroy(bs);
		return ret;
	}
	for (size_t i = 0; i < n; i++) {
		budget__init(&bs->f[i].b, cpu_pct[i], factor_of(probe_set__info(ps, i)->mode), now);
		bs->f[i].calls_before = bs->f[i].span_before = bs->h[i].calls;
		window_start(bs, ps, i, bs->h[i].calls);
	}
	bs->span_from = now;
	*out = bs;
	return 0;
}

void budget_set__signals(struct budget_set *bs, struct signals *sig)
{
	bs->sig = sig;
}

/* Calls over the run: those before the budget, exact, and the estimate since. */
static double estimate(const struct budget_fn *f, __u64 counted, double now)
{
	__u64 since = counted > f->calls_before ? counted - f->calls_before : 0;

	return (double)f->calls_before + budget__estimate_calls(&f->b, since, now);
}

/* When the next window or gap ends, leaving out gaps held (holding: budget.h). */
static double next_due(const struct budget_set *bs, bool holding, double now)
{
	double due = INFINITY;

	for (size_t i = 0; i < bs->n; i++) {
		const struct budget *b = &bs->f[i].b;

		if (!budget__held(b, bs->f[i].windows_at_mark, holding, now))
			due = fmin(due, b->phase_end);
	}
	return due;
}

/*
 * The signals' syscall-entry probe runs on every system call, to clear frames
 * whose return the probes missed. It is off while every function is in a gap
 * (nothing pushes a frame then) or past its first window under its budget:
 * the signals ignore frames older than their function's window
 * (bpf/signals.bpf.c), so a missed return blames the function for a task's
 * contention until its window ends at most. It is on while a function has no
 * budget or measures its first window (whose cost then counts it). Whether
 * the probe is on does not follow the duty: a window without it costs less,
 * may then stay attached, and with the probe back would cost more again.
 * A kernel that refuses it again is an error, as a probe's is.
 */
static int syscalls(struct budget_set *bs, const struct probe_set *ps, struct probe_err *err)
{
	bool gap = bs->n > 0;
	int ret;

	for (size_t i = 0; i < bs->n && gap; i++)
		gap = probe_set__paused(ps, i) || (bs->f[i].b.cpu_pct > 0 && bs->f[i].b.windows > 0);
	if (!bs->sig || gap == bs->sys_off)
		return 0;
	ret = signals__syscalls(bs->sig, !gap);
	if (ret) {
		snprintf(err->func, sizeof(err->func), "%s", "sys_enter");
		snprintf(err->what, sizeof(err->what), "kernel refused to attach the signals' "
			 "syscall-entry probe again: %s", strerror(-ret));
		return ret;
	}
	bs->sys_off = gap;
	return 0;
}

/* holding: a function that is done since the mark is held as it is (budget.h). */
static int tick(struct budget_set *bs, struct probe_set *ps, double now, bool holding,
		struct probe_err *err)
{
	bool read = false;
	int ret;

	for (size_t i = 0; i < bs->n; i++) {
		struct budget_fn *f = &bs->f[i];
		__u64 run_ns = 0, runs = 0;
		double c0;

		if (now < f->b.phase_end || budget__held(&f->b, f->windows_at_mark, holding, now))
			continue;
		if (!read) {
			ret = probe_set__read(ps, bs->h);
			if (ret)
				return ret;
			read = true;
		}
		if (f->b.phase == BUDGET_DETACHED) {
			double t0 = clock__now_s();

			c0 = clock__thread_cpu_s();
			ret = probe_set__resume(ps, i, err);
			if (ret)
				return ret;
			/* Frames from before this window are stale for the signals too. */
			if (bs->sig)
				signals__window(bs->sig, i, probe_set__window_ns(ps, i));
			now = clock__now_s();
			f->switch_s += now - t0;
			f->resume_cpu = clock__thread_cpu_s() - c0;
			f->resume_wall = now - t0;
			budget__gap_done(&f->b, now);
			window_start(bs, ps, i, bs->h[i].calls);
			continue;
		}
		/*
		 * No cost measured (runs 0) when statistics are not ours, a
		 * reading failed, or the kernel's counters went backwards.
		 */
		if (bs->stats_fd < 0 || probe_set__func_run_stats(ps, i, &run_ns, &runs) ||
		    run_ns < f->run_ns0 || runs < f->runs0)
			run_ns = runs = 0;
		else
			run_ns = run_ns - f->run_ns0 + syscall_charge(bs, ps, i), runs -= f->runs0;
		/* The next cycle pays for a detach and an attach: as the last ones cost. */
		f->b.switch_cpu_s = f->pause_cpu + f->resume_cpu;
		f->b.switch_wall_s = f->pause_wall + f->resume_wall;
		if (budget__window_done(&f->b, now, bs->h[i].calls - f->calls0,
					run_ns, runs) == BUDGET_ATTACHED) {
			window_start(bs, ps, i, bs->h[i].calls);
			continue;
		}
		/* An unverified probe stays attached until its witness has seen it run. */
		c0 = clock__thread_cpu_s();
		ret = probe_set__pause(ps, i);
		if (!ret && bs->sig)
			signals__window(bs->sig, i, ~0ULL);
		f->pause_wall = clock__now_s() - now;
		f->switch_s += f->pause_wall;
		f->pause_cpu = clock__thread_cpu_s() - c0;
		/* The gap starts once detached: the detach is the cycle's switches' (budget.h). */
		f->b.phase_end += f->pause_wall;
		if (ret == -EAGAIN) {
			budget__gap_done(&f->b, now);
			window_start(bs, ps, i, bs->h[i].calls);
		}
	}
	return syscalls(bs, ps, err);
}

int budget_set__mode(enum attach_mode asked, enum attach_mode *out, const char **why)
{
	if (asked != ATTACH_AUTO && asked != ATTACH_KPROBE) {
		*why = "a CPU budget attaches kprobes (fentry probes attached again missed "
		       "calls, session probes are not paused): --mode auto or kprobe only";
		return -EINVAL;
	}
	*out = ATTACH_KPROBE;
	return 0;
}

void budget_set__mark(struct budget_set *bs)
{
	for (size_t i = 0; i < bs->n; i++)
		bs->f[i].windows_at_mark = bs->f[i].b.windows;
}

/* Every function done since the mark (budget__done_since()). */
static bool whole_since_mark(const struct budget_set *bs, double now)
{
	for (size_t i = 0; i < bs->n; i++)
		if (!budget__done_since(&bs->f[i].b, bs->f[i].windows_at_mark, now))
			return false;
	return true;
}

int budget_set__wait(struct budget_set *bs, struct probe_set *ps, double seconds, bool whole,
		     bool (*stop)(void), struct probe_err *err)
{
	double end = clock__now_s() + seconds;

	for (;;) {
		double now = clock__now_s();
		int ret;

		if (stop && stop())
			return -EINTR;
		bool holding = whole && now >= end;

		if (now >= end && (!whole || whole_since_mark(bs, now)))
			return 0;
		/* Past the asked length, functions done wait in their gaps for the others. */
		ret = tick(bs, ps, now, holding, err);
		if (!ret)
			ret = probe_set__verify(ps, err);
		if (ret)
			return ret;
		now = clock__now_s();
		clock__nap(fmax(0, fmin(fmin(0.2, next_due(bs, holding, now) - now),
					now < end ? end - now : INFINITY)));
	}
}

double budget_set__attached_s(const struct budget_set *bs, size_t i, double now)
{
	return budget__attached_s(&bs->f[i].b, now);
}

int budget_set__tick(struct budget_set *bs, struct probe_set *ps, double now,
		     struct probe_err *err)
{
	return tick(bs, ps, now, false, err);
}

void budget_set__stop(struct budget_set *bs, struct probe_set *ps, double now)
{
	for (size_t i = 0; i < bs->n; i++) {
		struct budget_fn *f = &bs->f[i];

		/* No budget: attached throughout, as without one. */
		if (f->b.cpu_pct <= 0)
			continue;
		if (f->b.phase == BUDGET_ATTACHED && probe_set__pause(ps, i))
			continue;	/* not paused (unverified): it stays, and is counted so */
		if (bs->sig)
			signals__window(bs->sig, i, ~0ULL);
		budget__stop(&f->b, now);
	}
	/* Nothing is judged from here: detaching the syscall probe cannot fail. */
	syscalls(bs, ps, &(struct probe_err){ 0 });
}

double budget_set__next_due(const struct budget_set *bs)
{
	return next_due(bs, false, 0);
}

const struct budget *budget_set__get(const struct budget_set *bs, size_t i)
{
	return &bs->f[i].b;
}

struct json_object *budget_set__json(const struct budget_set *bs, size_t i, __u64 counted,
				     double now)
{
	const struct budget *b = &bs->f[i].b;
	struct json_object *o = json_object_new_object();
	double full = budget__full_cost_pct(b);

	/* null: this function has no budget (rules give it none), its probes stay attached */
	json_object_object_add(o, "cpu_budget_pct", b->cpu_pct > 0 ?
			       json_object_new_double(b->cpu_pct) : NULL);
	json_object_object_add(o, "full_cost_pct", b->ns_per_call > 0 ?
			       json_object_new_double(full) : NULL);
	json_object_object_add(o, "duty", json_object_new_double(b->duty));
	/* The windows the duty gives (the first, measuring one, is BUDGET_WINDOW_S); null: attached */
	json_object_object_add(o, "window_s", b->duty < 1 && b->next_window_s > 0 ?
			       json_object_new_double(b->next_window_s) : NULL);
	json_object_object_add(o, "sampled", json_object_new_double(budget__sampled(b, now)));
	json_object_object_add(o, "windows", json_object_new_uint64(b->windows));
	json_object_object_add(o, "switch_s", json_object_new_double(bs->f[i].switch_s));
	json_object_object_add(o, "switch_cpu_s", json_object_new_double(b->switch_cpu_s));
	json_object_object_add(o, "switch_wall_s", json_object_new_double(b->switch_wall_s));
	json_object_object_add(o, "cost_pct", b->ns_per_call > 0 ?
			       json_object_new_double(budget__cost_pct(b)) : NULL);
	json_object_object_add(o, "calls_counted", json_object_new_uint64(counted));
	json_object_object_add(o, "calls_estimated",
			       json_object_new_double(round(estimate(&bs->f[i], counted, now))));
	json_object_object_add(o, "over_budget", json_object_new_boolean(
		b->cpu_pct > 0 && budget__cost_pct(b) > b->cpu_pct * 1.0001));
	return o;
}

int budget_set__text(const struct budget_set *bs, size_t i, __u64 counted, double now,
		     char *buf, size_t len)
{
	const struct budget *b = &bs->f[i].b;
	double s = budget__sampled(b, now);

	if (b->cpu_pct <= 0)
		return snprintf(buf, len, "no budget: attached all the time");
	if (s >= 1 && b->ns_per_call <= 0)
		return snprintf(buf, len, "budget %.3g%%: attached all the time (no cost measured)",
				b->cpu_pct);
	if (s >= 1)
		return snprintf(buf, len, "budget %.3g%%: attached all the time (%.3g%% of a CPU "
				"measured)", b->cpu_pct, budget__full_cost_pct(b));
	return snprintf(buf, len, "budget %.3g%%: sampled %.2f%% of the time, %llu calls counted, "
			"about %.0f in all", b->cpu_pct, s * 100, (unsigned long long)counted,
			estimate(&bs->f[i], counted, now));
}

void budget_set__span_start(struct budget_set *bs, double now)
{
	bs->span_from = now;
	for (size_t i = 0; i < bs->n; i++) {
		bs->f[i].span_att = budget__attached_s(&bs->f[i].b, now);
		bs->f[i].span_before = 0;
	}
}

/* Share of the span function i was attached, and its calls estimated from those counted. */
static double span_sampled(const struct budget_set *bs, size_t i, double now,
			   __u64 counted, double *estimated)
{
	const struct budget_fn *f = &bs->f[i];
	double len = fmin(now, f->b.stopped) - bs->span_from;
	double s = len > 0 ? fmin(1, fmax(0, budget__attached_s(&f->b, now) - f->span_att) / len) : 1;
	__u64 since = counted > f->span_before ? counted - f->span_before : 0;

	*estimated = (double)f->span_before + (s > 0 ? (double)since / s : 0);
	return s;
}

struct json_object *budget_set__span_json(const struct budget_set *bs, size_t i, __u64 counted,
					  double now)
{
	const struct budget *b = &bs->f[i].b;
	struct json_object *o = json_object_new_object();
	double est, s = span_sampled(bs, i, now, counted, &est);

	json_object_object_add(o, "cpu_budget_pct", b->cpu_pct > 0 ?
			       json_object_new_double(b->cpu_pct) : NULL);
	json_object_object_add(o, "sampled", json_object_new_double(s));
	json_object_object_add(o, "attached_s", json_object_new_double(
		s * fmax(0, fmin(now, b->stopped) - bs->span_from)));
	json_object_object_add(o, "calls_counted", json_object_new_uint64(counted));
	/* null: the span fell in a gap, nothing to scale up */
	json_object_object_add(o, "calls_estimated", s > 0 ? json_object_new_double(round(est)) :
			       NULL);
	return o;
}

int budget_set__span_text(const struct budget_set *bs, size_t i, __u64 counted, double now,
			  char *buf, size_t len)
{
	double est, s = span_sampled(bs, i, now, counted, &est);

	if (bs->f[i].b.cpu_pct <= 0 || s >= 1)
		return 0;
	if (s <= 0)
		return snprintf(buf, len, "budget %.3g%%: detached all this interval, no call "
				"counted", bs->f[i].b.cpu_pct);
	return snprintf(buf, len, "budget %.3g%%: sampled %.2f%% of this interval, %llu calls "
			"counted, about %.0f in all", bs->f[i].b.cpu_pct, s * 100,
			(unsigned long long)counted, est);
}

void budget_set__destroy(struct budget_set *bs)
{
	if (!bs)
		return;
	if (bs->stats_fd >= 0)
		close(bs->stats_fd);
	free(bs->f);
	free(bs->h);
	free(bs);
}
