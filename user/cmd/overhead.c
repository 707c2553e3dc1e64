// SPDX-License-Identifier: GPL-2.0
/*
 * lpsentinel overhead PATCH.ko|PATCH [-d SECONDS] [--calibrate NOOP.ko] [--keep] [--json]
 *
 * What a livepatch costs: for each function it replaces, the calls per second
 * under the current workload, the time a call takes more with the patch (the
 * mean after less the mean before, same probes both times, so their own cost
 * cancels), and the product, the share of a CPU the patch costs. With a
 * calibration patch (calibration/lps_noop.c: identical to the code it
 * replaces) the added time splits into the livepatch redirection and the new
 * code's own difference. Precision: 95 % intervals from the windows' spread.
 */
#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <json-c/json.h>
#include "cli.h"
#include "overhead.h"
#include "hist.h"
#include "engine.h"
#include "klp_control.h"
#include "lifecycle.h"
#include "klp_module.h"
#include "klp_sysfs.h"
#include "log.h"
#include "opts.h"
#include "probes.h"
#include "report.h"
#include "self_cost.h"
#include "clock.h"
#include "stop.h"

#define TRANSITION_TIMEOUT_S 60.0
#define REVERT_TIMEOUT_S 60.0

static const struct cli_opt overhead_opts[] = {
	{ "duration", 'd', "SECONDS", "length of each window, before and with the patch "
	  "(default 10)", CLI_SET_SECONDS(struct overhead_args, window_s,
					  "-d wants a positive number of seconds") },
	{ "calibrate", 0, "NOOP.ko", "measure the livepatch redirection alone with this "
	  "identical-code patch", CLI_SET_STRING(struct overhead_args, calibrate) },
	{ "keep", 0, NULL, "leave the patch loaded afterwards",
	  CLI_SET_FLAG(struct overhead_args, keep) },
	{ "json", 0, NULL, "one JSON document on stdout", CLI_SET_FLAG(struct overhead_args, json) },
	{ 0 },
};

const struct cli_verb cli_verb_overhead = {
	.name = "overhead", .args = "PATCH.ko|PATCH", .opts = overhead_opts, .run = do_overhead,
	.traces = true,
	.summary = "What a livepatch costs per call and in CPU, with the redirection "
		   "calibrated apart from the new code",
	.min_args = 1, .max_args = 1,
	.args_error = "overhead needs one patch module or loaded patch name "
		      "(see lpsentinel overhead --help)",
};

static int parse_overhead_args(int argc, char **argv, struct overhead_args *a)
{
	int first, ret;

	a->window_s = 10;
	ret = cli__parse(&cli_verb_overhead, argc, argv, NULL, a, &first);
	if (!ret)
		a->target = argv[first];
	return ret;
}

/*
 * Measures `secs` on every function of ps and adds what it saw to acc[] (and
 * the time to *acc_secs; either may be NULL for a warm-up), checking the
 * probes every 200 ms (a fentry probe proves itself, or is replaced).
 */
static int measure(struct probe_set *ps, double secs, struct lps_hist *acc, double *acc_secs)
{
	size_t n = probe_set__count(ps);
	struct lps_hist *h0 = calloc(n, sizeof(*h0)), *h1 = calloc(n, sizeof(*h1));
	struct probe_err perr = { 0 };
	double start = clock__now_s();
	int ret = -ENOMEM;

	if (!h0 || !h1)
		goto cleanup;
	ret = probe_set__read(ps, h0);
	if (ret)
		goto cleanup;
	ret = probe_set__observe(ps, secs, stop__requested, &perr);
	if (ret && ret != -EINTR) {
		lps_err("%s: %s", perr.func, perr.what);
		ret = -EIO;
	}
	if (!ret)
		ret = probe_set__read(ps, h1);
	if (ret)
		goto cleanup;
	for (size_t i = 0; acc && i < n; i++) {
		struct lps_hist d;

		hist_delta(&d, &h1[i], &h0[i]);
		hist_add(&acc[i], &d);
	}
	if (acc_secs)
		*acc_secs += clock__now_s() - start;
cleanup:
	free(h0);
	free(h1);
	return ret;
}

/* Loads the patch from its opened file and waits for its transition; -errno said once. */
static int load_patch(struct klp_life *l)
{
	char why[640];
	int ret = klp_life__load(l, why, sizeof(why));

	if (ret) {
		lps_err("%s", why);
		return ret;
	}
	ret = klp_life__wait(l, TRANSITION_TIMEOUT_S, stop__requested);
	if (ret && ret != -EINTR)	/* interrupted: the caller says it, with what became of it */
		lps_err("%s: %s (see lpsentinel status)", l->patch, ret == -ETIMEDOUT ? l->detail :
			"the patch went away while patching");
	return ret;
}

/* Disables and unloads a patch we loaded; -errno said once. */
static int unload_patch(struct klp_life *l)
{
	char why[512];
	int ret = klp_life__take_out(l, REVERT_TIMEOUT_S, why, sizeof(why));

	if (ret)
		lps_err("%s", why);
	return ret;
}

/* Is the patch in because we loaded it? */
static bool loaded_by_us(const struct klp_life *l)
{
	return l->state >= KLP_LIFE_PATCHING && l->state <= KLP_LIFE_GONE;
}

/*
 * The calibration's workload: reads /proc/<name> (X_proc_show) until told to
 * stop, each read timed and kept in the histogram of its round and phase.
 */
struct driver {
	pthread_t thread;
	int fd;
	volatile int stop;
	volatile int phase;		/* 0: not counted, 1: without the patch, 2: with it */
	volatile int round;
	struct lps_hist h[CALIBRATION_ROUNDS][2];	/* read after the join */
};

static void *drive(void *arg)
{
	struct driver *d = arg;
	char buf[4096];

	while (!d->stop) {
		int ph = d->phase, r = d->round;
		double t0 = clock__now_s(), x;
		struct lps_hist *h;
		__u32 b;

		if (pread(d->fd, buf, sizeof(buf), 0) < 0)
			break;
		x = (clock__now_s() - t0) * 1e9;
		if (!ph || ph != d->phase || r != d->round || x < 0)
			continue;	/* straddles a change of phase */
		h = &d->h[r][ph - 1];
		b = lps_hist_bucket((__u64)x);
		h->calls++;
		h->sum_ns += (__u64)x;
		if ((__u64)x > h->max_ns)
			h->max_ns = (__u64)x;
		h->buckets[b < HIST_BUCKETS ? b : HIST_BUCKETS - 1]++;
	}
	return NULL;
}

/* Reads in one phase of all rounds (phase 1: without the patch, 2: with it). */
static double driver_reads(const struct driver *d, int phase)
{
	double n = 0;

	for (int r = 0; r < CALIBRATION_ROUNDS; r++)
		n += (double)d->h[r][phase - 1].calls;
	return n;
}

/*
 * The redirection adds a fixed cost to every call: it shifts the whole
 * distribution of read times. Each round's shift is its median with the patch
 * less its median without: medians ignore the preemptions and interrupts that
 * land on a few reads and dominate a mean on a busy (or emulated) machine,
 * and the two windows of a round are back to back, so the machine's drift
 * between rounds falls out. The estimate is the mean shift over the rounds,
 * its 95 % interval Student's t over their spread (CALIBRATION_ROUNDS - 1
 * degrees of freedom): honest about how much the rounds disagree.
 */
static struct diff driver_diff(const struct driver *d)
{
	static const double t975[] = { 0, 12.706, 4.303, 3.182, 2.776, 2.571, 2.447, 2.365 };
	double shift[CALIBRATION_ROUNDS], sum = 0, ss = 0;
	struct diff r = { 0 };
	int k = 0;

	_Static_assert(CALIBRATION_ROUNDS >= 2 && CALIBRATION_ROUNDS < 9, "t975 table");
	for (int i = 0; i < CALIBRATION_ROUNDS; i++) {
		const struct lps_hist *b = &d->h[i][0], *a = &d->h[i][1];

		if (b->calls < CALIBRATION_MIN_READS || a->calls < CALIBRATION_MIN_READS)
			return r;
		shift[k] = hist_percentile(a, 0.5) - hist_percentile(b, 0.5);
		sum += shift[k++];
	}
	r.known = true;
	r.ns = sum / k;
	for (int i = 0; i < k; i++)
		ss += (shift[i] - r.ns) * (shift[i] - r.ns);
	r.ci95 = t975[k - 1] * sqrt(ss / (k - 1) / k);
	return r;
}

/* /proc/FILE behind FUNC, for FUNC named FILE_proc_show; -ENOENT otherwise. */
static int proc_file_of(const char *func, char *path, size_t len)
{
	size_t n = strlen(func), sfx = strlen("_proc_show");

	if (n <= sfx || strcmp(func + n - sfx, "_proc_show"))
		return -ENOENT;
	snprintf(path, len, "/proc/%.*s", (int)(n - sfx), func);
	return access(path, R_OK) ? -ENOENT : 0;
}

/*
 * Redirection cost: the calibration patch's function, called by us, before and
 * after the patch that is identical to it; the patch is unloaded again.
 */
static int calibrate(const struct overhead_args *a, struct calibration *cal)
{
	struct probe_set_opts popts = { .mode = ATTACH_AUTO, .klp_root = KLP_SYSFS_ROOT_DEFAULT };
	struct klp_module_info mod = { 0 };
	struct klp_life life = { .fd = -1 };
	struct driver drv = { .fd = -1 };
	struct probe_err perr = { 0 };
	struct probe_set *ps = NULL;
	struct lps_hist hb = { 0 }, ha = { 0 };
	double sb = 0, sa = 0, win = fmax(1.0, a->window_s / CALIBRATION_ROUNDS);
	const char *func;
	bool running = false;
	char why[256], path[160];
	int ret;

	/* Opened once: every round loads the file inspected here. */
	ret = klp_life__open(&life, a->calibrate, &mod, why, sizeof(why));
	if (ret) {
		lps_err("%s: %s", a->calibrate, why);
		return ret;
	}
	func = mod.n == 1 ? mod.targets[0].function : NULL;
	if (!func || proc_file_of(func, path, sizeof(path))) {
		lps_err("%s: a calibration patch replaces one X_proc_show function whose /proc/X "
			"exists (calibration/lps_noop.c)", a->calibrate);
		ret = -EINVAL;
		goto cleanup;
	}
	if (klp_sysfs__is_patched(KLP_SYSFS_ROOT_DEFAULT, func) ||
	    klp_control__module_loaded(mod.patch)) {
		lps_err("%s: %s is patched already: the calibration needs the original", a->calibrate,
			func);
		ret = -EBUSY;
		goto cleanup;
	}
	snprintf(cal->patch, sizeof(cal->patch), "%s", mod.patch);
	snprintf(cal->function, sizeof(cal->function), "%s", func);
	ret = probe_set__open(&ps, &func, 1, &popts, &perr);
	if (!ret)
		ret = probe_set__attach(ps, &perr);
	if (ret) {
		lps_err("%s: %s", perr.func[0] ? perr.func : func, perr.what);
		goto cleanup;
	}
	drv.fd = open(path, O_RDONLY | O_CLOEXEC);
	if (drv.fd < 0 || pthread_create(&drv.thread, NULL, drive, &drv)) {
		ret = -errno;
		lps_err("%s: cannot call %s: %s", a->calibrate, func, strerror(errno));
		goto cleanup;
	}
	running = true;
	if (!a->json)
		fprintf(stderr, "overhead: calibrating on %s (%s): %d rounds of %.1fs without and with %s\n",
			func, path, CALIBRATION_ROUNDS, win, mod.patch);
	/* A short warm-up: the probe proves itself and drops its witness. */
	ret = measure(ps, 0.5, NULL, NULL);
	/*
	 * Rounds without and with the patch, pooled: drift of the machine over
	 * the run falls on both sides alike instead of on the difference.
	 */
	for (int r = 0; r < CALIBRATION_ROUNDS && !ret; r++) {
		drv.round = r;
		drv.phase = 1;
		ret = measure(ps, win, &hb, &sb);
		drv.phase = 0;
		if (!ret)
			ret = load_patch(&life);
		drv.phase = 2;
		if (!ret)
			ret = measure(ps, win, &ha, &sa);
		drv.phase = 0;
		if (!ret && loaded_by_us(&life))
			ret = unload_patch(&life);
	}
cleanup:
	if (running) {
		drv.stop = 1;
		pthread_join(drv.thread, NULL);
	}
	if (!ret) {
		overhead__window_of(&cal->before, &hb, sb);
		overhead__window_of(&cal->after, &ha, sa);
		cal->probe_visible = overhead__diff_of(&cal->before, &cal->after);
		cal->redirection = driver_diff(&drv);
		cal->reads_before = driver_reads(&drv, 1);
		cal->reads_after = driver_reads(&drv, 2);
	}
	if (drv.fd >= 0)
		close(drv.fd);
	probe_set__destroy(ps);
	if (loaded_by_us(&life) && unload_patch(&life) && !ret)
		ret = -EIO;
	klp_life__close(&life);
	klp_module_info__free(&mod);
	if (ret == -EINTR)
		lps_err("%s: interrupted while calibrating; the calibration patch is out", a->calibrate);
	if (!ret && !cal->redirection.known) {
		lps_err("%s: %s saw too few calls to calibrate", a->calibrate, func);
		ret = -ENODATA;
	}
	return ret;
}

static int run_overhead(const struct overhead_args *a)
{
	struct probe_set_opts popts = { .mode = ATTACH_AUTO, .klp_root = KLP_SYSFS_ROOT_DEFAULT };
	struct self_cost sc = { .stats_fd = -EBADF };
	struct klp_module_info mod = { 0 };
	struct klp_life life = { .fd = -1 };
	struct window *before = NULL, *after = NULL;
	struct calibration cal = { 0 };
	struct probe_err perr = { 0 };
	struct klp_patch_entry pe = { 0 };
	struct probe_set *ps = NULL;
	struct lps_hist *h = NULL, *hb = NULL, *ha = NULL;
	double sb = 0, sa = 0;
	enum attach_mode *mode0 = NULL;
	bool *moved = NULL;
	const char **names = NULL;
	const char *patch, *action;
	bool is_module = access(a->target, F_OK) == 0;
	char why[256];
	size_t n;
	int ret;

	if (is_module) {
		ret = klp_life__open(&life, a->target, &mod, why, sizeof(why));
		if (ret) {
			lps_err("%s: %s", a->target, why);
			return CLI_EXIT_ERROR;
		}
		if (klp_control__module_loaded(mod.patch)) {
			lps_err("%s: a module of that name is already loaded (give the patch's name "
				"to measure it as it is)", mod.patch);
			ret = -EEXIST;
			goto cleanup;
		}
		patch = mod.patch;
		n = mod.n;
		/* Nothing to measure the cost of: said as a loaded patch without functions is. */
		if (!n) {
			lps_err("%s: the patch replaces no function", patch);
			ret = -ENOENT;
			goto cleanup;
		}
		names = calloc(n + 1, sizeof(*names));
		if (!names) {
			ret = -ENOMEM;
			lps_err("out of memory");
			goto cleanup;
		}
		for (size_t i = 0; i < n; i++)
			names[i] = mod.targets[i].function;
	} else {
		ret = klp_sysfs__read_patch(KLP_SYSFS_ROOT_DEFAULT, a->target, &pe);
		if (ret) {
			lps_err("%s: neither a module file nor a loaded livepatch", a->target);
			return CLI_EXIT_ERROR;
		}
		patch = pe.name;
		ret = klp_patch_entry__functions(&pe, &names);
		if (ret <= 0) {
			lps_err("%s: %s", patch, ret ? "out of memory" : "the patch replaces no function");
			ret = ret ? ret : -ENOENT;
			goto cleanup;
		}
		n = (size_t)ret;
	}
	before = calloc(n, sizeof(*before));
	after = calloc(n, sizeof(*after));
	h = calloc(n, sizeof(*h));
	hb = calloc(n, sizeof(*hb));
	ha = calloc(n, sizeof(*ha));
	mode0 = calloc(n, sizeof(*mode0));
	moved = calloc(n, sizeof(*moved));
	if (!before || !after || !h || !hb || !ha || !mode0 || !moved) {
		ret = -ENOMEM;
		lps_err("out of memory");
		goto cleanup;
	}
	stop__catch_signals();
	self_cost__start(&sc);
	if (a->calibrate) {
		ret = calibrate(a, &cal);
		if (ret)
			goto cleanup;
	}
	ret = probe_set__open(&ps, names, n, &popts, &perr);
	if (!ret)
		ret = probe_set__attach(ps, &perr);
	if (ret) {
		lps_err("%s: %s", perr.func[0] ? perr.func : patch, perr.what);
		goto cleanup;
	}
	if (!a->json)
		fprintf(stderr, "overhead: %s, %zu function%s, %.0fs %s\n", patch, n, n == 1 ? "" : "s",
			a->window_s, is_module ? "before and after loading it" : "as it runs now");
	ret = measure(ps, 0.5, NULL, NULL);	/* warm-up: probes prove themselves */
	if (!ret && is_module)
		ret = measure(ps, a->window_s, hb, &sb);
	for (size_t i = 0; !ret && i < n; i++)
		mode0[i] = probe_set__info(ps, i)->mode;
	if (!ret && is_module)
		ret = load_patch(&life);
	if (!ret)
		ret = measure(ps, a->window_s, ha, &sa);
	for (size_t i = 0; !ret && i < n; i++) {
		const struct probe_info *pi = probe_set__info(ps, i);

		overhead__window_of(&before[i], &hb[i], sb);
		overhead__window_of(&after[i], &ha[i], sa);
		/* A fentry probe the kernel broke moved to kprobes: other probe costs, no difference. */
		moved[i] = is_module && pi->mode != mode0[i];
		if (moved[i])
			lps_warn("%s: its probe moved from %s to %s while measuring; before and after "
				 "are not compared", pi->name, attach_mode__name(mode0[i]),
				 attach_mode__name(pi->mode));
	}
	if (ret) {
		struct engine_decision d;

		/* The engine words a stop as it does for gate and watch. */
		/* Measuring is observing, except while the patch's transition runs. */
		engine__stop(ret == -EINTR ? ENGINE_STOP_INTERRUPTED : ENGINE_STOP_PROBES_DEAD,
			     life.state != KLP_LIFE_PATCHING, &d);
		if (ret == -EINTR || ret == -EIO)
			lps_err("%s: %s%s", patch, d.reason, loaded_by_us(&life) ?
				"; the patch is taken back out" : "");
		else if (ret != -ETIMEDOUT && ret != -EEXIST && ret != -ENOENT)
			lps_err("%s: cannot measure: %s", patch, strerror(-ret));
		goto cleanup;
	}
	action = !is_module ? "left as it was" : a->keep ? "kept loaded" : "taken back out";
	if (loaded_by_us(&life) && !a->keep) {
		ret = unload_patch(&life);
		if (ret)
			goto cleanup;
	}
	/* Calls to this moment, as the BPF run counts are read: the own cost per call. */
	ret = probe_set__read(ps, h);
	if (ret) {
		lps_err("%s: cannot read the probes: %s", patch, strerror(-ret));
		goto cleanup;
	}
	if (a->json)
		overhead__print_json(a, patch, is_module, moved, ps, before, after, a->calibrate ? &cal : NULL, &sc,
			   h, action);
	else
		overhead__print_text(patch, is_module, moved, ps, before, after, a->calibrate ? &cal : NULL, &sc,
			   h, action);
cleanup:
	/* Measuring never leaves a patch it loaded half-handled: out on any failure. */
	if (ret && loaded_by_us(&life))
		unload_patch(&life);
	klp_life__close(&life);
	probe_set__destroy(ps);
	self_cost__stop(&sc);
	free(names);
	free(before);
	free(after);
	free(h);
	free(hb);
	free(ha);
	free(mode0);
	free(moved);
	klp_module_info__free(&mod);
	klp_patch_entry__free(&pe);
	return ret ? CLI_EXIT_ERROR : CLI_EXIT_OK;
}

int do_overhead(int argc, char **argv)
{
	struct overhead_args a = { 0 };
	int ret = cli__parsed(&cli_verb_overhead, parse_overhead_args(argc, argv, &a));

	return ret == CLI_RUN ? run_overhead(&a) : ret;
}
