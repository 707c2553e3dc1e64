// SPDX-License-Identifier: GPL-2.0
/*
 * The daemon's loop: every tick it reads the probes into the rolling
 * baselines, follows /sys/kernel/livepatch (a patch that appears is judged,
 * watch_judge.c), reads the kernel log, serves gate clients, saves its state
 * and publishes status and metrics. SIGTERM/SIGINT: save, detach, exit 0.
 * SIGHUP: reload the rules.
 */
#include <errno.h>
#include <math.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/utsname.h>
#include <syslog.h>
#include <time.h>
#include <unistd.h>
#include "control.h"
#include "kmsg.h"
#include "log.h"
#include "metrics_http.h"
#include "clock.h"
#include "stop.h"
#include "watch.h"

#define SAVE_EVERY_S 10.0

static volatile sig_atomic_t reload_requested;

static void on_hup(int sig)
{
	(void)sig;
	reload_requested = 1;
}

/* Keeps baselines of a patch's functions from now on (a later patch is judged against them). */
static void watch_fns_of(struct watch *w, const struct klp_patch_entry *p)
{
	const char **names, **objs;
	unsigned long *sympos;
	int total = watch__patch_functions(p, &names, &objs, &sympos);
	size_t n = 0;

	if (total < 0)
		return;
	for (int i = 0; i < total; i++)
		if (!watch__find_fn(w, names[i])) {
			objs[n] = objs[i];
			sympos[n] = sympos[i];
			names[n++] = names[i];
		}
	if (n)
		watch__add_group_tolerant(w, names, objs, sympos, n);
	free(names);
	free(objs);
	free(sympos);
}

static void on_klp_event(const struct klp_event *ev, void *arg)
{
	struct watch *w = arg;
	struct watch_patch *rec;

	switch (ev->kind) {
	case KLP_EV_APPEARED:
		rec = watch__patch(w, ev->patch->name);
		if (!w->polled && rec && rec->state != PATCH_JUDGING) {
			/*
			 * There before the daemon started, and not left half-judged by
			 * an earlier run: loaded at boot or while no daemon ran, with no
			 * baseline of the code it replaced. Watched from now on, not judged.
			 */
			if (!rec->judged) {
				rec->state = PATCH_PRESENT;
				rec->at = clock__unix_s();
			}
			fprintf(stderr, "lpsentinel watch: patch %s was loaded before the daemon "
				"started (%s); watching its functions, not judging it\n",
				ev->patch->name, patch_state__name(rec->state));
			watch_fns_of(w, ev->patch);
			return;
		}
		fprintf(stderr, "lpsentinel watch: patch %s appeared\n", ev->patch->name);
		if (watch_judge__start(w, ev->patch))
			lps_warn("%s: cannot judge it: out of memory", ev->patch->name);
		break;
	case KLP_EV_SETTLED:
		break;		/* the judgement reads sysfs itself */
	case KLP_EV_GONE:
		rec = watch__patch(w, ev->patch->name);
		if (rec && rec->state != PATCH_REVERTED) {
			rec->state = PATCH_GONE;
			w->dirty = true;
		}
		fprintf(stderr, "lpsentinel watch: patch %s gone%s%s\n", ev->patch->name,
			ev->replaced_by ? ", replaced by " : "", ev->replaced_by ? ev->replaced_by : "");
		break;
	}
}

static int feed_log(const char *text, __u64 ts, void *arg)
{
	watch_judge__feed_log(arg, text, ts);
	return 0;
}

/* Names of list not watched yet and not repeated, into out; how many. */
static size_t unwatched(struct watch *w, const char *const *list, size_t n, const char **out,
			size_t have)
{
	for (size_t i = 0; i < n; i++) {
		bool dup = watch__find_fn(w, list[i]) != NULL;

		for (size_t k = 0; k < have; k++)
			dup |= !strcmp(out[k], list[i]);
		if (!dup)
			out[have++] = list[i];
	}
	return have;
}

/*
 * The rules' memory cap, for the functions the daemon would watch: checked
 * again here because --function names and a SIGHUP reload add functions
 * that the rules file's own check did not count. 0 or -E2BIG with why.
 */
static int rings_fit(const struct watch *w, const struct rules_set *def, size_t nfuncs, char *why,
		     size_t len)
{
	struct rules_set est = *def;
	double bytes;

	est.look_interval_s = w->tick_s;
	/* Rings under a budget span a cycle more (watch__ring_len): counted for every function. */
	if (w->a.cpu_budget > 0 || def->cpu_budget_pct > 0)
		est.baseline_s += BUDGET_MAX_GAP_S + BUDGET_WINDOW_S;
	bytes = rules__ring_bytes(&est, nfuncs);
	if (bytes <= (double)RULES_MAX_RING_BYTES)
		return 0;
	snprintf(why, len, "%zu watched functions with %gs baselines at %gs looks need %.0f MiB "
		 "of baseline rings, more than %lu", nfuncs, est.baseline_s, w->tick_s,
		 bytes / (1 << 20), RULES_MAX_RING_BYTES >> 20);
	return -E2BIG;
}

static void reload_rules(struct watch *w)
{
	struct rules fresh = { 0 };
	const char **names;
	char why[256];
	size_t n = 0;

	reload_requested = 0;
	if (!w->a.rules_path) {
		fprintf(stderr, "lpsentinel watch: SIGHUP: no --rules file; built-in rules stay\n");
		return;
	}
	if (rules__load(w->a.rules_path, &fresh, why, sizeof(why))) {
		lps_warn("SIGHUP: rules: %s; the previous rules stay", why);
		return;
	}
	if (rings_fit(w, &fresh.defaults, w->nfns + fresh.nwatch, why, sizeof(why))) {
		lps_warn("SIGHUP: rules: %s: %s; the previous rules stay", w->a.rules_path, why);
		rules__free(&fresh);
		return;
	}
	rules__free(&w->rules);
	w->rules = fresh;
	w->def = fresh.defaults;
	/* Windows keep their length: the rings were sized at start. */
	w->def.look_interval_s = w->tick_s;
	fprintf(stderr, "lpsentinel watch: SIGHUP: rules reloaded from %s\n", w->a.rules_path);
	names = calloc(w->rules.nwatch + 1, sizeof(*names));
	if (names)
		n = unwatched(w, w->rules.watch, w->rules.nwatch, names, 0);
	if (n && !watch__add_group_tolerant(w, names, NULL, NULL, n))
		fprintf(stderr, "lpsentinel watch: SIGHUP: now watching %zu more function%s\n", n,
			n == 1 ? "" : "s");
	free(names);
	syslog(LOG_NOTICE, "rules reloaded from %s", w->a.rules_path);
}

static int setup(struct watch *w, struct metrics_http **http)
{
	const char **names = NULL;
	struct utsname u;
	char why[256];
	size_t n;
	int ret, holder;

	ret = rules__load_or_builtin(w->a.rules_path, &w->rules, &w->def, why, sizeof(why));
	if (ret) {
		lps_err("rules: %s", why);
		return ret;
	}
	w->tick_s = w->def.look_interval_s;
	uname(&u);
	snprintf(w->kernel, sizeof(w->kernel), "%s", u.release);
	/* Root writes there: only root may have put what is there. */
	w->state_fd = watch_state__open_dir(w->a.state_dir, why, sizeof(why));
	if (w->state_fd < 0) {
		lps_err("state: %s", why);
		return w->state_fd;
	}
	/* One judge per patch: a second daemon on the same state would judge them again. */
	w->lock_fd = control__lock(w->state_fd, &holder);
	if (w->lock_fd < 0) {
		if (w->lock_fd == -EBUSY)
			lps_err("another watch daemon (pid %d) runs on %s: one daemon per state "
				"directory", holder, w->a.state_dir);
		else
			lps_err("state: %s/%s: %s", w->a.state_dir, CONTROL_LOCK,
				strerror(-w->lock_fd));
		return w->lock_fd;
	}
	ret = audit__open(&w->audit, w->state_fd, why, sizeof(why));
	if (ret) {
		lps_err("audit trail: %s/%s: %s", w->a.state_dir, AUDIT_FILE, why);
		return ret;
	}
	if (w->a.listen) {
		ret = metrics_http__start(http, w->a.listen, why, sizeof(why));
		if (ret) {
			lps_err("%s", why);
			return ret;
		}
	}
	/* Named functions must all be traceable: a typo is an error, not a silent gap. */
	names = calloc(w->a.nfunctions + w->rules.nwatch + 1, sizeof(*names));
	if (!names)
		return -ENOMEM;
	n = unwatched(w, w->a.functions, w->a.nfunctions, names, 0);
	n = unwatched(w, w->rules.watch, w->rules.nwatch, names, n);
	ret = rings_fit(w, &w->def, n, why, sizeof(why));
	if (ret) {
		free(names);
		lps_err("%s (named with --function or in the rules' watch:)", why);
		return ret;
	}
	ret = n ? watch__add_group(w, names, NULL, NULL, n, why, sizeof(why)) : 0;
	free(names);
	if (ret) {
		lps_err("%s (named with --function or in the rules' watch:)", why);
		return -EINVAL;
	}
	watch_persist__restore(w);
	self_cost__start(&w->sc);
	if (w->sc.stats_fd < 0)
		lps_warn("BPF run-time statistics unavailable (%s); lpsentinel_bpf_run_seconds_total "
			 "stays 0", strerror(-w->sc.stats_fd));
	ret = control__listen(w->a.state_dir);
	if (ret < 0) {
		/*
		 * Said once, loudly, and kept in status.json: gates on this state
		 * directory see the lock, cannot reach us, and refuse to judge alone.
		 */
		snprintf(w->control_error, sizeof(w->control_error), "no control socket (%s/%s: %s): "
			 "gates cannot hand patches to this daemon, and gate --state %s refuses to "
			 "judge unless --standalone", w->a.state_dir, CONTROL_SOCKET, strerror(-ret),
			 w->a.state_dir);
		lps_err("%s", w->control_error);
	}
	control_server__init(&w->ctl, ret < 0 ? -1 : ret);
	w->kmsg_fd = kmsg__open("/dev/kmsg", true);
	if (w->kmsg_fd < 0)
		lps_warn("cannot read the kernel log: %s; kernel_faults is not judged",
			 strerror(-w->kmsg_fd));
	klp_watch__init(&w->kw, KLP_SYSFS_ROOT_DEFAULT);
	return 0;
}

static void teardown(struct watch *w, struct metrics_http *http)
{
	char path[4200];

	while (w->clients)
		watch_clients__error(w, w->clients, "the daemon stopped%s",
				     w->clients->load != CLIENT_WAITING ?
				     "; the patch stays loaded and a restarted daemon judges it" :
				     " before loading the patch");
	if (w->ctl.lfd >= 0) {
		snprintf(path, sizeof(path), "%s/%s", w->a.state_dir, CONTROL_SOCKET);
		unlink(path);
	}
	control_server__close(&w->ctl);
	metrics_http__stop(http);
	watch_judge__free_all(w);
	watch__free_model(w);
	klp_watch__free(&w->kw);
	if (w->kmsg_fd >= 0)
		close(w->kmsg_fd);
	self_cost__stop(&w->sc);
	audit__close(&w->audit);
	if (w->state_fd >= 0)
		close(w->state_fd);
	if (w->lock_fd >= 0)	/* last: the directory is ours until everything is written */
		close(w->lock_fd);
	free(w->kept);
	rules__free(&w->rules);
}

/* One tick's work after the probes were read. */
static void tick(struct watch *w, struct metrics_http *http, double *last_save, int *klp_warned)
{
	bool first = !w->polled;
	int ret = klp_watch__poll(&w->kw, on_klp_event, w);

	w->polled = true;
	if (first && (!ret || ret == -ENOENT))	/* what a killed run left half-done */
		watch_resume__orphans(w);
	/* No directory: no patch loaded yet on kernels that create it lazily. */
	if (ret && ret != -ENOENT && !(*klp_warned)++)
		lps_warn("cannot read %s: %s", KLP_SYSFS_ROOT_DEFAULT, strerror(-ret));
	if (w->kmsg_fd >= 0 && !w->log_err) {
		w->log_err = kmsg__read(w->kmsg_fd, feed_log, w);
		if (w->log_err)
			lps_warn("cannot read the kernel log: %s; kernel_faults is not judged",
				 strerror(-w->log_err));
	}
	watch_judge__tick(w);
	watch_clients__serve(w);
	if (w->dirty || clock__now_s() - *last_save >= SAVE_EVERY_S) {
		watch_persist__save(w);
		w->dirty = false;
		*last_save = clock__now_s();
	}
	watch_persist__status(w);	/* a failure is counted and said there */
	audit__flush(&w->audit);	/* lines a full disk held back */
	if (http) {
		size_t len;
		char *page = metrics__render(w, &len);

		if (page)
			metrics_http__publish(http, page, len);
	}
}

static int run(struct watch *w, struct metrics_http **http)
{
	struct sigaction hup = { .sa_handler = on_hup };
	double last_save, prev = 0;
	int klp_warned = 0;

	if (setup(w, http))
		return 1;
	stop__catch_signals();
	sigaction(SIGHUP, &hup, NULL);
	w->started = last_save = clock__now_s();
	fprintf(stderr, "lpsentinel watch: watching %zu function%s; state in %s%s%s\n", w->nfns,
		w->nfns == 1 ? "" : "s", w->a.state_dir, w->a.listen ? "; metrics on " : "",
		w->a.listen ? w->a.listen : "");
	syslog(LOG_NOTICE, "watch started: %zu functions, state in %s", w->nfns, w->a.state_dir);
	while (!stop__requested()) {
		double start = clock__now_s(), next = start + w->tick_s;

		/* How late this tick is: what a client or a slow step cost the loop. */
		if (w->ticks++) {
			w->tick_last = start - prev;
			w->tick_max = fmax(w->tick_max, w->tick_last);
			w->ticks_late += w->tick_last > 2 * w->tick_s;
		}
		prev = start;
		if (reload_requested)
			reload_rules(w);
		watch_modules__tick(w);	/* before reading: no probe outlives its module */
		if (watch__read_groups(w)) {
			watch_persist__save(w);	/* keep the frozen baselines of what is being judged */
			return 1;
		}
		tick(w, *http, &last_save, &klp_warned);
		/*
		 * The wait for the next tick serves the control socket, without
		 * blocking, and ends the budgets' windows and gaps on time.
		 */
		while (!stop__requested() && !reload_requested && clock__now_s() < next) {
			double due;

			watch__budget_tick(w, &due);
			watch_clients__io(w, fmax(0, fmin(fmin(0.1, next - clock__now_s()),
							   due - clock__now_s())));
		}
	}
	/* A patch being judged stays as it is: it was not ours to load; a restart judges it. */
	if (w->judging)
		lps_warn("stopping while a patch is being judged; it stays loaded, and a restarted "
			 "daemon judges it again");
	watch_persist__save(w);
	syslog(LOG_NOTICE, "watch stopped");
	fprintf(stderr, "lpsentinel watch: stopped; probes detached\n");
	return 0;
}

int watch__run(struct watch_args *a)
{
	struct watch w = { .a = *a, .kmsg_fd = -1, .ctl = { .lfd = -1 }, .audit = { .fd = -1 }, .state_fd = -1,
			   .lock_fd = -1, .sc = { .stats_fd = -EBADF } };
	struct metrics_http *http = NULL;
	int ret = run(&w, &http);

	teardown(&w, http);
	return ret;
}
