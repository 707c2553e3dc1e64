// SPDX-License-Identifier: GPL-2.0
/*
 * The daemon's metrics in the Prometheus text exposition format: lpsentinel_
 * prefix, base units (seconds), _total counters, histograms with cumulative
 * le buckets. Latency buckets are the histogram's power-of-two edges, so the
 * exported counts are exact sums of the probes' log-linear buckets.
 */
#define _GNU_SOURCE
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <unistd.h>
#include "hist.h"
#include "watch.h"

#define LE_MIN_EXP 8	/* 256 ns */
#define LE_MAX_EXP 34	/* 17 s */

/* A label value with \, " and newline escaped as the format wants. */
static void label(FILE *f, const char *s)
{
	for (; *s; s++) {
		if (*s == '\\' || *s == '"')
			fputc('\\', f);
		if (*s == '\n') {
			fputs("\\n", f);
			continue;
		}
		fputc(*s, f);
	}
}

static void family(FILE *f, const char *name, const char *type, const char *help)
{
	fprintf(f, "# HELP %s %s\n# TYPE %s %s\n", name, help, name, type);
}

/* {function="fn"}, or nothing for fn NULL. */
static void fn_labels(FILE *f, const char *fn)
{
	if (!fn)
		return;
	fprintf(f, "{function=\"");
	label(f, fn);
	fprintf(f, "\"}");
}

static void fn_sample(FILE *f, const char *metric, const char *fn, unsigned long long v)
{
	fputs(metric, f);
	fn_labels(f, fn);
	fprintf(f, " %llu\n", v);
}

/* A value in seconds, from ns. */
static void fn_seconds(FILE *f, const char *metric, const char *fn, double ns)
{
	fputs(metric, f);
	fn_labels(f, fn);
	fprintf(f, " %.9f\n", ns / 1e9);
}

/* name{function="fn",le=...} or, with fn NULL, name{le=...}: one histogram's samples. */
static void histogram(FILE *f, const char *name, const char *fn, const struct lps_hist *h)
{
	__u64 acc = 0;
	__u32 b = 0;

	for (int e = LE_MIN_EXP; e <= LE_MAX_EXP + 1; e++) {
		__u64 edge = 1ull << e;

		for (; b < HIST_BUCKETS && hist_bucket_upper(b) <= edge; b++)
			acc += h->buckets[b];
		fprintf(f, "%s_bucket{", name);
		if (fn) {
			fprintf(f, "function=\"");
			label(f, fn);
			fprintf(f, "\",");
		}
		if (e > LE_MAX_EXP)
			fprintf(f, "le=\"+Inf\"} %llu\n", (unsigned long long)hist_recorded(h));
		else
			fprintf(f, "le=\"%.9g\"} %llu\n", (double)edge / 1e9, (unsigned long long)acc);
	}
	fprintf(f, "%s_sum", name);
	fn_labels(f, fn);
	fprintf(f, " %.9f\n%s_count", (double)h->sum_ns / 1e9, name);
	fn_labels(f, fn);
	fprintf(f, " %llu\n", (unsigned long long)hist_recorded(h));
}

/* The families read straight from each watched function's counters. */
enum fn_value { FN_COUNT, FN_NS_AS_SECONDS, FN_HISTOGRAM };
#define WF(field) offsetof(struct watch_fn, field)
static const struct fn_family {
	const char *name, *type, *help;
	enum fn_value kind;
	size_t off;	/* in struct watch_fn: a __u64, or the struct lps_hist of FN_HISTOGRAM */
	bool sig;	/* from the signal probes: functions without them have no sample */
} fn_families[] = {
	{ "lpsentinel_function_calls_total", "counter",
	  "Calls of a watched function counted by its probes since they were attached.",
	  FN_COUNT, WF(cum.calls) },
	{ "lpsentinel_function_errors_total", "counter",
	  "Calls of a watched function that returned an error.", FN_COUNT, WF(cum.errors) },
	{ "lpsentinel_function_latency_seconds", "histogram",
	  "Latency of a watched function, entry to return.", FN_HISTOGRAM, WF(cum) },
	{ "lpsentinel_function_lock_contentions_total", "counter",
	  "Lock contentions begun while a task was inside the function (functions with signal probes).",
	  FN_COUNT, WF(scum.contended), true },
	{ "lpsentinel_function_lock_wait_seconds_total", "counter",
	  "Time spent waiting in those contentions.", FN_NS_AS_SECONDS, WF(scum.contention_ns), true },
	{ "lpsentinel_function_page_faults_total", "counter",
	  "Kernel-mode page faults taken inside the function.", FN_COUNT, WF(scum.page_faults), true },
};

static void fn_family_samples(FILE *f, const struct watch *w, const struct fn_family *ff)
{
	family(f, ff->name, ff->type, ff->help);
	for (size_t i = 0; i < w->nfns; i++) {
		const struct watch_fn *fn = &w->fns[i];
		const void *v = (const char *)fn + ff->off;

		if (ff->sig && !fn->has_sig)
			continue;
		if (ff->kind == FN_HISTOGRAM)
			histogram(f, ff->name, fn->name, v);
		else if (ff->kind == FN_NS_AS_SECONDS)
			fn_seconds(f, ff->name, fn->name, (double)*(const __u64 *)v);
		else
			fn_sample(f, ff->name, fn->name, *(const __u64 *)v);
	}
}

static void functions(FILE *f, const struct watch *w)
{
	for (size_t k = 0; k < sizeof(fn_families) / sizeof(fn_families[0]); k++)
		fn_family_samples(f, w, &fn_families[k]);
	family(f, "lpsentinel_function_baseline_calls", "gauge",
	       "Calls in the function's current baseline window (frozen while a patch is judged).");
	for (size_t i = 0; i < w->nfns; i++) {
		struct lps_hist b;
		double s;

		fn_sample(f, "lpsentinel_function_baseline_calls", w->fns[i].name,
			  watch__baseline(w, &w->fns[i], &b, &s) ? b.calls : 0);
	}
	family(f, "lpsentinel_function_baseline_latency_seconds", "summary",
	       "Latency of the function's baseline window (quantiles, sum, count), to compare with the live histogram.");
	for (size_t i = 0; i < w->nfns; i++) {
		static const double qs[] = { 0.5, 0.9, 0.99 };
		struct lps_hist b;
		double s;

		if (!watch__baseline(w, &w->fns[i], &b, &s))
			continue;
		for (size_t k = 0; k < sizeof(qs) / sizeof(qs[0]); k++) {
			fprintf(f, "lpsentinel_function_baseline_latency_seconds{function=\"");
			label(f, w->fns[i].name);
			fprintf(f, "\",quantile=\"%g\"} %.9f\n", qs[k], hist_percentile(&b, qs[k]) / 1e9);
		}
		fn_seconds(f, "lpsentinel_function_baseline_latency_seconds_sum", w->fns[i].name,
			   (double)b.sum_ns);
		fn_sample(f, "lpsentinel_function_baseline_latency_seconds_count", w->fns[i].name,
			  hist_recorded(&b));
	}
	/* Each family's samples together, as the text format wants: two passes. */
	for (int pass = 0; pass < 2; pass++) {
		if (pass == 0)
			family(f, "lpsentinel_function_probe_runs_total", "counter",
			       "Runs of the daemon's BPF programs on the function (with lpsentinel_function_calls_total: runs per call).");
		else
			family(f, "lpsentinel_function_probe_run_seconds_total", "counter",
			       "Time the kernel spent in those programs: the daemon's own cost on the function (counted while BPF stats are on).");
		for (size_t i = 0; i < w->nfns; i++) {
			__u64 ns, runs;

			if (!w->fns[i].grp ||
			    probe_set__func_run_stats(w->fns[i].grp->ps, w->fns[i].idx, &ns, &runs))
				continue;
			if (pass == 0) {
				fn_sample(f, "lpsentinel_function_probe_runs_total", w->fns[i].name, runs);
				continue;
			}
			fn_seconds(f, "lpsentinel_function_probe_run_seconds_total", w->fns[i].name,
				   (double)ns);
		}
	}
	family(f, "lpsentinel_function_traced", "gauge",
	       "1 while the function's probes are attached; 0 while it waits for its module to load.");
	for (size_t i = 0; i < w->nfns; i++)
		fn_sample(f, "lpsentinel_function_traced", w->fns[i].name,
			  w->fns[i].state == FN_TRACED);
	family(f, "lpsentinel_function_judging", "gauge",
	       "1 while a patch replacing the function is being judged.");
	for (size_t i = 0; i < w->nfns; i++)
		fn_sample(f, "lpsentinel_function_judging", w->fns[i].name, w->fns[i].judging > 0);
}

/* metric{patch="p",key="value"} 1 or 0: one sample of a per-patch one-hot gauge. */
static void patch_sample(FILE *f, const char *metric, const struct watch_patch *p,
			 const char *key, const char *value, bool on)
{
	fprintf(f, "%s{patch=\"", metric);
	label(f, p->name);
	fprintf(f, "\",%s=\"%s\"} %d\n", key, value, on);
}

static void patches(FILE *f, const struct watch *w)
{
	family(f, "lpsentinel_patch_state", "gauge",
	       "1 for the state the daemon last saw each livepatch in.");
	for (size_t i = 0; i < w->npatches; i++)
		for (int s = 0; s < PATCH_STATE_NR; s++)
			patch_sample(f, "lpsentinel_patch_state", &w->patches[i], "state",
				     patch_state__name(s), w->patches[i].state == (enum patch_state)s);
	family(f, "lpsentinel_patch_verdict", "gauge",
	       "1 for the verdict of each judged livepatch.");
	for (size_t i = 0; i < w->npatches; i++)
		for (int v = VERDICT_PASS; w->patches[i].judged && v <= VERDICT_FAIL; v++)
			patch_sample(f, "lpsentinel_patch_verdict", &w->patches[i], "verdict",
				     verdict__name(v), w->patches[i].verdict == (enum verdict)v);
	family(f, "lpsentinel_patch_state_timestamp_seconds", "gauge",
	       "When the daemon last changed its view of each livepatch.");
	for (size_t i = 0; i < w->npatches; i++) {
		fprintf(f, "lpsentinel_patch_state_timestamp_seconds{patch=\"");
		label(f, w->patches[i].name);
		fprintf(f, "\"} %.3f\n", w->patches[i].at);
	}
	family(f, "lpsentinel_verdicts_total", "counter", "Livepatch verdicts given, by verdict.");
	for (int v = VERDICT_PASS; v <= VERDICT_FAIL; v++)
		fprintf(f, "lpsentinel_verdicts_total{verdict=\"%s\"} %llu\n", verdict__name(v),
			(unsigned long long)w->verdicts[v]);
	family(f, "lpsentinel_reverts_total", "counter", "Livepatches reverted by the daemon.");
	fprintf(f, "lpsentinel_reverts_total %llu\n", (unsigned long long)w->reverts);
	family(f, "lpsentinel_revert_failures_total", "counter",
	       "Reverts that did not complete (see the audit trail).");
	fprintf(f, "lpsentinel_revert_failures_total %llu\n", (unsigned long long)w->revert_failures);
	family(f, "lpsentinel_probe_failures_total", "counter",
	       "Functions of an appearing livepatch that could not be probed (see the audit trail), "
	       "and functions whose budgeted probes could not attach again.");
	fprintf(f, "lpsentinel_probe_failures_total %llu\n", (unsigned long long)w->probe_failures);
}

static void system_signals(FILE *f, const struct watch *w)
{
	family(f, "lpsentinel_signals_enabled", "gauge",
	       "1 when the lock contention, page fault and run queue probes are attached.");
	fprintf(f, "lpsentinel_signals_enabled %d\n", w->sys.sig != NULL);
	if (!w->sys.sig)
		return;
	family(f, "lpsentinel_lock_contentions_total", "counter",
	       "Lock contentions system-wide (contention_begin tracepoint).");
	fprintf(f, "lpsentinel_lock_contentions_total %llu\n", (unsigned long long)w->sys.cum.contended);
	family(f, "lpsentinel_lock_wait_seconds_total", "counter",
	       "Time spent waiting in lock contentions, system-wide.");
	fprintf(f, "lpsentinel_lock_wait_seconds_total %.9f\n", (double)w->sys.cum.contention_ns / 1e9);
	family(f, "lpsentinel_runqueue_latency_seconds", "histogram",
	       "Time from wakeup to running, system-wide.");
	histogram(f, "lpsentinel_runqueue_latency_seconds", NULL, &w->sys.runq_cum);
	family(f, "lpsentinel_signal_drops_total", "counter",
	       "Signal events the probes could not record (full maps, no stack).");
	fprintf(f, "lpsentinel_signal_drops_total %llu\n", (unsigned long long)w->sys.drops);
}

static void self(FILE *f, const struct watch *w)
{
	__u64 run_ns = 0, runs = 0;
	struct rusage ru;
	long rss = 0;
	FILE *st;

	for (size_t g = 0; g < w->ngroups; g++) {
		__u64 ns, n;

		if (!probe_set__run_stats(w->groups[g]->ps, &ns, &n)) {
			run_ns += ns;
			runs += n;
		}
	}
	if (w->sys.sig) {
		__u64 ns, n;

		if (!signals__run_stats(w->sys.sig, &ns, &n)) {
			run_ns += ns;
			runs += n;
		}
	}
	family(f, "lpsentinel_bpf_run_seconds_total", "counter",
	       "Time the kernel spent in the daemon's BPF programs (counted while BPF stats are on).");
	fprintf(f, "lpsentinel_bpf_run_seconds_total %.9f\n", (double)run_ns / 1e9);
	family(f, "lpsentinel_bpf_runs_total", "counter", "Runs of the daemon's BPF programs.");
	fprintf(f, "lpsentinel_bpf_runs_total %llu\n", (unsigned long long)runs);
	family(f, "lpsentinel_bpf_stats_enabled", "gauge",
	       "1 when the kernel counts BPF run time for the daemon (bpf_enable_stats held).");
	fprintf(f, "lpsentinel_bpf_stats_enabled %d\n", w->sc.stats_fd >= 0);
	getrusage(RUSAGE_SELF, &ru);
	family(f, "lpsentinel_cpu_seconds_total", "counter", "CPU time of the daemon, user and system.");
	fprintf(f, "lpsentinel_cpu_seconds_total{mode=\"user\"} %.6f\n",
		(double)ru.ru_utime.tv_sec + (double)ru.ru_utime.tv_usec / 1e6);
	fprintf(f, "lpsentinel_cpu_seconds_total{mode=\"system\"} %.6f\n",
		(double)ru.ru_stime.tv_sec + (double)ru.ru_stime.tv_usec / 1e6);
	st = fopen("/proc/self/statm", "r");
	if (st && fscanf(st, "%*s %ld", &rss) != 1)
		rss = 0;
	if (st)
		fclose(st);
	family(f, "lpsentinel_resident_memory_bytes", "gauge", "Resident memory of the daemon.");
	fprintf(f, "lpsentinel_resident_memory_bytes %ld\n", rss * sysconf(_SC_PAGESIZE));
	family(f, "lpsentinel_watched_functions", "gauge", "Functions the daemon has probes on.");
	fprintf(f, "lpsentinel_watched_functions %zu\n", w->nfns);
	family(f, "lpsentinel_state_saves_total", "counter", "State file writes that succeeded.");
	fprintf(f, "lpsentinel_state_saves_total %llu\n", (unsigned long long)w->state_saves);
	family(f, "lpsentinel_state_errors_total", "counter", "State file writes that failed.");
	fprintf(f, "lpsentinel_state_errors_total %llu\n", (unsigned long long)w->state_errors);
	/* What clients and slow steps cost the loop: a tick is due every tick_s. */
	family(f, "lpsentinel_loop_tick_seconds", "gauge",
	       "Time between the starts of consecutive ticks of the daemon's loop: the last, "
	       "the largest since start, and the interval they are due at.");
	fprintf(f, "lpsentinel_loop_tick_seconds{stat=\"last\"} %.6f\n", w->tick_last);
	fprintf(f, "lpsentinel_loop_tick_seconds{stat=\"max\"} %.6f\n", w->tick_max);
	fprintf(f, "lpsentinel_loop_tick_seconds{stat=\"interval\"} %.6f\n", w->tick_s);
	family(f, "lpsentinel_loop_late_ticks_total", "counter",
	       "Ticks that began over twice the interval after the previous one.");
	fprintf(f, "lpsentinel_loop_late_ticks_total %llu\n", (unsigned long long)w->ticks_late);
	family(f, "lpsentinel_control_connections_total", "counter",
	       "Connections to the control socket, by what became of them: accepted for a "
	       "request; refused as busy (no slot); timed out (request or reply not whole in "
	       "time); refused (not root, or a malformed request).");
	fprintf(f, "lpsentinel_control_connections_total{result=\"accepted\"} %llu\n",
		w->ctl.st.accepted);
	fprintf(f, "lpsentinel_control_connections_total{result=\"busy\"} %llu\n", w->ctl.st.busy);
	fprintf(f, "lpsentinel_control_connections_total{result=\"timed_out\"} %llu\n",
		w->ctl.st.timed_out);
	fprintf(f, "lpsentinel_control_connections_total{result=\"refused\"} %llu\n",
		w->ctl.st.refused);
	family(f, "lpsentinel_audit_write_errors_total", "counter",
	       "Audit trail writes that failed (the line is kept and written again).");
	fprintf(f, "lpsentinel_audit_write_errors_total %llu\n", (unsigned long long)w->audit.failed);
	family(f, "lpsentinel_audit_lines_lost_total", "counter",
	       "Audit lines that could not be kept for a later write (syslog has them).");
	fprintf(f, "lpsentinel_audit_lines_lost_total %llu\n", (unsigned long long)w->audit.dropped);
}

char *metrics__render(const struct watch *w, size_t *len)
{
	char *buf = NULL;
	FILE *f = open_memstream(&buf, len);

	if (!f)
		return NULL;
	functions(f, w);
	system_signals(f, w);
	patches(f, w);
	self(f, w);
	if (fclose(f)) {
		free(buf);
		return NULL;
	}
	return buf;
}
