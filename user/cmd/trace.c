// SPDX-License-Identifier: GPL-2.0
/* lpsentinel trace FUNC...: options in trace_opts below (lpsentinel trace --help) */
#include <errno.h>
#include <math.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include "cli.h"
#include "hist.h"
#include "klp_sysfs.h"
#include "log.h"
#include "opts.h"
#include "budget_set.h"
#include "probes.h"
#include "self_cost.h"
#include "report.h"
#include "signals.h"
#include "signals_report.h"
#include "clock.h"
#include "stop.h"

struct trace_args {
	double duration_s;	/* 0: until SIGINT/SIGTERM */
	double interval_s;	/* 0: one report at the end */
	enum attach_mode mode;
	bool json;
	bool no_signals;	/* latency, calls and errors only */
	bool self_cost;		/* BPF statistics on, probe floor measured */
	double cpu_budget;	/* percent of a CPU per function; 0: attached throughout */
	const char *const *funcs;
	size_t nfuncs;
};

static const struct cli_opt trace_opts[] = {
	{ "duration", 'd', "SECONDS", "stop after SECONDS (default: at SIGINT or SIGTERM)",
	  CLI_SET_SECONDS(struct trace_args, duration_s, "-d wants a positive number of seconds") },
	{ "interval", 'i', "SECONDS", "also report every SECONDS (default: at the end only)",
	  CLI_SET_SECONDS(struct trace_args, interval_s, "-i wants a positive number of seconds") },
	{ "mode", 'm', "auto|fentry|fsession|kprobe|kprobe-session", "how to attach (default auto: "
	  "fentry where the function has BTF and no livepatch replaces it, fsession instead "
	  "with --no-signals where the kernel has it, else kprobe; fsession: one tracing "
	  "session program per function, Linux 7.0+; kprobe-session: one kprobe session "
	  "program per function, Linux 6.10 to 6.19)" },
	{ "no-signals", 0, NULL, "latency, calls and errors only: no lock, page fault or "
	  "run queue signals", CLI_SET_FLAG(struct trace_args, no_signals) },
	{ "self-cost", 0, NULL, "BPF run-time statistics on, and the probe floor measured first",
	  CLI_SET_FLAG(struct trace_args, self_cost) },
	{ "cpu-budget", 0, "PERCENT", "keep each function's probes under PERCENT of a CPU: "
	  "attached in windows, calls counted in them and estimated in all",
	  CLI_SET_PERCENT(struct trace_args, cpu_budget,
			  "--cpu-budget wants a percentage above 0 and at most 100") },
	{ "json", 'j', NULL, "one JSON document on stdout", CLI_SET_FLAG(struct trace_args, json) },
	{ 0 },
};

const struct cli_verb cli_verb_trace = {
	.name = "trace", .args = "FUNC...", .opts = trace_opts, .run = do_trace, .traces = true,
	.summary = "Exact call and error counts and latency histograms of kernel functions, "
		   "with every probe checked to run",
	.min_args = 1, .max_args = -1,
	.args_error = "trace needs at least one function (see lpsentinel trace --help)",
};

/* --mode, the one option the table cannot set. */
static int trace_opt(int key, const char *arg, void *data)
{
	struct trace_args *a = data;

	(void)key;
	if (!strcmp(arg, "fentry"))
		a->mode = ATTACH_FENTRY;
	else if (!strcmp(arg, "kprobe"))
		a->mode = ATTACH_KPROBE;
	else if (!strcmp(arg, "kprobe-session"))
		a->mode = ATTACH_KPROBE_SESSION;
	else if (!strcmp(arg, "fsession"))
		a->mode = ATTACH_FSESSION;
	else if (!strcmp(arg, "auto"))
		a->mode = ATTACH_AUTO;
	else
		return cli__usage_error("--mode is auto, fentry, fsession, kprobe or kprobe-session, "
					"not '%s'", arg);
	return 0;
}

static int parse_trace_args(int argc, char **argv, struct trace_args *a)
{
	int first, ret = cli__parse(&cli_verb_trace, argc, argv, trace_opt, a, &first);

	if (ret)
		return ret;
	a->funcs = (const char *const *)&argv[first];
	a->nfuncs = (size_t)(argc - first);
	return 0;
}

/* How long after attaching the witnesses are checked at 100 ms steps. */
#define FAST_VERIFY_S 2.0

/* Sleeps until the deadline or a stop signal; no SA_RESTART, so signals cut it short. */
static void sleep_until(double deadline)
{
	while (!stop__requested()) {
		double left = deadline - clock__now_s();
		struct timespec ts;

		if (left <= 0)
			return;
		ts.tv_sec = (time_t)left;
		ts.tv_nsec = (long)((left - (double)ts.tv_sec) * 1e9);
		nanosleep(&ts, NULL);
	}
}

/*
 * title: "interval" (secs = its length) or "total" (secs = the whole run);
 * ss: the health signals of the same span, NULL without them;
 * bs: the CPU budgets, NULL without --cpu-budget; what an interval sampled
 * is its own (budget_set__span_text), the totals' that of the whole run.
 */
static void print_text(const struct probe_set *ps, const struct lps_hist *h,
		       const struct signals_snapshot *ss, const struct budget_set *bs,
		       double secs, bool interval)
{
	const char *title = interval ? "interval" : "total";
	char line[200];

	printf("%s: %.1fs, %zu function%s\n", title, secs, probe_set__count(ps),
	       probe_set__count(ps) == 1 ? "" : "s");
	for (size_t i = 0; i < probe_set__count(ps); i++) {
		report__function_text(stdout, probe_set__info(ps, i), &h[i]);
		if (bs && (interval ? budget_set__span_text : budget_set__text)(
				bs, i, h[i].calls, clock__now_s(), line, sizeof(line)) > 0)
			printf("  %s\n", line);
		if (ss && probe_info__on_task_stack(probe_set__info(ps, i)))
			signals_report__text(stdout, "  ", &ss->funcs[i]);
	}
	if (ss)
		signals_report__system_text(stdout, ss);
	fflush(stdout);
}

/*
 * sc: the run's own cost, for totals (NULL in intervals or without --self-cost);
 * bs: the CPU budgets (NULL without --cpu-budget), of the interval or the run.
 */
static struct json_object *functions_json(const struct probe_set *ps, const struct lps_hist *h,
					  const struct signals_snapshot *ss, const struct self_cost *sc,
					  const struct budget_set *bs, bool interval)
{
	struct json_object *arr = json_object_new_array();

	for (size_t i = 0; i < probe_set__count(ps); i++) {
		struct json_object *f = report__function_json(probe_set__info(ps, i), &h[i]);

		/* Left out, not zero, where the signal probes cannot see the call. */
		if (ss && probe_info__on_task_stack(probe_set__info(ps, i)))
			signals_report__add_fields(f, &ss->funcs[i]);
		if (sc)
			self_cost__add_function(f, sc, ps, i, &h[i]);
		if (bs)
			json_object_object_add(f, "sampling", (interval ? budget_set__span_json :
					       budget_set__json)(bs, i, h[i].calls, clock__now_s()));
		json_object_array_add(arr, f);
	}
	return arr;
}

static int print_drops(struct probe_set *ps, struct json_object *doc)
{
	__u64 drops[LPS_DROP_NR];
	int ret = probe_set__drops(ps, drops);

	if (ret)
		return ret;
	if (doc) {
		struct json_object *d = json_object_new_object();

		json_object_object_add(d, "no_task_storage", json_object_new_uint64(drops[0]));
		json_object_object_add(d, "too_deep", json_object_new_uint64(drops[1]));
		json_object_object_add(doc, "dropped", d);
	} else if (drops[0] || drops[1]) {
		printf("dropped: %llu entries without task storage, %llu nested too deep\n",
		       (unsigned long long)drops[0], (unsigned long long)drops[1]);
	}
	return 0;
}

static int run_trace(const struct trace_args *a)
{
	struct probe_set_opts popts = { .mode = a->mode, .no_task_stack = a->no_signals,
					.klp_root = KLP_SYSFS_ROOT_DEFAULT };
	struct lps_hist *now = NULL, *prev = NULL, *delta = NULL;
	struct json_object *doc = NULL, *intervals = NULL;
	struct probe_set *ps = NULL;
	struct budget_set *bs = NULL;
	struct probe_err perr = { 0 };
	struct signals *sig = NULL;
	/* signals: at the start (totals), at the last interval, now, and a difference */
	struct signals_snapshot sfirst = { 0 }, sprev = { 0 }, snow = { 0 }, sdelta = { 0 };
	struct self_cost sc = { .stats_fd = -EBADF };
	char why[200];
	const char *bwhy;
	double start, next, end, last_read;
	size_t n = a->nfuncs;
	int ret;

	if (a->cpu_budget && budget_set__mode(a->mode, &popts.mode, &bwhy)) {
		lps_err("--cpu-budget: %s", bwhy);
		return CLI_EXIT_ERROR;
	}
	ret = probe_set__open(&ps, a->funcs, n, &popts, &perr);
	if (ret)
		goto report_perr;
	now = calloc(n, sizeof(*now));
	prev = calloc(n, sizeof(*prev));
	delta = calloc(n, sizeof(*delta));
	if (!now || !prev || !delta) {
		ret = -ENOMEM;
		lps_err("out of memory for %zu histograms", n);
		goto cleanup;
	}
	stop__catch_signals();
	/* Before attaching: every call the histograms count is a BPF run counted too. */
	if (a->self_cost)
		self_cost__start(&sc);
	ret = probe_set__attach(ps, &perr);
	if (ret)
		goto report_perr;
	why[0] = '\0';
	if (!a->no_signals && signals__open(&sig, n, probe_set__task_stacks_fd(ps), why, sizeof(why)))
		sig = NULL;
	if (sig && ((ret = signals__read(sig, &sfirst)) || (ret = signals__read(sig, &sprev)))) {
		lps_err("cannot read the signal probes: %s", strerror(-ret));
		goto cleanup;
	}
	if (a->self_cost)
		self_cost__measure_floors(&sc, ps, SELF_COST_FLOOR_CALLS);
	/* stderr, so it never mixes into --json; scripts wait for this line. */
	fprintf(stderr, "Tracing %zu function%s%s\n", n, n == 1 ? "" : "s",
		a->duration_s ? "" : "; Ctrl-C to stop");
	if (why[0])	/* after "Tracing": scripts wait for that line first */
		lps_warn("%s; tracing without lock contention, page faults and run queue", why);
	for (size_t i = 0; sig && i < n; i++) {
		if (!probe_info__on_task_stack(probe_set__info(ps, i))) {
			lps_warn("session probes keep no per-task stack: no per-function "
				 "lock or page fault signals for them (system-wide ones are kept)");
			break;
		}
	}
	if (a->json)
		intervals = json_object_new_array();

	start = last_read = clock__now_s();
	end = a->duration_s ? start + a->duration_s : INFINITY;
	if (a->cpu_budget) {
		double *pct = calloc(n, sizeof(*pct));

		for (size_t i = 0; pct && i < n; i++)
			pct[i] = a->cpu_budget;
		ret = pct ? budget_set__new(&bs, ps, pct, start) : -ENOMEM;
		free(pct);
		if (ret) {
			lps_err("cannot start the CPU budgets: %s", strerror(-ret));
			goto cleanup;
		}
		budget_set__signals(bs, sig);
	}
	for (;;) {
		/* The next interval report is due then; without -i, only at the end. */
		double due = a->interval_s ? last_read + a->interval_s : INFINITY;
		/*
		 * Verify every second, and every 100 ms at first: a verified fentry
		 * probe loses its kprobe witness, and until then each call pays for both.
		 */
		double step = clock__now_s() - start < FAST_VERIFY_S ? 0.1 : 1.0;
		bool last;

		next = fmin(fmin(clock__now_s() + step, due), end);
		if (bs)
			next = fmin(next, budget_set__next_due(bs));
		sleep_until(next);
		last = stop__requested() || clock__now_s() >= end;
		ret = probe_set__verify(ps, &perr);
		if (!ret && bs && !last)
			ret = budget_set__tick(bs, ps, clock__now_s(), &perr);
		if (ret)
			goto report_perr;
		if (clock__now_s() < due - 1e-3 && !last)
			continue;
		ret = probe_set__read(ps, now);
		if (ret) {
			lps_err("cannot read histograms: %s", strerror(-ret));
			goto cleanup;
		}
		if (sig) {
			signals_snapshot__free(&snow);
			ret = signals__read(sig, &snow);
			if (ret) {
				lps_err("cannot read the signal probes: %s", strerror(-ret));
				goto cleanup;
			}
		}
		if (a->interval_s) {
			for (size_t i = 0; i < n; i++)
				hist_delta(&delta[i], &now[i], &prev[i]);
			memcpy(prev, now, n * sizeof(*now));
			if (sig) {
				signals_snapshot__free(&sdelta);
				ret = signals_snapshot__delta(&sdelta, &snow, &sprev);
				if (ret) {
					lps_err("out of memory for signals");
					goto cleanup;
				}
				signals_snapshot__free(&sprev);
				sprev = snow;
				memset(&snow, 0, sizeof(snow));
			}
			if (a->json) {
				struct json_object *iv = json_object_new_object();

				json_object_object_add(iv, "t_s", json_object_new_double(clock__now_s() - start));
				json_object_object_add(iv, "functions",
						       functions_json(ps, delta, sig ? &sdelta : NULL, NULL,
								      bs, true));
				if (sig)
					json_object_object_add(iv, "system", signals_report__system_json(
						&sdelta, signals__lock_mode(sig)));
				json_object_array_add(intervals, iv);
			} else {
				print_text(ps, delta, sig ? &sdelta : NULL, bs,
					   clock__now_s() - last_read, true);
			}
			last_read = clock__now_s();
			if (bs)
				budget_set__span_start(bs, last_read);
		}
		if (last)
			break;
	}

	/* Totals: now against the first reading. */
	if (sig) {
		signals_snapshot__free(&snow);
		ret = signals__read(sig, &snow);
		if (!ret) {
			signals_snapshot__free(&sdelta);
			ret = signals_snapshot__delta(&sdelta, &snow, &sfirst);
		}
		if (ret) {
			lps_err("cannot read the signal probes: %s", strerror(-ret));
			goto cleanup;
		}
	}
	if (a->json) {
		doc = json_object_new_object();
		json_object_object_add(doc, "duration_s", json_object_new_double(clock__now_s() - start));
		json_object_object_add(doc, "functions", functions_json(ps, now, sig ? &sdelta : NULL,
									a->self_cost ? &sc : NULL, bs, false));
		if (a->self_cost)
			json_object_object_add(doc, "self_cost", self_cost__json(&sc, ps, sig, now));
		if (sig)
			json_object_object_add(doc, "system", signals_report__system_json(
				&sdelta, signals__lock_mode(sig)));
		if (a->interval_s) {
			json_object_object_add(doc, "intervals", intervals);
			intervals = NULL;
		}
	} else {
		print_text(ps, now, sig ? &sdelta : NULL, bs, clock__now_s() - start, false);
		if (a->self_cost)
			self_cost__text(stdout, &sc, ps, sig, now);
	}
	ret = print_drops(ps, doc);
	if (ret) {
		lps_err("cannot read drop counters: %s", strerror(-ret));
		goto cleanup;
	}
	if (doc)
		cli__print_json(doc);
	goto cleanup;

report_perr:
	if (perr.func[0])
		lps_err("%s: %s", perr.func, perr.what);
	else
		lps_err("%s", perr.what[0] ? perr.what : strerror(-ret));
cleanup:
	json_object_put(intervals);
	json_object_put(doc);
	signals_snapshot__free(&snow);
	signals_snapshot__free(&sprev);
	signals_snapshot__free(&sdelta);
	signals_snapshot__free(&sfirst);
	signals__destroy(sig);
	budget_set__destroy(bs);
	probe_set__destroy(ps);
	self_cost__stop(&sc);
	free(now);
	free(prev);
	free(delta);
	return ret ? CLI_EXIT_ERROR : CLI_EXIT_OK;
}

int do_trace(int argc, char **argv)
{
	struct trace_args a = { 0 };
	int ret = cli__parsed(&cli_verb_trace, parse_trace_args(argc, argv, &a));

	return ret == CLI_RUN ? run_trace(&a) : ret;
}
