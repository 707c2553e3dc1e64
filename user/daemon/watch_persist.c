// SPDX-License-Identifier: GPL-2.0
/*
 * What the daemon keeps across restarts (the state file: baselines and
 * verdicts, watch_state.c) and what it shows while it runs (status.json,
 * read by `lpsentinel status --state DIR`).
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <syslog.h>
#include <unistd.h>
#include <json-c/json.h>
#include "hist.h"
#include "log.h"
#include "clock.h"
#include "daemon_status.h"
#include "watch.h"

static void boot_id(char *buf, size_t len)
{
	FILE *f = fopen("/proc/sys/kernel/random/boot_id", "r");

	if (!f || !fgets(buf, (int)len, f))
		buf[0] = 0;
	if (f)
		fclose(f);
	buf[strcspn(buf, "\n")] = 0;
}

/*
 * Every failed write is counted (lpsentinel_state_errors_total); a run of
 * failures (a full disk) is said once when it starts, in the log and the
 * audit trail, and once when it ends. The file that was there stays whole.
 */
static void wrote(struct watch *w, const char *file, int *err, int ret)
{
	if (!ret) {
		if (*err)
			fprintf(stderr, "lpsentinel watch: state: %s written again\n", file);
		*err = 0;
		return;
	}
	w->state_errors++;
	if (!*err) {
		struct json_object *rec = json_object_new_object();

		lps_warn("state: cannot write %s/%s: %s; the previous one stays, tried again",
			 w->a.state_dir, file, strerror(-ret));
		json_object_object_add(rec, "event", json_object_new_string("state_write_failed"));
		json_object_object_add(rec, "file", json_object_new_string(file));
		json_object_object_add(rec, "error", json_object_new_string(strerror(-ret)));
		json_object_object_add(rec, "at", json_object_new_double(clock__unix_s()));
		audit__record(&w->audit, rec, LOG_ERR, "state write failed:");
		json_object_put(rec);
	}
	*err = ret;
}

int watch_persist__save(struct watch *w)
{
	struct watch_state st = { 0 };
	size_t np = 0;
	int ret;

	snprintf(st.kernel, sizeof(st.kernel), "%s", w->kernel);
	boot_id(st.boot_id, sizeof(st.boot_id));
	st.funcs = calloc(w->nfns + w->nkept + 1, sizeof(*st.funcs));
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
	/* Not traced now, not forgotten either. */
	for (size_t i = 0; i < w->nkept; i++)
		st.funcs[st.nfuncs++] = w->kept[i];
	for (size_t i = 0; i < w->npatches; i++) {
		const struct watch_patch *p = &w->patches[i];
		/* Left half-judged by a previous run and not taken up again yet: still to judge. */
		bool judging = patch_state__judging(p->state) || p->state == PATCH_JUDGING;

		if (!p->judged && !judging)
			continue;	/* seen only: nothing a restart needs */
		snprintf(st.patches[np].patch, sizeof(st.patches[np].patch), "%s", p->name);
		st.patches[np].verdict = p->verdict;
		/* One being judged is judged again by the next run; the rest are remembered. */
		snprintf(st.patches[np].state, sizeof(st.patches[np].state), "%s",
			 patch_state__name(judging ? PATCH_JUDGING : p->state));
		st.patches[np].judged_at = (__s64)p->at;
		np++;
	}
	st.npatches = np;
	ret = watch_state__save(w->state_fd, &st);
cleanup:
	wrote(w, WATCH_STATE_FILE, &w->state_err, ret);
	if (!ret)
		w->state_saves++;
	free(st.funcs);
	free(st.patches);
	return ret;
}

/*
 * What a previous run left: baselines taken on this kernel, and verdicts
 * given in this boot. A damaged file is set aside, said, and never trusted.
 */
static void load(struct watch *w, struct watch_state *st)
{
	char why[160] = "", boot[40], bad[64];
	int ret = watch_state__load(w->state_fd, st, why, sizeof(why));
	const char *dir = w->a.state_dir;

	if (ret == -ENOENT)
		return;
	if (ret == -EBADMSG) {
		/* renameat: a link is moved itself, never followed. */
		snprintf(bad, sizeof(bad), "%s.bad", WATCH_STATE_FILE);
		lps_warn("state: %s/%s: %s; ignored (kept as %s)", dir, WATCH_STATE_FILE, why, bad);
		renameat(w->state_fd, WATCH_STATE_FILE, w->state_fd, bad);
		memset(st, 0, sizeof(*st));
		return;
	}
	if (ret) {	/* unreadable now, maybe sound: left as it is, not trusted either */
		lps_warn("state: %s/%s: %s; ignored", dir, WATCH_STATE_FILE, strerror(-ret));
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
}

void watch_persist__adopt(struct watch *w, struct watch_fn *fn)
{
	for (size_t i = 0; i < w->nkept; i++) {
		const struct state_baseline *b = &w->kept[i];

		if (strcmp(b->function, fn->name))
			continue;
		fn->saved = b->hist;
		fn->saved_s = b->seconds;
		fn->have_saved = true;
		fn->saved_mode = !strcmp(b->attach, "fentry") ? ATTACH_FENTRY :
				 !strcmp(b->attach, "kprobe") ? ATTACH_KPROBE : ATTACH_AUTO;
		w->kept[i] = w->kept[--w->nkept];
		return;
	}
}

void watch_persist__restore(struct watch *w)
{
	struct watch_state st = { 0 };
	char (*copy)[WATCH_NAME_MAX];
	const char **names;
	size_t n = 0, nfuncs, npatches;
	int ret;

	load(w, &st);
	if (!st.nfuncs && !st.npatches)
		return;
	for (size_t i = 0; i < st.npatches; i++) {
		struct watch_patch *rec = watch__patch(w, st.patches[i].patch);

		if (!rec)
			continue;
		rec->verdict = st.patches[i].verdict <= VERDICT_FAIL ? st.patches[i].verdict :
			       VERDICT_INCONCLUSIVE;
		rec->state = patch_state__parse(st.patches[i].state);
		/* Only these are written: anything else is what a newer or damaged file says. */
		if (rec->state != PATCH_KEPT && rec->state != PATCH_REVERTED &&
		    rec->state != PATCH_FAILED && rec->state != PATCH_JUDGING)
			rec->state = PATCH_GONE;
		rec->judged = rec->state != PATCH_JUDGING;
		rec->at = (double)st.patches[i].judged_at;
	}
	/*
	 * Every baseline is kept until its function is traced (adopt): those of
	 * functions watched already, then those traced again here; what is left
	 * the kernel does not have now, and stays in the state file.
	 */
	w->kept = st.funcs;
	w->nkept = nfuncs = st.nfuncs;
	st.funcs = NULL;
	for (size_t i = 0; i < w->nfns; i++)
		watch_persist__adopt(w, &w->fns[i]);
	/* Copies of the names: taking a baseline up reorders kept. */
	names = calloc(w->nkept + 1, sizeof(*names));
	copy = calloc(w->nkept + 1, sizeof(*copy));
	for (size_t i = 0; names && copy && i < w->nkept; i++)
		names[n++] = memcpy(copy[i], w->kept[i].function, sizeof(copy[i]));
	ret = !names || !copy ? -ENOMEM : n ? watch__add_group_tolerant(w, names, NULL, NULL, n) : 0;
	free(names);
	free(copy);
	npatches = st.npatches;
	watch_state__free(&st);
	if (ret == -ENOMEM)
		lps_warn("state: out of memory; the functions of the state file are not watched again");
	fprintf(stderr, "lpsentinel watch: state: %zu baselines (%zu of functions not traced now, "
		"kept), %zu verdicts from %s/%s\n", nfuncs, w->nkept, npatches, w->a.state_dir,
		WATCH_STATE_FILE);
}

int watch_persist__status(struct watch *w)
{
	struct json_object *doc = json_object_new_object(), *fns = json_object_new_array(),
			   *pv = json_object_new_array();
	const char *js;
	int ret;

	json_object_object_add(doc, "pid", json_object_new_int(getpid()));
	json_object_object_add(doc, "kernel", json_object_new_string(w->kernel));
	json_object_object_add(doc, "uptime_s", json_object_new_double(clock__now_s() - w->started));
	json_object_object_add(doc, "listen", w->a.listen ? json_object_new_string(w->a.listen) : NULL);
	/* What lock_contention cannot see on this host (daemon_status__text shows it). */
	if (w->sys.sig && signals__lock_coverage(w->sys.sig))
		json_object_object_add(doc, "lock_coverage",
				       json_object_new_string(signals__lock_coverage(w->sys.sig)));
	json_object_object_add(doc, "control_error", w->control_error[0] ?
			       json_object_new_string(w->control_error) : NULL);
	for (size_t i = 0; i < w->nfns; i++) {
		const struct watch_fn *fn = &w->fns[i];
		const struct budget_set *bs;
		struct json_object *f = json_object_new_object();
		struct lps_hist b;
		double s;
		bool have = watch__baseline(w, fn, &b, &s);

		json_object_object_add(f, "function", json_object_new_string(fn->name));
		json_object_object_add(f, "object", json_object_new_string(fn->module[0] ? fn->module :
										   "vmlinux"));
		/* waiting: its module is not loaded; since: when it was traced or released */
		json_object_object_add(f, "state", json_object_new_string(watch_fn__state_name(fn)));
		json_object_object_add(f, "since", json_object_new_double(fn->since));
		json_object_object_add(f, "attach", json_object_new_string(
			fn->grp ? attach_mode__name(watch__fn_mode(fn)) : "none"));
		/* As gate says it: the probes sit on another name of its code (targets.h). */
		if (watch__fn_traced_as(fn))
			json_object_object_add(f, "traced_as",
					       json_object_new_string(watch__fn_traced_as(fn)));
		json_object_object_add(f, "calls", json_object_new_uint64(fn->cum.calls));
		json_object_object_add(f, "errors", json_object_new_uint64(fn->cum.errors));
		json_object_object_add(f, "baseline_calls", json_object_new_uint64(have ? b.calls : 0));
		json_object_object_add(f, "baseline_p50_ns",
				       json_object_new_double(have ? hist_percentile(&b, 0.5) : 0));
		json_object_object_add(f, "judging", json_object_new_boolean(fn->judging));
		/* Under a budget: calls counts the windows' calls; this says their share of the time. */
		bs = watch__fn_budget_set(fn);
		if (bs) {
			json_object_object_add(f, "cpu_budget_pct", json_object_new_double(fn->cpu_budget));
			json_object_object_add(f, "sampled", json_object_new_double(budget__sampled(
				budget_set__get(bs, fn->idx), clock__now_s())));
		}
		json_object_array_add(fns, f);
	}
	for (size_t i = 0; i < w->npatches; i++) {
		const struct watch_patch *p = &w->patches[i];
		struct json_object *o = json_object_new_object();

		json_object_object_add(o, "patch", json_object_new_string(p->name));
		json_object_object_add(o, "state", json_object_new_string(patch_state__name(p->state)));
		json_object_object_add(o, "verdict", p->judged ?
				       json_object_new_string(verdict__name(p->verdict)) : NULL);
		json_object_object_add(o, "at", json_object_new_double(p->at));
		json_object_array_add(pv, o);
	}
	json_object_object_add(doc, "functions", fns);
	json_object_object_add(doc, "patches", pv);
	js = json_object_to_json_string_ext(doc, JSON_C_TO_STRING_PLAIN | JSON_C_TO_STRING_NOSLASHESCAPE);
	ret = watch_state__write_atomic(w->state_fd, WATCH_STATUS_FILE, js, strlen(js));
	json_object_put(doc);
	wrote(w, WATCH_STATUS_FILE, &w->status_err, ret);
	return ret;
}
