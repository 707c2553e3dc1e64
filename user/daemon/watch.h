/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The watch daemon's model: watched functions with rolling baselines, probe
 * groups, patches and their states, judgements, gate clients. Shared by its
 * parts: the model (watch_model.c), the loop (watch_loop.c), judgements
 * (watch_judge.c) and their records (watch_verdict.c), gate clients (watch_clients.c), the state and status files
 * (watch_persist.c) and metrics (metrics.c). cmd/watch.c is only the verb.
 */
#ifndef LPS_WATCH_H
#define LPS_WATCH_H

#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include "timeline.h"
#include "audit.h"
#include "budget_set.h"
#include "control.h"
#include "judge.h"
#include "kfaults.h"
#include "engine.h"
#include "identity.h"
#include "klp_watch.h"
#include "lifecycle.h"
#include "probes.h"
#include "ring.h"
#include "rules.h"
#include "self_cost.h"
#include "signals.h"
#include "watch_state.h"

struct watch_args {
	const char *rules_path, *state_dir, *listen;
	const char **functions;		/* --function, repeatable */
	size_t nfunctions;
	double cpu_budget;		/* --cpu-budget: percent of a CPU per function; 0: the rules' */
};

/* A module name's room, as the kernel's MODULE_NAME_LEN. */
#define WATCH_MODULE_MAX 64

/*
 * Probes attached together: functions of one object (vmlinux, or one module,
 * so that a module that goes takes only its own probes with it) named at
 * start, or one patch's new ones.
 */
struct watch_group {
	char module[WATCH_MODULE_MAX];	/* "": vmlinux */
	struct probe_set *ps;
	/*
	 * Under a CPU budget (--cpu-budget, or cpu_budget in the rules, for any
	 * of its functions): its probes come and go in windows (budget_set.h),
	 * and each function's ticks last the seconds it was attached. NULL
	 * without one.
	 */
	struct budget_set *bs;
	size_t n;
	size_t *fn;			/* index into watch.fns of each probe */
	struct lps_hist *buf;		/* scratch for reads */
};

/* Whether a watched function has probes now. */
enum fn_state {
	FN_TRACED,	/* its probes are attached */
	FN_WAITING,	/* its module is not loaded: traced when it arrives, released when it goes */
};

/* One watched function and its rolling baseline. */
struct watch_fn {
	char name[WATCH_NAME_MAX];
	char module[WATCH_MODULE_MAX];	/* "": vmlinux */
	unsigned long sympos;		/* as the patch gives it: 0, the only one of that name */
	enum fn_state state;
	double since;			/* unix seconds it entered that state */
	struct watch_group *grp;	/* NULL while waiting */
	size_t idx;			/* its probe in grp */
	/*
	 * Counters since it was first traced, across the probes of every load of
	 * its module (a judgement's window is a difference of two of these).
	 */
	struct lps_hist cum;
	struct lps_hist carry;		/* what the probes of earlier loads counted */
	/*
	 * Seconds its probes saw since it was first traced (cum's seconds): the
	 * ticks' lengths, or under a budget the seconds attached in them; and
	 * the attached seconds of the probes now on it at the last reading.
	 */
	double seen_s, att_read;
	double cpu_budget;		/* its budget, percent of a CPU; 0: none, attached throughout */
	struct ring tick;		/* the cursor over the per-tick arrays below */
	struct lps_hist *ring;		/* per-tick deltas, the last baseline_s of them (budget: longer) */
	double *ring_s;			/* how long each tick really lasted (budget: attached in it) */
	struct lps_hist saved;		/* baseline from the state file, if any */
	double saved_s;
	bool have_saved;
	enum attach_mode saved_mode;	/* what measured it (ATTACH_AUTO: unknown) */
	enum attach_mode frozen_mode;
	unsigned judging;		/* patches of it being judged: baseline frozen while > 0 */
	struct lps_hist frozen;
	double frozen_s;
	bool frozen_none;
	/* Health signals, for the functions of the group the signal probes share. */
	bool has_sig;
	struct lps_func_signals scum, *sring, sfrozen;
	bool sfrozen_ok;
};

/* System-wide signals (lock contention, run queue) and their rolling baseline. */
struct watch_sys {
	struct signals *sig;		/* NULL: not available (why says so) */
	struct watch_group *grp;	/* the group whose task stacks it shares */
	char why[200];
	struct ring tick;
	struct lps_func_signals cum, *ring;
	struct lps_hist runq_cum, *runq_ring;
	double *ring_s;
	__u64 drops;
};

/* A gate that handed its patch to the daemon (control.c), waiting for the verdict. */
struct watch_client {
	int conn;			/* its connection in watch.ctl, held until the reply */
	char patch[WATCH_NAME_MAX];
	char module[4096];
	struct klp_life life;		/* the module, opened once: inspected, then loaded */
	struct rules rules;		/* the gate's --rules, when it gave one */
	struct rules_set def;		/* with its --baseline and --observe */
	double t_ready;			/* baselines long enough from then on */
	/*
	 * The load runs in a thread of its own: finit_module enables the patch
	 * and can take seconds (minutes on a slow guest), which the loop must
	 * not wait. life is the loader's until it is joined.
	 */
	enum { CLIENT_WAITING, CLIENT_LOADING, CLIENT_LOADED } load;
	pthread_t loader;
	atomic_bool load_done;
	int load_ret;
	double load_s;			/* how long finit_module took */
	char load_why[640];
	struct watch_client *next;
};

/* A patch being judged. */
struct watch_judgement {
	char patch[WATCH_NAME_MAX];
	char build_id[IDENTITY_HEX_MAX];	/* its module's, read when it appeared (identity.h) */
	struct rules_set def;		/* the daemon's, or a handing gate's */
	struct klp_life life;		/* followed from its appearance, reverted by us if it fails */
	double t_obs_start, t_prev, t_look;
	struct timeline tl;		/* appearance, transition, looks, revert: for the report */
	__u64 calls_seen;		/* its functions' calls up to the previous look */
	__u64 since_usec;		/* kernel log records from here belong to it */
	size_t n;
	size_t *fn;			/* its functions, indices into watch.fns */
	struct lps_hist *start, *obs;	/* cumulative at observe start; the window */
	/*
	 * Per function: its seen_s at observe start and at the previous look;
	 * under a budget, its windows ended by observe start, and the budget set
	 * that counted them (whole cycles: watch_judge.c).
	 */
	double *seen_start;
	struct idle_track *idle;	/* seen since its last call */
	__u64 *win_mark;
	const struct budget_set **win_bs;
	bool sampled;			/* a function of it is under a CPU budget */
	/* Each function's baseline as frozen for this patch (another may overlap it). */
	struct lps_hist *base;
	double *base_s;
	bool *base_none;
	struct lps_func_signals *sbase;
	bool *sbase_ok;
	enum attach_mode *base_mode;
	struct rules_set *fr;
	struct func_judgement *j, sysj;
	struct kfault_log faults;
	const char **names;		/* per function: old name, NULL, NULL (kfault__names) */
	int looks;
	/* Signals: per function (when it has them) and system-wide, as the histograms. */
	struct lps_func_signals *sstart, *sobs;
	struct lps_func_signals sys_base, sys_start;
	struct lps_hist runq_base, runq_start;
	double sys_base_s;
	bool sys_ok;
	/* Functions whose module was not loaded when it appeared: not measured, said why. */
	size_t *waiting;		/* indices into watch.fns */
	size_t nwaiting;
	/* Functions of the patch no probe could be set up for: not judged, said in the audit trail. */
	char **unprobed;
	size_t nunprobed;
	char unprobed_why[300];
	char reason[512];		/* a reason made for this patch (the unprobed policy) */
	/* Left half-judged by a killed run and found disabled: our revert was under way. */
	bool resumed_disabled;
	struct watch_judgement *next;
};

/* What the daemon last did with a patch: its state in metrics, status and the state file. */
enum patch_state {
	PATCH_TRANSITION,	/* appeared; its transition runs */
	PATCH_OBSERVING,	/* patched; its observe window runs */
	PATCH_KEPT,
	PATCH_REVERTED,
	PATCH_GONE,		/* went away without our revert */
	PATCH_FAILED,		/* our revert did not finish */
	PATCH_PRESENT,		/* there before the daemon started: watched, not judged */
	PATCH_JUDGING,		/* left half-judged by a previous run: judged again */
	PATCH_STATE_NR,
};

const char *patch_state__name(enum patch_state s);
/* The state a name read from a file stands for; unknown names read as PATCH_GONE. */
enum patch_state patch_state__parse(const char *name);
/* Transition or observing: a restart must judge it again. */
bool patch_state__judging(enum patch_state s);

struct watch_patch {
	char name[WATCH_NAME_MAX];
	enum patch_state state;
	enum verdict verdict;
	bool judged;
	double at;			/* unix seconds of the last change */
};

/*
 * A module some watched functions live in, as last seen in sysfs. Each load
 * has its own /sys/module/NAME/initstate node: its inode tells one load from
 * the next, even when the module went and came back between two ticks.
 */
struct watch_mod {
	char name[WATCH_MODULE_MAX];
	bool live;			/* loaded and initialised: its functions are traced */
	unsigned long ino;		/* of the load the probes are on (0: none) */
	double since;			/* unix seconds of the last change */
	char why[300];			/* why its functions could not be traced at its last arrival */
};

/* What the module is now: live (and which load), or not (absent, coming or going). */
struct mod_seen {
	bool live;
	unsigned long ino;
};

/* What to do about a module at a tick. */
enum mod_change {
	MOD_SAME,
	MOD_ARRIVED,	/* trace its waiting functions */
	MOD_LEFT,	/* release its probes */
	MOD_RELOADED,	/* gone and back between two ticks: release, then trace afresh */
};

struct watch {
	struct watch_args a;
	struct rules rules;
	struct rules_set def;
	char kernel[65];
	struct watch_fn *fns;
	size_t nfns, capfns;
	struct watch_group **groups;
	size_t ngroups;
	struct watch_mod *mods;
	size_t nmods;
	const char *module_root;	/* /sys/module (NULL), replaceable for tests */
	struct watch_judgement *judging;
	struct watch_patch *patches;
	size_t npatches;
	struct klp_watch kw;
	int kmsg_fd, log_err;
	struct self_cost sc;		/* BPF run-time statistics on while the daemon runs */
	struct audit audit;
	struct watch_sys sys;
	struct control_server ctl;	/* the control socket; ctl.lfd -1 when not listening */
	struct watch_client *clients;
	/* The loop's own health: time between the starts of consecutive ticks. */
	double tick_last, tick_max;
	__u64 ticks, ticks_late;	/* late: over twice tick_s */
	double started, tick_s;
	__u64 verdicts[3];		/* by enum verdict */
	__u64 reverts, revert_failures, state_saves, state_errors;
	/* Functions that could not be probed: of an appearing patch, or a budget's again. */
	__u64 probe_failures;
	int state_fd;			/* the state directory, checked once (watch_state.h) */
	int lock_fd;			/* its watch.lock, held while the daemon runs (control.h) */
	/* Why there is no control socket, for status.json: gates cannot reach us. "" when listening. */
	char control_error[320];
	int state_err, status_err;	/* -errno of the last failed write of each, 0 when fine */
	/*
	 * Baselines of the state file whose functions are not traced now (not
	 * in this kernel's symbols yet: a module not loaded). Kept, saved again,
	 * and taken up when the function is traced later.
	 */
	struct state_baseline *kept;
	size_t nkept;
	bool dirty;			/* state changed since the last save */
	bool polled;			/* sysfs read once: later patches really appeared */
	double last_read;		/* when the probes were last read */
};

/* The daemon (watch_loop.c): runs until SIGTERM/SIGINT; the exit code. */
int watch__run(struct watch_args *a);

/* Judgement (watch_judge.c): a patch appeared, every tick, and when it is done. */
int watch_judge__start(struct watch *w, const struct klp_patch_entry *p);
/* Advances every judgement; returns after acting on any that finished. */
void watch_judge__tick(struct watch *w);
void watch_judge__feed_log(struct watch *w, const char *text, __u64 ts_usec);
void watch_judge__free_all(struct watch *w);
/*
 * One look of judgement j at now: the evidence of its functions and the
 * system since it began observing, decided by the engine.
 */
void watch_judge__look(struct watch *w, struct watch_judgement *j, double now,
		       struct engine_decision *out);
/* A verdict's record (watch_verdict.c): what the audit trail and a handing gate get. */
struct json_object *watch_verdict__json(const struct watch *w, const struct watch_judgement *j,
				       enum verdict v, const char *action, const char *reason,
				       bool operational);
/* Why a function waiting for its module was not measured. */
void watch_verdict__waiting_why(const struct watch_fn *fn, char *out, size_t len);
/*
 * Once, after the first look at sysfs of a restarted daemon: patches the state
 * file says were half-judged and that are no longer livepatches; finishes an
 * interrupted revert (unload) and writes what it found to the audit trail.
 */
void watch_resume__orphans(struct watch *w);
/* Is this patch being judged? */
bool watch_judge__active(const struct watch *w, const char *patch);
/* The gate client waiting for this patch's verdict, or NULL. */
struct watch_client *watch__client(struct watch *w, const char *patch);
/* Sends doc to the client, closes and frees it. */
void watch__client_done(struct watch *w, struct watch_client *c, struct json_object *doc);

/*
 * Gate clients (watch_clients.c): waits at most timeout_s for the control
 * socket and does its I/O without blocking (a request that parsed is taken
 * on: its module inspected, its functions traced); then loading what is ready.
 */
void watch_clients__io(struct watch *w, double timeout_s);
void watch_clients__serve(struct watch *w);
/* Answers a client with an error (one line in its words) and drops it. */
__attribute__((format(printf, 3, 4)))
void watch_clients__error(struct watch *w, struct watch_client *c, const char *fmt, ...);

/* State file and status.json (watch_persist.c). */
int watch_persist__save(struct watch *w);
/* What a previous run left (baselines and verdicts); functions re-traced. Never fails. */
void watch_persist__restore(struct watch *w);
int watch_persist__status(struct watch *w);
/* A function traced from now on takes up the state file's baseline kept for it, if any. */
void watch_persist__adopt(struct watch *w, struct watch_fn *fn);

/* Model (watch_model.c). A new function record with its rings; -ENOMEM. */
int watch_fn__init(struct watch_fn *fn, const char *name, size_t ring_len);
/*
 * One tick: what fn's probe counted since the last (cum_now less fn->cum),
 * over dt seconds its probes saw (the tick's length, or attached in it).
 */
void watch_fn__push(struct watch_fn *fn, const struct lps_hist *cum_now, double dt);
void watch_fn__free(struct watch_fn *fn);
/* A new reading of fn's probes (counting from their attachment) pushed as one tick. */
void watch_fn__push_probe(struct watch_fn *fn, const struct lps_hist *reading, double dt);
/* Reads every group and pushes each function's tick; -errno said once. */
int watch__read_groups(struct watch *w);
/*
 * Probes on names, dropping (with a warning) any the kernel will not let us
 * trace. objs (NULL, or an entry NULL: where kallsyms finds it) and sympos
 * (NULL: 0) name each function as a patch does: a module's function waits
 * for it. Each is resolved as gate resolves it (targets.h): an alias where
 * ftrace lists another name of its code, by address where several share it.
 */
int watch__add_group_tolerant(struct watch *w, const char **names, const char **objs,
			      unsigned long *sympos, size_t n);
/* Frees groups, functions, patches and the system signals. */
void watch__free_model(struct watch *w);

/* The watched function of that name, or NULL. */
struct watch_fn *watch__find_fn(struct watch *w, const char *name);
/* The record of a patch, created when new; NULL only without memory. */
struct watch_patch *watch__patch(struct watch *w, const char *name);
/*
 * Watches names not yet watched, all or none: probes on each, one group per
 * object; a function of a module that is not loaded (objs as for
 * watch__add_group_tolerant) waits for it. -errno, why says which and why.
 */
int watch__add_group(struct watch *w, const char *const *names, const char *const *objs,
		     const unsigned long *sympos, size_t n, char *why, size_t len);
/*
 * Probes on n functions (indices into w->fns) of one object (module "": vmlinux)
 * that have none now: one group. -errno, why says which and why.
 */
int watch__trace_fns(struct watch *w, const size_t *idx, size_t n, const char *module, char *why,
		     size_t len);
/*
 * A function's CPU budget, percent of a CPU (0: none): --cpu-budget, or the
 * rules' cpu_budget for it. One decision for its probes' method, its ring's
 * length and its windows.
 */
double watch__fn_budget(const struct watch *w, const char *name);
/* Slots of a function's ring: its baseline, and under a budget a whole cycle more. */
size_t watch__ring_len(const struct watch *w, double cpu_budget);
/*
 * Budgets (watch_budget.c): ends the windows and gaps that are due (pausing
 * and resuming probes); when the next is due (INFINITY: none). A group whose
 * probes cannot attach again is released (its module's functions wait for
 * it) or dropped, said and counted in probe_failures.
 */
void watch__budget_tick(struct watch *w, double *next_due);
/* Detaches a group and frees it; its functions have no probes from then on. */
void watch__drop_group(struct watch *w, struct watch_group *g);
/*
 * The functions a patch replaces, each name once, with their objects ("vmlinux"
 * or a module) and sympos: NULL-terminated arrays of pointers into p, and the
 * sympos each; the count or -ENOMEM.
 */
int watch__patch_functions(const struct klp_patch_entry *p, const char ***names,
			   const char ***objs, unsigned long **sympos);
/* Baseline of fn now: its ring (minus the newest tick) or what the state file had. */
bool watch__baseline(const struct watch *w, const struct watch_fn *fn, struct lps_hist *out,
		     double *seconds);

/* The attach method that measured that baseline (ATTACH_AUTO when unknown). */
enum attach_mode watch__baseline_mode(const struct watch *w, const struct watch_fn *fn);
/* The budget that samples fn's probes now, NULL when they stay attached (no budget, or none now). */
const struct budget_set *watch__fn_budget_set(const struct watch_fn *fn);
/* The method that measures fn now. */
enum attach_mode watch__fn_mode(const struct watch_fn *fn);
/* The other name fn's probes sit on (an alias of its code, targets.h), or NULL. */
const char *watch__fn_traced_as(const struct watch_fn *fn);
/* The same for its signals: false when they are not recorded or the ring is too thin. */
bool watch__sig_baseline(const struct watch *w, const struct watch_fn *fn,
			 struct lps_func_signals *out);
/* System signals over the ring (minus the newest tick); false without signals. */
bool watch__sys_baseline(const struct watch *w, struct lps_func_signals *sig, struct lps_hist *runq,
			 double *seconds);

/*
 * Modules (watch_modules.c): functions of a module are traced while it is
 * live and released when it goes (kprobes on a module that is gone never
 * fire again, and the daemon must never keep a module from unloading).
 */
/* Reads root/NAME/initstate (root NULL: /sys/module): 0, or -errno when unreadable. */
int watch_mod__see(const char *root, const char *name, struct mod_seen *out);
/* What changed between the load the probes are on (m) and what is seen now. */
enum mod_change watch_mod__change(const struct watch_mod *m, const struct mod_seen *now);
/* The record of a module, created when new; NULL only without memory. */
struct watch_mod *watch__mod(struct watch *w, const char *name);
/* Once a tick, before the probes are read: follows every module watched functions live in. */
void watch_modules__tick(struct watch *w);
/* Detaches the probes of module name's functions, which wait for it from now on. */
void watch__release_module(struct watch *w, const char *name);
/* The state of fn as status and audit say it: "traced" or "waiting". */
const char *watch_fn__state_name(const struct watch_fn *fn);

/* Metrics (metrics.c): the Prometheus exposition text of w; malloc'd, NULL on ENOMEM. */
char *metrics__render(const struct watch *w, size_t *len);

#endif
