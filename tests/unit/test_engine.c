// SPDX-License-Identifier: GPL-2.0
/*
 * The judgement engine: a table of scenarios (stops, calls stopped, a
 * regression early and late, the end of the window under each policy, a
 * kernel fault), and the same recorded evidence fed to gate's look and to the
 * watch daemon's look, which must decide alike.
 */
#include <errno.h>
#include <math.h>
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>
#include "engine.h"
#include "gate.h"
#include "hist.h"
#include "rules.h"
#include "watch.h"
#include "unit.h"

/* n calls, lognormal around 2.4 us times scale, plus add_ns; errors of them fail. */
static void draw(struct lps_hist *h, size_t n, double scale, double add_ns, size_t errors)
{
	unit__draw(h, n, scale, add_ns);
	h->errors += errors;
}

struct scenario {
	const char *name;
	enum engine_stop stop;
	bool transition;		/* still patching */
	size_t base_calls, obs_calls, obs_errors;
	double add_ns;			/* what the patch adds per call */
	double t_prev, t;
	__u64 calls_in_look;		/* 0: obs_calls */
	bool no_calls_in_look;
	size_t sys_faults;
	bool revert_inconclusive;
	bool signals;			/* lock contention recorded (none) */
	const char *lock_coverage;	/* what it covers: NULL, all locks */
	bool sampled;			/* under a CPU budget: attached idle_s since the last call */
	double idle_s;
	/* Expected */
	enum engine_action action;
	enum verdict verdict;
	bool operational;
	const char *reason;		/* a part of it; NULL: no reason */
	const char *not_reason;		/* not a part of it */
};

#define SPIN_HIDDEN "sleeping locks only (mutexes, rwsems): spinlocks not seen"

static const struct scenario scenarios[] = {
	{ "transition runs", .transition = true, .action = ENGINE_CONTINUE },
	{ "stalled", .stop = ENGINE_STOP_STALLED, .transition = true, .action = ENGINE_REVERT,
	  .verdict = VERDICT_FAIL, .reason = "transition stalled" },
	{ "interrupted while patching", .stop = ENGINE_STOP_INTERRUPTED, .transition = true,
	  .action = ENGINE_INCONCLUSIVE, .verdict = VERDICT_INCONCLUSIVE, .operational = true,
	  .reason = "interrupted before the patch settled" },
	{ "interrupted while observing", .stop = ENGINE_STOP_INTERRUPTED, .base_calls = 3000,
	  .obs_calls = 300, .t = 0.1, .action = ENGINE_INCONCLUSIVE, .verdict = VERDICT_INCONCLUSIVE,
	  .operational = true, .reason = "interrupted while observing" },
	{ "dead probes", .stop = ENGINE_STOP_PROBES_DEAD, .base_calls = 3000, .obs_calls = 300,
	  .t = 0.1, .action = ENGINE_INCONCLUSIVE, .verdict = VERDICT_INCONCLUSIVE,
	  .operational = true, .reason = "probes failed" },
	{ "patch gone", .stop = ENGINE_STOP_GONE, .base_calls = 3000, .t = 0.1,
	  .action = ENGINE_INCONCLUSIVE, .verdict = VERDICT_INCONCLUSIVE, .operational = true,
	  .reason = "went away" },
	{ "calls stopped", .base_calls = 3000, .obs_calls = 600, .no_calls_in_look = true,
	  .t_prev = 0.2, .t = 0.3, .action = ENGINE_INCONCLUSIVE, .verdict = VERDICT_INCONCLUSIVE,
	  .operational = true, .reason = "calls stopped" },
	/* Under a CPU budget: a look that fell in a gap between windows promises no call... */
	{ "sampled: a look in a gap is not 'stopped'", .base_calls = 3000, .obs_calls = 600,
	  .no_calls_in_look = true, .t_prev = 0.2, .t = 0.3, .sampled = true, .idle_s = 0,
	  .action = ENGINE_CONTINUE, .verdict = VERDICT_PASS },
	/* ...nor a sliver of a window: 0.2 s of a 300/s function (60 expected) may be slow calls... */
	{ "sampled: 0.2 s attached with no call is not 'stopped'", .base_calls = 3000,
	  .obs_calls = 600, .no_calls_in_look = true, .t_prev = 0.2, .t = 0.3, .sampled = true,
	  .idle_s = 0.2, .action = ENGINE_CONTINUE, .verdict = VERDICT_PASS },
	/* ...but a whole look's worth attached with none (300 expected) is. */
	{ "sampled: a look's length attached with no call is 'stopped'", .base_calls = 3000,
	  .obs_calls = 600, .no_calls_in_look = true, .t_prev = 0.2, .t = 0.3, .sampled = true,
	  .idle_s = 1, .action = ENGINE_INCONCLUSIVE, .verdict = VERDICT_INCONCLUSIVE,
	  .operational = true, .reason = "calls stopped" },
	/* 210 calls in 10 s: 2.1 expected in a 0.1 s look, so none is no sign of anything. */
	{ "a rare function is not 'stopped'", .base_calls = 210, .obs_calls = 10,
	  .no_calls_in_look = true, .t_prev = 0.29, .t = 0.3, .action = ENGINE_CONTINUE,
	  .verdict = VERDICT_INCONCLUSIVE },
	{ "harmless, mid-window", .base_calls = 3000, .obs_calls = 1500, .t_prev = 0.4, .t = 0.5,
	  .action = ENGINE_CONTINUE },
	{ "harmless, end of window", .base_calls = 3000, .obs_calls = 3000, .t_prev = 0.9, .t = 1,
	  .action = ENGINE_KEEP, .reason = "no regression" },
	{ "harmless, every lock seen", .base_calls = 3000, .obs_calls = 3000, .t_prev = 0.9, .t = 1,
	  .signals = true, .action = ENGINE_KEEP, .reason = "no regression",
	  .not_reason = "sleeping" },
	/* No clean pass where spinlock contention cannot be seen. */
	{ "harmless, spinlocks unseen", .base_calls = 3000, .obs_calls = 3000, .t_prev = 0.9,
	  .t = 1, .signals = true, .lock_coverage = SPIN_HIDDEN, .action = ENGINE_KEEP,
	  .reason = "only for sleeping locks: spinlock contention is invisible on this host" },
	{ "too few calls, policy keep, spinlocks unseen", .base_calls = 3000, .obs_calls = 50,
	  .t_prev = 0.9, .t = 1, .signals = true, .lock_coverage = SPIN_HIDDEN,
	  .action = ENGINE_KEEP, .verdict = VERDICT_INCONCLUSIVE,
	  .reason = "keep; lock contention seen for sleeping locks only" },
	{ "+50us at the end, spinlocks unseen", .base_calls = 3000, .obs_calls = 3000,
	  .add_ns = 50000, .t_prev = 0.9, .t = 1, .signals = true, .lock_coverage = SPIN_HIDDEN,
	  .action = ENGINE_REVERT, .verdict = VERDICT_FAIL, .reason = "regression" },
	{ "ftrace-sized cost, end of window", .base_calls = 3000, .obs_calls = 3000, .add_ns = 40,
	  .t_prev = 0.9, .t = 1, .action = ENGINE_KEEP, .reason = "no regression" },
	{ "+50us at the first look", .base_calls = 3000, .obs_calls = 300, .add_ns = 50000,
	  .t = 0.1, .action = ENGINE_REVERT, .verdict = VERDICT_FAIL,
	  .reason = "before the end of the window" },
	{ "+50us at the end", .base_calls = 3000, .obs_calls = 3000, .add_ns = 50000, .t_prev = 0.9,
	  .t = 1, .action = ENGINE_REVERT, .verdict = VERDICT_FAIL, .reason = "regression" },
	{ "errors after the patch", .base_calls = 3000, .obs_calls = 1000, .obs_errors = 1000,
	  .t_prev = 0.2, .t = 0.3, .action = ENGINE_REVERT, .verdict = VERDICT_FAIL },
	{ "too few calls, policy keep", .base_calls = 3000, .obs_calls = 50, .t_prev = 0.9, .t = 1,
	  .action = ENGINE_KEEP, .verdict = VERDICT_INCONCLUSIVE, .reason = "rules say keep" },
	{ "too few calls, policy revert", .base_calls = 3000, .obs_calls = 50, .t_prev = 0.9, .t = 1,
	  .revert_inconclusive = true, .action = ENGINE_REVERT, .verdict = VERDICT_INCONCLUSIVE,
	  .reason = "rules say revert" },
	{ "a kernel fault", .base_calls = 3000, .obs_calls = 1000, .sys_faults = 1, .t_prev = 0.2,
	  .t = 0.3, .action = ENGINE_REVERT, .verdict = VERDICT_FAIL },
};

static void run_scenario(const struct scenario *sc)
{
	struct lps_hist base = { 0 }, obs = { 0 };
	struct rules_set r;
	struct func_window b = { .hist = &base, .seconds = 10 }, o = { .hist = &obs };
	struct sys_window sb = { .seconds = 10 }, so = { 0 };
	struct func_judgement fj, sysj;
	struct engine_decision d;
	struct engine_look in;
	struct lps_func_signals none = { 0 };

	unit_rng = 88172645463325252ULL;
	rules__builtin(&r);
	r.inconclusive_revert = sc->revert_inconclusive;
	draw(&base, sc->base_calls, 1, 0, 0);
	draw(&obs, sc->obs_calls, 1, sc->add_ns, sc->obs_errors);
	o.seconds = so.seconds = sc->t * r.observe_s;
	o.idle_s = sc->idle_s;
	if (sc->signals) {
		b.sig = o.sig = sb.sig = so.sig = &none;
		o.lock_coverage = so.lock_coverage = sc->lock_coverage;
	}
	so.faults = sc->sys_faults;
	so.fault_line = sc->sys_faults ? "WARNING: CPU: 0 PID: 1 at lib/x.c:1" : NULL;
	in = (struct engine_look){
		.t_prev = sc->t_prev, .t = sc->t, .look_s = (sc->t - sc->t_prev) * r.observe_s,
		.observing = !sc->transition, .stop = sc->stop, .n = 1, .base = &b, .obs = &o,
		.fr = &r, .sys_base = &sb, .sys_obs = &so, .def = &r, .sampled = sc->sampled,
		.calls_in_look = sc->no_calls_in_look ? 0 : sc->calls_in_look ? sc->calls_in_look :
				 sc->obs_calls,
	};
	engine__look(&in, &fj, &sysj, &d);
	if (d.action != sc->action || d.verdict != sc->verdict || d.operational != sc->operational ||
	    (sc->reason && (!d.reason || !strstr(d.reason, sc->reason))) ||
	    (sc->not_reason && d.reason && strstr(d.reason, sc->not_reason)) ||
	    (!sc->reason && sc->action == ENGINE_CONTINUE && d.reason)) {
		print_error("%s: got %s/%s%s (%s), want %s/%s%s (%s)\n", sc->name,
			    engine_action__name(d.action), verdict__name(d.verdict),
			    d.operational ? "/operational" : "", d.reason ? d.reason : "-",
			    engine_action__name(sc->action), verdict__name(sc->verdict),
			    sc->operational ? "/operational" : "", sc->reason ? sc->reason : "-");
		fail();
	}
}

static void test_scenarios(void **state)
{
	(void)state;
	for (size_t i = 0; i < sizeof(scenarios) / sizeof(scenarios[0]); i++)
		run_scenario(&scenarios[i]);
}

/* The same recorded evidence: two functions, one unchanged, one +add_ns, errors on the second. */
struct evidence {
	struct lps_hist base[2], start[2], now[2];
	double base_s, obs_s, t_prev;
};

static void record(struct evidence *e, double add_ns, size_t errors)
{
	memset(e, 0, sizeof(*e));
	unit_rng = 0x9e3779b97f4a7c15ULL;
	for (int i = 0; i < 2; i++) {
		struct lps_hist after = { 0 };

		draw(&e->base[i], 4000, 1, 0, 0);
		e->start[i] = e->base[i];	/* cumulative at the observe window's start */
		draw(&after, 1500, 1, i ? add_ns : 0, i ? errors : 0);
		e->now[i] = e->start[i];
		hist_add(&e->now[i], &after);
	}
	e->base_s = 10;
	e->obs_s = 5;
	e->t_prev = 0.4;
}

/* Each path judges its own copy of the evidence: judging may write in it. */
static void gate_path(const struct evidence *e, struct engine_decision *d, struct func_judgement *fj)
{
	static const char *names[2] = { "version_proc_show", "loadavg_proc_show" };
	const char *fnames[6] = { names[0], NULL, NULL, names[1], NULL, NULL };
	struct evidence c = *e;
	struct lps_hist obs[2];
	struct rules_set fr[2];
	struct gate g = {
		.kmsg_fd = -EBADF, .n = 2, .h2 = c.start, .now = c.now, .base = c.base, .obs = obs,
		.fr = fr, .j = fj, .names = fnames, .t_base = e->base_s, .t_obs = e->obs_s,
		.calls_seen = e->now[0].calls + e->now[1].calls - 400,	/* 400 calls in this look */
	};
	struct gate_look look = { .t_prev = e->t_prev, .t = e->obs_s / 10, .look_s = 1 };

	rules__builtin(&g.def);
	fr[0] = fr[1] = g.def;
	gate__look(&g, &look, d);
	kfault_log__free(&g.faults);
	timeline__free(&g.tl);
}

static void watch_path(const struct evidence *e, struct engine_decision *d, struct func_judgement *fj)
{
	/* The seconds its probes saw: the observe window's, as gate's t_obs. */
	struct watch_fn fns[2] = { { .name = "version_proc_show", .cum = e->now[0], .seen_s = e->obs_s },
				   { .name = "loadavg_proc_show", .cum = e->now[1], .seen_s = e->obs_s } };
	double seen_start[2] = { 0, 0 };
	struct idle_track idle[2] = { { .last_s = e->obs_s - 1 }, { .last_s = e->obs_s - 1 } };
	__u64 win_mark[2] = { 0 };
	const struct budget_set *win_bs[2] = { 0 };
	struct watch w = { .kmsg_fd = -1, .fns = fns, .nfns = 2 };
	struct evidence c = *e;
	size_t fn[2] = { 0, 1 };
	struct lps_hist obs[2];
	double base_s[2] = { e->base_s, e->base_s };
	bool base_none[2] = { false, false }, sbase_ok[2] = { false, false };
	enum attach_mode mode[2] = { ATTACH_AUTO, ATTACH_AUTO };
	struct lps_func_signals sstart[2], sobs[2], sbase[2];
	struct rules_set fr[2];
	const char *names[6] = { 0 };
	double now = 100;
	struct watch_judgement j = {
		.n = 2, .fn = fn, .start = c.start, .obs = obs, .base = c.base, .base_s = base_s,
		.base_none = base_none, .sbase = sbase, .sbase_ok = sbase_ok, .sstart = sstart,
		.sobs = sobs, .base_mode = mode, .fr = fr, .j = fj, .names = names,
		.t_obs_start = now - e->obs_s, .t_prev = e->t_prev, .t_look = now - 1,
		.calls_seen = e->now[0].calls + e->now[1].calls - 400, .seen_start = seen_start,
		.idle = idle, .win_mark = win_mark,
		.win_bs = win_bs,
	};

	rules__builtin(&w.def);
	j.def = w.def;
	fr[0] = fr[1] = w.def;
	watch_judge__look(&w, &j, now, d);
	kfault_log__free(&j.faults);
	timeline__free(&j.tl);
}

static void same_decision(double add_ns, size_t errors, enum engine_action want)
{
	struct func_judgement gj[2], wj[2];
	struct engine_decision gd, wd;
	struct evidence e;

	record(&e, add_ns, errors);
	gate_path(&e, &gd, gj);
	watch_path(&e, &wd, wj);
	assert_int_equal(gd.action, want);
	assert_int_equal(gd.action, wd.action);
	assert_int_equal(gd.verdict, wd.verdict);
	assert_int_equal(gd.operational, wd.operational);
	assert_string_equal(gd.reason ? gd.reason : "", wd.reason ? wd.reason : "");
	for (int i = 0; i < 2; i++) {
		assert_int_equal(gj[i].n, wj[i].n);
		assert_int_equal(gj[i].verdict, wj[i].verdict);
		for (size_t k = 0; k < gj[i].n; k++) {
			assert_string_equal(gj[i].checks[k].check, wj[i].checks[k].check);
			assert_int_equal(gj[i].checks[k].result, wj[i].checks[k].result);
			assert_string_equal(gj[i].checks[k].detail, wj[i].checks[k].detail);
		}
	}
}

static void test_gate_and_watch_decide_alike(void **state)
{
	(void)state;
	same_decision(0, 0, ENGINE_CONTINUE);		/* harmless, mid-window */
	same_decision(60000, 0, ENGINE_REVERT);		/* +60 us on the second function */
	same_decision(0, 900, ENGINE_REVERT);		/* errors on the second function */
}

/*
 * A patch with no function measured (state or callbacks only, every function
 * in a module not loaded): the system checks alone decide, and the reason
 * says nothing was measured; the checks must not touch per-function arrays.
 */
static void test_nothing_measured(void **state)
{
	struct rules_set r;
	struct sys_window sb = { .seconds = 4 }, so = { .seconds = 6 };
	struct func_judgement sysj;
	struct engine_decision d;
	struct engine_look in;

	(void)state;
	rules__builtin(&r);
	in = (struct engine_look){ .t_prev = 0.5, .t = 1, .look_s = 3, .observing = true,
				   .n = 0, .sys_base = &sb, .sys_obs = &so, .def = &r };
	engine__look(&in, NULL, &sysj, &d);
	assert_int_equal(d.action, ENGINE_KEEP);
	assert_int_equal(d.verdict, VERDICT_PASS);
	assert_non_null(strstr(d.reason, "no function was measured"));
	/* a fault in the kernel log still reverts it */
	so.faults = 1;
	so.fault_line = "BUG: kernel NULL pointer dereference";
	engine__look(&in, NULL, &sysj, &d);
	assert_int_equal(d.action, ENGINE_REVERT);
}

/*
 * Functions no look judged (a stalled transition reverts before observing):
 * inconclusive with no checks, never the zeroed struct's pass.
 */
static void test_unjudged(void **state)
{
	struct func_judgement fj[2];
	struct engine_decision d;

	(void)state;
	memset(fj, 0, sizeof(fj));
	assert_int_equal(fj[0].verdict, VERDICT_PASS);	/* what a stalled gate showed */
	engine__unjudged(fj, 2);
	for (int i = 0; i < 2; i++) {
		assert_int_equal(fj[i].verdict, VERDICT_INCONCLUSIVE);
		assert_int_equal(fj[i].n, 0);
	}
	engine__stop(ENGINE_STOP_STALLED, false, &d);
	assert_int_equal(d.action, ENGINE_REVERT);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_scenarios),
		cmocka_unit_test(test_gate_and_watch_decide_alike),
		cmocka_unit_test(test_nothing_measured),
		cmocka_unit_test(test_unjudged),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
