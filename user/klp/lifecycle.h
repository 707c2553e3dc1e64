/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Where a patch is loaded and reverted: the one lifecycle that gate, the
 * watch daemon, overhead and the revert verb share. A module file is opened
 * once, inspected and loaded from that descriptor (what was judged is what
 * runs); the transition is waited for with a deadline and a stop check; a
 * stall is described (blockers, their stacks, its age); a revert disables,
 * waits, forces only when asked, and unloads with its retry.
 */
#ifndef LPS_LIFECYCLE_H
#define LPS_LIFECYCLE_H

#include <stdbool.h>
#include <stddef.h>
#include "klp_module.h"
#include "klp_params.h"
#include "klp_sysfs.h"
#include "klp_tasks.h"

enum klp_life_state {
	KLP_LIFE_OPENED,	/* the module file is open and inspected; nothing loaded */
	KLP_LIFE_PATCHING,	/* loaded (or seen appearing), transition running */
	KLP_LIFE_PATCHED,	/* enabled, transition complete */
	KLP_LIFE_STALLED,	/* the transition did not complete in time */
	KLP_LIFE_GONE,		/* its sysfs directory went away under us */
	KLP_LIFE_REVERTED,	/* unpatched; the module may still be loaded */
	KLP_LIFE_UNLOADED,	/* unpatched and the module removed */
	KLP_LIFE_FAILED,	/* a revert that did not finish: see lpsentinel status */
};

const char *klp_life_state__name(enum klp_life_state s);

struct klp_life {
	const char *root;		/* /sys/kernel/livepatch */
	char patch[128];		/* the kernel's name for it */
	int fd;				/* the module file; -1 for a patch someone else loaded */
	enum klp_life_state state;
	double t_start;			/* when loaded or first seen (CLOCK_MONOTONIC s) */
	/* Module parameters for the load, checked (klp_params__join); set after open. */
	char params[KLP_PARAMS_MAX];
	/* The transition for people: "patching transition completed in 1.2s", or the stall. */
	char detail[256];
	/* A stalled transition as it stood when it was given up on. */
	struct klp_patch_entry stalled;
	struct klp_transition_info stall;
	bool have_stall;
	bool was_stalled;		/* it stalled: stays true through the revert that follows */
	char overrun[192];		/* take_out ran past its bound: why; empty if not */
};

/*
 * Opens path and inspects that open file into *mod. On failure why says what
 * is wrong in one line; -errno. l->fd is kept for klp_life__load.
 */
int klp_life__open(struct klp_life *l, const char *path, struct klp_module_info *mod, char *why,
		   size_t len);
/* The same with a descriptor the caller opened (safe_file__open); it is l's from then on. */
int klp_life__open_fd(struct klp_life *l, int fd, const char *path, struct klp_module_info *mod,
		      char *why, size_t len);
/* A patch loaded by someone else, first seen at t_start: followed, never loaded by us. */
void klp_life__adopt(struct klp_life *l, const char *patch, double t_start);
/*
 * finit_module from the descriptor, with l->params. On refusal why says the errno, what the
 * kernel logged about it and whether anything was left behind; -errno.
 */
int klp_life__load(struct klp_life *l, char *why, size_t len);
/*
 * One look at the patch: 1 when its transition is complete (read again every
 * time: -ENOENT once it has gone, even after it settled), 0 while running,
 * -ETIMEDOUT once it has run for timeout_s with the patch still enabled (the
 * stall is described in l->detail and l->stall). A refused load that left a
 * module of its name behind leaves l in KLP_LIFE_GONE, for its caller to take out.
 */
int klp_life__poll(struct klp_life *l, double timeout_s);
/*
 * Polls every 50 ms until done (0), gone (-ENOENT), stop() (-EINTR), or
 * timeout_s after the load (-ETIMEDOUT, described as a stall), enabled or not.
 */
int klp_life__wait(struct klp_life *l, double timeout_s, bool (*stop)(void));
void klp_life__close(struct klp_life *l);

enum klp_revert_step {
	KLP_REVERT_DONE,
	KLP_REVERT_READ,	/* its sysfs state could not be read (not: it is not there) */
	KLP_REVERT_DISABLE,	/* writing 0 to enabled failed */
	KLP_REVERT_WAIT,	/* the unpatch transition did not finish in time */
	KLP_REVERT_FORCE,	/* writing force failed, or the forced transition did not finish */
	KLP_REVERT_UNLOAD,	/* unpatched, but the module would not go */
};

/* The kernel calls of a revert that can block: a revert's time beyond its bound is theirs. */
enum klp_revert_call {
	KLP_CALL_NONE,
	KLP_CALL_DISABLE,	/* writing 0 to enabled */
	KLP_CALL_FORCE,		/* writing 1 to force */
	KLP_CALL_UNLOAD,	/* delete_module */
	KLP_CALL_STALL,		/* reading the stalled tasks and their stacks, for the report */
};

const char *klp_revert_call__name(enum klp_revert_call c);

/* What a revert may take beyond its bound for our own last look (a 50 ms poll, a read). */
#define KLP_REVERT_SLACK_S 0.5

struct klp_revert_opts {
	/*
	 * The bound: the whole revert (disable, unpatch wait, unload retries)
	 * stops waiting at timeout_s; after a force the forced transition gets
	 * timeout_s more. Only a kernel call that does not return runs past it.
	 */
	double timeout_s;
	bool force;		/* only when a person asked: the module can never be removed after */
	bool unload;
};

struct klp_revert_result {
	enum klp_revert_step failed;	/* KLP_REVERT_DONE on success */
	int err;			/* -errno of the failed step */
	bool was_loaded, forced, unloaded;
	bool force_written;		/* 'force' was written: the module stays for good, whatever followed */
	double elapsed_s;
	double bound_s;			/* timeout_s, twice once force was written */
	/* The kernel call that took longest to return, and how long: an overrun's cause. */
	enum klp_revert_call slow_call;
	double slow_s;
	double calls_s;			/* all of them: elapsed_s - calls_s never passes the bound */
	/* A stalled unpatch, as it stood when it timed out (have_stall). */
	struct klp_patch_entry stalled;
	struct klp_transition_info stall;
	bool have_stall;
};

/*
 * Disable (a patch already unpatched is fine; a module left loaded is then
 * only unloaded), wait for the unpatch, force if asked and still stalled,
 * unload if asked (never after a force). -errno, with r saying which step.
 */
int klp_life__revert(const char *root, const char *patch, const struct klp_revert_opts *o,
		     struct klp_revert_result *r);
/*
 * Takes a patch we judged back out: revert without force and unload. 0, or
 * -errno with why saying what is left (l->state REVERTED or FAILED). Either
 * way l->overrun says when it ran past timeout_s (klp_revert_result__overrun).
 */
int klp_life__take_out(struct klp_life *l, double timeout_s, char *why, size_t len);
/* One sentence for a failed revert, the same whoever reverted. */
void klp_revert_result__why(const struct klp_revert_result *r, const char *patch,
			    const struct klp_revert_opts *o, char *buf, size_t len);
/*
 * Did it run past its bound (more than KLP_REVERT_SLACK_S)? Then buf says so
 * in one sentence: "revert took 198 s, over the 60 s bound: delete_module did
 * not return for 150 s"; empty otherwise.
 */
bool klp_revert_result__overrun(const struct klp_revert_result *r, char *buf, size_t len);
/* A failed revert leaves the patch in the kernel (reverted may still be true: unload failed). */
bool klp_revert_result__unpatched(const struct klp_revert_result *r);
void klp_revert_result__free(struct klp_revert_result *r);

#endif
