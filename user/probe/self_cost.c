// SPDX-License-Identifier: GPL-2.0
#include <errno.h>
#include <string.h>
#include <unistd.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include <json-c/json.h>
#include "trigger.skel.h"
#include "hist.h"
#include "self_cost.h"
#include "signals.h"

/* The near-empty function the floor is measured on, and how it is called. */
#define FLOOR_FUNC "bpf_fentry_test1"
/* Calls before the measured ones: a fentry probe's kprobe witness goes first. */
#define FLOOR_WARMUP 64

int self_cost__prog_stats(const struct bpf_program *prog, __u64 *run_ns, __u64 *runs)
{
	struct bpf_prog_info info = { 0 };
	__u32 len = sizeof(info);
	int fd = bpf_program__fd(prog);

	if (fd < 0)
		return 0;	/* not loaded: another attach method's */
	if (bpf_obj_get_info_by_fd(fd, &info, &len))
		return -errno;
	*run_ns += info.run_time_ns;
	*runs += info.run_cnt;
	return 0;
}

int self_cost__object_stats(const struct bpf_object *obj, __u64 *run_ns, __u64 *runs)
{
	struct bpf_program *prog;
	int ret;

	bpf_object__for_each_program(prog, obj) {
		ret = self_cost__prog_stats(prog, run_ns, runs);
		if (ret)
			return ret;
	}
	return 0;
}

void self_cost__start(struct self_cost *sc)
{
	memset(sc, 0, sizeof(*sc));
	/* The kernel counts run time only while some process holds this fd. */
	sc->stats_fd = bpf_enable_stats(BPF_STATS_RUN_TIME);
	if (sc->stats_fd < 0)
		sc->stats_fd = -errno;
}

void self_cost__stop(struct self_cost *sc)
{
	if (sc->stats_fd >= 0)
		close(sc->stats_fd);
	sc->stats_fd = -EBADF;
}

/* Has the kernel call FLOOR_FUNC n times (one BPF_PROG_TEST_RUN each). */
static int trigger(int prog_fd, unsigned n)
{
	for (unsigned k = 0; k < n; k++) {
		LIBBPF_OPTS(bpf_test_run_opts, opts);

		if (bpf_prog_test_run_opts(prog_fd, &opts))
			return -errno;
	}
	return 0;
}

static void measure_floor(struct probe_floor *fl, enum attach_mode mode, unsigned calls)
{
	const char *funcs[] = { FLOOR_FUNC };
	struct probe_set_opts popts = { .mode = mode, .klp_root = "/sys/kernel/livepatch" };
	struct lps_hist h0, h1, d;
	struct probe_err perr = { 0 };
	struct trigger_bpf *skel = NULL;
	struct probe_set *ps = NULL;
	int ret;

	skel = trigger_bpf__open_and_load();
	if (!skel) {
		snprintf(fl->why, sizeof(fl->why), "cannot load the test-run trigger: %s",
			 strerror(errno));
		return;
	}
	ret = probe_set__open(&ps, funcs, 1, &popts, &perr);
	if (!ret)
		ret = probe_set__attach(ps, &perr);
	if (ret) {
		snprintf(fl->why, sizeof(fl->why), "cannot trace %s: %s", FLOOR_FUNC, perr.what);
		goto cleanup;
	}
	/* Warm up, and let a fentry probe prove itself so its witness is gone. */
	ret = trigger(bpf_program__fd(skel->progs.lps_trigger), FLOOR_WARMUP);
	if (!ret)
		ret = probe_set__verify(ps, &perr);
	if (!ret)
		ret = probe_set__read(ps, &h0);
	if (!ret)
		ret = trigger(bpf_program__fd(skel->progs.lps_trigger), calls);
	if (!ret)
		ret = probe_set__read(ps, &h1);
	if (ret) {
		snprintf(fl->why, sizeof(fl->why), "cannot call %s: %s", FLOOR_FUNC,
			 perr.what[0] ? perr.what : strerror(-ret));
		goto cleanup;
	}
	hist_delta(&d, &h1, &h0);
	if (!hist_recorded(&d)) {
		snprintf(fl->why, sizeof(fl->why), "%s probes saw none of %u calls", FLOOR_FUNC, calls);
		goto cleanup;
	}
	fl->measured = true;
	fl->mean_ns = hist_mean(&d);
	fl->p50_ns = hist_percentile(&d, 0.5);
	fl->calls = hist_recorded(&d);
cleanup:
	probe_set__destroy(ps);
	trigger_bpf__destroy(skel);
}

void self_cost__measure_floors(struct self_cost *sc, const struct probe_set *ps, unsigned calls)
{
	for (size_t i = 0; i < probe_set__count(ps); i++) {
		enum attach_mode m = probe_set__info(ps, i)->mode;
		struct probe_floor *fl = &sc->floor[m - ATTACH_FENTRY];

		if (!fl->measured && !fl->why[0])
			measure_floor(fl, m, calls);
	}
}

const struct probe_floor *self_cost__floor(const struct self_cost *sc, enum attach_mode mode)
{
	const struct probe_floor *fl = &sc->floor[mode - ATTACH_FENTRY];

	return fl->measured ? fl : NULL;
}

void self_cost__add_function(struct json_object *f, const struct self_cost *sc,
			     const struct probe_set *ps, size_t i, const struct lps_hist *h)
{
	const struct probe_floor *fl = self_cost__floor(sc, probe_set__info(ps, i)->mode);
	struct json_object *o = json_object_new_object();
	__u64 ns = 0, runs = 0;

	if (sc->stats_fd >= 0 && !probe_set__func_run_stats(ps, i, &ns, &runs)) {
		json_object_object_add(o, "bpf_runs", json_object_new_uint64(runs));
		json_object_object_add(o, "bpf_run_ns", json_object_new_uint64(ns));
		json_object_object_add(o, "bpf_ns_per_call", h->calls ?
				       json_object_new_double((double)ns / (double)h->calls) : NULL);
	}
	if (fl) {
		double net = hist_mean(h) - fl->mean_ns;

		json_object_object_add(o, "floor_ns", json_object_new_double(fl->mean_ns));
		/* The mean is linear: less the floor, it is honest. Percentiles are not. */
		json_object_object_add(o, "mean_net_ns", hist_recorded(h) ?
				       json_object_new_double(net > 0 ? net : 0) : NULL);
	}
	json_object_object_add(f, "self_cost", o);
}

static struct json_object *floor_json(const struct probe_floor *fl)
{
	struct json_object *o = json_object_new_object();

	json_object_object_add(o, "function", json_object_new_string(FLOOR_FUNC));
	if (!fl->measured) {
		json_object_object_add(o, "error", json_object_new_string(fl->why));
		return o;
	}
	json_object_object_add(o, "mean_ns", json_object_new_double(fl->mean_ns));
	json_object_object_add(o, "p50_ns", json_object_new_double(fl->p50_ns));
	json_object_object_add(o, "calls", json_object_new_uint64(fl->calls));
	return o;
}

struct json_object *self_cost__json(const struct self_cost *sc, const struct probe_set *ps,
				    const struct signals *sig, const struct lps_hist *h)
{
	struct json_object *o = json_object_new_object(), *floors = json_object_new_object();
	__u64 ns = 0, runs = 0, calls = 0;

	json_object_object_add(o, "bpf_stats", json_object_new_boolean(sc->stats_fd >= 0));
	if (sc->stats_fd < 0)
		json_object_object_add(o, "bpf_stats_error",
				       json_object_new_string(strerror(-sc->stats_fd)));
	for (size_t i = 0; i < probe_set__count(ps); i++)
		calls += h[i].calls;
	if (sc->stats_fd >= 0 && !probe_set__run_stats(ps, &ns, &runs)) {
		json_object_object_add(o, "probe_runs", json_object_new_uint64(runs));
		json_object_object_add(o, "probe_run_ns", json_object_new_uint64(ns));
		json_object_object_add(o, "probe_ns_per_call", calls ?
				       json_object_new_double((double)ns / (double)calls) : NULL);
	}
	if (sig && sc->stats_fd >= 0 && !signals__run_stats(sig, &ns, &runs)) {
		json_object_object_add(o, "signal_runs", json_object_new_uint64(runs));
		json_object_object_add(o, "signal_run_ns", json_object_new_uint64(ns));
	}
	for (int m = 0; m < SELF_COST_MODES; m++)
		if (sc->floor[m].measured || sc->floor[m].why[0])
			json_object_object_add(floors, attach_mode__name(ATTACH_FENTRY + m),
					       floor_json(&sc->floor[m]));
	json_object_object_add(o, "probe_floor", floors);
	return o;
}

void self_cost__text(FILE *f, const struct self_cost *sc, const struct probe_set *ps,
		     const struct signals *sig, const struct lps_hist *h)
{
	__u64 ns = 0, runs = 0, calls = 0;
	char a[32], b[32];

	for (size_t i = 0; i < probe_set__count(ps); i++)
		calls += h[i].calls;
	if (sc->stats_fd < 0)
		fprintf(f, "own cost: BPF statistics refused by the kernel (%s)\n",
			strerror(-sc->stats_fd));
	else if (!probe_set__run_stats(ps, &ns, &runs) && calls) {
		fmt_ns(a, sizeof(a), (double)ns / (double)calls);
		fprintf(f, "own cost: probes ran %llu times, %s of BPF per traced call",
			(unsigned long long)runs, a);
		if (sig && !signals__run_stats(sig, &ns, &runs))
			fprintf(f, "; signal probes %llu runs, %.1fms in all", (unsigned long long)runs,
				(double)ns / 1e6);
		fputc('\n', f);
	}
	for (int m = 0; m < SELF_COST_MODES; m++) {
		const struct probe_floor *fl = &sc->floor[m];

		if (fl->measured) {
			fmt_ns(a, sizeof(a), fl->mean_ns);
			fmt_ns(b, sizeof(b), fl->p50_ns);
			fprintf(f, "probe floor (%s): %s mean, %s p50 inside every traced call "
				"(measured on %s); included in the latencies above\n",
				attach_mode__name(ATTACH_FENTRY + m), a, b, FLOOR_FUNC);
		} else if (fl->why[0]) {
			fprintf(f, "probe floor (%s): not measured: %s\n",
				attach_mode__name(ATTACH_FENTRY + m), fl->why);
		}
	}
}
