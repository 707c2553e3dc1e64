// SPDX-License-Identifier: GPL-2.0
/*
 * lpsentinel gate PATCH.ko [--baseline S] [--observe S] [--rules FILE] [--json]
 * inspect -> probes on every replaced function -> baseline -> load -> wait for
 * the transition -> observe (judged at every look) -> keep (exit 0) or revert
 * and unload (exit 3). Anything going wrong once the module is in reverts it.
 */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <math.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>
#include "cli.h"
#include "hist.h"
#include "judge.h"
#include "klp_control.h"
#include "klp_module.h"
#include "klp_report.h"
#include "log.h"
#include "probes.h"
#include "report.h"
#include "rules.h"

struct gate_args {
	const char *module, *rules_path;
	double baseline_s, observe_s;	/* 0: from the rules */
	bool json;
};

struct gate {
	struct gate_args a;
	struct rules rules;
	struct rules_set def;
	struct klp_module_info mod;
	struct probe_set *ps;
	size_t n;
	struct lps_hist *h0, *h1, *h2, *now, *base, *obs;
	struct rules_set *fr;		/* per-function rules */
	struct func_judgement *j;
	enum verdict verdict;
	const char *action, *reason;
	char reason_buf[256];
	char transition_detail[256];
	enum verdict transition_result;
	int looks;
	bool loaded;
	bool operational;	/* reverted because the gate could not judge, not on a verdict */
};

static void nap(double s)
{
	struct timespec ts = { .tv_sec = (time_t)s, .tv_nsec = (long)((s - floor(s)) * 1e9) };

	nanosleep(&ts, NULL);
}

static int parse_gate_args(int argc, char **argv, struct gate_args *a)
{
	static const struct option opts[] = {
		{ "baseline", required_argument, NULL, 'b' },
		{ "observe", required_argument, NULL, 'o' },
		{ "rules", required_argument, NULL, 'r' },
		{ "json", no_argument, NULL, 'j' },
		{ "help", no_argument, NULL, 'h' },
		{ 0 },
	};
	int c;

	optind = 1;
	opterr = 0;
	while ((c = getopt_long(argc, argv, "b:o:r:jh", opts, NULL)) != -1) {
		switch (c) {
		case 'b':
			if (cli__parse_seconds(optarg, &a->baseline_s))
				return cli__usage_error("--baseline wants seconds, not '%s'", optarg);
			break;
		case 'o':
			if (cli__parse_seconds(optarg, &a->observe_s))
				return cli__usage_error("--observe wants seconds, not '%s'", optarg);
			break;
		case 'r': a->rules_path = optarg; break;
		case 'j': a->json = true; break;
		case 'h':
			printf("usage: lpsentinel gate PATCH.ko [--baseline SECONDS] [--observe SECONDS] "
			       "[--rules FILE] [--json]\n");
			return 1;
		default:
			return cli__usage_error("gate: unknown or incomplete option '%s' "
						"(see lpsentinel gate --help)", argv[optind - 1]);
		}
	}
	if (argc - optind != 1)
		return cli__usage_error("gate needs exactly one PATCH.ko");
	a->module = argv[optind];
	return 0;
}

/* Reads all histograms into out, or says why not. */
static int snapshot(struct gate *g, struct lps_hist *out)
{
	struct probe_err perr = { 0 };
	int ret = probe_set__verify(g->ps, &perr);

	if (ret) {
		lps_err("%s: %s", perr.func, perr.what);
		return ret;
	}
	ret = probe_set__read(g->ps, out);
	if (ret)
		lps_err("cannot read the probes' histograms: %s", strerror(-ret));
	return ret;
}

/* Waits, verifying the probes every second; -EINTR when asked to stop. */
static int wait_window(struct gate *g, double seconds, struct lps_hist *scratch)
{
	double end = cli__now_s() + seconds;

	while (cli__now_s() < end) {
		if (cli__stop_requested())
			return -EINTR;
		nap(fmin(0.2, end - cli__now_s()));
		if (snapshot(g, scratch))
			return -EIO;
	}
	return 0;
}

static int load_module(const char *path)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC), ret = 0;

	if (fd < 0)
		return -errno;
	if (syscall(SYS_finit_module, fd, "", 0))
		ret = -errno;
	close(fd);
	return ret;
}

/* Transition done: 0; stalled: -ETIMEDOUT (blockers in the detail). */
static int wait_transition(struct gate *g)
{
	double end = cli__now_s() + g->def.transition_timeout_s;
	struct klp_patch_entry p;

	while (cli__now_s() < end && !cli__stop_requested()) {
		if (!klp_sysfs__read_patch(KLP_SYSFS_ROOT_DEFAULT, g->mod.patch, &p)) {
			bool done = p.enabled == 1 && p.transition == 0;

			klp_patch_entry__free(&p);
			if (done) {
				snprintf(g->transition_detail, sizeof(g->transition_detail),
					 "patching transition completed");
				return 0;
			}
		}
		nap(0.05);
	}
	if (cli__stop_requested())
		return -EINTR;
	g->transition_result = VERDICT_FAIL;
	if (!klp_sysfs__read_patch(KLP_SYSFS_ROOT_DEFAULT, g->mod.patch, &p)) {
		struct klp_transition_info t;
		size_t off;

		off = (size_t)snprintf(g->transition_detail, sizeof(g->transition_detail),
				       "transition stalled for %.0fs; blocked by", g->def.transition_timeout_s);
		if (!klp_transition_info__read(&p, &t)) {
			for (size_t i = 0; i < t.nblockers && off < sizeof(g->transition_detail); i++)
				off += (size_t)snprintf(g->transition_detail + off,
							sizeof(g->transition_detail) - off,
							" pid %d (%s)", t.blockers[i].pid, t.blockers[i].comm);
			klp_transition_info__free(&t);
		}
		klp_patch_entry__free(&p);
	}
	return -ETIMEDOUT;
}

/* Disable, wait for the unpatch, unload. */
static int revert_patch(struct gate *g)
{
	int ret = klp_control__write(KLP_SYSFS_ROOT_DEFAULT, g->mod.patch, "enabled", "0");

	if (ret && ret != -ENOENT) {
		lps_err("%s: could not disable the patch: %s", g->mod.patch, strerror(-ret));
		return ret;
	}
	ret = klp_control__wait_gone(KLP_SYSFS_ROOT_DEFAULT, g->mod.patch,
				     g->def.transition_timeout_s);
	if (ret) {
		lps_err("%s: unpatch transition did not finish in %.0fs (see lpsentinel status); "
			"module left loaded", g->mod.patch, g->def.transition_timeout_s);
		return ret;
	}
	ret = klp_control__unload(g->mod.patch);
	if (ret)
		lps_err("%s: reverted but not unloaded: %s", g->mod.patch, strerror(-ret));
	g->loaded = false;
	return ret;
}

/*
 * A look with no new call at all, after a baseline that had them: whatever
 * the patch does can no longer be seen, so it must not be kept unjudged.
 */
static bool calls_stopped(const struct gate *g, __u64 *last)
{
	__u64 total = 0, base = 0;
	bool stopped;

	for (size_t i = 0; i < g->n; i++) {
		total += g->now[i].calls;
		base += g->base[i].calls;
	}
	stopped = g->looks > 1 && total == *last && base >= g->def.min_calls;
	*last = total;
	return stopped;
}

/* Judges every function on the observe window so far; the worst verdict. */
static enum verdict judge_all(struct gate *g, double alpha_share)
{
	enum verdict worst = VERDICT_PASS;

	for (size_t i = 0; i < g->n; i++) {
		hist_delta(&g->obs[i], &g->now[i], &g->h2[i]);
		judge__function(&g->base[i], &g->obs[i], &g->fr[i], g->fr[i].alpha * alpha_share,
				&g->j[i]);
		if (g->j[i].verdict > worst)
			worst = g->j[i].verdict;
	}
	return worst;
}

static struct json_object *checks_json(const struct check_result *c, size_t n)
{
	struct json_object *arr = json_object_new_array();

	for (size_t i = 0; i < n; i++) {
		struct json_object *o = json_object_new_object();

		json_object_object_add(o, "check", json_object_new_string(c[i].check));
		json_object_object_add(o, "result", json_object_new_string(verdict__name(c[i].result)));
		json_object_object_add(o, "detail", json_object_new_string(c[i].detail));
		json_object_object_add(o, "p", json_object_new_double(c[i].p));
		json_object_array_add(arr, o);
	}
	return arr;
}

static void print_result(struct gate *g)
{
	struct check_result sys = { .check = "transition", .result = g->transition_result, .p = 1 };

	snprintf(sys.detail, sizeof(sys.detail), "%s", g->transition_detail[0] ?
		 g->transition_detail : "not reached");
	if (g->a.json) {
		struct json_object *doc = json_object_new_object(), *fns = json_object_new_array(),
				   *system = json_object_new_object();

		json_object_object_add(doc, "patch", json_object_new_string(g->mod.patch));
		json_object_object_add(doc, "verdict", json_object_new_string(verdict__name(g->verdict)));
		json_object_object_add(doc, "action", json_object_new_string(g->action));
		json_object_object_add(doc, "reason", json_object_new_string(g->reason));
		json_object_object_add(doc, "inconclusive_policy",
				       json_object_new_string(g->def.inconclusive_revert ? "revert" : "keep"));
		json_object_object_add(doc, "looks", json_object_new_int(g->looks));
		for (size_t i = 0; i < g->n; i++) {
			const struct probe_info *pi = probe_set__info(g->ps, i);
			struct json_object *f = json_object_new_object();

			json_object_object_add(f, "function", json_object_new_string(pi->name));
			json_object_object_add(f, "object",
					       json_object_new_string(pi->module ? pi->module : "vmlinux"));
			json_object_object_add(f, "attach", json_object_new_string(attach_mode__name(pi->mode)));
			json_object_object_add(f, "verdict", json_object_new_string(verdict__name(g->j[i].verdict)));
			json_object_object_add(f, "baseline", report__stats_json(&g->base[i]));
			json_object_object_add(f, "observed", report__stats_json(&g->obs[i]));
			json_object_object_add(f, "checks", checks_json(g->j[i].checks, g->j[i].n));
			json_object_array_add(fns, f);
		}
		json_object_object_add(doc, "functions", fns);
		json_object_object_add(system, "checks", checks_json(&sys, 1));
		json_object_object_add(doc, "system", system);
		cli__print_json(doc);
		json_object_put(doc);
		return;
	}
	printf("gate %s: %s, %s (%s)\n", g->mod.patch, verdict__name(g->verdict), g->action, g->reason);
	printf("  transition: %s\n", sys.detail);
	for (size_t i = 0; i < g->n; i++) {
		const struct probe_info *pi = probe_set__info(g->ps, i);
		char b50[32], o50[32], b99[32], o99[32];

		report__fmt_ns(b50, sizeof(b50), hist_percentile(&g->base[i], 0.5));
		report__fmt_ns(o50, sizeof(o50), hist_percentile(&g->obs[i], 0.5));
		report__fmt_ns(b99, sizeof(b99), hist_percentile(&g->base[i], 0.99));
		report__fmt_ns(o99, sizeof(o99), hist_percentile(&g->obs[i], 0.99));
		printf("  %s: %s   before: %llu calls p50 %s p99 %s   after: %llu calls p50 %s p99 %s\n",
		       pi->name, verdict__name(g->j[i].verdict),
		       (unsigned long long)g->base[i].calls, b50, b99,
		       (unsigned long long)g->obs[i].calls, o50, o99);
		for (size_t k = 0; k < g->j[i].n; k++)
			printf("    %-8s %-12s %s\n", g->j[i].checks[k].check,
			       verdict__name(g->j[i].checks[k].result), g->j[i].checks[k].detail);
	}
	printf("before:\n");
	for (size_t i = 0; i < g->n; i++)
		report__function_text(stdout, probe_set__info(g->ps, i), &g->base[i]);
	printf("after:\n");
	for (size_t i = 0; i < g->n; i++)
		report__function_text(stdout, probe_set__info(g->ps, i), &g->obs[i]);
}

static int prepare(struct gate *g)
{
	struct probe_set_opts popts = { .mode = ATTACH_AUTO, .klp_root = KLP_SYSFS_ROOT_DEFAULT };
	struct probe_err perr = { 0 };
	const char **names;
	char why[256];
	int ret;

	/* Rules first: a bad file must stop us before anything is loaded. */
	if (g->a.rules_path) {
		ret = rules__load(g->a.rules_path, &g->rules, why, sizeof(why));
		if (ret) {
			lps_err("rules: %s", why);
			return ret;
		}
		g->def = g->rules.defaults;
	} else {
		rules__builtin(&g->def);
	}
	if (g->a.baseline_s)
		g->def.baseline_s = g->a.baseline_s;
	if (g->a.observe_s)
		g->def.observe_s = g->a.observe_s;
	ret = klp_module__inspect(g->a.module, &g->mod, why, sizeof(why));
	if (ret) {
		lps_err("%s: %s", g->a.module, why);
		return ret;
	}
	if (klp_control__module_loaded(g->mod.patch)) {
		lps_err("%s: a module of that name is already loaded", g->mod.patch);
		return -EEXIST;
	}
	g->n = g->mod.n;
	names = calloc(g->n, sizeof(*names));
	g->h0 = calloc(g->n, sizeof(*g->h0));
	g->h1 = calloc(g->n, sizeof(*g->h1));
	g->h2 = calloc(g->n, sizeof(*g->h2));
	g->now = calloc(g->n, sizeof(*g->now));
	g->base = calloc(g->n, sizeof(*g->base));
	g->obs = calloc(g->n, sizeof(*g->obs));
	g->fr = calloc(g->n, sizeof(*g->fr));
	g->j = calloc(g->n, sizeof(*g->j));
	if (!names || !g->h0 || !g->h1 || !g->h2 || !g->now || !g->base || !g->obs || !g->fr || !g->j) {
		free(names);
		lps_err("out of memory");
		return -ENOMEM;
	}
	for (size_t i = 0; i < g->n; i++) {
		names[i] = g->mod.targets[i].function;
		if (g->a.rules_path)
			rules__for_function(&g->rules, names[i], &g->fr[i]);
		else
			g->fr[i] = g->def;
	}
	ret = probe_set__open(&g->ps, names, g->n, &popts, &perr);
	if (!ret)
		ret = probe_set__attach(g->ps, &perr);
	free(names);
	if (ret)
		lps_err("%s: %s", perr.func[0] ? perr.func : g->mod.patch, perr.what);
	return ret;
}

static void gate_free(struct gate *g)
{
	probe_set__destroy(g->ps);
	klp_module_info__free(&g->mod);
	rules__free(&g->rules);
	free(g->h0); free(g->h1); free(g->h2); free(g->now);
	free(g->base); free(g->obs); free(g->fr); free(g->j);
}

static int run_gate(struct gate *g)
{
	double start, t_prev = 0;
	__u64 last_calls = 0;
	int ret;

	ret = prepare(g);
	if (ret)
		return CLI_EXIT_ERROR;
	cli__catch_stop_signals();
	if (!g->a.json)
		fprintf(stderr, "gate %s: %zu function%s, baseline %.0fs\n", g->mod.patch, g->n,
			g->n == 1 ? "" : "s", g->def.baseline_s);

	/* Baseline: same probes that will see the patched code. */
	if (snapshot(g, g->h0) || wait_window(g, g->def.baseline_s, g->h1) || snapshot(g, g->h1)) {
		lps_err("%s: stopped during the baseline; nothing was loaded", g->mod.patch);
		return CLI_EXIT_ERROR;
	}
	for (size_t i = 0; i < g->n; i++)
		hist_delta(&g->base[i], &g->h1[i], &g->h0[i]);

	ret = load_module(g->a.module);
	if (ret) {
		lps_err("%s: the kernel refused to load it: %s (nothing left behind)", g->a.module,
			strerror(-ret));
		return CLI_EXIT_ERROR;
	}
	g->loaded = true;
	ret = wait_transition(g);
	if (ret == 0 && snapshot(g, g->h2))
		ret = -EIO;
	if (ret) {
		g->verdict = ret == -ETIMEDOUT ? VERDICT_FAIL : VERDICT_INCONCLUSIVE;
		g->operational = ret != -ETIMEDOUT;
		g->reason = ret == -EINTR ? "interrupted before the patch settled" :
			    ret == -ETIMEDOUT ? "the patch transition stalled" : "the probes failed";
		goto revert;
	}
	if (!g->a.json)
		fprintf(stderr, "gate %s: patched; observing %.0fs\n", g->mod.patch, g->def.observe_s);

	/* Observe, judging at every look with its share of alpha. */
	start = cli__now_s();
	for (;;) {
		double t;
		enum verdict v;

		ret = wait_window(g, fmin(g->def.look_interval_s, fmax(0, start + g->def.observe_s - cli__now_s())),
				  g->now);
		if (ret || snapshot(g, g->now)) {
			g->verdict = VERDICT_INCONCLUSIVE;
			g->operational = true;
			g->reason = ret == -EINTR ? "interrupted while observing" : "the probes failed";
			goto revert;
		}
		t = fmin(1, (cli__now_s() - start) / g->def.observe_s);
		g->looks++;
		if (calls_stopped(g, &last_calls)) {
			g->verdict = VERDICT_INCONCLUSIVE;
			g->operational = true;
			g->reason = "calls stopped while observing (the workload ended, or nothing "
				    "calls the patched functions any more): no sound judgement";
			goto revert;
		}
		v = judge_all(g, t >= 1 ? (1 - t_prev * t_prev) : (t * t - t_prev * t_prev));
		t_prev = t;
		if (v == VERDICT_FAIL) {
			g->verdict = v;
			g->reason = t < 1 ? "regression found before the end of the window" :
				    "regression";
			goto revert;
		}
		if (t >= 1) {
			g->verdict = v;
			break;
		}
	}
	if (g->verdict == VERDICT_INCONCLUSIVE && g->def.inconclusive_revert) {
		g->reason = "inconclusive, and the rules say revert";
		goto revert;
	}
	g->reason = g->verdict == VERDICT_INCONCLUSIVE ? "inconclusive, and the rules say keep" :
		    "no regression";
	g->action = "kept";
	print_result(g);
	return CLI_EXIT_OK;
revert:
	g->action = "reverted";
	ret = revert_patch(g);
	print_result(g);
	if (ret)
		return CLI_EXIT_ERROR;
	if (g->operational) {
		/* Not a judged regression: an operational stop, said in one line. */
		lps_err("%s: %s; the patch was reverted", g->mod.patch, g->reason);
		return CLI_EXIT_ERROR;
	}
	return CLI_EXIT_REGRESSED;
}

int do_gate(int argc, char **argv)
{
	struct gate g = { 0 };
	int ret = parse_gate_args(argc, argv, &g.a);

	if (ret > 0)
		return CLI_EXIT_OK;
	if (ret)
		return CLI_EXIT_USAGE;
	if (cli__check_privileges())
		return CLI_EXIT_ERROR;
	ret = run_gate(&g);
	gate_free(&g);
	return ret;
}
