// SPDX-License-Identifier: GPL-2.0
/*
 * lpsentinel watch [--rules FILE] [--state DIR] [--listen ADDR:PORT] [--function NAME]...
 * The daemon: rolling baselines for watched functions; every livepatch that
 * appears is judged against them (watch_judge.c) and reverted on failure.
 * State survives restarts (watch_state.c), decisions go to the audit trail,
 * metrics to /metrics. SIGTERM/SIGINT: save, detach, exit 0. SIGHUP: reload
 * the rules.
 */
#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/utsname.h>
#include <syslog.h>
#include <time.h>
#include <unistd.h>
#include <bpf/bpf.h>
#include "cli.h"
#include "control.h"
#include "klp_control.h"
#include "klp_module.h"
#include "daemon_status.h"
#include "hist.h"
#include "kmsg.h"
#include "log.h"
#include "opts.h"
#include "metrics_http.h"
#include "watch.h"
#include "clock.h"
#include "stop.h"

#define SAVE_EVERY_S 10.0

static volatile sig_atomic_t reload_requested;

static void on_hup(int sig)
{
	(void)sig;
	reload_requested = 1;
}

static const struct cli_opt watch_opts[] = {
	{ "rules", 'r', "FILE", "rules file, reloaded on SIGHUP (default: the built-in rules)" },
	{ "state", 's', "DIR", "state file, audit trail, status and control socket (default "
	  WATCH_DEFAULT_STATE_DIR ")" },
	{ "listen", 'l', "ADDR:PORT", "serve Prometheus /metrics there" },
	{ "function", 'f', "NAME", "keep a baseline for this function too", .many = true },
	{ 0 },
};

const struct cli_verb cli_verb_watch = {
	.name = "watch", .args = "", .opts = watch_opts, .run = do_watch,
	.summary = "The daemon: rolling baselines; every livepatch that appears is judged, and "
		   "reverted on failure",
	.min_args = 0, .max_args = 0, .args_error = "watch takes no arguments, only options ('%s')",
};

static int watch_opt(int key, const char *arg, void *data)
{
	struct watch_args *a = data;

	switch (key) {
	case 'r': a->rules_path = arg; break;
	case 's': a->state_dir = arg; break;
	case 'l': a->listen = arg; break;
	case 'f':
		for (size_t k = 0; k < a->nfunctions; k++)
			if (!strcmp(a->functions[k], arg))
				return 0;
		a->functions[a->nfunctions++] = arg;
		break;
	}
	return 0;
}

static int parse_watch_args(int argc, char **argv, struct watch_args *a)
{
	a->state_dir = WATCH_DEFAULT_STATE_DIR;
	a->functions = calloc((size_t)argc + 1, sizeof(*a->functions));
	if (!a->functions)
		return -ENOMEM;
	return cli__parse(&cli_verb_watch, argc, argv, watch_opt, a, NULL);
}

struct watch_fn *watch__find_fn(struct watch *w, const char *name)
{
	for (size_t i = 0; i < w->nfns; i++)
		if (!strcmp(w->fns[i].name, name))
			return &w->fns[i];
	return NULL;
}

struct watch_patch *watch__patch(struct watch *w, const char *name)
{
	struct watch_patch *v;

	for (size_t i = 0; i < w->npatches; i++)
		if (!strcmp(w->patches[i].name, name))
			return &w->patches[i];
	v = realloc(w->patches, (w->npatches + 1) * sizeof(*v));
	if (!v)
		return NULL;
	w->patches = v;
	v = &w->patches[w->npatches++];
	memset(v, 0, sizeof(*v));
	snprintf(v->name, sizeof(v->name), "%s", name);
	v->state = "transition";
	return v;
}

enum attach_mode watch__fn_mode(const struct watch_fn *fn)
{
	return fn->grp ? probe_set__info(fn->grp->ps, fn->idx)->mode : ATTACH_AUTO;
}

/* Sums the ring slots watch__baseline uses (all but the newest) of a ring of n-sized items. */
static void ring_sum(const void *ring, size_t item, size_t len, size_t pos, size_t fill,
		     void (*add)(void *, const void *), void *out)
{
	size_t newest = (pos + len - 1) % len;

	for (size_t k = 0; k < fill; k++) {
		size_t slot = (pos + len - 1 - k) % len;

		if (slot != newest)
			add(out, (const char *)ring + slot * item);
	}
}

static void add_hist(void *d, const void *s) { hist_add(d, s); }
static void add_double(void *d, const void *s) { *(double *)d += *(const double *)s; }

/* The baseline watch__baseline gives, and the attach method that measured it. */
static bool baseline_of(const struct watch *w, const struct watch_fn *fn, struct lps_hist *out,
			double *seconds, enum attach_mode *mode)
{
	if (fn->judging) {
		*out = fn->frozen;
		*seconds = fn->frozen_s;
		*mode = fn->frozen_mode;
		return !fn->frozen_none;
	}
	memset(out, 0, sizeof(*out));
	*seconds = 0;
	ring_sum(fn->ring, sizeof(*fn->ring), fn->ring_len, fn->ring_pos, fn->ring_fill, add_hist, out);
	ring_sum(fn->ring_s, sizeof(*fn->ring_s), fn->ring_len, fn->ring_pos, fn->ring_fill, add_double,
		 seconds);
	*mode = watch__fn_mode(fn);
	if (out->calls >= w->def.min_calls || !fn->have_saved)
		return out->calls > 0;
	/* Too thin yet: the state file's baseline stands in, with its method. */
	*out = fn->saved;
	*seconds = fn->saved_s;
	*mode = fn->saved_mode;
	return true;
}

enum attach_mode watch__baseline_mode(const struct watch *w, const struct watch_fn *fn)
{
	enum attach_mode mode;
	struct lps_hist b;
	double s;

	baseline_of(w, fn, &b, &s, &mode);
	return mode;
}

bool watch__baseline(const struct watch *w, const struct watch_fn *fn, struct lps_hist *out,
		     double *seconds)
{
	enum attach_mode mode;

	return baseline_of(w, fn, out, seconds, &mode);
}

static void add_sig(void *d, const void *s) { signals__add(d, s); }

bool watch__sig_baseline(const struct watch *w, const struct watch_fn *fn,
			 struct lps_func_signals *out)
{
	struct lps_hist h;

	memset(out, 0, sizeof(*out));
	if (fn->judging) {
		*out = fn->sfrozen;
		return fn->sfrozen_ok;
	}
	if (!fn->has_sig)
		return false;
	memset(&h, 0, sizeof(h));
	ring_sum(fn->ring, sizeof(*fn->ring), fn->ring_len, fn->ring_pos, fn->ring_fill, add_hist, &h);
	/* Only beside the histogram it belongs to: not when that came from the state file. */
	if (h.calls < w->def.min_calls)
		return false;
	ring_sum(fn->sring, sizeof(*fn->sring), fn->ring_len, fn->ring_pos, fn->ring_fill, add_sig, out);
	return true;
}

bool watch__sys_baseline(const struct watch *w, struct lps_func_signals *sig, struct lps_hist *runq,
			 double *seconds)
{
	const struct watch_sys *y = &w->sys;

	memset(sig, 0, sizeof(*sig));
	memset(runq, 0, sizeof(*runq));
	*seconds = 0;
	if (!y->sig || y->ring_fill < 2)
		return false;
	for (size_t k = 1; k < y->ring_fill; k++)	/* k = 0: the newest, left out */
		*seconds += y->ring_s[(y->ring_pos + y->ring_len - 1 - k) % y->ring_len];
	ring_sum(y->ring, sizeof(*y->ring), y->ring_len, y->ring_pos, y->ring_fill, add_sig, sig);
	ring_sum(y->runq_ring, sizeof(*y->runq_ring), y->ring_len, y->ring_pos, y->ring_fill, add_hist,
		 runq);
	return true;
}

/*
 * The signal probes share the task stacks of one probe set: the first one
 * made. Its functions get per-function signals; every judgement gets the
 * system's. One instance, so their cost does not grow with the patches seen.
 */
static void sys_open(struct watch *w, struct watch_group *g)
{
	struct watch_sys *y = &w->sys;

	y->ring_len = (size_t)ceil(w->def.baseline_s / w->tick_s) + 1;
	if (signals__open(&y->sig, g->n, probe_set__task_stacks_fd(g->ps), y->why, sizeof(y->why))) {
		y->sig = NULL;
		lps_warn("%s; lock_contention, kernel page faults and runqueue_latency are not judged",
			 y->why);
		return;
	}
	y->ring = calloc(y->ring_len, sizeof(*y->ring));
	y->runq_ring = calloc(y->ring_len, sizeof(*y->runq_ring));
	y->ring_s = calloc(y->ring_len, sizeof(*y->ring_s));
	for (size_t i = 0; i < g->n; i++) {
		struct watch_fn *fn = &w->fns[g->fn[i]];

		fn->sring = calloc(fn->ring_len, sizeof(*fn->sring));
		fn->has_sig = fn->sring != NULL;
	}
	if (!y->ring || !y->runq_ring || !y->ring_s) {
		signals__destroy(y->sig);
		y->sig = NULL;
		snprintf(y->why, sizeof(y->why), "out of memory");
		return;
	}
	y->grp = g;
}

/* New watch_fn entries for names; indices of the first in *first. */
static int add_fns(struct watch *w, const char *const *names, size_t n, size_t *first)
{
	size_t ring_len = (size_t)ceil(w->def.baseline_s / w->tick_s) + 1;

	if (w->nfns + n > w->capfns) {
		size_t cap = (w->nfns + n) * 2;
		struct watch_fn *v = realloc(w->fns, cap * sizeof(*v));

		if (!v)
			return -ENOMEM;
		/* Groups point at functions by index, never by address: realloc is safe. */
		w->fns = v;
		w->capfns = cap;
	}
	*first = w->nfns;
	for (size_t i = 0; i < n; i++) {
		struct watch_fn *fn = &w->fns[w->nfns];

		memset(fn, 0, sizeof(*fn));
		snprintf(fn->name, sizeof(fn->name), "%s", names[i]);
		fn->ring_len = ring_len;
		fn->ring = calloc(ring_len, sizeof(*fn->ring));
		fn->ring_s = calloc(ring_len, sizeof(*fn->ring_s));
		if (!fn->ring || !fn->ring_s) {
			free(fn->ring);
			free(fn->ring_s);
			w->nfns -= i;	/* none of this call's functions: they have no probes */
			return -ENOMEM;
		}
		w->nfns++;
	}
	return 0;
}

static void group_free(struct watch_group *g)
{
	if (!g)
		return;
	probe_set__destroy(g->ps);
	free(g->fn);
	free(g->buf);
	free(g);
}

int watch__add_group(struct watch *w, const char *const *names, size_t n, char *why, size_t len)
{
	struct probe_set_opts popts = { .mode = ATTACH_AUTO, .klp_root = KLP_SYSFS_ROOT_DEFAULT };
	struct probe_err perr = { 0 };
	struct watch_group *g = calloc(1, sizeof(*g)), **gv;
	size_t first;
	int ret;

	if (!g)
		return -ENOMEM;
	ret = probe_set__open(&g->ps, names, n, &popts, &perr);
	if (!ret)
		ret = probe_set__attach(g->ps, &perr);
	if (ret) {
		snprintf(why, len, "%s: %s", perr.func[0] ? perr.func : "probes", perr.what);
		goto fail;
	}
	g->n = n;
	g->fn = calloc(n, sizeof(*g->fn));
	g->buf = calloc(n, sizeof(*g->buf));
	gv = realloc(w->groups, (w->ngroups + 1) * sizeof(*gv));
	if (gv)
		w->groups = gv;
	if (!g->fn || !g->buf || !gv) {
		ret = -ENOMEM;
		goto fail;
	}
	ret = add_fns(w, names, n, &first);
	if (ret)
		goto fail;
	for (size_t i = 0; i < n; i++) {
		g->fn[i] = first + i;
		w->fns[first + i].grp = g;
		w->fns[first + i].idx = i;
	}
	w->groups[w->ngroups++] = g;
	if (!w->sys.sig && !w->sys.why[0])
		sys_open(w, g);
	return 0;
fail:
	group_free(g);
	return ret;
}

/* The signal counters into the rings, at the slot the histograms are about to fill. */
static int read_signals(struct watch *w, struct watch_group *g, double dt)
{
	struct watch_sys *y = &w->sys;
	struct signals_snapshot snap;
	int ret = signals__read(y->sig, &snap);

	if (ret) {
		lps_err("cannot read the signal probes: %s", strerror(-ret));
		return ret;
	}
	for (size_t i = 0; i < g->n && i < snap.nfuncs; i++) {
		struct watch_fn *fn = &w->fns[g->fn[i]];

		if (!fn->has_sig)
			continue;
		signals__sub(&fn->sring[fn->ring_pos], &snap.funcs[i], &fn->scum);
		fn->scum = snap.funcs[i];
	}
	y->ring_s[y->ring_pos] = dt;
	signals__sub(&y->ring[y->ring_pos], &snap.sys, &y->cum);
	hist_delta(&y->runq_ring[y->ring_pos], &snap.runq, &y->runq_cum);
	y->cum = snap.sys;
	y->runq_cum = snap.runq;
	y->ring_pos = (y->ring_pos + 1) % y->ring_len;
	if (y->ring_fill < y->ring_len)
		y->ring_fill++;
	y->drops = snap.drops[LPS_SDROP_NO_STORAGE] + snap.drops[LPS_SDROP_CALLERS_FULL] +
		   snap.drops[LPS_SDROP_NO_STACK];
	signals_snapshot__free(&snap);
	return 0;
}

/* Reads every group; pushes each function's tick into its ring. -errno said once. */
static int read_groups(struct watch *w)
{
	double now = clock__now_s();
	/* A tick lasts longer when the loop was held up (a revert): count what it was. */
	double dt = w->last_read ? now - w->last_read : w->tick_s;

	w->last_read = now;
	for (size_t gi = 0; gi < w->ngroups; gi++) {
		struct watch_group *g = w->groups[gi];
		struct probe_err perr = { 0 };
		int ret = probe_set__verify(g->ps, &perr);

		if (ret) {
			lps_err("%s: %s", perr.func, perr.what);
			return ret;
		}
		ret = probe_set__read(g->ps, g->buf);
		if (ret) {
			lps_err("cannot read the probes' histograms: %s", strerror(-ret));
			return ret;
		}
		if (g == w->sys.grp) {
			ret = read_signals(w, g, dt);
			if (ret)
				return ret;
		}
		for (size_t i = 0; i < g->n; i++) {
			struct watch_fn *fn = &w->fns[g->fn[i]];

			hist_delta(&fn->ring[fn->ring_pos], &g->buf[i], &fn->cum);
			fn->ring_s[fn->ring_pos] = dt;
			fn->ring_pos = (fn->ring_pos + 1) % fn->ring_len;
			if (fn->ring_fill < fn->ring_len)
				fn->ring_fill++;
			fn->cum = g->buf[i];
		}
	}
	return 0;
}

static int read_file_line(const char *path, char *buf, size_t len)
{
	FILE *f = fopen(path, "r");
	int ret = f && fgets(buf, (int)len, f) ? 0 : -ENOENT;

	if (f)
		fclose(f);
	buf[strcspn(buf, "\n")] = 0;
	return ret;
}

static void boot_id(char *buf, size_t len)
{
	if (read_file_line("/proc/sys/kernel/random/boot_id", buf, len))
		buf[0] = 0;
}

static int save_state(struct watch *w)
{
	struct watch_state st = { 0 };
	size_t np = 0;
	int ret;

	snprintf(st.kernel, sizeof(st.kernel), "%s", w->kernel);
	boot_id(st.boot_id, sizeof(st.boot_id));
	st.funcs = calloc(w->nfns + 1, sizeof(*st.funcs));
	st.patches = calloc(w->npatches + 1, sizeof(*st.patches));
	if (!st.funcs || !st.patches) {
		ret = -ENOMEM;
		goto cleanup;
	}
	for (size_t i = 0; i < w->nfns; i++) {
		struct state_baseline *b = &st.funcs[st.nfuncs];

		if (!watch__baseline(w, &w->fns[i], &b->hist, &b->seconds))
			continue;
		snprintf(b->function, sizeof(b->function), "%s", w->fns[i].name);
		snprintf(b->attach, sizeof(b->attach), "%s",
			 attach_mode__name(watch__baseline_mode(w, &w->fns[i])));
		st.nfuncs++;
	}
	for (size_t i = 0; i < w->npatches; i++) {
		const struct watch_patch *p = &w->patches[i];
		bool judging = !strcmp(p->state, "transition") || !strcmp(p->state, "observing");

		if (!p->judged && !judging)
			continue;	/* seen only: nothing a restart needs */
		snprintf(st.patches[np].patch, sizeof(st.patches[np].patch), "%s", p->name);
		st.patches[np].verdict = p->verdict;
		/* One being judged is judged again by the next run; the rest are remembered. */
		snprintf(st.patches[np].state, sizeof(st.patches[np].state), "%s",
			 judging ? "judging" : p->state);
		st.patches[np].judged_at = (__s64)p->at;
		np++;
	}
	st.npatches = np;
	ret = watch_state__save(w->a.state_dir, &st);
cleanup:
	if (ret) {
		w->state_errors++;
		lps_warn("state: cannot save in %s: %s", w->a.state_dir, strerror(-ret));
	} else {
		w->state_saves++;
	}
	free(st.funcs);
	free(st.patches);
	return ret;
}

/*
 * What a previous run left: baselines taken on this kernel, and verdicts
 * given in this boot. A damaged file is set aside, said, and never trusted.
 */
static void load_state(struct watch *w, struct watch_state *st)
{
	char why[128] = "", boot[40], path[4096], bad[4200];
	int ret = watch_state__load(w->a.state_dir, st, why, sizeof(why));

	snprintf(path, sizeof(path), "%s/%s", w->a.state_dir, WATCH_STATE_FILE);
	if (ret == -ENOENT)
		return;
	if (ret == -EBADMSG) {
		snprintf(bad, sizeof(bad), "%s.bad", path);
		lps_warn("state: %s: %s; ignored (kept as %s)", path, why, bad);
		rename(path, bad);
		memset(st, 0, sizeof(*st));
		return;
	}
	if (ret) {	/* unreadable now, maybe sound: left as it is, not trusted either */
		lps_warn("state: %s: %s; ignored", path, strerror(-ret));
		memset(st, 0, sizeof(*st));
		return;
	}
	if (strcmp(st->kernel, w->kernel)) {
		lps_warn("state: baselines were taken on kernel %s, not %s; ignored", st->kernel,
			 w->kernel);
		free(st->funcs);
		st->funcs = NULL;
		st->nfuncs = 0;
	}
	boot_id(boot, sizeof(boot));
	if (strcmp(st->boot_id, boot)) {
		free(st->patches);
		st->patches = NULL;
		st->npatches = 0;
	}
	fprintf(stderr, "lpsentinel watch: state: %zu baselines, %zu verdicts from %s\n",
		st->nfuncs, st->npatches, path);
}

/*
 * Starts probes on names, dropping (with a warning) any the kernel will not
 * let us trace rather than watching nothing.
 */
static int add_group_tolerant(struct watch *w, const char **names, size_t n)
{
	while (n) {
		struct probe_set *ps = NULL;
		struct probe_set_opts popts = { .mode = ATTACH_AUTO, .klp_root = KLP_SYSFS_ROOT_DEFAULT };
		struct probe_err perr = { 0 };
		size_t k;

		if (!probe_set__open(&ps, names, n, &popts, &perr)) {
			char why[300];
			int ret;

			probe_set__destroy(ps);
			ret = watch__add_group(w, names, n, why, sizeof(why));
			if (ret)
				lps_warn("%s; not watched", why);
			return ret;
		}
		for (k = 0; k < n && strcmp(names[k], perr.func); k++)
			;
		lps_warn("%s: %s; not watched", perr.func[0] ? perr.func : "probes", perr.what);
		if (k == n)
			return -EINVAL;
		names[k] = names[--n];
	}
	return 0;
}

static int status_json(struct watch *w)
{
	struct json_object *doc = json_object_new_object(), *fns = json_object_new_array(),
			   *pv = json_object_new_array();
	const char *js;
	int ret;

	json_object_object_add(doc, "pid", json_object_new_int(getpid()));
	json_object_object_add(doc, "kernel", json_object_new_string(w->kernel));
	json_object_object_add(doc, "uptime_s", json_object_new_double(clock__now_s() - w->started));
	json_object_object_add(doc, "listen", w->a.listen ? json_object_new_string(w->a.listen) : NULL);
	for (size_t i = 0; i < w->nfns; i++) {
		const struct watch_fn *fn = &w->fns[i];
		const struct probe_info *pi = probe_set__info(fn->grp->ps, fn->idx);
		struct json_object *f = json_object_new_object();
		struct lps_hist b;
		double s;
		bool have = watch__baseline(w, fn, &b, &s);

		json_object_object_add(f, "function", json_object_new_string(fn->name));
		json_object_object_add(f, "attach", json_object_new_string(attach_mode__name(pi->mode)));
		json_object_object_add(f, "calls", json_object_new_uint64(fn->cum.calls));
		json_object_object_add(f, "errors", json_object_new_uint64(fn->cum.errors));
		json_object_object_add(f, "baseline_calls", json_object_new_uint64(have ? b.calls : 0));
		json_object_object_add(f, "baseline_p50_ns", json_object_new_double(have ? hist_percentile(&b, 0.5) : 0));
		json_object_object_add(f, "judging", json_object_new_boolean(fn->judging));
		json_object_array_add(fns, f);
	}
	for (size_t i = 0; i < w->npatches; i++) {
		struct json_object *p = json_object_new_object();

		json_object_object_add(p, "patch", json_object_new_string(w->patches[i].name));
		json_object_object_add(p, "state", json_object_new_string(w->patches[i].state));
		json_object_object_add(p, "verdict", w->patches[i].judged ?
				       json_object_new_string(verdict__name(w->patches[i].verdict)) : NULL);
		json_object_object_add(p, "at", json_object_new_double(w->patches[i].at));
		json_object_array_add(pv, p);
	}
	json_object_object_add(doc, "functions", fns);
	json_object_object_add(doc, "patches", pv);
	js = json_object_to_json_string_ext(doc, JSON_C_TO_STRING_PLAIN | JSON_C_TO_STRING_NOSLASHESCAPE);
	ret = watch_state__write_atomic(w->a.state_dir, WATCH_STATUS_FILE, js, strlen(js));
	json_object_put(doc);
	return ret;
}

struct watch_client *watch__client(struct watch *w, const char *patch)
{
	for (struct watch_client *c = w->clients; c; c = c->next)
		if (!strcmp(c->patch, patch))
			return c;
	return NULL;
}

void watch__client_done(struct watch *w, struct watch_client *c, struct json_object *doc)
{
	struct watch_client **pp = &w->clients;

	/* A gate that went away meanwhile only misses the reply: the audit trail has it. */
	control__send(c->fd, doc);
	close(c->fd);
	while (*pp && *pp != c)
		pp = &(*pp)->next;
	if (*pp)
		*pp = c->next;
	rules__free(&c->rules);
	free(c);
}

static void client_error(struct watch *w, struct watch_client *c, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

static void client_error(struct watch *w, struct watch_client *c, const char *fmt, ...)
{
	struct json_object *doc = json_object_new_object();
	char msg[768];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	json_object_object_add(doc, "error", json_object_new_string(msg));
	fprintf(stderr, "lpsentinel watch: gate request: %s\n", msg);
	watch__client_done(w, c, doc);
	json_object_put(doc);
}

static double req_seconds(struct json_object *req, const char *key, double dflt)
{
	struct json_object *v;

	if (!json_object_object_get_ex(req, key, &v) || !v)
		return dflt;
	return json_object_get_double(v) > 0 ? json_object_get_double(v) : dflt;
}

/*
 * A gate hands over its patch: inspect it, trace what is not watched yet,
 * and load it once every function has a full baseline (serve_clients).
 */
static void take_request(struct watch *w, int fd, struct json_object *req)
{
	struct watch_client *c = calloc(1, sizeof(*c));
	struct klp_module_info mod = { 0 };
	struct json_object *v;
	const char **fresh = NULL;
	double need = 0;
	size_t nfresh = 0;
	char why[512];

	if (!c) {
		close(fd);
		return;
	}
	c->fd = fd;
	c->next = w->clients;
	w->clients = c;
	c->def = w->def;
	if (!json_object_object_get_ex(req, "op", &v) || !json_object_is_type(v, json_type_string) ||
	    strcmp(json_object_get_string(v), "gate") ||
	    !json_object_object_get_ex(req, "module", &v) || !json_object_is_type(v, json_type_string)) {
		client_error(w, c, "malformed request");
		return;
	}
	snprintf(c->module, sizeof(c->module), "%s", json_object_get_string(v));
	if (json_object_object_get_ex(req, "rules", &v) && v) {
		if (rules__load(json_object_get_string(v), &c->rules, why, sizeof(why))) {
			client_error(w, c, "rules: %s", why);
			return;
		}
		c->def = c->rules.defaults;
	}
	c->def.baseline_s = req_seconds(req, "baseline_s", c->def.baseline_s);
	c->def.observe_s = req_seconds(req, "observe_s", c->def.observe_s);
	if (klp_module__inspect(c->module, &mod, why, sizeof(why))) {
		client_error(w, c, "%s: %s", c->module, why);
		return;
	}
	snprintf(c->patch, sizeof(c->patch), "%s", mod.patch);
	for (struct watch_client *o = c->next; o; o = o->next)
		if (!strcmp(o->patch, c->patch)) {
			client_error(w, c, "%s: another gate already handed this patch over", c->patch);
			goto cleanup;
		}
	if (klp_control__module_loaded(mod.patch)) {
		client_error(w, c, "%s: a module of that name is already loaded", mod.patch);
		goto cleanup;
	}
	fresh = calloc(mod.n + 1, sizeof(*fresh));
	for (size_t i = 0; fresh && i < mod.n; i++) {
		struct watch_fn *fn = watch__find_fn(w, mod.targets[i].function);
		double have = fn && fn->ring_fill > 1 ? (double)(fn->ring_fill - 1) * w->tick_s : 0;

		if (!fn)
			fresh[nfresh++] = mod.targets[i].function;
		/* The ring holds at most the daemon's baseline_s: a longer one is not waited for. */
		need = fmax(need, fmin(c->def.baseline_s, w->def.baseline_s) - have);
	}
	if (nfresh && watch__add_group(w, fresh, nfresh, why, sizeof(why))) {
		client_error(w, c, "%s", why);
		goto cleanup;
	}
	c->t_ready = clock__now_s() + need + w->tick_s;
	fprintf(stderr, "lpsentinel watch: gate request for %s (%zu functions), loading in %.0fs\n",
		c->patch, mod.n, need + w->tick_s);
cleanup:
	free(fresh);
	klp_module_info__free(&mod);
}

static void accept_clients(struct watch *w)
{
	for (;;) {
		struct json_object *req = NULL;
		int fd, ret = control__accept(w->ctl_fd, &fd, &req);

		if (ret == -EAGAIN)
			return;
		if (ret) {
			lps_warn("control socket: refused a connection: %s", strerror(-ret));
			continue;
		}
		take_request(w, fd, req);
		json_object_put(req);
	}
}

/* Loads the handed-over patches whose baselines are ready; the judgement follows as for any. */
static void serve_clients(struct watch *w)
{
	struct watch_client *c = w->clients, *next;

	for (; c; c = next) {
		char why[640];
		int kfd, ret;

		next = c->next;
		if (c->loaded && !watch_judge__active(w, c->patch) &&
		    clock__now_s() - c->t_ready > 10 * w->tick_s + 5) {
			client_error(w, c, "%s: loaded, but it never showed up in %s to be judged; "
				     "see lpsentinel status", c->patch, KLP_SYSFS_ROOT_DEFAULT);
			continue;
		}
		if (c->loaded || clock__now_s() < c->t_ready)
			continue;
		kfd = kmsg__open("/dev/kmsg", true);
		ret = klp_control__load(c->module, c->patch, kfd, why, sizeof(why));
		if (kfd >= 0)
			close(kfd);
		if (ret) {
			client_error(w, c, "%s", why);
			continue;
		}
		c->loaded = true;
		c->t_ready = clock__now_s();	/* from now: the judgement must begin */
		fprintf(stderr, "lpsentinel watch: loaded %s for a gate\n", c->patch);
	}
}

/* Keeps baselines of a patch's functions from now on (a later patch is judged against them). */
static void watch_fns_of(struct watch *w, const struct klp_patch_entry *p)
{
	const char **names;
	int total = klp_patch_entry__functions(p, &names);
	size_t n = 0;

	if (total < 0)
		return;
	for (int i = 0; i < total; i++)
		if (!watch__find_fn(w, names[i]))
			names[n++] = names[i];
	if (n)
		add_group_tolerant(w, names, n);
	free(names);
}

static void on_klp_event(const struct klp_event *ev, void *arg)
{
	struct watch *w = arg;
	struct watch_patch *rec;

	switch (ev->kind) {
	case KLP_EV_APPEARED:
		rec = watch__patch(w, ev->patch->name);
		if (!w->polled && rec && strcmp(rec->state, "judging")) {
			/*
			 * There before the daemon started, and not left half-judged by
			 * an earlier run: loaded at boot or while no daemon ran, with no
			 * baseline of the code it replaced. Watched from now on, not judged.
			 */
			if (!rec->judged) {
				rec->state = "present";
				rec->at = (double)time(NULL);
			}
			fprintf(stderr, "lpsentinel watch: patch %s was loaded before the daemon "
				"started (%s); watching its functions, not judging it\n",
				ev->patch->name, rec->state);
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
		if (rec && strcmp(rec->state, "reverted")) {
			rec->state = "gone";
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
	rules__free(&w->rules);
	w->rules = fresh;
	w->def = fresh.defaults;
	/* Windows keep their length: the rings were sized at start. */
	w->def.look_interval_s = w->tick_s;
	fprintf(stderr, "lpsentinel watch: SIGHUP: rules reloaded from %s\n", w->a.rules_path);
	names = calloc(w->rules.nwatch + 1, sizeof(*names));
	for (size_t i = 0; names && i < w->rules.nwatch; i++) {
		bool dup = watch__find_fn(w, w->rules.watch[i]) != NULL;

		for (size_t k = 0; k < n; k++)
			dup |= !strcmp(names[k], w->rules.watch[i]);
		if (!dup)
			names[n++] = w->rules.watch[i];
	}
	if (n && !add_group_tolerant(w, names, n))
		fprintf(stderr, "lpsentinel watch: SIGHUP: now watching %zu more function%s\n", n,
			n == 1 ? "" : "s");
	free(names);
	syslog(LOG_NOTICE, "rules reloaded from %s", w->a.rules_path);
}

/* The literal for a state read from the file; unknown words read as "gone". */
static const char *saved_state(const char *s)
{
	static const char *const known[] = { "kept", "reverted", "failed", "gone", "judging" };

	for (size_t i = 0; i < sizeof(known) / sizeof(known[0]); i++)
		if (!strcmp(s, known[i]))
			return known[i];
	return "gone";
}

static int setup(struct watch *w, struct metrics_http **http)
{
	struct watch_state st = { 0 };
	struct utsname u;
	const char **names;
	size_t n = 0;
	char why[256];
	int ret;

	if (w->a.rules_path) {
		ret = rules__load(w->a.rules_path, &w->rules, why, sizeof(why));
		if (ret) {
			lps_err("rules: %s", why);
			return ret;
		}
		w->def = w->rules.defaults;
		if (w->rules.nwatch) {
			const char **v = realloc(w->a.functions, (w->a.nfunctions + w->rules.nwatch + 1) *
						 sizeof(*v));

			if (!v)
				return -ENOMEM;
			w->a.functions = v;
		}
	} else {
		rules__builtin(&w->def);
	}
	w->tick_s = w->def.look_interval_s;
	uname(&u);
	snprintf(w->kernel, sizeof(w->kernel), "%s", u.release);
	if (mkdir(w->a.state_dir, 0700) && errno != EEXIST) {
		ret = -errno;
		lps_err("state: cannot create %s: %s", w->a.state_dir, strerror(errno));
		return ret;
	}
	ret = audit__open(&w->audit, w->a.state_dir);
	if (ret) {
		lps_err("audit trail: cannot open %s/%s: %s", w->a.state_dir, AUDIT_FILE, strerror(-ret));
		return ret;
	}
	if (w->a.listen) {
		ret = metrics_http__start(http, w->a.listen, why, sizeof(why));
		if (ret) {
			lps_err("%s", why);
			return ret;
		}
	}
	load_state(w, &st);
	for (size_t i = 0; i < st.npatches; i++) {
		struct watch_patch *rec = watch__patch(w, st.patches[i].patch);

		if (!rec)
			continue;
		rec->verdict = st.patches[i].verdict <= VERDICT_FAIL ? st.patches[i].verdict :
			       VERDICT_INCONCLUSIVE;
		rec->state = saved_state(st.patches[i].state);
		rec->judged = strcmp(rec->state, "judging") != 0;
		rec->at = (double)st.patches[i].judged_at;
	}
	/* Named functions must all be traceable: a typo is an error, not a silent gap. */
	for (size_t i = 0; i < w->rules.nwatch; i++) {
		bool dup = false;

		for (size_t k = 0; k < w->a.nfunctions; k++)
			dup |= !strcmp(w->a.functions[k], w->rules.watch[i]);	/* itself repeated too */
		if (!dup)
			w->a.functions[w->a.nfunctions++] = w->rules.watch[i];
	}
	if (w->a.nfunctions && watch__add_group(w, w->a.functions, w->a.nfunctions, why, sizeof(why))) {
		watch_state__free(&st);
		lps_err("%s (named with --function or in the rules' watch:)", why);
		return -EINVAL;
	}
	/* Every function a previous run had a baseline for, as far as it still can be traced. */
	names = calloc(st.nfuncs + 1, sizeof(*names));
	if (!names) {
		watch_state__free(&st);
		return -ENOMEM;
	}
	for (size_t i = 0; i < st.nfuncs; i++)
		if (!watch__find_fn(w, st.funcs[i].function))
			names[n++] = st.funcs[i].function;
	ret = n ? add_group_tolerant(w, names, n) : 0;
	free(names);
	for (size_t i = 0; i < st.nfuncs; i++) {
		struct watch_fn *fn = watch__find_fn(w, st.funcs[i].function);

		if (!fn)
			continue;
		fn->saved = st.funcs[i].hist;
		fn->saved_s = st.funcs[i].seconds;
		fn->have_saved = true;
		fn->saved_mode = !strcmp(st.funcs[i].attach, "fentry") ? ATTACH_FENTRY :
				 !strcmp(st.funcs[i].attach, "kprobe") ? ATTACH_KPROBE : ATTACH_AUTO;
	}
	watch_state__free(&st);
	if (ret)
		lps_warn("the functions of the state file are not watched again");
	w->stats_fd = bpf_enable_stats(BPF_STATS_RUN_TIME);
	if (w->stats_fd < 0)
		lps_warn("BPF run-time statistics unavailable (%s); lpsentinel_bpf_run_seconds_total "
			 "stays 0", strerror(errno));
	w->ctl_fd = control__listen(w->a.state_dir);
	if (w->ctl_fd < 0)
		lps_warn("control socket %s/%s: %s; gate runs standalone", w->a.state_dir,
			 CONTROL_SOCKET, strerror(-w->ctl_fd));
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
		client_error(w, w->clients, "the daemon stopped%s", w->clients->loaded ?
			     "; the patch stays loaded and a restarted daemon judges it" :
			     " before loading the patch");
	if (w->ctl_fd >= 0) {
		close(w->ctl_fd);
		snprintf(path, sizeof(path), "%s/%s", w->a.state_dir, CONTROL_SOCKET);
		unlink(path);
	}
	metrics_http__stop(http);
	watch_judge__free_all(w);
	/* The signal probes use the first group's task stacks: they go first. */
	signals__destroy(w->sys.sig);
	free(w->sys.ring);
	free(w->sys.runq_ring);
	free(w->sys.ring_s);
	for (size_t i = 0; i < w->ngroups; i++)
		group_free(w->groups[i]);
	free(w->groups);
	for (size_t i = 0; i < w->nfns; i++) {
		free(w->fns[i].ring);
		free(w->fns[i].ring_s);
		free(w->fns[i].sring);
	}
	free(w->fns);
	free(w->patches);
	klp_watch__free(&w->kw);
	if (w->kmsg_fd >= 0)
		close(w->kmsg_fd);
	if (w->stats_fd >= 0)
		close(w->stats_fd);
	audit__close(&w->audit);
	rules__free(&w->rules);
	free(w->a.functions);
}

static int run_watch(struct watch *w, struct metrics_http **http)
{
	struct sigaction hup = { .sa_handler = on_hup };
	double last_save;
	int klp_warned = 0, ret = setup(w, http);

	if (ret)
		return CLI_EXIT_ERROR;
	stop__catch_signals();
	sigaction(SIGHUP, &hup, NULL);
	w->started = last_save = clock__now_s();
	fprintf(stderr, "lpsentinel watch: watching %zu function%s; state in %s%s%s\n", w->nfns,
		w->nfns == 1 ? "" : "s", w->a.state_dir, w->a.listen ? "; metrics on " : "",
		w->a.listen ? w->a.listen : "");
	syslog(LOG_NOTICE, "watch started: %zu functions, state in %s", w->nfns, w->a.state_dir);
	while (!stop__requested()) {
		double next = clock__now_s() + w->tick_s;

		if (reload_requested)
			reload_rules(w);
		if (read_groups(w)) {
			save_state(w);	/* keep the frozen baselines of what is being judged */
			return CLI_EXIT_ERROR;
		}
		ret = klp_watch__poll(&w->kw, on_klp_event, w);
		w->polled = true;
		/* No directory: no patch loaded yet on kernels that create it lazily. */
		if (ret && ret != -ENOENT && !klp_warned++)
			lps_warn("cannot read %s: %s", KLP_SYSFS_ROOT_DEFAULT, strerror(-ret));
		if (w->kmsg_fd >= 0 && !w->log_err) {
			w->log_err = kmsg__read(w->kmsg_fd, feed_log, w);
			if (w->log_err)
				lps_warn("cannot read the kernel log: %s; kernel_faults is not judged",
					 strerror(-w->log_err));
		}
		watch_judge__tick(w);
		if (w->ctl_fd >= 0) {
			accept_clients(w);
			serve_clients(w);
		}
		if (w->dirty || clock__now_s() - last_save >= SAVE_EVERY_S) {
			save_state(w);
			w->dirty = false;
			last_save = clock__now_s();
		}
		if (status_json(w))
			w->state_errors++;
		if (*http) {
			size_t len;
			char *page = metrics__render(w, &len);

			if (page)
				metrics_http__publish(*http, page, len);
		}
		while (!stop__requested() && !reload_requested && clock__now_s() < next)
			clock__nap(fmin(0.1, next - clock__now_s()));
	}
	/* A patch being judged stays as it is: it was not ours to load; a restart judges it. */
	if (w->judging)
		lps_warn("stopping while a patch is being judged; it stays loaded, and a restarted "
			 "daemon judges it again");
	save_state(w);
	syslog(LOG_NOTICE, "watch stopped");
	fprintf(stderr, "lpsentinel watch: stopped; probes detached\n");
	return CLI_EXIT_OK;
}

int do_watch(int argc, char **argv)
{
	struct watch w = { .kmsg_fd = -1, .stats_fd = -1, .ctl_fd = -1, .audit = { .fd = -1 } };
	struct metrics_http *http = NULL;
	int ret = parse_watch_args(argc, argv, &w.a);

	if (ret) {
		free(w.a.functions);
		return ret > 0 ? CLI_EXIT_OK : CLI_EXIT_USAGE;
	}
	if (cli__check_privileges()) {
		free(w.a.functions);
		return CLI_EXIT_ERROR;
	}
	ret = run_watch(&w, &http);
	teardown(&w, http);
	return ret;
}
