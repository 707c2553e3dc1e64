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
#include "gate_record.h"
#include "engine.h"
#include "klp_control.h"
#include "kmsg.h"
#include "log.h"
#include "opts.h"
#include "clock.h"
#include "stop.h"

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

/*
 * Waits seconds with the probes checked (and, under a budget, paused and
 * resumed; whole: then on to the end of the budgets' cycles); -EINTR when
 * asked to stop, -EIO when a probe failed.
 */
static int wait_window(struct gate *g, double seconds, bool whole)
{
	struct probe_err perr = { 0 };
	int ret = g->bs ? budget_set__wait(g->bs, g->ps, seconds, whole, stop__requested, &perr) :
		  probe_set__observe(g->ps, seconds, stop__requested, &perr);

	if (ret && ret != -EINTR)
		lps_err("%s: %s", perr.func, perr.what);
	return ret == -EINTR ? ret : ret ? -EIO : 0;
}

/* Does any function have a CPU budget (--cpu-budget, or cpu_budget in the rules)? */
static bool budgeted(const struct gate *g)
{
	for (size_t i = 0; i < g->n; i++)
		if (g->budget_pct[i] > 0)
			return true;
	return false;
}

/* Is the patch's module in the kernel because of us (loaded and not yet taken out)? */
static bool patch_in(const struct gate *g)
{
	return g->life.state >= KLP_LIFE_PATCHING && g->life.state <= KLP_LIFE_STALLED;
}

void gate__look(struct gate *g, const struct gate_look *look, struct engine_decision *out)
{
	struct sys_window sb = { .seconds = g->t_base }, so = { .seconds = g->t_obs };
	struct func_window *b = calloc(g->n + 1, sizeof(*b)), *o = calloc(g->n + 1, sizeof(*o));
	struct engine_look in = {
		.t_prev = look->t_prev, .t = look->t, .look_s = look->look_s, .observing = true,
		.stop = look->stop, .n = g->n, .base = b, .obs = o, .fr = g->fr,
		.sys_base = &sb, .sys_obs = &so, .def = &g->def,
	};
	__u64 total = 0;

	/* A stopped look judges nothing: obs and the checks keep the last look judged. */
	if (look->stop != ENGINE_STOP_NONE) {
		engine__stop(look->stop, true, out);
		goto cleanup;
	}
	if (!b || !o || (g->sig && (signals_snapshot__free(&g->sobs),
				     signals_snapshot__delta(&g->sobs, &g->snow, &g->s2)))) {
		in.stop = ENGINE_STOP_PROBES_DEAD;
		goto decide;
	}
	read_faults(g);
	in.sampled = g->bs != NULL;
	for (size_t i = 0; i < g->n; i++) {
		hist_delta(&g->obs[i], &g->now[i], &g->h2[i]);
		total += g->now[i].calls;
		b[i] = (struct func_window){ .hist = &g->base[i], .seconds = g->t_base };
		o[i] = (struct func_window){ .hist = &g->obs[i], .seconds = g->t_obs };
		if (g->bs) {
			/* Rates per second attached: the only seconds the probes saw. */
			double att = budget_set__attached_s(g->bs, i, look->at);

			b[i].seconds = g->sampled[i].base_s;
			o[i].seconds = att - g->sampled[i].obs_start;
			o[i].idle_s = idle_track__look(&g->sampled[i].idle, att, g->obs[i].calls);
		}
		if (g->sig) {
			b[i].sig = &g->sbase.funcs[i];
			o[i].sig = &g->sobs.funcs[i];
			o[i].lock_coverage = signals__lock_coverage(g->sig);
		}
		o[i].faults = kfault_log__count_naming(&g->faults, &g->names[3 * i], &o[i].fault_line);
	}
	in.calls_in_look = total - g->calls_seen;
	g->calls_seen = total;
	if (g->sig) {
		sb.sig = &g->sbase.sys;
		sb.runq = &g->sbase.runq;
		so.sig = &g->sobs.sys;
		so.runq = &g->sobs.runq;
		so.lock_coverage = signals__lock_coverage(g->sig);
	}
	so.faults = g->faults.n;
	so.log_unreadable = g->log_err != 0;
	so.fault_line = g->faults.n ? g->faults.v[0].line : NULL;
decide:
	engine__look(&in, g->j, &g->sysj, out);
	timeline__look(&g->tl, clock__now_s(), g->obs, g->def.alpha, judge__alpha_for_look(1.0,
		       look->t_prev, look->t), engine_action__name(out->action), g->j, g->names, 3,
		       g->n, &g->sysj);
cleanup:
	free(b);
	free(o);
}

/*
 * Which targets can be measured here (targets.h): a target the kernel would
 * refuse stops the gate before anything is loaded; one that cannot be seen
 * now (a module not loaded, no traceable name) is reported, not judged.
 */
static int resolve(struct gate *g)
{
	int ret;

	g->res = calloc(g->mod.n + 1, sizeof(*g->res));
	g->target = calloc(g->mod.n + 1, sizeof(*g->target));
	if (!g->res || !g->target) {
		lps_err("out of memory");
		return -ENOMEM;
	}
	ret = targets__resolve_all(&g->mod, g->res);
	if (ret) {
		lps_err("cannot read /proc/kallsyms: %s", strerror(-ret));
		return ret;
	}
	for (size_t i = 0; i < g->mod.n; i++) {
		const struct klp_target *t = &g->mod.targets[i];

		if (g->res[i].state == TARGET_INVALID) {
			lps_err("%s: %s: %s (the kernel would refuse the patch)", g->mod.patch,
				t->function, g->res[i].why);
			return -ENOENT;
		}
		if (g->res[i].state == TARGET_MEASURED)
			g->target[g->n++] = i;
		else if (!g->a.json)
			lps_warn("%s: %s %s not measured: %s", g->mod.patch, t->object,
				 t->function, g->res[i].why);
	}
	return 0;
}

static int prepare(struct gate *g)
{
	struct probe_set_opts popts = { .mode = ATTACH_AUTO, .klp_root = KLP_SYSFS_ROOT_DEFAULT };
	struct probe_err perr = { 0 };
	struct probe_spec *specs;
	const char **names;
	const char *bwhy;
	char why[256];
	int ret;

	/* Rules first: a bad file must stop us before anything is loaded. */
	ret = rules__load_or_builtin(g->a.rules_path, &g->rules, &g->def, why, sizeof(why));
	if (ret) {
		lps_err("rules: %s", why);
		return ret;
	}
	if (g->a.baseline_s)
		g->def.baseline_s = g->a.baseline_s;
	if (g->a.observe_s)
		g->def.observe_s = g->a.observe_s;
	/* Opened once: what is inspected here is what the kernel loads later. */
	ret = klp_life__open(&g->life, g->a.module, &g->mod, why, sizeof(why));
	if (ret) {
		lps_err("%s: %s", g->a.module, why);
		return ret;
	}
	if (klp_control__module_loaded(g->mod.patch)) {
		lps_err("%s: a module of that name is already loaded", g->mod.patch);
		return -EEXIST;
	}
	ret = resolve(g);
	if (ret)
		return ret;
	specs = calloc(g->n + 1, sizeof(*specs));
	names = calloc(g->n + 1, sizeof(*names));
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
	g->sampled = calloc(g->n + 1, sizeof(*g->sampled));
	g->budget_pct = calloc(g->n + 1, sizeof(*g->budget_pct));
	if (!specs || !names || !g->names || !g->all_names || !g->h0 || !g->h1 || !g->h2 ||
	    !g->now || !g->base || !g->obs || !g->fr || !g->j || !g->sampled ||
	    !g->budget_pct) {
		free(names);
		free(specs);
		lps_err("out of memory");
		return -ENOMEM;
	}
	/* Until a look judges them, no function has a verdict (a stalled run has none). */
	engine__unjudged(g->j, g->n);
	for (size_t i = 0; i < g->n; i++) {
		const struct klp_target *t = &g->mod.targets[g->target[i]];

		names[i] = t->function;
		target__spec(t, &g->res[g->target[i]], &specs[i]);
		/* A fault is pinned on a function when its trace names the old or new code. */
		g->names[3 * i] = t->function;
		g->names[3 * i + 1] = t->replacement;
		g->all_names[2 * i] = t->function;
		g->all_names[2 * i + 1] = t->replacement;
		if (g->a.rules_path)
			rules__for_function(&g->rules, names[i], &g->fr[i]);
		else
			g->fr[i] = g->def;
		g->budget_pct[i] = g->a.cpu_budget ? g->a.cpu_budget : g->fr[i].cpu_budget_pct;
	}
	/* Before anything is attached or loaded: a budget needs probes it can pause. */
	if (budgeted(g) && budget_set__mode(popts.mode, &popts.mode, &bwhy)) {
		lps_err("%s: %s", g->a.cpu_budget ? "--cpu-budget" : "cpu_budget in the rules", bwhy);
		free(names);
		free(specs);
		return -EINVAL;
	}
	ret = probe_set__open_specs(&g->ps, specs, g->n, &popts, &perr);
	/* Before attaching: every call counted is a BPF run counted (own cost per call). */
	self_cost__start(&g->sc);
	if (!ret)
		ret = probe_set__attach(g->ps, &perr);
	free(names);
	free(specs);
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

void gate__free(struct gate *g)
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
	free(g->res);
	free(g->target);
	budget_set__destroy(g->bs);
	probe_set__destroy(g->ps);
	self_cost__stop(&g->sc);
	klp_module_info__free(&g->mod);
	klp_life__close(&g->life);
	rules__free(&g->rules);
	free(g->h0); free(g->h1); free(g->h2); free(g->now);
	free(g->base); free(g->obs); free(g->fr); free(g->j); free(g->sampled);
	free(g->budget_pct);
	timeline__free(&g->tl);
}

/* The baseline: the same probes that will see the patched code. */
static int baseline(struct gate *g)
{
	double start = clock__now_s();
	int ret;

	if (snapshot(g, g->h0) || sig_snapshot(g, &g->s0))
		return -EIO;
	/* The budgets start with the baseline: its first window measures each function's cost. */
	if (budgeted(g)) {
		ret = budget_set__new(&g->bs, g->ps, g->budget_pct, start);
		if (ret) {
			lps_err("cannot start the CPU budgets: %s", strerror(-ret));
			return ret;
		}
		budget_set__signals(g->bs, g->sig);
		budget_set__mark(g->bs);
	}
	if (wait_window(g, g->def.baseline_s, true))
		return -EIO;
	g->t_base = clock__now_s() - start;
	for (size_t i = 0; g->bs && i < g->n; i++)
		g->sampled[i].base_s = budget_set__attached_s(g->bs, i, start + g->t_base);
	if (snapshot(g, g->h1) || sig_snapshot(g, &g->s1) ||
	    (g->sig && signals_snapshot__delta(&g->sbase, &g->s1, &g->s0)))
		return -EIO;
	for (size_t i = 0; i < g->n; i++)
		hist_delta(&g->base[i], &g->h1[i], &g->h0[i]);
	return 0;
}

/* Waits for the transition; the decision when it cannot be observed (ENGINE_CONTINUE if it can). */
static void settle(struct gate *g, struct engine_decision *d)
{
	int ret = klp_life__wait(&g->life, g->def.transition_timeout_s, stop__requested);
	enum engine_stop why = (g->tl.stalled = ret == -ETIMEDOUT) ? ENGINE_STOP_STALLED :
			       ret == -EINTR ? ENGINE_STOP_INTERRUPTED :
			       ret == -ENOENT ? ENGINE_STOP_GONE : ENGINE_STOP_NONE;

	g->tl.transition_s = ret ? -1 : clock__now_s() - g->tl.t_load;
	if (!ret && (snapshot(g, g->h2) || sig_snapshot(g, &g->s2)))
		why = ENGINE_STOP_PROBES_DEAD;
	for (size_t i = 0; !ret && i < g->n; i++)
		g->calls_seen += g->h2[i].calls;
	if (g->bs)
		budget_set__mark(g->bs);
	for (size_t i = 0; g->bs && i < g->n; i++) {
		g->sampled[i].obs_start = budget_set__attached_s(g->bs, i, clock__now_s());
		idle_track__start(&g->sampled[i].idle, g->sampled[i].obs_start);
	}
	engine__stop(why, false, d);
}

/* Observes, judging at every look with its share of alpha, until the engine decides. */
static void observe(struct gate *g, struct engine_decision *d)
{
	struct gate_look look = { 0 };
	double start = clock__now_s(), prev = start;

	do {
		double left = fmax(0, start + g->def.observe_s - clock__now_s());
		/* The last look waits for whole budget cycles (budget_set__wait()). */
		int ret = wait_window(g, fmin(g->def.look_interval_s, left),
				      left <= g->def.look_interval_s);

		/*
		 * Before the reading: under a budget the seconds attached up to
		 * here hold no call the histograms miss (a window that opened
		 * after it would add time without its calls).
		 */
		look.at = clock__now_s();
		if (!ret && (snapshot(g, g->now) || sig_snapshot(g, &g->snow)))
			ret = -EIO;
		look.stop = ret == -EINTR ? ENGINE_STOP_INTERRUPTED :
			    ret ? ENGINE_STOP_PROBES_DEAD : ENGINE_STOP_NONE;
		g->t_obs = clock__now_s() - start;
		look.t_prev = look.t;
		look.t = fmin(1, g->t_obs / g->def.observe_s);
		look.look_s = clock__now_s() - prev;
		prev = clock__now_s();
		if (!look.stop)
			g->looks++;
		gate__look(g, &look, d);
	} while (d->action == ENGINE_CONTINUE);
}

/* The note status reads if we die half-way; a note that cannot be written is said, once. */
static void note_step(struct gate *g, const char *step)
{
	int ret = gate_record__write(g->mod.patch, g->a.module, g->a.params, step);

	if (ret && !g->record_err) {
		g->record_err = ret;
		lps_warn("cannot write %s/gate.%s: %s; a gate killed now would leave the patch "
			 "loaded without a note for lpsentinel status", GATE_RECORD_DIR,
			 g->mod.patch, strerror(-ret));
	}
}

static int run_gate(struct gate *g)
{
	struct engine_decision d;
	char why[640], step[700];
	int ret;

	if (prepare(g))
		return CLI_EXIT_ERROR;
	stop__catch_signals();
	if (!g->a.json)
		fprintf(stderr, "gate %s: %zu function%s measured (of %zu), baseline %.0fs\n",
			g->mod.patch, g->n, g->n == 1 ? "" : "s", g->mod.n, g->def.baseline_s);
	if (baseline(g)) {
		lps_err("%s: stopped during the baseline; nothing was loaded", g->mod.patch);
		return CLI_EXIT_ERROR;
	}
	/*
	 * The kernel log from before the load on: every fault from the first
	 * call of the new code, transition included.
	 */
	g->kmsg_fd = kmsg__open("/dev/kmsg", true);	/* -errno when unreadable: said at the first look */
	note_step(g, "loading");
	snprintf(g->life.params, sizeof(g->life.params), "%s", g->a.params);
	ret = klp_life__load(&g->life, why, sizeof(why));
	if (ret) {
		lps_err("%s", why);
		if (g->life.state == KLP_LIFE_GONE)	/* refused, yet a module of its name is in */
			note_step(g, "load refused, a module of its name left loaded");
		else
			gate_record__remove(g->mod.patch);
		return CLI_EXIT_ERROR;
	}
	g->tl.t_load = g->life.t_start;		/* just before finit_module */
	g->tl.baseline_s = g->t_base;
	note_step(g, "judging");
	settle(g, &d);
	if (d.action == ENGINE_CONTINUE) {
		if (!g->a.json)
			fprintf(stderr, "gate %s: patched; observing %.0fs\n", g->mod.patch,
				g->def.observe_s);
		observe(g, &d);
	}
	/* Judged: no budgeted probe runs on while the patch is reverted or reported. */
	if (g->bs)
		budget_set__stop(g->bs, g->ps, clock__now_s());
	g->verdict = d.verdict;
	g->reason = d.reason;
	g->operational = d.operational;
	if (d.action == ENGINE_KEEP) {
		g->action = "kept";
		gate_record__remove(g->mod.patch);
		gate__print(g);		/* a report it could not write is said; the verdict stands */
		return CLI_EXIT_OK;
	}
	g->action = "reverted";
	read_faults(g);		/* a fault may be why the transition stalled */
	if (g->sig)	/* name the patch's functions in the evidence before they go */
		signals__load_symbols(g->sig);
	if (patch_in(g) || g->life.state == KLP_LIFE_GONE) {
		note_step(g, "reverting");
		g->tl.revert_start_s = clock__now_s() - g->tl.t_load;
		ret = klp_life__take_out(&g->life, g->def.revert_timeout_s, why, sizeof(why));
		g->tl.revert_end_s = clock__now_s() - g->tl.t_load;
		g->tl.revert_result = klp_life_state__name(g->life.state);
		if (g->life.overrun[0])
			lps_warn("%s: %s", g->mod.patch, g->life.overrun);
	} else {
		ret = 0;
	}
	if (ret) {
		/* Said as it is: the patch is not reverted, and the note stays for status. */
		g->action = "revert failed";
		snprintf(g->revert_why, sizeof(g->revert_why), "%s", why);
		snprintf(step, sizeof(step), "revert failed: %s", g->revert_why);
		note_step(g, step);
		lps_err("%s", why);
	} else {
		gate_record__remove(g->mod.patch);
	}
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

int do_gate(int argc, char **argv)
{
	struct gate g = { .kmsg_fd = -1, .sc.stats_fd = -EBADF, .life.fd = -1 };
	int ret = cli__parsed(&cli_verb_gate, gate__parse_args(argc, argv, &g.a));

	if (ret != CLI_RUN)
		return ret;
	timeline__init(&g.tl);
	if (!g.a.standalone) {
		char why[640];
		int fd = control__connect(g.a.state_dir, why, sizeof(why));

		/* No daemon: gate runs alone; a daemon gate cannot trust: it stops. */
		if (fd == -EPERM) {
			lps_err("%s", why);
			return CLI_EXIT_ERROR;
		}
		if (fd >= 0 && g.a.cpu_budget) {
			/* The daemon judges with its own probes: the budget would be ignored. */
			close(fd);
			lps_err("--cpu-budget: a watch daemon runs on %s and would judge with its "
				"own probes; add --standalone to judge here within the budget",
				g.a.state_dir);
			return CLI_EXIT_ERROR;
		}
		if (fd >= 0)
			return gate__via_daemon(&g.a, fd);
		ret = gate__refuse_second_judge(&g.a, why);
		if (ret != CLI_RUN)
			return ret;
	}
	ret = run_gate(&g);
	gate__free(&g);
	return ret;
}
