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
#include "hist.h"
#include "klp_control.h"
#include "klp_module.h"
#include "klp_sysfs.h"
#include "kmsg.h"
#include "log.h"
#include "opts.h"
#include "probes.h"
#include "report.h"
#include "self_cost.h"
#include "clock.h"
#include "stop.h"

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

#define TRANSITION_TIMEOUT_S 60.0
/* Calibration windows: this many without the patch and as many with it, alternating. */
#define CALIBRATION_ROUNDS 3
#define REVERT_TIMEOUT_S 60.0

static const struct cli_opt overhead_opts[] = {
	{ "duration", 'd', "SECONDS", "length of each window, before and with the patch "
	  "(default 10)" },
	{ "calibrate", 0, "NOOP.ko", "measure the livepatch redirection alone with this "
	  "identical-code patch", .key = 'c' },
	{ "keep", 0, NULL, "leave the patch loaded afterwards", .key = 'k' },
	{ "json", 0, NULL, "one JSON document on stdout", .key = 'j' },
	{ 0 },
};

const struct cli_verb cli_verb_overhead = {
	.name = "overhead", .args = "PATCH.ko|PATCH", .opts = overhead_opts, .run = do_overhead,
	.summary = "What a livepatch costs per call and in CPU, with the redirection "
		   "calibrated apart from the new code",
	.min_args = 1, .max_args = 1,
	.args_error = "overhead needs one patch module or loaded patch name "
		      "(see lpsentinel overhead --help)",
};

static int overhead_opt(int key, const char *arg, void *data)
{
	struct overhead_args *a = data;

	switch (key) {
	case 'd':
		return cli__opt_seconds(arg, &a->window_s, "-d wants a positive number of seconds");
	case 'c': a->calibrate = arg; break;
	case 'k': a->keep = true; break;
	case 'j': a->json = true; break;
	}
	return 0;
}

static int parse_overhead_args(int argc, char **argv, struct overhead_args *a)
{
	int first, ret;

	a->window_s = 10;
	ret = cli__parse(&cli_verb_overhead, argc, argv, overhead_opt, a, &first);
	if (!ret)
		a->target = argv[first];
	return ret;
}

static void window_of(struct window *w, const struct lps_hist *h, double secs)
{
	w->calls = h->calls;
	w->recorded = hist_recorded(h);
	w->secs = secs;
	w->mean_ns = hist_mean(h);
	w->var_ns2 = hist_variance(h);
	w->p50_ns = hist_percentile(h, 0.5);
}

static struct diff diff_of(const struct window *b, const struct window *a)
{
	struct diff d = { 0 };

	if (b->recorded < 2 || a->recorded < 2)
		return d;
	d.known = true;
	d.ns = a->mean_ns - b->mean_ns;
	d.ci95 = 1.96 * sqrt(b->var_ns2 / (double)b->recorded + a->var_ns2 / (double)a->recorded);
	return d;
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
	double start, end;
	int ret = -ENOMEM;

	if (!h0 || !h1)
		goto cleanup;
	ret = probe_set__read(ps, h0);
	if (ret)
		goto cleanup;
	start = clock__now_s();
	end = start + secs;
	while (clock__now_s() < end) {
		if (stop__requested()) {
			ret = -EINTR;
			goto cleanup;
		}
		clock__nap(fmin(0.2, end - clock__now_s()));
		ret = probe_set__verify(ps, &perr);
		if (ret) {
			lps_err("%s: %s", perr.func, perr.what);
			goto cleanup;
		}
	}
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

/* Loads a patch module and waits for its transition; -errno said once. */
static int load_patch(const char *path, const char *patch)
{
	int kmsg_fd = kmsg__open("/dev/kmsg", true);
	double end = clock__now_s() + TRANSITION_TIMEOUT_S;
	char why[640];
	int ret = klp_control__load(path, patch, kmsg_fd, why, sizeof(why));

	if (kmsg_fd >= 0)
		close(kmsg_fd);
	if (ret) {
		lps_err("%s", why);
		return ret;
	}
	while (clock__now_s() < end && !stop__requested()) {
		struct klp_patch_entry p;
		bool done = false;

		if (!klp_sysfs__read_patch(KLP_SYSFS_ROOT_DEFAULT, patch, &p)) {
			done = p.enabled == 1 && p.transition == 0;
			klp_patch_entry__free(&p);
		}
		if (done)
			return 0;
		clock__nap(0.05);
	}
	if (stop__requested())
		return -EINTR;	/* the caller says it, with what became of the patch */
	lps_err("%s: the patching transition did not finish in %.0fs (see lpsentinel status)", patch,
		TRANSITION_TIMEOUT_S);
	return -ETIMEDOUT;
}

/* Disables and unloads a patch we loaded; -errno said once. */
static int unload_patch(const char *patch)
{
	const char *step;
	int ret = klp_control__revert(KLP_SYSFS_ROOT_DEFAULT, patch, REVERT_TIMEOUT_S, &step);

	if (ret)
		lps_err("%s: could not take the patch back out (%s failed: %s); see lpsentinel status",
			patch, step, strerror(-ret));
	return ret;
}

/* The calibration's workload: reads /proc/<name> (X_proc_show) until told to stop. */
struct driver {
	pthread_t thread;
	int fd;
	volatile int stop;
	volatile int phase;		/* 0: not counted, 1: without the patch, 2: with it */
	double n[3], mean[3], m2[3];	/* per phase, read after the join (Welford) */
};

static void *drive(void *arg)
{
	struct driver *d = arg;
	char buf[4096];

	while (!d->stop) {
		int ph = d->phase;
		double t0 = clock__now_s(), x, delta;

		if (pread(d->fd, buf, sizeof(buf), 0) < 0)
			break;
		x = (clock__now_s() - t0) * 1e9;
		if (!ph || ph != d->phase)
			continue;	/* straddles a change of phase */
		d->n[ph] += 1;
		delta = x - d->mean[ph];
		d->mean[ph] += delta / d->n[ph];
		d->m2[ph] += delta * (x - d->mean[ph]);
	}
	return NULL;
}

/* With-patch phase less without, Welch's 95 % interval. */
static struct diff driver_diff(const struct driver *d)
{
	struct diff r = { 0 };

	if (d->n[1] < 2 || d->n[2] < 2)
		return r;
	r.known = true;
	r.ns = d->mean[2] - d->mean[1];
	r.ci95 = 1.96 * sqrt(d->m2[1] / (d->n[1] - 1) / d->n[1] + d->m2[2] / (d->n[2] - 1) / d->n[2]);
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
	struct driver drv = { .fd = -1 };
	struct probe_err perr = { 0 };
	struct probe_set *ps = NULL;
	struct lps_hist hb = { 0 }, ha = { 0 };
	double sb = 0, sa = 0, win = fmax(1.0, a->window_s / CALIBRATION_ROUNDS);
	const char *func;
	bool running = false, loaded = false;
	char why[256], path[160];
	int ret;

	ret = klp_module__inspect(a->calibrate, &mod, why, sizeof(why));
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
		drv.phase = 1;
		ret = measure(ps, win, &hb, &sb);
		drv.phase = 0;
		if (!ret) {
			ret = load_patch(a->calibrate, mod.patch);
			loaded = klp_control__module_loaded(mod.patch);
		}
		drv.phase = 2;
		if (!ret)
			ret = measure(ps, win, &ha, &sa);
		drv.phase = 0;
		if (!ret && loaded) {
			ret = unload_patch(mod.patch);
			loaded = ret != 0;
		}
	}
cleanup:
	if (running) {
		drv.stop = 1;
		pthread_join(drv.thread, NULL);
	}
	if (!ret) {
		window_of(&cal->before, &hb, sb);
		window_of(&cal->after, &ha, sa);
		cal->probe_visible = diff_of(&cal->before, &cal->after);
		cal->redirection = driver_diff(&drv);
		cal->reads_before = drv.n[1];
		cal->reads_after = drv.n[2];
	}
	if (drv.fd >= 0)
		close(drv.fd);
	probe_set__destroy(ps);
	if (loaded && unload_patch(mod.patch) && !ret)
		ret = -EIO;
	klp_module_info__free(&mod);
	if (ret == -EINTR)
		lps_err("%s: interrupted while calibrating; the calibration patch is out", a->calibrate);
	if (!ret && !cal->redirection.known) {
		lps_err("%s: %s saw too few calls to calibrate", a->calibrate, func);
		ret = -ENODATA;
	}
	return ret;
}

static struct json_object *window_json(const struct window *w)
{
	struct json_object *o = json_object_new_object();

	json_object_object_add(o, "seconds", json_object_new_double(w->secs));
	json_object_object_add(o, "calls", json_object_new_uint64(w->calls));
	json_object_object_add(o, "calls_per_s", json_object_new_double(w->secs > 0 ?
			       (double)w->calls / w->secs : 0));
	json_object_object_add(o, "mean_ns", w->recorded ? json_object_new_double(w->mean_ns) : NULL);
	json_object_object_add(o, "p50_ns", w->recorded ? json_object_new_double(w->p50_ns) : NULL);
	return o;
}

static void add_diff(struct json_object *o, const char *name, const struct diff *d)
{
	char key[64];

	json_object_object_add(o, name, d->known ? json_object_new_double(d->ns) : NULL);
	snprintf(key, sizeof(key), "%s_ci95", name);
	json_object_object_add(o, key, d->known ? json_object_new_double(d->ci95) : NULL);
}

/* What one function's figures are, from its windows and the calibration. */
struct func_cost {
	double calls_per_s;
	/*
	 * added: as the probes see it; code: less what they saw change for the
	 * identical patch; per_call: code plus the redirection, as callers see it.
	 * cpu: share of one CPU (1.0 = a whole CPU).
	 */
	struct diff added, code, per_call, cpu;
};

static struct diff diff_sum(const struct diff *x, const struct diff *y, double sign)
{
	struct diff d = { .known = x->known && y->known };

	d.ns = x->ns + sign * y->ns;
	d.ci95 = sqrt(x->ci95 * x->ci95 + y->ci95 * y->ci95);
	return d;
}

static struct func_cost cost_of(const struct window *b, const struct window *a,
				const struct calibration *cal)
{
	struct func_cost c = { 0 };
	const struct diff *r = cal ? &cal->redirection : NULL;

	c.calls_per_s = a->secs > 0 ? (double)a->calls / a->secs : 0;
	if (b)
		c.added = diff_of(b, a);
	if (c.added.known && r) {
		c.code = diff_sum(&c.added, &cal->probe_visible, -1);
		c.per_call = diff_sum(&c.code, r, 1);
	}
	/* Without a before (a patch loaded already), the redirection alone. */
	if (c.added.known || r) {
		const struct diff *src = c.per_call.known ? &c.per_call : c.added.known ? &c.added : r;

		c.cpu.known = true;
		c.cpu.ns = c.calls_per_s * src->ns / 1e9;
		c.cpu.ci95 = c.calls_per_s * src->ci95 / 1e9;
	}
	return c;
}

/* moved[i]: function i's probe changed method between the windows (not compared). */
static void print_json(const struct overhead_args *a, const char *patch, bool had_before,
		       const bool *moved, const struct probe_set *ps, const struct window *before,
		       const struct window *after, const struct calibration *cal,
		       const struct self_cost *sc, const struct lps_hist *h, const char *action)
{
	struct json_object *doc = json_object_new_object(), *arr = json_object_new_array();
	double total = 0, total_ci2 = 0;
	bool total_known = true;

	json_object_object_add(doc, "patch", json_object_new_string(patch));
	json_object_object_add(doc, "window_s", json_object_new_double(a->window_s));
	if (cal) {
		struct json_object *c = json_object_new_object();

		json_object_object_add(c, "patch", json_object_new_string(cal->patch));
		json_object_object_add(c, "function", json_object_new_string(cal->function));
		json_object_object_add(c, "before", window_json(&cal->before));
		json_object_object_add(c, "after", window_json(&cal->after));
		add_diff(c, "redirection_ns", &cal->redirection);
		add_diff(c, "probe_visible_ns", &cal->probe_visible);
		json_object_object_add(c, "timed_reads", json_object_new_double(
			cal->reads_before + cal->reads_after));
		json_object_object_add(doc, "calibration", c);
	} else {
		json_object_object_add(doc, "calibration", NULL);
	}
	for (size_t i = 0; i < probe_set__count(ps); i++) {
		const struct probe_info *info = probe_set__info(ps, i);
		struct func_cost c = cost_of(had_before && !moved[i] ? &before[i] : NULL, &after[i], cal);
		struct json_object *f = json_object_new_object();

		json_object_object_add(f, "function", json_object_new_string(info->name));
		json_object_object_add(f, "attach", json_object_new_string(attach_mode__name(info->mode)));
		json_object_object_add(f, "compared", json_object_new_boolean(had_before && !moved[i]));
		json_object_object_add(f, "calls_per_s", json_object_new_double(c.calls_per_s));
		json_object_object_add(f, "before", had_before ? window_json(&before[i]) : NULL);
		json_object_object_add(f, "after", window_json(&after[i]));
		add_diff(f, "added_ns", &c.added);
		json_object_object_add(f, "redirection_ns", cal ?
				       json_object_new_double(cal->redirection.ns) : NULL);
		add_diff(f, "code_ns", &c.code);
		add_diff(f, "per_call_ns", &c.per_call);
		add_diff(f, "cpu_share", &c.cpu);
		self_cost__add_function(f, sc, ps, i, &h[i]);
		json_object_array_add(arr, f);
		total_known &= c.cpu.known;
		total += c.cpu.ns;
		total_ci2 += c.cpu.ci95 * c.cpu.ci95;
	}
	json_object_object_add(doc, "functions", arr);
	json_object_object_add(doc, "cpu_share", total_known ? json_object_new_double(total) : NULL);
	json_object_object_add(doc, "cpu_share_ci95", total_known ?
			       json_object_new_double(sqrt(total_ci2)) : NULL);
	json_object_object_add(doc, "cpu_share_of", json_object_new_string(had_before ?
			       "the whole patch" : cal ? "the redirection alone" : "unknown"));
	json_object_object_add(doc, "action", json_object_new_string(action));
	json_object_object_add(doc, "self_cost", self_cost__json(sc, ps, NULL, h));
	cli__print_json(doc);
	json_object_put(doc);
}

static void fmt_diff(char *buf, size_t len, const struct diff *d)
{
	char v[32], e[32];

	if (!d->known) {
		snprintf(buf, len, "unknown");
		return;
	}
	fmt_ns(v, sizeof(v), fabs(d->ns));
	fmt_ns(e, sizeof(e), d->ci95);
	snprintf(buf, len, "%s%s ± %s", d->ns < 0 ? "-" : "+", v, e);
}

static void print_text(const char *patch, bool had_before, const bool *moved,
		       const struct probe_set *ps,
		       const struct window *before, const struct window *after,
		       const struct calibration *cal, const struct self_cost *sc,
		       const struct lps_hist *h, const char *action)
{
	char x[96], y[96];

	printf("overhead of %s (%s)\n", patch, action);
	if (cal) {
		fmt_diff(x, sizeof(x), &cal->redirection);
		fmt_diff(y, sizeof(y), &cal->probe_visible);
		printf("redirection (calibrated with %s on %s, timed by its caller): %s per call "
		       "(95%%); the probes saw %s of it\n", cal->patch, cal->function, x, y);
	}
	for (size_t i = 0; i < probe_set__count(ps); i++) {
		struct func_cost c = cost_of(had_before && !moved[i] ? &before[i] : NULL, &after[i], cal);

		printf("  %s: %.0f calls/s", probe_set__info(ps, i)->name, c.calls_per_s);
		if (had_before && moved[i]) {
			printf(", not compared (its probe changed method between the windows)");
		} else if (had_before) {
			fmt_diff(x, sizeof(x), &c.added);
			printf(", added %s per call", x);
			if (c.per_call.known) {
				fmt_diff(y, sizeof(y), &c.code);
				printf(" (new code %s", y);
				fmt_diff(y, sizeof(y), &c.per_call);
				printf("; with the redirection %s)", y);
			}
		} else {
			printf(", no measurement before the patch (it was loaded already)");
		}
		if (c.cpu.known)
			printf(", %s%.4f%% ± %.4f%% of a CPU%s", c.cpu.ns < 0 ? "" : "+", c.cpu.ns * 100,
			       c.cpu.ci95 * 100, c.added.known ? "" : " for the redirection");
		putchar('\n');
	}
	self_cost__text(stdout, sc, ps, NULL, h);
	printf("(same probes before and after: their own cost cancels in the differences. "
	       "± is a 95%% interval from the windows' spread; drift of the machine between the "
	       "windows is not in it, which is why the calibration alternates %d rounds)\n",
	       CALIBRATION_ROUNDS);
}

static int run_overhead(const struct overhead_args *a)
{
	struct probe_set_opts popts = { .mode = ATTACH_AUTO, .klp_root = KLP_SYSFS_ROOT_DEFAULT };
	struct self_cost sc = { .stats_fd = -EBADF };
	struct klp_module_info mod = { 0 };
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
	bool is_module = access(a->target, F_OK) == 0, loaded = false;
	char why[256];
	size_t n;
	int ret;

	if (is_module) {
		ret = klp_module__inspect(a->target, &mod, why, sizeof(why));
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
	if (!ret && is_module) {
		ret = load_patch(a->target, patch);
		loaded = klp_control__module_loaded(patch);
	}
	if (!ret)
		ret = measure(ps, a->window_s, ha, &sa);
	for (size_t i = 0; !ret && i < n; i++) {
		const struct probe_info *pi = probe_set__info(ps, i);

		window_of(&before[i], &hb[i], sb);
		window_of(&after[i], &ha[i], sa);
		/* A fentry probe the kernel broke moved to kprobes: other probe costs, no difference. */
		moved[i] = is_module && pi->mode != mode0[i];
		if (moved[i])
			lps_warn("%s: its probe moved from %s to %s while measuring; before and after "
				 "are not compared", pi->name, attach_mode__name(mode0[i]),
				 attach_mode__name(pi->mode));
	}
	if (ret) {
		if (ret == -EINTR)
			lps_err("%s: interrupted%s", patch, loaded ? "; the patch is taken back out" : "");
		else if (ret != -ETIMEDOUT && ret != -EEXIST)
			lps_err("%s: cannot measure: %s", patch, strerror(-ret));
		goto cleanup;
	}
	action = !is_module ? "left as it was" : a->keep ? "kept loaded" : "taken back out";
	if (loaded && !a->keep) {
		ret = unload_patch(patch);
		if (ret)
			goto cleanup;
		loaded = false;
	}
	/* Calls to this moment, as the BPF run counts are read: the own cost per call. */
	ret = probe_set__read(ps, h);
	if (ret) {
		lps_err("%s: cannot read the probes: %s", patch, strerror(-ret));
		goto cleanup;
	}
	if (a->json)
		print_json(a, patch, is_module, moved, ps, before, after, a->calibrate ? &cal : NULL, &sc,
			   h, action);
	else
		print_text(patch, is_module, moved, ps, before, after, a->calibrate ? &cal : NULL, &sc,
			   h, action);
	loaded = false;
cleanup:
	/* Measuring never leaves a patch it loaded half-handled: out on any failure. */
	if (loaded)
		unload_patch(patch);
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
	int ret = parse_overhead_args(argc, argv, &a);

	if (ret > 0)
		return CLI_EXIT_OK;	/* --help */
	if (ret)
		return CLI_EXIT_USAGE;
	ret = cli__check_privileges();
	if (ret)
		return CLI_EXIT_ERROR;
	return run_overhead(&a);
}
