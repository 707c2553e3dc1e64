// SPDX-License-Identifier: GPL-2.0
/*
 * lpsentinel gate PATCH.ko [--baseline S] [--observe S] [--rules FILE] [--json]
 * inspect -> probes on every replaced function -> baseline -> load -> wait for
 * the transition -> observe (judged at every look) -> keep (exit 0) or revert
 * and unload (exit 3). Anything going wrong once the module is in reverts it.
 */
#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>
#include "cli.h"
#include "control.h"
#include "daemon_status.h"
#include "gate.h"
#include "klp_control.h"
#include "kmsg.h"
#include "log.h"
#include "opts.h"
#include "clock.h"
#include "stop.h"

static const struct cli_opt gate_opts[] = {
	{ "baseline", 'b', "SECONDS", "baseline window before the load (default: the rules')" },
	{ "observe", 'o', "SECONDS", "observe window after the transition (default: the rules')" },
	{ "rules", 'r', "FILE", "rules file (default: the built-in rules)" },
	{ "json", 'j', NULL, "one JSON document on stdout" },
	{ "state", 's', "DIR", "where a running watch daemon's control socket is (default "
	  WATCH_DEFAULT_STATE_DIR ")" },
	{ "standalone", 'S', NULL, "judge here even when a watch daemon runs" },
	{ 0 },
};

const struct cli_verb cli_verb_gate = {
	.name = "gate", .args = "PATCH.ko", .opts = gate_opts, .run = do_gate,
	.summary = "Baseline, load, observe, judge: keep the patch, or revert and unload it",
	.min_args = 1, .max_args = 1, .args_error = "gate needs exactly one PATCH.ko",
};

static int gate_opt(int key, const char *arg, void *data)
{
	struct gate_args *a = data;

	switch (key) {
	case 'b': return cli__opt_seconds(arg, &a->baseline_s, "--baseline wants seconds");
	case 'o': return cli__opt_seconds(arg, &a->observe_s, "--observe wants seconds");
	case 'r': a->rules_path = arg; break;
	case 'j': a->json = true; break;
	case 's': a->state_dir = arg; break;
	case 'S': a->standalone = true; break;
	}
	return 0;
}

static int parse_gate_args(int argc, char **argv, struct gate_args *a)
{
	int first, ret;

	a->state_dir = WATCH_DEFAULT_STATE_DIR;
	ret = cli__parse(&cli_verb_gate, argc, argv, gate_opt, a, &first);
	if (!ret)
		a->module = argv[first];
	return ret;
}

static int feed_fault(const char *text, __u64 ts, void *arg)
{
	(void)ts;
	return kfault_log__feed(arg, text);
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

/* Reads the signal counters into out (nothing without signals); -errno said once. */
static int sig_snapshot(struct gate *g, struct signals_snapshot *out)
{
	int ret;

	if (!g->sig)
		return 0;
	signals_snapshot__free(out);
	ret = signals__read(g->sig, out);
	if (ret)
		lps_err("cannot read the signal probes: %s", strerror(-ret));
	return ret;
}

/* Kernel log faults since the observe window began; which name each. */
static void read_faults(struct gate *g)
{
	int ret = g->kmsg_fd < 0 ? g->kmsg_fd : kmsg__read(g->kmsg_fd, feed_fault, &g->faults);

	if (ret && !g->log_err) {
		g->log_err = ret;
		lps_warn("cannot read the kernel log: %s; kernel_faults is not judged", strerror(-ret));
	}
}

/* Waits, verifying the probes every second; -EINTR when asked to stop. */
static int wait_window(struct gate *g, double seconds, struct lps_hist *scratch)
{
	double end = clock__now_s() + seconds;

	while (clock__now_s() < end) {
		if (stop__requested())
			return -EINTR;
		clock__nap(fmin(0.2, end - clock__now_s()));
		if (snapshot(g, scratch))
			return -EIO;
	}
	return 0;
}

/* Transition done: 0; stalled: -ETIMEDOUT (blockers in the detail). */
static int wait_transition(struct gate *g)
{
	double end = clock__now_s() + g->def.transition_timeout_s;
	struct klp_patch_entry p;

	while (clock__now_s() < end && !stop__requested()) {
		if (!klp_sysfs__read_patch(KLP_SYSFS_ROOT_DEFAULT, g->mod.patch, &p)) {
			bool done = p.enabled == 1 && p.transition == 0;

			klp_patch_entry__free(&p);
			if (done) {
				snprintf(g->transition_detail, sizeof(g->transition_detail),
					 "patching transition completed");
				return 0;
			}
		}
		clock__nap(0.05);
	}
	if (stop__requested())
		return -EINTR;
	g->transition_result = VERDICT_FAIL;
	snprintf(g->transition_detail, sizeof(g->transition_detail),
		 "transition stalled for %.0fs", g->def.transition_timeout_s);
	/* Keep who blocked it, with stacks, for the report: the evidence for a revert. */
	if (!klp_sysfs__read_patch(KLP_SYSFS_ROOT_DEFAULT, g->mod.patch, &g->stalled)) {
		if (!klp_transition_info__read(&g->stalled, &g->stall)) {
			size_t off = strlen(g->transition_detail);
			const char *sep = "; blocked by";

			g->have_stall = true;
			for (size_t i = 0; i < g->stall.nblockers && off < sizeof(g->transition_detail); i++) {
				off += (size_t)snprintf(g->transition_detail + off,
							sizeof(g->transition_detail) - off, "%s pid %d (%s)",
							sep, g->stall.blockers[i].pid, g->stall.blockers[i].comm);
				sep = ",";
			}
		}
	}
	return -ETIMEDOUT;
}

/* Disable, wait for the unpatch, unload; says what failed. */
static int revert_patch(struct gate *g)
{
	const char *step;
	int ret = klp_control__revert(KLP_SYSFS_ROOT_DEFAULT, g->mod.patch, g->def.revert_timeout_s,
				      &step);

	if (ret && !strcmp(step, "disable"))
		lps_err("%s: could not disable the patch: %s", g->mod.patch, strerror(-ret));
	else if (ret && !strcmp(step, "wait"))
		lps_err("%s: unpatch transition did not finish in %.0fs (see lpsentinel status); "
			"module left loaded", g->mod.patch, g->def.revert_timeout_s);
	else if (ret)
		lps_err("%s: reverted but not unloaded: %s", g->mod.patch, strerror(-ret));
	if (!ret || !strcmp(step, "unload"))
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

/* Judges every function and the system on the observe window so far; the worst verdict. */
static enum verdict judge_all(struct gate *g, double alpha_share)
{
	struct sys_window sb = { .seconds = g->t_base }, so = { .seconds = g->t_obs };
	enum verdict worst = VERDICT_PASS;

	if (g->sig) {
		signals_snapshot__free(&g->sobs);
		if (signals_snapshot__delta(&g->sobs, &g->snow, &g->s2))
			return VERDICT_INCONCLUSIVE;
	}
	read_faults(g);
	for (size_t i = 0; i < g->n; i++) {
		struct func_window b = { .hist = &g->base[i] }, o = { .hist = &g->obs[i] };

		hist_delta(&g->obs[i], &g->now[i], &g->h2[i]);
		if (g->sig) {
			b.sig = &g->sbase.funcs[i];
			o.sig = &g->sobs.funcs[i];
		}
		o.faults = kfault_log__count_naming(&g->faults, &g->names[3 * i], &o.fault_line);
		judge__function(&b, &o, &g->fr[i], g->fr[i].alpha * alpha_share, &g->j[i]);
		if (g->j[i].verdict > worst)
			worst = g->j[i].verdict;
	}
	if (g->sig) {
		sb.sig = &g->sbase.sys;
		sb.runq = &g->sbase.runq;
		so.sig = &g->sobs.sys;
		so.runq = &g->sobs.runq;
	}
	so.faults = g->faults.n;
	so.log_unreadable = g->log_err != 0;
	so.fault_line = g->faults.n ? g->faults.v[0].line : NULL;
	judge__system(&sb, &so, &g->def, g->def.alpha * alpha_share, &g->sysj);
	return g->sysj.verdict > worst ? g->sysj.verdict : worst;
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
	g->names = calloc(3 * g->n, sizeof(*g->names));
	g->all_names = calloc(2 * g->n + 1, sizeof(*g->all_names));
	g->h0 = calloc(g->n, sizeof(*g->h0));
	g->h1 = calloc(g->n, sizeof(*g->h1));
	g->h2 = calloc(g->n, sizeof(*g->h2));
	g->now = calloc(g->n, sizeof(*g->now));
	g->base = calloc(g->n, sizeof(*g->base));
	g->obs = calloc(g->n, sizeof(*g->obs));
	g->fr = calloc(g->n, sizeof(*g->fr));
	g->j = calloc(g->n, sizeof(*g->j));
	if (!names || !g->names || !g->all_names || !g->h0 || !g->h1 || !g->h2 || !g->now || !g->base || !g->obs || !g->fr || !g->j) {
		free(names);
		lps_err("out of memory");
		return -ENOMEM;
	}
	for (size_t i = 0; i < g->n; i++) {
		names[i] = g->mod.targets[i].function;
		/* A fault is pinned on a function when its trace names the old or new code. */
		g->names[3 * i] = g->mod.targets[i].function;
		g->names[3 * i + 1] = g->mod.targets[i].replacement;
		g->all_names[2 * i] = g->mod.targets[i].function;
		g->all_names[2 * i + 1] = g->mod.targets[i].replacement;
		if (g->a.rules_path)
			rules__for_function(&g->rules, names[i], &g->fr[i]);
		else
			g->fr[i] = g->def;
	}
	ret = probe_set__open(&g->ps, names, g->n, &popts, &perr);
	/* Before attaching: every call counted is a BPF run counted (own cost per call). */
	self_cost__start(&g->sc);
	if (!ret)
		ret = probe_set__attach(g->ps, &perr);
	free(names);
	if (ret) {
		lps_err("%s: %s", perr.func[0] ? perr.func : g->mod.patch, perr.what);
		return ret;
	}
	/* Without the signal probes gate still judges latency and errors, and says so. */
	if (signals__open(&g->sig, g->n, probe_set__task_stacks_fd(g->ps), g->sig_why,
			  sizeof(g->sig_why)))
		lps_warn("%s; lock_contention, kernel_faults and runqueue_latency are not judged",
			 g->sig_why);
	return 0;
}

static void gate_free(struct gate *g)
{
	struct signals_snapshot *snaps[] = { &g->s0, &g->s1, &g->s2, &g->snow, &g->sbase, &g->sobs };

	for (size_t i = 0; i < sizeof(snaps) / sizeof(snaps[0]); i++)
		signals_snapshot__free(snaps[i]);
	signals__destroy(g->sig);
	kfault_log__free(&g->faults);
	if (g->kmsg_fd >= 0)
		close(g->kmsg_fd);
	free(g->names);
	free(g->all_names);
	probe_set__destroy(g->ps);
	self_cost__stop(&g->sc);
	klp_module_info__free(&g->mod);
	klp_transition_info__free(&g->stall);	/* both safe on zeroed structs */
	klp_patch_entry__free(&g->stalled);
	rules__free(&g->rules);
	free(g->h0); free(g->h1); free(g->h2); free(g->now);
	free(g->base); free(g->obs); free(g->fr); free(g->j);
}

static int run_gate(struct gate *g)
{
	char why[640];
	double start, t_prev = 0;
	int kmsg_fd;
	__u64 last_calls = 0;
	int ret;

	ret = prepare(g);
	if (ret)
		return CLI_EXIT_ERROR;
	stop__catch_signals();
	if (!g->a.json)
		fprintf(stderr, "gate %s: %zu function%s, baseline %.0fs\n", g->mod.patch, g->n,
			g->n == 1 ? "" : "s", g->def.baseline_s);

	/* Baseline: same probes that will see the patched code. */
	start = clock__now_s();
	if (snapshot(g, g->h0) || sig_snapshot(g, &g->s0) ||
	    wait_window(g, g->def.baseline_s, g->h1) || snapshot(g, g->h1) ||
	    sig_snapshot(g, &g->s1) || (g->sig && signals_snapshot__delta(&g->sbase, &g->s1, &g->s0))) {
		lps_err("%s: stopped during the baseline; nothing was loaded", g->mod.patch);
		return CLI_EXIT_ERROR;
	}
	g->t_base = clock__now_s() - start;
	for (size_t i = 0; i < g->n; i++)
		hist_delta(&g->base[i], &g->h1[i], &g->h0[i]);

	/*
	 * Opened before the load: what the kernel says about a refused load, and
	 * every fault from the first call of the new code on, transition included.
	 */
	kmsg_fd = kmsg__open("/dev/kmsg", true);
	ret = klp_control__load(g->a.module, g->mod.patch, kmsg_fd, why, sizeof(why));
	if (ret && kmsg_fd >= 0)
		close(kmsg_fd);
	if (ret) {
		lps_err("%s", why);
		return CLI_EXIT_ERROR;
	}
	g->loaded = true;
	ret = wait_transition(g);
	if (ret == 0 && (snapshot(g, g->h2) || sig_snapshot(g, &g->s2)))
		ret = -EIO;
	g->kmsg_fd = kmsg_fd;	/* -errno when unreadable: said at the first look */
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
	start = clock__now_s();
	for (;;) {
		double t;
		enum verdict v;

		ret = wait_window(g, fmin(g->def.look_interval_s, fmax(0, start + g->def.observe_s - clock__now_s())),
				  g->now);
		if (ret || snapshot(g, g->now) || sig_snapshot(g, &g->snow)) {
			g->verdict = VERDICT_INCONCLUSIVE;
			g->operational = true;
			g->reason = ret == -EINTR ? "interrupted while observing" : "the probes failed";
			goto revert;
		}
		g->t_obs = clock__now_s() - start;
		t = fmin(1, g->t_obs / g->def.observe_s);
		g->looks++;
		if (calls_stopped(g, &last_calls)) {
			g->verdict = VERDICT_INCONCLUSIVE;
			g->operational = true;
			g->reason = "calls stopped while observing (the workload ended, or nothing "
				    "calls the patched functions any more): no sound judgement";
			goto revert;
		}
		v = judge_all(g, judge__alpha_for_look(1.0, t_prev, t));
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
	gate__print(g);
	return CLI_EXIT_OK;
revert:
	g->action = "reverted";
	read_faults(g);		/* a fault may be why the transition stalled */
	if (g->sig)	/* name the patch's functions in the evidence before they go */
		signals__load_symbols(g->sig);
	ret = revert_patch(g);
	gate__print(g);
	if (ret)
		return CLI_EXIT_ERROR;
	if (g->operational) {
		/* Not a judged regression: an operational stop, said in one line. */
		lps_err("%s: %s; the patch was reverted", g->mod.patch, g->reason);
		return CLI_EXIT_ERROR;
	}
	return CLI_EXIT_REGRESSED;
}

/* The daemon's verdict document, as gate prints it. */
static void print_daemon_verdict(const struct gate_args *a, struct json_object *doc)
{
	struct json_object *fns = NULL, *sys = NULL, *checks = NULL;

	if (a->json) {
		cli__print_json(doc);
		return;
	}
	printf("gate %s: %s, %s (%s) [judged by the watch daemon]\n",
	       json_object_get_string(json_object_object_get(doc, "patch")),
	       json_object_get_string(json_object_object_get(doc, "verdict")),
	       json_object_get_string(json_object_object_get(doc, "action")),
	       json_object_get_string(json_object_object_get(doc, "reason")));
	if (json_object_object_get_ex(doc, "system", &sys))
		json_object_object_get_ex(sys, "checks", &checks);
	for (size_t k = 0; checks && k < json_object_array_length(checks); k++) {
		struct json_object *c = json_object_array_get_idx(checks, k);

		printf("  %-16s %-12s %s\n", json_object_get_string(json_object_object_get(c, "check")),
		       json_object_get_string(json_object_object_get(c, "result")),
		       json_object_get_string(json_object_object_get(c, "detail")));
	}
	json_object_object_get_ex(doc, "functions", &fns);
	for (size_t i = 0; fns && i < json_object_array_length(fns); i++) {
		struct json_object *f = json_object_array_get_idx(fns, i);

		printf("  %s: %s\n", json_object_get_string(json_object_object_get(f, "function")),
		       json_object_get_string(json_object_object_get(f, "verdict")));
		checks = json_object_object_get(f, "checks");
		for (size_t k = 0; checks && k < json_object_array_length(checks); k++) {
			struct json_object *c = json_object_array_get_idx(checks, k);

			printf("    %-16s %-12s %s\n",
			       json_object_get_string(json_object_object_get(c, "check")),
			       json_object_get_string(json_object_object_get(c, "result")),
			       json_object_get_string(json_object_object_get(c, "detail")));
		}
	}
}

/*
 * A watch daemon runs: hand it the patch, so the functions are probed once,
 * and wait for its verdict. Once handed over the patch is the daemon's: an
 * interrupted gate leaves it to the daemon's judgement.
 */
static int gate_via_daemon(const struct gate_args *a, int fd)
{
	struct json_object *req = json_object_new_object(), *doc, *v;
	char path[4096], rpath[4096], why[256];
	const char *action;
	struct rules rules;
	int ret;

	/* Malformed rules are refused here, in gate's own words, as standalone. */
	if (a->rules_path) {
		if (rules__load(a->rules_path, &rules, why, sizeof(why))) {
			lps_err("rules: %s", why);
			json_object_put(req);
			return CLI_EXIT_ERROR;
		}
		rules__free(&rules);
	}
	if (!realpath(a->module, path) || (a->rules_path && !realpath(a->rules_path, rpath))) {
		lps_err("%s: %s", access(a->module, R_OK) ? a->module : a->rules_path, strerror(errno));
		json_object_put(req);
		return CLI_EXIT_ERROR;
	}
	json_object_object_add(req, "op", json_object_new_string("gate"));
	json_object_object_add(req, "module", json_object_new_string(path));
	if (a->rules_path)
		json_object_object_add(req, "rules", json_object_new_string(rpath));
	if (a->baseline_s)
		json_object_object_add(req, "baseline_s", json_object_new_double(a->baseline_s));
	if (a->observe_s)
		json_object_object_add(req, "observe_s", json_object_new_double(a->observe_s));
	ret = control__send(fd, req);
	json_object_put(req);
	if (ret) {
		lps_err("the watch daemon's control socket: %s", strerror(-ret));
		return CLI_EXIT_ERROR;
	}
	if (!a->json)
		fprintf(stderr, "gate %s: handed to the watch daemon (%s/%s); waiting for its verdict\n",
			a->module, a->state_dir, CONTROL_SOCKET);
	stop__catch_signals();
	doc = control__reply(fd);
	if (!doc) {
		lps_err(stop__requested() ? "interrupted; the watch daemon keeps judging %s (see "
			"lpsentinel status)" : "the watch daemon gave no verdict on %s: the connection "
			"closed", a->module);
		return CLI_EXIT_ERROR;
	}
	if (json_object_object_get_ex(doc, "error", &v)) {
		lps_err("watch daemon: %s", json_object_get_string(v));
		json_object_put(doc);
		return CLI_EXIT_ERROR;
	}
	action = json_object_get_string(json_object_object_get(doc, "action"));
	if (!action) {
		lps_err("the watch daemon's reply has no action: %s", json_object_to_json_string(doc));
		json_object_put(doc);
		return CLI_EXIT_ERROR;
	}
	print_daemon_verdict(a, doc);
	ret = !strcmp(action, "kept") ? CLI_EXIT_OK :
	      !strcmp(action, "reverted") ? CLI_EXIT_REGRESSED : CLI_EXIT_ERROR;
	if (ret == CLI_EXIT_ERROR)
		lps_err("%s: %s", a->module,
			json_object_get_string(json_object_object_get(doc, "reason")));
	json_object_put(doc);
	return ret;
}

int do_gate(int argc, char **argv)
{
	struct gate g = { .kmsg_fd = -1, .sc.stats_fd = -EBADF };
	int ret = parse_gate_args(argc, argv, &g.a);

	if (ret > 0)
		return CLI_EXIT_OK;
	if (ret)
		return CLI_EXIT_USAGE;
	if (cli__check_privileges())
		return CLI_EXIT_ERROR;
	if (!g.a.standalone) {
		int fd = control__connect(g.a.state_dir);

		if (fd >= 0) {
			ret = gate_via_daemon(&g.a, fd);
			close(fd);
			return ret;
		}
	}
	ret = run_gate(&g);
	gate_free(&g);
	return ret;
}
