// SPDX-License-Identifier: GPL-2.0
/* Opening a probe set: every function resolved, its return kind and attach method chosen. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <bpf/libbpf.h>
#include "func_btf.h"
#include "klp_sysfs.h"
#include "ksession.h"
#include "ksyms.h"
#include "probes_int.h"

/*
 * Were kprobe session probes measured cheaper than fentry+fexit on this
 * kernel? Not on 6.12, the one lab kernel that has them: `make bench`
 * (docs/kernel-facts.md has the figures). A kernel where they are would be
 * named here, with its figures.
 */
static bool session_measured_cheaper(void)
{
	return false;
}

/*
 * Tracing session probes against fentry+fexit, where the kernel has both
 * (7.0+): on 7.2, under the bench's instruction counting, lpsentinel's
 * programs alone cost 537 instructions a call as a session and 592 as
 * fentry+fexit, the whole trace --no-signals 538 against 719 (make bench,
 * docs/benchmarks.md#tracing-sessions-on-72).
 */
static bool fsession_measured_cheaper(void)
{
	return true;
}

enum attach_mode probes__pick_mode(const struct mode_facts *f)
{
	/*
	 * A module's function, a shared name or a patched one: kprobes (no
	 * trampoline pins the module, an address is all there is, fentry on a
	 * redirected function is broken on some kernels). A session link would
	 * pin a module too (kprobe_multi takes a reference) and is not measured
	 * cheaper than kprobes there either, so it is not chosen in their place.
	 */
	if (f->kprobe_only || f->patched || !f->has_btf)
		return ATTACH_KPROBE;
	/* A session keeps no per-task stack, which the per-function signals read. */
	if (f->need_stack)
		return ATTACH_FENTRY;
	if (f->fsession && f->fsession_cheaper)
		return ATTACH_FSESSION;
	return f->session && f->session_cheaper ? ATTACH_KPROBE_SESSION : ATTACH_FENTRY;
}

enum attach_mode probes__auto_mode(const char *func, bool has_btf, bool no_task_stack,
				   const char *klp_root)
{
	struct mode_facts f = { .has_btf = has_btf, .need_stack = !no_task_stack };

	/*
	 * Asked in this order: the kernel's BTF and livepatch sysfs only as
	 * needed; sessions only where no per-task stack is needed.
	 */
	if (has_btf) {
		f.patched = klp_sysfs__is_patched(klp_root, func);
		if (!f.need_stack) {
			f.session_cheaper = session_measured_cheaper();
			f.session = f.session_cheaper && ksession__kernel_has();
			f.fsession_cheaper = fsession_measured_cheaper();
			f.fsession = f.fsession_cheaper && ksession__fsession_type() > 0;
		}
	}
	return probes__pick_mode(&f);
}

static int choose_mode(struct probe *p, const struct probe_set_opts *opts, bool kprobe_only,
		       struct probe_err *err);

/* Fills in object, return kind and attach method of one function. */
static int resolve_one(struct probe *p, const struct name_table *ksyms,
		       const struct name_table *ftrace, const struct probe_set_opts *opts,
		       struct probe_err *err)
{
	const char *name = p->info.name, *module = NULL;
	size_t count;

	count = name_table__count(ksyms, name, &module);
	if (count == 0) {
		probes__set_err(err, name, "unknown function: not in /proc/kallsyms");
		return -ENOENT;
	}
	if (count > 1) {
		probes__set_err(err, name, "ambiguous: %zu kernel functions have this name", count);
		return -ENOTUNIQ;
	}
	if (ftrace && !name_table__count(ftrace, name, NULL)) {
		probes__set_err(err, name, "not traceable: not in available_filter_functions "
			"(inlined, notrace or on the kprobe blacklist)");
		return -EOPNOTSUPP;
	}
	if (module) {
		p->info.module = strdup(module);
		if (!p->info.module)
			return -ENOMEM;
	}
	/* A module's function: kprobes (a trampoline would pin the module, see choose_mode). */
	return choose_mode(p, opts, module != NULL, err);
}

/*
 * Can fentry or fsession (how), asked for by name, go on this function's
 * trampoline? btf_ret: what looking up its BTF returned. A module's function
 * may have one (the trampoline holds the module only while this run lasts;
 * auto mode never chooses it there). A shared name has no BTF name to give.
 */
static int trampoline_ok(const struct probe *p, const char *how, bool kprobe_only, int btf_ret,
			 struct probe_err *err)
{
	if (kprobe_only && p->info.addr) {
		probes__set_err(err, p->info.name, "%s is not used here: its name is shared, "
				"kprobes attach by address; try --mode kprobe", how);
		return -EOPNOTSUPP;
	}
	if (btf_ret) {
		probes__set_err(err, p->info.name, "%s needs BTF for this function and %s; "
				"try --mode kprobe", how,
				btf_ret == -ENODATA ? "the kernel has no BTF" : "it has none");
		return -EOPNOTSUPP;
	}
	return 0;
}

/*
 * Return kind (from BTF of the attached symbol) and attach method. kprobe_only:
 * a module's function (a fentry trampoline would pin the module) or one
 * attached by address (fentry takes a BTF name, which several symbols share).
 */
static int choose_mode(struct probe *p, const struct probe_set_opts *opts, bool kprobe_only,
		       struct probe_err *err)
{
	const char *name = p->info.name, *module = p->info.module;
	int ret;

	ret = func_btf__ret_kind(p->info.probe, module, &p->info.ret_kind);
	p->info.ret_from_btf = ret == 0;
	if (ret)
		p->info.ret_kind = LPS_RET_UNKNOWN;

	switch (opts->mode) {
	case ATTACH_FENTRY:
		ret = trampoline_ok(p, "fentry", kprobe_only, ret, err);
		if (ret)
			return ret;
		p->info.mode = ATTACH_FENTRY;
		break;
	case ATTACH_KPROBE:
		p->info.mode = ATTACH_KPROBE;
		break;
	case ATTACH_KPROBE_SESSION:
		if (!ksession__kernel_has()) {
			probes__set_err(err, name, "this kernel has no kprobe session programs "
					"lpsentinel can load (Linux 6.10 to 6.19; 7.0 changed "
					"their kfuncs); try --mode kprobe");
			return -EOPNOTSUPP;
		}
		p->info.mode = ATTACH_KPROBE_SESSION;
		break;
	case ATTACH_FSESSION:
		if (ksession__fsession_type() < 0) {
			probes__set_err(err, name, "this kernel has no tracing session programs "
					"(fsession: Linux 7.0+); try --mode fentry");
			return -EOPNOTSUPP;
		}
		ret = trampoline_ok(p, "fsession", kprobe_only, ret, err);
		if (ret)
			return ret;
		p->info.mode = ATTACH_FSESSION;
		break;
	default:
		/*
		 * fentry is cheaper, but attaching it to a function that a livepatch
		 * already redirects is broken on some kernels (docs/kernel-facts.md):
		 * kprobes are right there.
		 */
		p->info.mode = kprobe_only ? ATTACH_KPROBE :
			       probes__auto_mode(name, ret == 0, opts->no_task_stack, opts->klp_root);
	}
	return 0;
}

static bool ftrace_disabled(void)
{
	FILE *f = fopen("/proc/sys/kernel/ftrace_enabled", "r");
	int c = f ? fgetc(f) : EOF;

	if (f)
		fclose(f);
	return c == '0';
}

/* An empty set of n probes, after the checks every set needs. */
static int set_alloc(struct probe_set **out, size_t n, const struct probe_set_opts *opts,
		     struct probe_err *err)
{
	struct probe_set *ps;
	int ret;

	ps = calloc(1, sizeof(*ps));
	if (!ps)
		return -ENOMEM;
	ps->hists_fd = ps->stacks_fd = ps->drops_fd = ps->witness_fd = -1;
	ps->requested = opts->mode;
	/* n may be 0: a patch with nothing to measure still gets its (empty) set */
	ps->p = calloc(n ? n : 1, sizeof(*ps->p));
	ps->ncpus = libbpf_num_possible_cpus();
	if (!ps->p || ps->ncpus <= 0) {
		ret = ps->ncpus <= 0 ? ps->ncpus : -ENOMEM;
		probes__set_err(err, NULL, "cannot size per-CPU buffers");
		goto cleanup;
	}
	for (size_t i = 0; i < n; i++)
		ps->p[i].sess_link = -1;
	ps->percpu_buf = calloc((size_t)ps->ncpus, sizeof(struct lps_hist));
	if (!ps->percpu_buf) {
		ret = -ENOMEM;
		goto cleanup;
	}

	/* With ftrace off, the kernel accepts every probe and never runs one. */
	if (n && ftrace_disabled()) {
		ret = -EPERM;
		probes__set_err(err, NULL, "kernel refuses function tracing: ftrace is disabled "
			"(sysctl kernel.ftrace_enabled=0), probes would attach and never run");
		goto cleanup;
	}
	*out = ps;
	return 0;
cleanup:
	probe_set__destroy(ps);
	return ret;
}

/* Was this name given before index i? */
static bool named_before(const struct probe_set *ps, size_t i, struct probe_err *err)
{
	for (size_t j = 0; j < i; j++) {
		if (!strcmp(ps->p[j].info.name, ps->p[i].info.name)) {
			probes__set_err(err, ps->p[i].info.name, "named twice");
			return true;
		}
	}
	return false;
}

int probe_set__open_specs(struct probe_set **out, const struct probe_spec *specs, size_t n,
			  const struct probe_set_opts *opts, struct probe_err *err)
{
	struct probe_set *ps = NULL;
	int ret = set_alloc(&ps, n, opts, err);

	for (size_t i = 0; !ret && i < n; i++) {
		struct probe_info *pi = &ps->p[i].info;

		ps->n = i + 1;
		pi->name = strdup(specs[i].name);
		pi->probe = strdup(specs[i].probe ? specs[i].probe : specs[i].name);
		pi->module = specs[i].module ? strdup(specs[i].module) : NULL;
		pi->addr = specs[i].addr;
		if (!pi->name || !pi->probe || (specs[i].module && !pi->module))
			ret = -ENOMEM;
		else if (named_before(ps, i, err))
			ret = -EINVAL;
		else
			ret = choose_mode(&ps->p[i], opts, specs[i].kprobe_only || specs[i].addr,
					  err);
	}
	if (!ret) {
		*out = ps;
		ps = NULL;
	}
	probe_set__destroy(ps);
	return ret;
}

int probe_set__open(struct probe_set **out, const char *const *funcs, size_t n,
		    const struct probe_set_opts *opts, struct probe_err *err)
{
	struct name_table *ksyms = NULL, *ftrace = NULL;
	struct probe_set *ps = NULL;
	int ret;

	ret = set_alloc(&ps, n, opts, err);
	if (ret)
		return ret;
	ret = ksyms__load(&ksyms);
	if (ret) {
		probes__set_err(err, NULL, "cannot read /proc/kallsyms: %s", strerror(-ret));
		goto cleanup;
	}
	/* Unreadable (locked-down tracefs): attaching will say what the kernel refuses. */
	if (ftrace_funcs__load(&ftrace))
		ftrace = NULL;

	for (size_t i = 0; i < n; i++) {
		ps->p[i].info.name = strdup(funcs[i]);
		ps->p[i].info.probe = strdup(funcs[i]);
		ps->n = i + 1;
		if (!ps->p[i].info.name || !ps->p[i].info.probe) {
			ret = -ENOMEM;
			goto cleanup;
		}
		if (named_before(ps, i, err)) {
			ret = -EINVAL;
			goto cleanup;
		}
		ret = resolve_one(&ps->p[i], ksyms, ftrace, opts, err);
		if (ret)
			goto cleanup;
	}
	*out = ps;
	ps = NULL;
cleanup:
	name_table__free(ksyms);
	name_table__free(ftrace);
	probe_set__destroy(ps);
	return ret;
}
