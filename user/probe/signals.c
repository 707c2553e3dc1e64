// SPDX-License-Identifier: GPL-2.0
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <bpf/bpf.h>
#include <bpf/btf.h>
#include <bpf/libbpf.h>
#include "hist.h"
#include "ksyms.h"
#include "lock_coverage.h"
#include "signals.h"
#include "self_cost.h"
#include "signals.skel.h"

#define LOCK_STACK_DEPTH 12	/* as LPS_LOCK_STACK_DEPTH in signals.bpf.c */

struct signals {
	struct signals_bpf *skel;
	size_t nfuncs;
	int ncpus;
	bool lock_btf;
	const char *lock_coverage;	/* lock_coverage__host() at open */
	struct name_table *syms;	/* kallsyms, loaded on first caller lookup */
	void *percpu_buf;
};

/* tp_btf needs the tracepoint's BTF (btf_trace_<name>); else raw_tp. */
static bool has_btf_tracepoint(const char *name)
{
	struct btf *vmlinux = btf__load_vmlinux_btf();
	char type[128];
	bool found;

	if (!vmlinux)
		return false;
	snprintf(type, sizeof(type), "btf_trace_%s", name);
	found = btf__find_by_name_kind(vmlinux, type, BTF_KIND_TYPEDEF) > 0;
	btf__free(vmlinux);
	return found;
}

int signals__open(struct signals **out, size_t nfuncs, int task_stacks_fd, char *why,
		  size_t why_len)
{
	struct signals *s = calloc(1, sizeof(*s));
	size_t vsz = sizeof(struct lps_hist);
	int ret;

	if (!s)
		return -ENOMEM;
	s->nfuncs = nfuncs;
	s->lock_coverage = lock_coverage__host();
	s->ncpus = libbpf_num_possible_cpus();
	if (s->ncpus <= 0) {
		ret = s->ncpus ? s->ncpus : -EINVAL;
		snprintf(why, why_len, "cannot count CPUs");
		goto cleanup;
	}
	s->percpu_buf = calloc((size_t)s->ncpus, vsz);
	s->skel = signals_bpf__open();
	if (!s->percpu_buf || !s->skel) {
		ret = -ENOMEM;
		snprintf(why, why_len, "cannot open the signal probes");
		goto cleanup;
	}
	s->skel->rodata->lps_nfuncs = (__u32)nfuncs;
	/* LPS_TEST_LOCK_RAW_TP: the tests' way to run the fallback on kernels that need none. */
	s->lock_btf = !getenv("LPS_TEST_LOCK_RAW_TP") && has_btf_tracepoint("contention_begin");
	bpf_program__set_autoload(s->skel->progs.lps_contention_begin_btf, s->lock_btf);
	bpf_program__set_autoload(s->skel->progs.lps_contention_end_btf, s->lock_btf);
	bpf_program__set_autoload(s->skel->progs.lps_contention_begin_raw, !s->lock_btf);
	bpf_program__set_autoload(s->skel->progs.lps_contention_end_raw, !s->lock_btf);
	ret = bpf_map__set_max_entries(s->skel->maps.fsignals, (__u32)nfuncs + 1);
	if (!ret)
		ret = bpf_map__set_max_entries(s->skel->maps.fwindow, nfuncs ? (__u32)nfuncs : 1);
	/* No function probes (nothing to measure): the system signals keep their own map. */
	if (!ret && task_stacks_fd >= 0)
		ret = bpf_map__reuse_fd(s->skel->maps.task_stacks, task_stacks_fd);
	if (ret) {
		snprintf(why, why_len, "cannot set up the signal maps: %s", strerror(-ret));
		goto cleanup;
	}
	ret = signals_bpf__load(s->skel);
	if (ret) {
		snprintf(why, why_len, "the kernel refused the signal probes: %s", strerror(-ret));
		goto cleanup;
	}
	ret = signals_bpf__attach(s->skel);
	if (ret) {
		snprintf(why, why_len, "cannot attach the signal probes (lock contention, page "
			 "faults, scheduler tracepoints): %s", strerror(-ret));
		goto cleanup;
	}
	*out = s;
	return 0;
cleanup:
	signals__destroy(s);
	return ret;
}

int signals__window(struct signals *s, size_t func, __u64 since_ns)
{
	__u32 key = (__u32)func;

	if (func >= s->nfuncs)
		return -EINVAL;
	return bpf_map_update_elem(bpf_map__fd(s->skel->maps.fwindow), &key, &since_ns, BPF_ANY)
		? -errno : 0;
}

int signals__syscalls(struct signals *s, bool on)
{
	struct bpf_link **link = &s->skel->links.lps_sys_enter;

	if (!on) {
		bpf_link__destroy(*link);
		*link = NULL;
		return 0;
	}
	if (*link)
		return 0;
	*link = bpf_program__attach(s->skel->progs.lps_sys_enter);
	return *link ? 0 : -errno;
}

const char *signals__lock_mode(const struct signals *s)
{
	return s->lock_btf ? "tp_btf" : "raw_tp";
}

const char *signals__lock_coverage(const struct signals *s)
{
	return s->lock_coverage;
}

void signals__destroy(struct signals *s)
{
	if (!s)
		return;
	signals_bpf__destroy(s->skel);
	name_table__free(s->syms);
	free(s->percpu_buf);
	free(s);
}

void signals__sub(struct lps_func_signals *o, const struct lps_func_signals *a,
		  const struct lps_func_signals *b)
{
	o->contended = a->contended - b->contended;
	o->contention_ns = a->contention_ns - b->contention_ns;
	o->page_faults = a->page_faults - b->page_faults;
}

void signals__add(struct lps_func_signals *dst, const struct lps_func_signals *src)
{
	dst->contended += src->contended;
	dst->contention_ns += src->contention_ns;
	dst->page_faults += src->page_faults;
}

static int read_callers(struct signals *s, struct signals_snapshot *out)
{
	int fd = bpf_map__fd(s->skel->maps.lock_callers);
	struct lps_lock_caller_key key, next, *prev = NULL;
	size_t cap = 0;

	while (!bpf_map_get_next_key(fd, prev, &next)) {
		struct lock_caller_entry *e;

		if (out->ncallers == cap) {
			size_t ncap = cap ? cap * 2 : 64;
			void *nv = realloc(out->callers, ncap * sizeof(*out->callers));

			if (!nv)
				return -ENOMEM;
			out->callers = nv;
			cap = ncap;
		}
		e = &out->callers[out->ncallers];
		if (bpf_map_lookup_elem(fd, &next, &e->v) == 0) {
			e->stack_id = next.stack_id;
			e->func = next.func;
			out->ncallers++;
		}
		key = next;
		prev = &key;
	}
	return 0;
}

int signals__run_stats(const struct signals *s, __u64 *run_ns, __u64 *runs)
{
	*run_ns = *runs = 0;
	return self_cost__object_stats(s->skel->obj, run_ns, runs);
}

int signals__syscall_run_ns(const struct signals *s, __u64 *run_ns)
{
	__u64 runs = 0;

	*run_ns = 0;
	return self_cost__prog_stats(s->skel->progs.lps_sys_enter, run_ns, &runs);
}

int signals__read(struct signals *s, struct signals_snapshot *out)
{
	const struct lps_func_signals *fv = s->percpu_buf;
	const struct lps_hist *hv = s->percpu_buf;
	int ret = 0;

	memset(out, 0, sizeof(*out));
	out->nfuncs = s->nfuncs;
	out->funcs = calloc(s->nfuncs ? s->nfuncs : 1, sizeof(*out->funcs));
	if (!out->funcs)
		return -ENOMEM;
	for (__u32 k = 0; k <= s->nfuncs; k++) {
		struct lps_func_signals *dst = k < s->nfuncs ? &out->funcs[k] : &out->sys;

		if (bpf_map_lookup_elem(bpf_map__fd(s->skel->maps.fsignals), &k, s->percpu_buf)) {
			ret = -errno;
			goto cleanup;
		}
		for (int c = 0; c < s->ncpus; c++)
			signals__add(dst, &fv[c]);
	}
	for (__u32 k = 0; k < LPS_SDROP_NR; k++) {
		const __u64 *dv = s->percpu_buf;

		if (bpf_map_lookup_elem(bpf_map__fd(s->skel->maps.sdrops), &k, s->percpu_buf)) {
			ret = -errno;
			goto cleanup;
		}
		for (int c = 0; c < s->ncpus; c++)
			out->drops[k] += dv[c];
	}
	{
		__u32 zero = 0;

		if (bpf_map_lookup_elem(bpf_map__fd(s->skel->maps.runq), &zero, s->percpu_buf)) {
			ret = -errno;
			goto cleanup;
		}
		for (int c = 0; c < s->ncpus; c++)
			hist_add(&out->runq, &hv[c]);
	}
	ret = read_callers(s, out);
cleanup:
	if (ret)
		signals_snapshot__free(out);
	return ret;
}

void signals_snapshot__free(struct signals_snapshot *s)
{
	free(s->funcs);
	free(s->callers);
	memset(s, 0, sizeof(*s));
}

int signals_snapshot__delta(struct signals_snapshot *out, const struct signals_snapshot *a,
			    const struct signals_snapshot *b)
{
	memset(out, 0, sizeof(*out));
	out->nfuncs = a->nfuncs;
	out->funcs = calloc(a->nfuncs ? a->nfuncs : 1, sizeof(*out->funcs));
	out->callers = calloc(a->ncallers ? a->ncallers : 1, sizeof(*out->callers));
	if (!out->funcs || !out->callers) {
		signals_snapshot__free(out);
		return -ENOMEM;
	}
	for (size_t i = 0; i < a->nfuncs && i < b->nfuncs; i++)
		signals__sub(&out->funcs[i], &a->funcs[i], &b->funcs[i]);
	signals__sub(&out->sys, &a->sys, &b->sys);
	hist_delta(&out->runq, &a->runq, &b->runq);
	for (int k = 0; k < LPS_SDROP_NR; k++)
		out->drops[k] = a->drops[k] - b->drops[k];
	/* Entries only grow and are never deleted: match a's entries in b by key. */
	for (size_t i = 0; i < a->ncallers; i++) {
		struct lock_caller_entry e = a->callers[i];

		for (size_t j = 0; j < b->ncallers; j++) {
			if (b->callers[j].stack_id == e.stack_id && b->callers[j].func == e.func) {
				e.v.count -= b->callers[j].v.count;
				e.v.wait_ns -= b->callers[j].v.wait_ns;
				break;
			}
		}
		if (e.v.count)
			out->callers[out->ncallers++] = e;
	}
	return 0;
}

/* Frames that belong to the lock itself, the tracepoint or BPF, not its caller. */
static bool lock_internal(const char *name)
{
	static const char *const prefixes[] = {
		"bpf_", "__bpf", "__traceiter", "trace_", "perf_", "queued_", "native_queued",
		"__pv_queued", "pv_", "_raw_", "do_raw_", "__raw_", "raw_spin", "spin_", "mutex_",
		"__mutex", "rwsem", "__rwsem", "down_", "__down", "up_", "rt_mutex", "__rt_mutex",
		"osq_", "percpu_down", "percpu_rwsem", "__percpu", "rwbase", "_raw", "lock_",
		"__lock", "contention", "rtlock", "ww_mutex", "__ww_mutex", "schedule_preempt",
	};

	for (size_t i = 0; i < sizeof(prefixes) / sizeof(prefixes[0]); i++)
		if (!strncmp(name, prefixes[i], strlen(prefixes[i])))
			return true;
	return false;
}

int signals__load_symbols(struct signals *s)
{
	name_table__free(s->syms);
	s->syms = NULL;
	return ksyms__load(&s->syms);
}

const char *signals__caller_name(struct signals *s, const struct lock_caller_entry *c,
				 const char *const *match, bool *stack_has)
{
	__u64 ips[LOCK_STACK_DEPTH] = { 0 };
	const char *caller = NULL;

	*stack_has = false;
	if (c->stack_id == LPS_NO_STACK ||
	    bpf_map_lookup_elem(bpf_map__fd(s->skel->maps.lock_stacks), &c->stack_id, ips))
		return "?";
	if (!s->syms && ksyms__load(&s->syms))
		return "?";
	for (int i = 0; i < LOCK_STACK_DEPTH && ips[i]; i++) {
		const char *name = name_table__at(s->syms, ips[i], NULL);

		if (!name)
			continue;
		if (!caller && !lock_internal(name))
			caller = name;
		for (size_t m = 0; match && match[m]; m++)
			if (!strcmp(name, match[m]))
				*stack_has = true;
	}
	return caller ? caller : "?";
}
