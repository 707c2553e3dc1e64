// SPDX-License-Identifier: GPL-2.0
/* The CPU budget's duty cycle (budget.h): windows and gaps from measured costs. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <math.h>
#include <cmocka.h>
#include "budget.h"

/* 1 M calls/s at 300 ns of BPF time each, factor 1.5: 45 % of a CPU attached. */
static void test_hot_function_duty(void **state)
{
	struct budget b;
	double t = 100, full;

	(void)state;
	budget__init(&b, 1.0, 1.5, t);
	assert_int_equal(b.phase, BUDGET_ATTACHED);
	t += BUDGET_WINDOW_S;
	assert_int_equal(budget__window_done(&b, t, 250000, 75000000, 500000), BUDGET_DETACHED);
	full = budget__full_cost_pct(&b);
	assert_true(fabs(full - 45.0) < 1e-6);
	assert_true(fabs(b.duty - 1.0 / 45) < 1e-9);
	/* Window 0.25 s, gap 0.25 * 44 = 11 s: duty 1/45. */
	assert_true(fabs(b.phase_end - (t + 11.0)) < 1e-9);
	/* Over one whole cycle the attached share is the duty, and the cost the budget. */
	t = b.phase_end;
	budget__gap_done(&b, t);
	assert_true(fabs(b.phase_end - t - BUDGET_WINDOW_S) < 1e-9);
	t += BUDGET_WINDOW_S;
	budget__window_done(&b, t, 250000, 75000000, 500000);
	assert_true(fabs(budget__sampled(&b, t) - 0.5 / 11.5) < 1e-9);
	/* 500000 calls counted in 0.5 s of 11.5: 11.5 M over the run. */
	assert_true(fabs(budget__estimate_calls(&b, 500000, t) - 11.5e6) < 1);
}

/* The daemon's observe window: a whole attached window since the mark. */
static void test_window_since(void **state)
{
	struct budget b;
	__u64 mark;

	(void)state;
	budget__init(&b, 1.0, 1.5, 0);
	mark = budget__window_mark(&b);	/* marked mid-window: that one does not count */
	budget__window_done(&b, BUDGET_WINDOW_S, 250000, 75000000, 500000);
	assert_false(budget__window_since(&b, mark));
	budget__gap_done(&b, b.phase_end);
	budget__window_done(&b, b.phase_end, 250000, 75000000, 500000);
	assert_true(budget__window_since(&b, mark));
	/* Marked in a gap: the next window, once it ends. */
	mark = budget__window_mark(&b);
	assert_false(budget__window_since(&b, mark));
	budget__gap_done(&b, b.phase_end);
	assert_false(budget__window_since(&b, mark));
	budget__window_done(&b, b.phase_end, 250000, 75000000, 500000);
	assert_true(budget__window_since(&b, mark));
}

/* Judging over (gate, before a revert): what was sampled stops counting time. */
static void test_stop_ends_the_sample(void **state)
{
	struct budget b;

	(void)state;
	budget__init(&b, 1.0, 1.5, 0);
	budget__window_done(&b, BUDGET_WINDOW_S, 250000, 75000000, 500000);
	budget__gap_done(&b, 11.25);
	budget__stop(&b, 11.5);		/* mid-window: its 0.25 s count */
	assert_true(fabs(budget__sampled(&b, 11.5) - 0.5 / 11.5) < 1e-9);
	/* A revert that takes a minute after: the same share, the same estimate. */
	assert_true(fabs(budget__sampled(&b, 71.5) - 0.5 / 11.5) < 1e-9);
	assert_true(fabs(budget__estimate_calls(&b, 500000, 71.5) - 11.5e6) < 1);
	assert_true(b.phase == BUDGET_DETACHED && isinf(b.phase_end));
}

static void test_cold_function_always_on(void **state)
{
	struct budget b;

	(void)state;
	budget__init(&b, 1.0, 1.5, 0);
	/* 1000 calls/s at 300 ns: 0.045 % of a CPU, under the budget. */
	assert_int_equal(budget__window_done(&b, BUDGET_WINDOW_S, 250, 75000, 500), BUDGET_ATTACHED);
	assert_true(b.duty == 1);
	assert_true(budget__sampled(&b, BUDGET_WINDOW_S) == 1);
}

/* Statistics off or no calls: nothing to size the duty with, stay attached. */
static void test_unmeasured_stays_attached(void **state)
{
	struct budget b;

	(void)state;
	budget__init(&b, 1.0, 1.5, 0);
	assert_int_equal(budget__window_done(&b, 0.25, 0, 0, 0), BUDGET_ATTACHED);
	assert_int_equal(budget__window_done(&b, 0.5, 1000000, 0, 0), BUDGET_ATTACHED);
	assert_true(b.duty == 1);
}

/* So hot that 0.25 s windows would need gaps over the cap: shorter windows. */
static void test_gap_capped(void **state)
{
	struct budget b;
	double t = 0.25, window;

	(void)state;
	budget__init(&b, 0.1, 1.0, 0);
	/* 10 M calls/s at 1000 ns: 1000 % of a CPU; duty 1e-4 wanted. */
	budget__window_done(&b, t, 2500000, 2500000000ULL, 5000000);
	assert_true(fabs(b.phase_end - t - BUDGET_MAX_GAP_S) < 1e-9);
	window = b.next_window_s;
	/* The shortest window, 20 ms in 30 s: 6.7e-4, over the budget, and said. */
	assert_true(fabs(window - 0.02) < 1e-12);
	assert_true(fabs(b.duty - 0.02 / 30.02) < 1e-12);
	assert_true(budget__full_cost_pct(&b) * b.duty > b.cpu_pct);
}

/*
 * The switches are charged: the hot function of test_hot_function_duty, with
 * a detach and an attach that took 20 ms of CPU. A cycle of 0.25 s attached
 * (45 % of a CPU: 0.1125 s of CPU) and 0.02 s of switches, 0.1325 s in all,
 * is 1 % of 13.25 s: the gap is 13 s, not 11, and the cost is the budget.
 */
static void test_switches_charged(void **state)
{
	struct budget b;
	double t = BUDGET_WINDOW_S;

	(void)state;
	budget__init(&b, 1.0, 1.5, 0);
	b.switch_cpu_s = 0.02;
	assert_int_equal(budget__window_done(&b, t, 250000, 75000000, 500000), BUDGET_DETACHED);
	assert_true(fabs(b.phase_end - (t + 13.0)) < 1e-9);
	assert_true(fabs(b.duty - 0.25 / 13.25) < 1e-12);
	assert_true(fabs(budget__cost_pct(&b) - 1.0) < 1e-9);
	/* The 11.25 s cycle that leaves the switches out costs 1.18 % with them: over. */
	b.switch_cpu_s = 0;
	b.duty = 1.0 / 45;
	b.cycle_s = 11.25;
	b.next_window_s = BUDGET_WINDOW_S;
	assert_true(fabs(budget__cost_pct(&b) - 1.0) < 1e-9);
	b.switch_cpu_s = 0.02;
	assert_true(budget__cost_pct(&b) > 1.1);
}

/*
 * The switches' wall time is charged at the full cost (the kprobes may fire
 * while they are attached and detached): 0.1 s of it with the 0.25 s window
 * is 0.35 s at 45 %, 0.1575 s of CPU, 1 % of a 15.75 s cycle: a 15.4 s gap.
 */
static void test_switch_wall_time_charged(void **state)
{
	struct budget b;
	double t = BUDGET_WINDOW_S;

	(void)state;
	budget__init(&b, 1.0, 1.5, 0);
	b.switch_wall_s = 0.1;
	assert_int_equal(budget__window_done(&b, t, 250000, 75000000, 500000), BUDGET_DETACHED);
	assert_true(fabs(b.phase_end - (t + 15.4)) < 1e-9);
	assert_true(fabs(b.cycle_s - 15.75) < 1e-9);
	assert_true(fabs(b.duty - 0.25 / 15.75) < 1e-12);
	assert_true(fabs(budget__cost_pct(&b) - 1.0) < 1e-9);
}

/* Switches dearer than a capped cycle allows: the shortest window, and over budget. */
static void test_switches_over_a_capped_cycle(void **state)
{
	struct budget b;

	(void)state;
	budget__init(&b, 0.1, 1.0, 0);
	/* 0.1 % of a CPU for 30 s is 0.03 s: switches of 0.05 s cannot fit. */
	b.switch_cpu_s = 0.05;
	budget__window_done(&b, 0.25, 2500000, 2500000000ULL, 5000000);
	assert_true(fabs(b.phase_end - 0.25 - BUDGET_MAX_GAP_S) < 1e-9);
	assert_true(fabs(b.next_window_s - 0.02) < 1e-12);
	assert_true(budget__cost_pct(&b) > b.cpu_pct);
}

/* A little over the budget: a gap too short to pay for the switches, stays attached. */
static void test_short_gap_stays_attached(void **state)
{
	struct budget b;

	(void)state;
	budget__init(&b, 1.0, 1.0, 0);
	/* 40000 calls/s at 300 ns: 1.2 % of a CPU, duty 0.83, gap 0.05 s. */
	assert_int_equal(budget__window_done(&b, 0.25, 10000, 3000000, 20000), BUDGET_ATTACHED);
	assert_true(b.duty == 1);
	assert_true(budget__full_cost_pct(&b) * b.duty > b.cpu_pct);
	/* At 3 % of a CPU (duty 1/3, gap 0.5 s) it detaches. */
	assert_int_equal(budget__window_done(&b, 0.5, 25000, 7500000, 50000), BUDGET_DETACHED);
}

/*
 * A verb's window over functions of different duties (gate's baseline, then
 * its observe window): the loop of budget_set__wait() on budgets alone, with
 * a wake-up jitter. Each window must end soon after its asked length (within
 * one window and the longest gap), with a window of every function in it,
 * however the functions' gaps fall against each other.
 */
struct sim_fn {
	struct budget b;
	double full_pct;	/* what its probes cost attached */
	__u64 mark;
};

static void sim_tick(struct sim_fn *f, double now, bool holding)
{
	/* 300 ns of BPF time per call, factor 1.5: the call rate that costs full_pct. */
	double rate = f->full_pct / 100 / 450e-9, w = now - f->b.window_start;

	if (now < f->b.phase_end || budget__held(&f->b, f->mark, holding, now))
		return;
	if (f->b.phase == BUDGET_DETACHED) {
		budget__gap_done(&f->b, now);
		return;
	}
	budget__window_done(&f->b, now, (__u64)(rate * w), (__u64)(rate * w * 300),
			    (__u64)(2 * rate * w));
}

/* Runs one window of asked seconds from *t; returns its length. */
static double sim_window(struct sim_fn *f, size_t n, double *t, double asked)
{
	double start = *t, end = start + asked;
	static __u64 jitter = 12345;

	for (size_t i = 0; i < n; i++)
		f[i].mark = f[i].b.windows;
	for (;;) {
		bool holding = *t >= end, whole = true;
		double due = INFINITY;

		for (size_t i = 0; i < n; i++)
			whole &= budget__done_since(&f[i].b, f[i].mark, *t);
		if (*t >= end && whole)
			return *t - start;
		for (size_t i = 0; i < n; i++)
			sim_tick(&f[i], *t, holding);
		for (size_t i = 0; i < n; i++)
			if (!budget__held(&f[i].b, f[i].mark, holding, *t))
				due = fmin(due, f[i].b.phase_end);
		jitter = jitter * 6364136223846793005ULL + 1442695040888963407ULL;
		*t += fmax(0, fmin(fmin(0.2, due - *t), *t < end ? end - *t : INFINITY)) +
		      (double)(jitter >> 44) / (1 << 20) * 1e-3;	/* up to 1 ms late */
		if (*t - start > 1000)
			fail_msg("a window of %.0f s has not ended after 1000 s", asked);
	}
}

static void test_windows_of_many_functions(void **state)
{
	static const double costs[][3] = { { 5, 8, 0 }, { 2, 3, 50 }, { 86, 0.5, 5 } };

	(void)state;
	for (size_t k = 0; k < sizeof(costs) / sizeof(costs[0]); k++) {
		struct sim_fn f[3];
		double t = 0, len;

		for (size_t i = 0; i < 3; i++) {
			budget__init(&f[i].b, 1.0, 1.5, t);
			f[i].full_pct = costs[k][i] > 0 ? costs[k][i] : 0.5;
		}
		len = sim_window(f, 3, &t, 10);			/* the baseline */
		assert_true(len >= 10 && len <= 10 + BUDGET_WINDOW_S + BUDGET_MAX_GAP_S + 1);
		t += 2;						/* load and transition */
		len = sim_window(f, 3, &t, 4);			/* the observe window */
		assert_true(len >= 4 && len <= 4 + BUDGET_WINDOW_S + BUDGET_MAX_GAP_S + 1);
		/*
		 * Over the run, each function within its budget, give or take the
		 * wake-ups' lateness; or attached throughout where it fits.
		 */
		for (size_t i = 0; i < 3; i++)
			assert_true(f[i].b.duty >= 1 ||
				    f[i].full_pct * budget__sampled(&f[i].b, t) < 1.0 * 1.05);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_hot_function_duty),
		cmocka_unit_test(test_cold_function_always_on),
		cmocka_unit_test(test_unmeasured_stays_attached),
		cmocka_unit_test(test_gap_capped),
		cmocka_unit_test(test_switches_charged),
		cmocka_unit_test(test_switches_over_a_capped_cycle),
		cmocka_unit_test(test_switch_wall_time_charged),
		cmocka_unit_test(test_short_gap_stays_attached),
		cmocka_unit_test(test_windows_of_many_functions),
		cmocka_unit_test(test_stop_ends_the_sample),
		cmocka_unit_test(test_window_since),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
