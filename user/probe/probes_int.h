/* SPDX-License-Identifier: GPL-2.0 */
/* Inside the probe set: shared by probes.c (attach, read) and probes_open.c (resolve). */
#ifndef LPS_PROBES_INT_H
#define LPS_PROBES_INT_H

#include "kretprobe.h"
#include "probes.h"

struct trace_bpf;
struct session_bpf;
struct fsession_bpf;

struct probe {
	struct probe_info info;
	struct trace_bpf *skel;
	struct session_bpf *sess;	/* ATTACH_KPROBE_SESSION's object instead of skel */
	int sess_link;			/* its kprobe_multi link, -1 when none */
	struct fsession_bpf *fsess;	/* ATTACH_FSESSION's object instead of skel */
	struct bpf_link *witness;
	__u64 witness_seen;	/* what the witness had counted at the previous check */
	bool paused;		/* programs loaded, links detached (a CPU budget's gap) */
	/* Skipped runs of instances this probe had before (replaced by kprobes). */
	__u64 skipped_entries_before, skipped_returns_before;
	char kretprobe_event[KRETPROBE_EVENT_LEN];	/* tracefs event, when used */
};

struct probe_set {
	struct probe *p;
	size_t n;
	enum attach_mode requested;
	int ncpus;
	/* Our own references to the shared maps, so they outlive any instance. */
	int hists_fd, stacks_fd, drops_fd, witness_fd;
	void *percpu_buf;	/* one map value for every possible CPU */
	struct name_table *ksyms;	/* kallsyms, loaded for session probes' addresses */
};

/* Creates the maps every instance shares, when no instance has yet. */
int probes__shared_maps(struct probe_set *ps, struct probe_err *err);
/* Loads and attaches instance idx as a kprobe session probe (probes_session.c). */
int probes__load_session(struct probe_set *ps, size_t idx, struct probe_err *err);
/* The same as a tracing session probe (fsession). */
int probes__load_fsession(struct probe_set *ps, size_t idx, struct probe_err *err);
/* Detaches and destroys either. */
void probes__unload_session(struct probe *p);
/*
 * The runs of p's programs the kernel skipped (probes_skipped.c), into its
 * info: with h, p's histogram totals, a session's split into entries and
 * returns; without, a session's all count as returns.
 */
void probes__read_skipped(struct probe *p, const struct lps_hist *h);
/*
 * A session program's skipped runs (misses: the kernel counts entries and
 * returns together) split into entries and returns, from its histogram h:
 * the entries that ran (calls) and the returns that ran (recorded +
 * unmatched: session_run makes each one or the other). Exact once no call
 * is in flight.
 */
void probes__session_split(enum attach_mode mode, const struct lps_hist *h, __u64 misses,
			   __u64 *skipped_entries, __u64 *skipped_returns);

void probes__set_err(struct probe_err *err, const char *func, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

#endif
