/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Per-function probes: choose an attach method per function, load and attach
 * one BPF instance per function over shared maps, verify that each probe really
 * runs, and read the per-CPU histograms back as totals.
 */
#ifndef LPS_PROBES_H
#define LPS_PROBES_H

#include <stdbool.h>
#include <stddef.h>
#include "lpsentinel.h"

enum attach_mode {
	ATTACH_AUTO = 0,	/* fentry/fexit where the kernel allows, else kprobes */
	ATTACH_FENTRY,
	ATTACH_KPROBE,
	/*
	 * One kprobe session program at entry and return, the call's own cookie
	 * pairing them (Linux 6.10+; docs/kernel-facts.md). Only when asked for:
	 * auto picks it where measured cheaper, which it is not on the lab
	 * kernels (probes__pick_mode).
	 */
	ATTACH_KPROBE_SESSION,
	/*
	 * The same on the fentry trampoline, a tracing session program (Linux
	 * 7.0+). Auto picks it where the kernel has it and nobody needs the
	 * per-task stack of open calls (the per-function signals read it).
	 */
	ATTACH_FSESSION,
};

const char *attach_mode__name(enum attach_mode mode);

/* Why a probe set could not be opened or attached: the function and the reason. */
struct probe_err {
	char func[128];
	char what[256];
};

struct probe_set_opts {
	enum attach_mode mode;
	/*
	 * Nothing reads per-function signals from this set (trace --no-signals):
	 * auto may choose session probes, which keep no per-task stack.
	 */
	bool no_task_stack;
	const char *klp_root;	/* /sys/kernel/livepatch, replaceable for tests */
};

struct probe_info {
	const char *name;
	const char *probe;	/* the symbol attached to: name, or an alias of its code */
	__u64 addr;		/* non-zero: kprobes at this address (a name several share) */
	const char *module;	/* NULL: vmlinux */
	enum attach_mode mode;	/* resolved: never ATTACH_AUTO */
	__u32 ret_kind;
	bool ret_from_btf;	/* false: return type guessed (no BTF) */
	bool verified;		/* the probe has seen calls a witness also saw */
	/*
	 * Runs of the entry and return programs the kernel skipped (its recursion
	 * guard: on a preemptible kernel, a program preempted on that CPU is still
	 * "running" when the next call comes; kernel-facts.md). Skipped entries
	 * are calls: probe_set__read adds them to calls. Their latency is lost.
	 */
	__u64 skipped_entries, skipped_returns;
};

struct probe_set;

/*
 * The method auto mode picks for a function with (has_btf) or without BTF:
 * fentry, unless a livepatch already redirects it (see probes.c); a session
 * only when no_task_stack (probe_set_opts).
 */
enum attach_mode probes__auto_mode(const char *func, bool has_btf, bool no_task_stack,
				   const char *klp_root);

/* What auto mode weighs, for one function on one kernel. */
struct mode_facts {
	bool has_btf;		/* the function has BTF: fentry can attach */
	bool patched;		/* a livepatch already redirects it */
	bool kprobe_only;	/* a module's function or a shared name: no trampoline */
	bool session;		/* the kernel has kprobe session programs */
	bool session_cheaper;	/* and they were measured cheaper than fentry+fexit there */
	bool fsession;		/* the kernel has tracing session programs */
	bool fsession_cheaper;	/* and they were measured cheaper than fentry+fexit there */
	bool need_stack;	/* per-function signals read the per-task stack: no session */
};

/* Auto mode's decision (pure: the unit tests call it with every combination). */
enum attach_mode probes__pick_mode(const struct mode_facts *f);

/* Resolves every function (exists, traceable, BTF). Nothing is loaded yet. n may be 0. */
int probe_set__open(struct probe_set **out, const char *const *funcs, size_t n,
		    const struct probe_set_opts *opts, struct probe_err *err);

/* A function already resolved (targets.h): where and how its probes attach. */
struct probe_spec {
	const char *name;	/* the function, as reports name it */
	const char *probe;	/* the symbol to attach to (an alias), NULL: name */
	const char *module;	/* its object, NULL: vmlinux */
	__u64 addr;		/* non-zero: attach kprobes at this address */
	bool kprobe_only;	/* a module's function (no trampoline pins it), or by address */
};

/* The same for resolved functions: only BTF and the attach method are looked up. */
int probe_set__open_specs(struct probe_set **out, const struct probe_spec *specs, size_t n,
			  const struct probe_set_opts *opts, struct probe_err *err);
/* Loads and attaches every probe; all or nothing. */
int probe_set__attach(struct probe_set *ps, struct probe_err *err);
/*
 * Checks fentry probes against their kprobe witnesses: a probe the kernel
 * attached but never runs is replaced by kprobes (auto mode) or is an error
 * (forced fentry). Verified witnesses are detached. Call once per interval.
 */
int probe_set__verify(struct probe_set *ps, struct probe_err *err);
/*
 * Waits seconds, verifying the probes every 200 ms (a fentry probe proves
 * itself, or is replaced by kprobes): 0; -EINTR as soon as stop() says so;
 * a failed verification's -errno, with err saying which probe and why.
 */
int probe_set__observe(struct probe_set *ps, double seconds, bool (*stop)(void),
		       struct probe_err *err);
/* Sums the per-CPU histograms of every function into out[0..n). */
int probe_set__read(struct probe_set *ps, struct lps_hist *out);
/* Events the probes had to drop, summed over CPUs (enum lps_drop). */
int probe_set__drops(struct probe_set *ps, __u64 out[LPS_DROP_NR]);
size_t probe_set__count(const struct probe_set *ps);
/*
 * BPF run time and run count of every loaded program, summed (the kernel
 * counts them only while BPF statistics are enabled: bpf_enable_stats).
 */
int probe_set__run_stats(const struct probe_set *ps, __u64 *run_ns, __u64 *runs);
/* The same for function i's programs alone (its probes and witness). */
int probe_set__func_run_stats(const struct probe_set *ps, size_t i, __u64 *run_ns, __u64 *runs);
/*
 * A CPU budget's gaps (budget.h): detaches function i's probes, keeping its
 * programs and counts, and attaches them again. Only verified probes pause
 * (a paused probe would look broken to its witness). resume: 0 or -errno,
 * with err saying why (the function's probes then stay detached).
 */
int probe_set__pause(struct probe_set *ps, size_t i);
int probe_set__resume(struct probe_set *ps, size_t i, struct probe_err *err);
bool probe_set__paused(const struct probe_set *ps, size_t i);
/* When function i's probes were last attached again (CLOCK_MONOTONIC ns; 0: never paused). */
__u64 probe_set__window_ns(const struct probe_set *ps, size_t i);
/* The task-stack map every probe shares (after attach), for bpf/signals.bpf.c; -1 before. */
int probe_set__task_stacks_fd(const struct probe_set *ps);
const struct probe_info *probe_set__info(const struct probe_set *ps, size_t i);
/*
 * Are the function's open calls on the task's stack (task_stacks), where the
 * signal probes look to attribute lock waits and page faults to it? Not for a
 * kprobe session probe: its call's cookie is all it keeps.
 */
bool probe_info__on_task_stack(const struct probe_info *pi);
/* The alias a probe sits on when it is not the function's own name ("traced as"), else NULL. */
const char *probe_info__traced_as(const struct probe_info *pi);
void probe_set__destroy(struct probe_set *ps);

#endif
