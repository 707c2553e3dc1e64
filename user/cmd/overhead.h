/* SPDX-License-Identifier: GPL-2.0 */
/* One overhead run's figures, shared by its flow (overhead.c) and its printers (overhead_report.c). */
#ifndef LPS_OVERHEAD_H
#define LPS_OVERHEAD_H

#include <stdbool.h>
#include <linux/types.h>
#include "lpsentinel.h"
#include "probes.h"
#include "self_cost.h"

struct overhead_args {
	const char *target;	/* a module file, or a loaded patch's name */
	const char *calibrate;	/* the calibration patch module, or NULL */
	double window_s;
	bool keep, json;
};

/* Mean latency of one window and what its precision rests on. */
struct window {
	__u64 calls, recorded;
	double secs, mean_ns, var_ns2, p50_ns;
};

/* after - before, with a 95 % interval (Welch: the two windows' variances). */
struct diff {
	bool known;
	double ns, ci95;
};

struct calibration {
	char patch[128], function[128];
	struct window before, after;
	/*
	 * redirection: the identical patch's cost per call as its caller sees it
	 * (the driver's reads, timed in user space): ftrace sends the call to the
	 * livepatch handler before any entry probe runs, so no probe sees that.
	 * probe_visible: what the probes saw change for the same patch (their own
	 * path through a patched call site), taken off a patch's added time.
	 */
	struct diff redirection, probe_visible;
	double reads_before, reads_after;
};

/* Calibration windows: this many without the patch and as many with it, alternating. */
#define CALIBRATION_ROUNDS 3
/* Reads each window of a round needs for its median. */
#define CALIBRATION_MIN_READS 20

void overhead__window_of(struct window *w, const struct lps_hist *h, double secs);
struct diff overhead__diff_of(const struct window *b, const struct window *a);

/* moved[i]: function i's probe changed method between the windows (not compared). */
void overhead__print_json(const struct overhead_args *a, const char *patch, bool had_before,
			  const bool *moved, const struct probe_set *ps, const struct window *before,
			  const struct window *after, const struct calibration *cal,
			  const struct self_cost *sc, const struct lps_hist *h, const char *action);
void overhead__print_text(const char *patch, bool had_before, const bool *moved,
			  const struct probe_set *ps, const struct window *before,
			  const struct window *after, const struct calibration *cal,
			  const struct self_cost *sc, const struct lps_hist *h, const char *action);

#endif
