// SPDX-License-Identifier: GPL-2.0
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>
#include "clock.h"
#include "klp_control.h"
#include "kmsg.h"
#include "lifecycle.h"
#include "safe_file.h"

const char *klp_life_state__name(enum klp_life_state s)
{
	static const char *const names[] = {
		[KLP_LIFE_OPENED] = "opened", [KLP_LIFE_PATCHING] = "patching",
		[KLP_LIFE_PATCHED] = "patched", [KLP_LIFE_STALLED] = "stalled",
		[KLP_LIFE_GONE] = "gone", [KLP_LIFE_REVERTED] = "reverted",
		[KLP_LIFE_UNLOADED] = "unloaded", [KLP_LIFE_FAILED] = "failed",
	};

	return (size_t)s < sizeof(names) / sizeof(names[0]) ? names[s] : "?";
}

int klp_life__open(struct klp_life *l, const char *path, struct klp_module_info *mod, char *why,
		   size_t len)
{
	/*
	 * What is loaded runs in the kernel: a module another user could rewrite
	 * between this check and the load, or after a gate passed it, is refused.
	 */
	int fd = safe_file__open(AT_FDCWD, path, SAFE_ROOT_ONLY, SAFE_FILE_MAX_KO, why, len);

	if (fd < 0) {
		memset(l, 0, sizeof(*l));
		l->fd = -1;
		memset(mod, 0, sizeof(*mod));
		return fd;
	}
	return klp_life__open_fd(l, fd, path, mod, why, len);
}

int klp_life__open_fd(struct klp_life *l, int fd, const char *path, struct klp_module_info *mod,
		      char *why, size_t len)
{
	int ret;

	memset(l, 0, sizeof(*l));
	l->root = KLP_SYSFS_ROOT_DEFAULT;
	l->fd = fd;
	/* The checks again for a descriptor a caller opened (the daemon's clients). */
	ret = safe_file__check_fd(l->fd, SAFE_ROOT_ONLY, SAFE_FILE_MAX_KO, why, len);
	if (ret) {
		memset(mod, 0, sizeof(*mod));
		klp_life__close(l);
		return ret;
	}
	ret = klp_module__inspect_fd(l->fd, path, mod, why, len);
	if (ret) {
		klp_life__close(l);
		return ret;
	}
	snprintf(l->patch, sizeof(l->patch), "%s", mod->patch);
	l->state = KLP_LIFE_OPENED;
	return 0;
}

void klp_life__adopt(struct klp_life *l, const char *patch, double t_start)
{
	memset(l, 0, sizeof(*l));
	l->root = KLP_SYSFS_ROOT_DEFAULT;
	l->fd = -1;
	snprintf(l->patch, sizeof(l->patch), "%s", patch);
	l->state = KLP_LIFE_PATCHING;
	l->t_start = t_start;
}

struct load_log {
	const char *patch;
	char text[384];
};

/* Collects what the kernel said about the patch since the load began. */
static int collect_load_log(const char *text, __u64 ts, void *arg)
{
	struct load_log *lg = arg;
	size_t off = strlen(lg->text);

	(void)ts;
	/* Routine lines (the announcement, taint notices) would bury the reason. */
	if (strstr(text, "enabling patch") || strstr(text, "taint") ||
	    (!strstr(text, "livepatch") && !strstr(text, lg->patch)))
		return 0;
	snprintf(lg->text + off, sizeof(lg->text) - off, "%s%s", off ? "; " : "", text);
	return 0;
}

int klp_life__load(struct klp_life *l, char *why, size_t len)
{
	/* Opened before the call: what the kernel says about a refusal follows. */
	int kmsg_fd = kmsg__open("/dev/kmsg", true), ret = 0;
	struct load_log lg = { .patch = l->patch };

	/* The transition starts inside the load (the module's init enables the patch). */
	l->t_start = clock__now_s();
	if (syscall(SYS_finit_module, l->fd, l->params, 0))
		ret = -errno;
	if (!ret) {
		l->state = KLP_LIFE_PATCHING;
		goto cleanup;
	}
	if (kmsg_fd >= 0)
		kmsg__read(kmsg_fd, collect_load_log, &lg);
	/* Refused, yet a module of its name is in: a half-load its caller must take out. */
	if (klp_control__module_loaded(l->patch))
		l->state = KLP_LIFE_GONE;
	snprintf(why, len, "%s: the kernel refused to load it: %s%s%s%s; %s", l->patch,
		 strerror(-ret), lg.text[0] ? " (kernel: " : "", lg.text, lg.text[0] ? ")" : "",
		 klp_control__module_loaded(l->patch) ?
		 "but a module of its name is loaded: see lpsentinel status" :
		 "nothing was left behind");
cleanup:
	if (kmsg_fd >= 0)
		close(kmsg_fd);
	return ret;
}

/* The stall for people and for the report: its age and who blocks it. */
static void describe_stall(struct klp_life *l, double age)
{
	size_t off;

	snprintf(l->detail, sizeof(l->detail), "transition stalled for %.0fs", age);
	if (klp_sysfs__read_patch(l->root, l->patch, &l->stalled))
		return;
	klp_sysfs__fill_patch_stack_order(l->root, &l->stalled, "/proc/modules");
	if (klp_transition_info__read(&l->stalled, &l->stall))
		return;
	l->have_stall = true;
	off = strlen(l->detail);
	for (size_t i = 0; i < l->stall.nblockers && off < sizeof(l->detail); i++)
		off += (size_t)snprintf(l->detail + off, sizeof(l->detail) - off, "%s pid %d (%s)",
					i ? "," : "; blocked by", l->stall.blockers[i].pid,
					l->stall.blockers[i].comm);
}

/* The stall: state, flag and description. */
static int stalled(struct klp_life *l, double age)
{
	l->state = KLP_LIFE_STALLED;
	l->was_stalled = true;
	describe_stall(l, age);
	return -ETIMEDOUT;
}

int klp_life__poll(struct klp_life *l, double timeout_s)
{
	double age = clock__now_s() - l->t_start;
	struct klp_patch_entry p;
	bool done, enabled;
	int ret = klp_sysfs__read_patch(l->root, l->patch, &p);

	/* Read every time, settled or not: a patch can go away while it is observed. */
	if (ret == -ENOENT) {
		l->state = KLP_LIFE_GONE;
		return -ENOENT;
	}
	if (ret)	/* unreadable now (ENOMEM, EMFILE): not a sign of anything; next time */
		return l->state == KLP_LIFE_PATCHED ? 1 : 0;
	done = p.enabled == 1 && p.transition == 0;
	enabled = p.enabled == 1;
	klp_patch_entry__free(&p);
	if (l->state == KLP_LIFE_PATCHED)
		return 1;
	if (done) {
		l->state = KLP_LIFE_PATCHED;
		snprintf(l->detail, sizeof(l->detail), "patching transition completed in %.1fs", age);
		return 1;
	}
	/* Disabled meanwhile: someone reverses it; that is not a stall of the patch. */
	if (enabled && age > timeout_s)
		return stalled(l, age);
	return 0;
}

int klp_life__wait(struct klp_life *l, double timeout_s, bool (*stop)(void))
{
	for (;;) {
		int ret = klp_life__poll(l, timeout_s);

		if (ret)
			return ret > 0 ? 0 : ret;
		if (stop && stop())
			return -EINTR;
		/* Whoever disabled it meanwhile, a waiter has a deadline all the same. */
		if (clock__now_s() - l->t_start > timeout_s)
			return stalled(l, clock__now_s() - l->t_start);
		clock__nap(0.05);
	}
}

void klp_life__close(struct klp_life *l)
{
	if (l->fd >= 0)
		close(l->fd);
	l->fd = -1;
	klp_transition_info__free(&l->stall);	/* both safe on zeroed structs */
	klp_patch_entry__free(&l->stalled);
	l->have_stall = false;
}

/* The unpatch stalled: keep who blocks it, for the caller's report. */
static void keep_stall(const char *root, const char *patch, struct klp_revert_result *r)
{
	klp_revert_result__free(r);
	if (klp_sysfs__read_patch(root, patch, &r->stalled))
		return;
	klp_sysfs__fill_patch_stack_order(root, &r->stalled, "/proc/modules");
	r->have_stall = !klp_transition_info__read(&r->stalled, &r->stall);
}

const char *klp_revert_call__name(enum klp_revert_call c)
{
	static const char *const names[] = {
		[KLP_CALL_NONE] = "nothing", [KLP_CALL_DISABLE] = "writing 0 to enabled",
		[KLP_CALL_FORCE] = "writing force", [KLP_CALL_UNLOAD] = "delete_module",
		[KLP_CALL_STALL] = "reading the stalled tasks' stacks",
	};

	return (size_t)c < sizeof(names) / sizeof(names[0]) ? names[c] : "?";
}

/* Times one kernel call of a revert: the slowest is named when the revert overruns. */
static void timed(struct klp_revert_result *r, enum klp_revert_call c, double t0)
{
	double took = clock__now_s() - t0;

	r->calls_s += took;
	if (took > r->slow_s) {
		r->slow_s = took;
		r->slow_call = c;
	}
}

int klp_life__revert(const char *root, const char *patch, const struct klp_revert_opts *o,
		     struct klp_revert_result *r)
{
	double t0 = clock__now_s(), deadline = t0 + o->timeout_s, t;
	struct klp_patch_entry p;
	int ret;

	memset(r, 0, sizeof(*r));
	r->bound_s = o->timeout_s;
	ret = klp_sysfs__read_patch(root, patch, &p);
	r->was_loaded = !ret;
	if (ret && ret != -ENOENT) {	/* unreadable is not "not loaded" */
		r->failed = KLP_REVERT_READ;
		goto out;
	}
	/* Enabled (or still patching): 0 starts, or reverses into, the unpatch. */
	if (r->was_loaded && p.enabled == 1) {
		t = clock__now_s();
		ret = klp_control__write(root, patch, "enabled", "0");
		timed(r, KLP_CALL_DISABLE, t);
		if (ret && ret != -ENOENT) {
			r->failed = KLP_REVERT_DISABLE;
			goto out;
		}
	}
	ret = r->was_loaded ? klp_control__wait_gone(root, patch, deadline) : 0;
	if (ret == -ETIMEDOUT) {
		/* Past the bound already: what this takes (a stack per task) is said if it overruns. */
		t = clock__now_s();
		keep_stall(root, patch, r);
		timed(r, KLP_CALL_STALL, t);
		if (!o->force) {
			r->failed = KLP_REVERT_WAIT;
			goto out;
		}
		/* Asked for: complete the transition whatever the blockers do. */
		t = clock__now_s();
		ret = klp_control__write(root, patch, "force", "1");
		timed(r, KLP_CALL_FORCE, t);
		r->force_written = !ret;
		if (!ret) {
			/* The forced transition has a bound of its own (documented on --force). */
			r->bound_s += o->timeout_s;
			deadline = clock__now_s() + o->timeout_s;
			ret = klp_control__wait_gone(root, patch, deadline);
		}
		if (ret) {
			r->failed = KLP_REVERT_FORCE;
			goto out;
		}
		r->forced = true;
	}
	/* After a force the kernel keeps a reference for good: no unload then. */
	if (o->unload && !r->forced && klp_control__module_loaded(patch)) {
		t = clock__now_s();
		ret = klp_control__unload(patch, deadline);
		timed(r, KLP_CALL_UNLOAD, t);
		if (ret) {
			r->failed = KLP_REVERT_UNLOAD;
			goto out;
		}
		r->unloaded = true;
	}
	ret = 0;
out:
	if (r->was_loaded)
		klp_patch_entry__free(&p);
	r->err = ret;
	r->elapsed_s = clock__now_s() - t0;
	return ret;
}

bool klp_revert_result__overrun(const struct klp_revert_result *r, char *buf, size_t len)
{
	if (len)
		buf[0] = '\0';
	if (r->elapsed_s <= r->bound_s + KLP_REVERT_SLACK_S)
		return false;
	/* Our waits stop at the bound: what ran past it was a kernel call not returning. */
	if (r->slow_call != KLP_CALL_NONE)
		snprintf(buf, len, "revert took %.1f s, over the %.0f s bound: %s %s %.1f s",
			 r->elapsed_s, r->bound_s, klp_revert_call__name(r->slow_call),
			 r->slow_call == KLP_CALL_STALL ? "took" : "did not return for", r->slow_s);
	else
		snprintf(buf, len, "revert took %.1f s, over the %.0f s bound", r->elapsed_s,
			 r->bound_s);
	return true;
}

int klp_life__take_out(struct klp_life *l, double timeout_s, char *why, size_t len)
{
	struct klp_revert_opts o = { .timeout_s = timeout_s, .unload = true };
	struct klp_revert_result r;
	int ret = klp_life__revert(l->root, l->patch, &o, &r);

	klp_revert_result__overrun(&r, l->overrun, sizeof(l->overrun));
	if (ret)
		klp_revert_result__why(&r, l->patch, &o, why, len);
	l->state = !ret ? KLP_LIFE_UNLOADED : klp_revert_result__unpatched(&r) ? KLP_LIFE_REVERTED :
		   KLP_LIFE_FAILED;
	klp_revert_result__free(&r);
	return ret;
}

bool klp_revert_result__unpatched(const struct klp_revert_result *r)
{
	return r->failed == KLP_REVERT_DONE || r->failed == KLP_REVERT_UNLOAD;
}

void klp_revert_result__why(const struct klp_revert_result *r, const char *patch,
			    const struct klp_revert_opts *o, char *buf, size_t len)
{
	switch (r->failed) {
	case KLP_REVERT_DONE:
		snprintf(buf, len, "%s: reverted", patch);
		break;
	case KLP_REVERT_READ:
		snprintf(buf, len, "%s: cannot read its state: %s", patch, strerror(-r->err));
		break;
	case KLP_REVERT_DISABLE:
		snprintf(buf, len, "%s: the kernel refused to disable it (writing 0 to enabled: %s): "
			 "it is still enabled and its module loaded; see lpsentinel status, and "
			 "lpsentinel revert %s%s tries again", patch, strerror(-r->err), patch,
			 o->unload ? " --unload" : "");
		break;
	case KLP_REVERT_WAIT:
		snprintf(buf, len, "%s: the unpatch transition did not finish in %.0fs; tasks still "
			 "run patched code (left as is, module loaded; see lpsentinel status%s)", patch,
			 o->timeout_s, o->force ? "" : "; lpsentinel revert --force would write 'force', "
			 "after which the module can never be removed");
		break;
	case KLP_REVERT_FORCE:
		if (r->force_written)
			snprintf(buf, len, "%s: still not unpatched after 'force'", patch);
		else
			snprintf(buf, len, "%s: the kernel refused 'force': %s", patch,
				 strerror(-r->err));
		break;
	case KLP_REVERT_UNLOAD:
		snprintf(buf, len, "%s: reverted, but the module cannot be unloaded: %s (it stays "
			 "loaded, unpatched; lpsentinel revert %s --unload tries again)", patch,
			 strerror(-r->err), patch);
		break;
	}
}

void klp_revert_result__free(struct klp_revert_result *r)
{
	klp_transition_info__free(&r->stall);
	klp_patch_entry__free(&r->stalled);
	r->have_stall = false;
}
