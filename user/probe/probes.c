// SPDX-License-Identifier: GPL-2.0
#include <errno.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include "trace.skel.h"
#include "fsession.skel.h"
#include "session.skel.h"
#include "func_btf.h"
#include "hist.h"
#include "klp_sysfs.h"
#include "log.h"
#include "kretprobe.h"
#include "ksyms.h"
#include "probes.h"
#include "clock.h"
#include "self_cost.h"

#include "probes_int.h"

const char *attach_mode__name(enum attach_mode mode)
{
	switch (mode) {
	case ATTACH_FENTRY: return "fentry";
	case ATTACH_KPROBE: return "kprobe";
	case ATTACH_KPROBE_SESSION: return "kprobe_session";
	case ATTACH_FSESSION: return "fsession";
	default: return "auto";
	}
}

void probes__set_err(struct probe_err *err, const char *func, const char *fmt, ...)
{
	va_list ap;

	snprintf(err->func, sizeof(err->func), "%s", func ? func : "");
	va_start(ap, fmt);
	vsnprintf(err->what, sizeof(err->what), fmt, ap);
	va_end(ap);
}

/*
 * Return probe with room for deep recursion and many sleepers (kretprobe.h);
 * where tracefs cannot be written, the kernel's default through perf.
 */
static struct bpf_link *attach_kretprobe(struct bpf_program *prog, const char *func, char *event)
{
	struct bpf_link *link;

	link = kretprobe__attach(prog, func, kretprobe__default_maxactive(), event);
	if (link || event[0] || (errno != ENOENT && errno != EACCES && errno != EROFS))
		return link;
	return bpf_program__attach_kprobe(prog, true, func);
}

/*
 * Probes at an address (the perf kprobe PMU takes one where a name would be
 * ambiguous); the kernel's default room for return probes.
 */
static struct bpf_link *attach_kprobe_at(struct bpf_program *prog, bool ret, __u64 addr)
{
	LIBBPF_OPTS(bpf_kprobe_opts, o, .retprobe = ret, .offset = (size_t)addr);

	return bpf_program__attach_kprobe_opts(prog, NULL, &o);
}

/* Destroys a probe's BPF instance, then the tracefs event it no longer uses. */
static void probe_detach(struct probe *p)
{
	/* What its programs' counters held goes on in the next instance's. */
	probes__read_skipped(p, NULL);
	p->skipped_entries_before = p->info.skipped_entries;
	p->skipped_returns_before = p->info.skipped_returns;
	bpf_link__destroy(p->witness);
	p->witness = NULL;
	trace_bpf__destroy(p->skel);
	p->skel = NULL;
	kretprobe__remove(p->kretprobe_event);
	probes__unload_session(p);
}

int probe_set__func_run_stats(const struct probe_set *ps, size_t i, __u64 *run_ns, __u64 *runs)
{
	const struct probe *p = &ps->p[i];

	*run_ns = *runs = 0;
	if (p->sess)
		return self_cost__object_stats(p->sess->obj, run_ns, runs);
	if (p->fsess)
		return self_cost__object_stats(p->fsess->obj, run_ns, runs);
	return p->skel ? self_cost__object_stats(p->skel->obj, run_ns, runs) : 0;
}

int probe_set__run_stats(const struct probe_set *ps, __u64 *run_ns, __u64 *runs)
{
	*run_ns = *runs = 0;
	for (size_t i = 0; i < ps->n; i++) {
		__u64 ns, n;
		int ret = probe_set__func_run_stats(ps, i, &ns, &n);

		if (ret)
			return ret;
		*run_ns += ns;
		*runs += n;
	}
	return 0;
}

void probe_set__destroy(struct probe_set *ps)
{
	if (!ps)
		return;
	for (size_t i = 0; i < ps->n; i++) {
		probe_detach(&ps->p[i]);
		free((char *)ps->p[i].info.name);
		free((char *)ps->p[i].info.probe);
		free((char *)ps->p[i].info.module);
	}
	for (int *fd = &ps->hists_fd; fd <= &ps->witness_fd; fd++)
		if (*fd >= 0)
			close(*fd);
	name_table__free(ps->ksyms);
	free(ps->percpu_buf);
	free(ps->p);
	free(ps);
}

/* The first instance creates the shared maps; the rest reuse them. */
static int share_maps(struct probe_set *ps, struct trace_bpf *skel)
{
	struct { struct bpf_map *map; int fd; } shared[] = {
		{ skel->maps.hists, ps->hists_fd },
		{ skel->maps.task_stacks, ps->stacks_fd },
		{ skel->maps.drops, ps->drops_fd },
		{ skel->maps.witness, ps->witness_fd },
	};
	int ret;

	if (ps->hists_fd < 0) {
		ret = bpf_map__set_max_entries(skel->maps.hists, (__u32)ps->n);
		if (!ret)
			ret = bpf_map__set_max_entries(skel->maps.witness, (__u32)ps->n);
		return ret;
	}
	for (size_t i = 0; i < sizeof(shared) / sizeof(shared[0]); i++) {
		ret = bpf_map__reuse_fd(shared[i].map, shared[i].fd);
		if (ret)
			return ret;
	}
	return 0;
}

static int keep_map_fds(struct probe_set *ps, struct trace_bpf *skel)
{
	ps->hists_fd = dup(bpf_map__fd(skel->maps.hists));
	ps->stacks_fd = dup(bpf_map__fd(skel->maps.task_stacks));
	ps->drops_fd = dup(bpf_map__fd(skel->maps.drops));
	ps->witness_fd = dup(bpf_map__fd(skel->maps.witness));
	if (ps->hists_fd < 0 || ps->stacks_fd < 0 || ps->drops_fd < 0 || ps->witness_fd < 0)
		return -errno;
	return 0;
}

int probes__shared_maps(struct probe_set *ps, struct probe_err *err)
{
	struct bpf_program *prog;
	struct trace_bpf *skel;
	int ret;

	if (ps->hists_fd >= 0)
		return 0;
	/* trace.bpf.c's maps, its programs left out: what its first instance would make. */
	skel = trace_bpf__open();
	if (!skel) {
		ret = -errno;
		probes__set_err(err, NULL, "cannot open BPF object: %s", strerror(-ret));
		return ret;
	}
	bpf_object__for_each_program(prog, skel->obj)
		bpf_program__set_autoload(prog, false);
	ret = share_maps(ps, skel);
	if (!ret)
		ret = trace_bpf__load(skel);
	if (!ret)
		ret = keep_map_fds(ps, skel);
	if (ret)
		probes__set_err(err, NULL, "cannot create the probes' BPF maps: %s", strerror(-ret));
	trace_bpf__destroy(skel);
	return ret;
}

/*
 * Test hook: LPS_TEST_FENTRY_TARGET=FUNC points every fentry probe at FUNC
 * while its witness stays on the real function. With FUNC never called, this
 * is what a kernel that accepts fentry and never runs it looks like, the one
 * failure the witness exists for, which the lab kernels do not show on their
 * own (tests/vm/cases/trace_witness.sh).
 */
static const char *fentry_target(const char *func)
{
	const char *t = getenv("LPS_TEST_FENTRY_TARGET");

	return t && *t ? t : func;
}

/*
 * Attaches instance skel's entry and return programs to p's function.
 * Return probe first: a call already running when the entry probe arrives
 * then shows up as one unmatched return, while the other order would push
 * entries that no return ever pops for as long as the gap lasts (seconds
 * under emulation), filling the task's stack with stale frames.
 */
static int attach_entry(struct probe *p, struct trace_bpf *skel)
{
	skel->links.lps_kprobe = p->info.addr ?
		attach_kprobe_at(skel->progs.lps_kprobe, false, p->info.addr) :
		bpf_program__attach_kprobe(skel->progs.lps_kprobe, false, p->info.probe);
	return skel->links.lps_kprobe ? 0 : -errno;
}

static int attach_return(struct probe *p, struct trace_bpf *skel)
{
	skel->links.lps_kretprobe = p->info.addr ?
		attach_kprobe_at(skel->progs.lps_kretprobe, true, p->info.addr) :
		attach_kretprobe(skel->progs.lps_kretprobe, p->info.probe, p->kretprobe_event);
	return skel->links.lps_kretprobe ? 0 : -errno;
}

/* Return probes first, so that no entry goes unpaired; entry first while closed (resume). */
static int attach_links(struct probe *p, struct trace_bpf *skel, bool fentry, bool entry_first)
{
	int ret;

	if (fentry) {
		skel->links.lps_fexit = bpf_program__attach(skel->progs.lps_fexit);
		ret = skel->links.lps_fexit ? 0 : -errno;
		if (!ret) {
			skel->links.lps_fentry = bpf_program__attach(skel->progs.lps_fentry);
			ret = skel->links.lps_fentry ? 0 : -errno;
		}
	} else if (entry_first) {
		ret = attach_entry(p, skel);
		if (!ret)
			ret = attach_return(p, skel);
	} else {
		ret = attach_return(p, skel);
		if (!ret)
			ret = attach_entry(p, skel);
	}
	return ret;
}

/* Destroys the links attach_links made, leaving the programs and their counts loaded. */
static void detach_links(struct probe *p)
{
	struct trace_bpf *skel = p->skel;
	/* The return probe first: a budget's gap closed the entry already (pause). */
	struct bpf_link **links[] = { &skel->links.lps_fentry, &skel->links.lps_fexit,
				      &skel->links.lps_kretprobe, &skel->links.lps_kprobe };

	for (size_t i = 0; i < sizeof(links) / sizeof(links[0]); i++) {
		bpf_link__destroy(*links[i]);
		*links[i] = NULL;
	}
	kretprobe__remove(p->kretprobe_event);
}

/* Loads and attaches instance idx with the given method. */
static int load_probe(struct probe_set *ps, size_t idx, enum attach_mode mode,
		      bool with_witness, struct probe_err *err)
{
	struct probe *p = &ps->p[idx];
	const char *name = p->info.name, *sym = p->info.probe;
	bool fentry = mode == ATTACH_FENTRY;
	struct trace_bpf *skel;
	int ret;

	if (mode == ATTACH_KPROBE_SESSION)
		return probes__load_session(ps, idx, err);
	if (mode == ATTACH_FSESSION)
		return probes__load_fsession(ps, idx, err);
	skel = trace_bpf__open();
	if (!skel) {
		ret = -errno;
		probes__set_err(err, name, "cannot open BPF object: %s", strerror(-ret));
		return ret;
	}
	skel->rodata->lps_func_idx = (__u32)idx;
	skel->rodata->lps_ret_kind = p->info.ret_kind;
	bpf_program__set_autoload(skel->progs.lps_fentry, fentry);
	bpf_program__set_autoload(skel->progs.lps_fexit, fentry);
	bpf_program__set_autoload(skel->progs.lps_kprobe, !fentry);
	bpf_program__set_autoload(skel->progs.lps_kretprobe, !fentry);
	bpf_program__set_autoload(skel->progs.lps_witness, with_witness);
	if (fentry) {
		const char *target = fentry_target(sym);

		ret = bpf_program__set_attach_target(skel->progs.lps_fentry, 0, target);
		if (!ret)
			ret = bpf_program__set_attach_target(skel->progs.lps_fexit, 0, target);
		if (ret) {
			probes__set_err(err, name, "no BTF target for fentry: %s", strerror(-ret));
			goto fail;
		}
	}
	ret = share_maps(ps, skel);
	if (ret) {
		probes__set_err(err, name, "cannot share BPF maps: %s", strerror(-ret));
		goto fail;
	}
	lps_libbpf_mark();
	ret = trace_bpf__load(skel);
	if (ret) {
		/* Which map or program the kernel refused: libbpf's first word on it. */
		const char *culprit = lps_libbpf_culprit();

		probes__set_err(err, name, "kernel refused to load the %s probe: %s (%d)%s%s%s",
			attach_mode__name(mode), strerror(-ret), ret, culprit[0] ? " (" : "",
			culprit, culprit[0] ? ")" : "");
		goto fail;
	}
	if (ps->hists_fd < 0) {
		ret = keep_map_fds(ps, skel);
		if (ret) {
			probes__set_err(err, name, "cannot keep BPF map: %s", strerror(-ret));
			goto fail;
		}
	}

	ret = attach_links(p, skel, fentry, false);
	if (ret) {
		probes__set_err(err, name, "kernel refused to attach the %s probe: %s",
			attach_mode__name(mode), strerror(-ret));
		goto fail;
	}
	/* A witness that cannot attach (no kprobes) leaves the probe unverified. */
	if (with_witness)
		p->witness = bpf_program__attach_kprobe(skel->progs.lps_witness, false, sym);
	p->skel = skel;
	p->info.mode = mode;
	return 0;
fail:
	trace_bpf__destroy(skel);
	kretprobe__remove(p->kretprobe_event);
	return ret;
}

/* Out of memory or descriptors: kprobes would not fare better, say so as is. */
static bool is_resource_error(int err)
{
	return err == -ENOMEM || err == -EMFILE || err == -ENFILE || err == -E2BIG;
}

int probe_set__attach(struct probe_set *ps, struct probe_err *err)
{
	int ret = 0;

	for (size_t i = 0; i < ps->n; i++) {
		struct probe *p = &ps->p[i];
		struct probe_err fentry_err, kprobe_err;

		ret = load_probe(ps, i, p->info.mode, p->info.mode == ATTACH_FENTRY, &fentry_err);
		if (ret && p->info.mode == ATTACH_FSESSION && ps->requested == ATTACH_AUTO &&
		    !is_resource_error(ret)) {
			/* A session the kernel refused (its JIT may lack them): fentry+fexit. */
			lps_warn("%s: %s; using fentry+fexit", p->info.name, fentry_err.what);
			p->info.mode = ATTACH_FENTRY;
			ret = load_probe(ps, i, ATTACH_FENTRY, true, &fentry_err);
		}
		if (ret && p->info.mode == ATTACH_FENTRY && ps->requested == ATTACH_AUTO &&
		    !is_resource_error(ret)) {
			/* fentry refused here (no trampolines, ftrace locked): try kprobes. */
			ret = load_probe(ps, i, ATTACH_KPROBE, false, &kprobe_err);
			if (ret)
				probes__set_err(err, p->info.name,
					"kernel refuses function tracing (fentry: %s; kprobe: %s)",
					fentry_err.what, kprobe_err.what);
		} else if (ret) {
			*err = fentry_err;
		}
		if (ret)
			goto cleanup;
	}
	return 0;
cleanup:
	for (size_t i = 0; i < ps->n; i++)
		probe_detach(&ps->p[i]);
	return ret;
}

/* Sum of one per-CPU map value, read whole into the shared buffer. */
static int read_percpu(struct probe_set *ps, int fd, __u32 key)
{
	return bpf_map_lookup_elem(fd, &key, ps->percpu_buf) ? -errno : 0;
}

static __u64 sum_u64(struct probe_set *ps)
{
	__u64 *v = ps->percpu_buf, sum = 0;

	for (int c = 0; c < ps->ncpus; c++)
		sum += v[c];
	return sum;
}

int probe_set__observe(struct probe_set *ps, double seconds, bool (*stop)(void),
		       struct probe_err *err)
{
	double end = clock__now_s() + seconds;

	while (clock__now_s() < end) {
		int ret;

		if (stop && stop())
			return -EINTR;
		clock__nap(fmin(0.2, end - clock__now_s()));
		ret = probe_set__verify(ps, err);
		if (ret)
			return ret;
	}
	return 0;
}

int probe_set__read(struct probe_set *ps, struct lps_hist *out)
{
	const struct lps_hist *v = ps->percpu_buf;
	int ret;

	for (size_t i = 0; i < ps->n; i++) {
		struct probe *p = &ps->p[i];

		memset(&out[i], 0, sizeof(out[i]));
		ret = read_percpu(ps, ps->hists_fd, (__u32)i);
		if (ret)
			return ret;
		for (int c = 0; c < ps->ncpus; c++)
			hist_add(&out[i], &v[c]);
		/* A call whose entry the kernel skipped is a call all the same. */
		probes__read_skipped(p, &out[i]);
		out[i].calls += p->info.skipped_entries;
	}
	return 0;
}

int probe_set__drops(struct probe_set *ps, __u64 out[LPS_DROP_NR])
{
	int ret;

	for (__u32 i = 0; i < LPS_DROP_NR; i++) {
		ret = read_percpu(ps, ps->drops_fd, i);
		if (ret)
			return ret;
		out[i] = sum_u64(ps);
	}
	return 0;
}

int probe_set__verify(struct probe_set *ps, struct probe_err *err)
{
	const struct lps_hist *v = ps->percpu_buf;
	int ret;

	for (size_t i = 0; i < ps->n; i++) {
		struct probe *p = &ps->p[i];
		__u64 calls = 0, seen;

		if (p->info.verified)
			continue;
		seen = 0;
		if (p->info.mode == ATTACH_FENTRY && p->witness) {
			ret = read_percpu(ps, ps->witness_fd, (__u32)i);
			if (ret)
				return ret;
			seen = sum_u64(ps);
		}
		ret = read_percpu(ps, ps->hists_fd, (__u32)i);
		if (ret)
			return ret;
		for (int c = 0; c < ps->ncpus; c++)
			calls += v[c].calls;
		if (p->info.mode != ATTACH_FENTRY || !p->witness) {
			/* Nothing to compare against: a kprobe that runs is its own proof. */
			p->info.verified = p->info.mode != ATTACH_FENTRY && calls > 0;
			continue;
		}
		if (calls > 0) {
			p->info.verified = true;
			bpf_link__destroy(p->witness);
			p->witness = NULL;
			continue;
		}
		/*
		 * Broken only if calls the witness had seen at the previous check
		 * still have not reached the probe: a call in flight between the two
		 * reads (or between the two probes of one call) is not a broken probe.
		 */
		if (p->witness_seen == 0) {
			p->witness_seen = seen;
			continue;	/* not called yet, or just now: ask again next interval */
		}
		if (ps->requested == ATTACH_FENTRY) {
			probes__set_err(err, p->info.name, "the fentry probe ran 0 times while a kprobe "
				"counted %llu calls: this kernel does not run fentry here; "
				"use --mode kprobe", (unsigned long long)seen);
			return -EIO;
		}
		lps_warn("%s: the fentry probe ran 0 times while a kprobe counted %llu calls; "
			 "switched to kprobes",
			p->info.name, (unsigned long long)seen);
		probe_detach(p);
		ret = load_probe(ps, i, ATTACH_KPROBE, false, err);
		if (ret)
			return ret;
	}
	return 0;
}

int probe_set__pause(struct probe_set *ps, size_t i)
{
	struct probe *p = &ps->p[i];

	if (!p->skel || p->paused)
		return 0;
	if (!p->info.verified)
		return -EAGAIN;
	/*
	 * Closed first: entries from now on push no frame, so the return probe
	 * can go first, and the slow part of a detach (the entry probe's
	 * unregistering waits out an RCU grace period) runs with the cheap
	 * entry probe alone, not the return probe (every return unmatched).
	 */
	p->skel->bss->lps_closed = 1;
	detach_links(p);
	p->paused = true;
	return 0;
}

int probe_set__resume(struct probe_set *ps, size_t i, struct probe_err *err)
{
	struct probe *p = &ps->p[i];
	int ret;

	if (!p->skel || !p->paused)
		return 0;
	/* Still closed (pause): entry first, pushing nothing until the return is in. */
	ret = attach_links(p, p->skel, p->info.mode == ATTACH_FENTRY, true);
	if (ret) {
		detach_links(p);
		probes__set_err(err, p->info.name, "kernel refused to attach the %s probe again: %s",
				attach_mode__name(p->info.mode), strerror(-ret));
		return ret;
	}
	/* Frames older than this are from an earlier window (trace.bpf.c). */
	p->skel->bss->lps_window_start_ns = clock__now_ns();
	__atomic_store_n(&p->skel->bss->lps_closed, 0, __ATOMIC_RELEASE);	/* after the start */
	p->paused = false;
	return 0;
}

bool probe_set__paused(const struct probe_set *ps, size_t i)
{
	return ps->p[i].paused;
}

__u64 probe_set__window_ns(const struct probe_set *ps, size_t i)
{
	return ps->p[i].skel ? ps->p[i].skel->bss->lps_window_start_ns : 0;
}

int probe_set__task_stacks_fd(const struct probe_set *ps)
{
	return ps->stacks_fd;
}

size_t probe_set__count(const struct probe_set *ps)
{
	return ps->n;
}

const struct probe_info *probe_set__info(const struct probe_set *ps, size_t i)
{
	return &ps->p[i].info;
}

bool probe_info__on_task_stack(const struct probe_info *pi)
{
	return pi->mode != ATTACH_KPROBE_SESSION && pi->mode != ATTACH_FSESSION;
}

const char *probe_info__traced_as(const struct probe_info *pi)
{
	return pi->probe && strcmp(pi->probe, pi->name) ? pi->probe : NULL;
}
