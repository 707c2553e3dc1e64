/* SPDX-License-Identifier: GPL-2.0 */
/*
 * What lpsentinel itself costs while it measures: the kernel's BPF run-time
 * statistics of its programs (enabled only while a self_cost is held), and
 * the probe floor, the latency its probes add inside a traced call, measured
 * on a near-empty kernel function (bpf_fentry_test1).
 */
#ifndef LPS_SELF_COST_H
#define LPS_SELF_COST_H

#include <stdbool.h>
#include <stdio.h>
#include "probes.h"

struct json_object;
struct signals;

/* Calls of the near-empty function per floor: a few ms, a tight mean. */
#define SELF_COST_FLOOR_CALLS 2000

/* Attach methods with a floor: every enum attach_mode but auto. */
#define SELF_COST_MODES (ATTACH_FSESSION - ATTACH_FENTRY + 1)

struct probe_floor {
	bool measured;
	double mean_ns, p50_ns;	/* recorded latency of bpf_fentry_test1 */
	__u64 calls;
	char why[320];		/* not measured: why */
};

struct self_cost {
	int stats_fd;		/* bpf_enable_stats; -errno when the kernel refused */
	/* One per attach method, [mode - ATTACH_FENTRY]: fentry, kprobe, kprobe_session, fsession. */
	struct probe_floor floor[SELF_COST_MODES];
};

struct bpf_object;
struct bpf_program;
/*
 * Adds the run time and run count of every loaded program of obj (counted by
 * the kernel only while BPF statistics are on) to *run_ns and *runs.
 */
int self_cost__object_stats(const struct bpf_object *obj, __u64 *run_ns, __u64 *runs);
/* The same for one program (nothing added when it is not loaded). */
int self_cost__prog_stats(const struct bpf_program *prog, __u64 *run_ns, __u64 *runs);

/* Turns BPF statistics on for as long as sc is held. Never fails: refusal is reported. */
void self_cost__start(struct self_cost *sc);
/*
 * Measures the probe floor of every attach method ps uses: traces
 * bpf_fentry_test1 with that method while the kernel calls it `calls` times.
 * What cannot be measured is said in the floor's why.
 */
void self_cost__measure_floors(struct self_cost *sc, const struct probe_set *ps, unsigned calls);
const struct probe_floor *self_cost__floor(const struct self_cost *sc, enum attach_mode mode);
void self_cost__stop(struct self_cost *sc);

/*
 * Adds "self_cost" to one function's JSON (f): its programs' runs, run time,
 * ns per call, and with a floor the mean latency less the floor.
 */
void self_cost__add_function(struct json_object *f, const struct self_cost *sc,
			     const struct probe_set *ps, size_t i, const struct lps_hist *h);
/* The run's summary: BPF stats on or why not, floors, signal programs' cost. */
struct json_object *self_cost__json(const struct self_cost *sc, const struct probe_set *ps,
				    const struct signals *sig, const struct lps_hist *h);
/* The same in lines for people. */
void self_cost__text(FILE *f, const struct self_cost *sc, const struct probe_set *ps,
		     const struct signals *sig, const struct lps_hist *h);

#endif
