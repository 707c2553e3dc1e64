// SPDX-License-Identifier: GPL-2.0
/*
 * Following the modules watched functions live in. A livepatch can replace
 * functions of a module that is not loaded yet (the kernel patches them when
 * it arrives); the daemon cannot trace them before. And a probe on a module
 * must not outlive it: a kprobe on a module that went is gone for good (it
 * never fires on the next load), and nothing of the daemon may keep a module
 * from unloading. So every tick, for each such module, one small sysfs read
 * (/sys/module/NAME/initstate): a module that became live gets probes on its
 * functions, one that left (or came back as a new load) has them released.
 * The functions' counters carry over from one load to the next.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <syslog.h>
#include <unistd.h>
#include "clock.h"
#include "hist.h"
#include "log.h"
#include "text.h"
#include "watch.h"

int watch_mod__see(const char *root, const char *name, struct mod_seen *out)
{
	char path[512], buf[16];
	struct stat st;
	ssize_t n;
	int fd;

	out->live = false;
	out->ino = 0;
	if (!text__is_module(name))
		return -EINVAL;
	snprintf(path, sizeof(path), "%s/%s/initstate", root ? root : "/sys/module", name);
	fd = open(path, O_RDONLY | O_CLOEXEC | O_NONBLOCK | O_NOFOLLOW);
	if (fd < 0)	/* not loaded (or built in: no livepatch object can name that) */
		return errno == ENOENT ? 0 : -errno;
	if (fstat(fd, &st)) {
		close(fd);
		return -errno;
	}
	n = read(fd, buf, sizeof(buf) - 1);
	close(fd);
	if (n < 0)	/* going away while we read: not live */
		return errno == ENODEV || errno == ENOENT ? 0 : -errno;
	buf[n] = 0;
	out->live = !strcmp(buf, "live\n") || !strcmp(buf, "live");
	out->ino = out->live ? (unsigned long)st.st_ino : 0;
	return 0;
}

enum mod_change watch_mod__change(const struct watch_mod *m, const struct mod_seen *now)
{
	if (!m->ino)
		return now->live ? MOD_ARRIVED : MOD_SAME;
	if (!now->live)
		return MOD_LEFT;
	return now->ino == m->ino ? MOD_SAME : MOD_RELOADED;
}

struct watch_mod *watch__mod(struct watch *w, const char *name)
{
	struct watch_mod *v;

	for (size_t i = 0; i < w->nmods; i++)
		if (!strcmp(w->mods[i].name, name))
			return &w->mods[i];
	v = realloc(w->mods, (w->nmods + 1) * sizeof(*v));
	if (!v)
		return NULL;
	w->mods = v;
	v = &w->mods[w->nmods++];
	memset(v, 0, sizeof(*v));
	snprintf(v->name, sizeof(v->name), "%s", name);
	v->since = clock__unix_s();
	return v;
}

void watch__release_module(struct watch *w, const char *name)
{
	double now = clock__unix_s();
	size_t n = 0;

	for (size_t gi = w->ngroups; gi-- > 0;) {
		struct watch_group *g = w->groups[gi];
		bool read;

		if (strcmp(g->module, name))
			continue;
		/* The maps outlive the module: its last calls are read before they go. */
		read = g->ps && !probe_set__read(g->ps, g->buf);
		for (size_t i = 0; i < g->n; i++) {
			struct watch_fn *fn = &w->fns[g->fn[i]];

			if (read) {
				fn->cum = g->buf[i];
				hist_add(&fn->cum, &fn->carry);
			}
			fn->carry = fn->cum;
			/* Its baseline was of the load that went: the next load's is its own. */
			ring__reset(&fn->tick);
			fn->state = FN_WAITING;
			fn->since = now;
			n++;
		}
		watch__drop_group(w, g);
	}
	if (n) {
		fprintf(stderr, "lpsentinel watch: module %s unloaded: the probes on its %zu "
			"function%s released; traced again when it loads\n", name, n,
			n == 1 ? "" : "s");
		syslog(LOG_NOTICE, "module %s unloaded: probes on %zu functions released", name, n);
	}
}

/* Probes on the functions waiting for m, which just became live (load seen). */
static void arrived(struct watch *w, struct watch_mod *m, const struct mod_seen *seen)
{
	size_t *idx = calloc(w->nfns + 1, sizeof(*idx)), n = 0;
	int ret;

	m->live = true;
	m->ino = seen->ino;
	m->since = clock__unix_s();
	m->why[0] = 0;
	for (size_t i = 0; idx && i < w->nfns; i++)
		if (w->fns[i].state == FN_WAITING && !strcmp(w->fns[i].module, m->name))
			idx[n++] = i;
	if (!n) {
		free(idx);
		return;
	}
	ret = idx ? watch__trace_fns(w, idx, n, m->name, m->why, sizeof(m->why)) : -ENOMEM;
	if (ret) {
		if (!idx)
			snprintf(m->why, sizeof(m->why), "out of memory");
		/* Not tried again on every tick: on its next load. */
		lps_warn("module %s loaded, but its functions cannot be traced: %s", m->name, m->why);
	} else {
		fprintf(stderr, "lpsentinel watch: module %s loaded: tracing its %zu function%s "
			"(%s%s)\n", m->name, n, n == 1 ? "" : "s", w->fns[idx[0]].name,
			n > 1 ? ", ..." : "");
		syslog(LOG_NOTICE, "module %s loaded: tracing %zu functions", m->name, n);
	}
	free(idx);
}

void watch_modules__tick(struct watch *w)
{
	for (size_t i = 0; i < w->nmods; i++) {
		struct watch_mod *m = &w->mods[i];
		struct mod_seen seen;

		if (watch_mod__see(w->module_root, m->name, &seen))
			continue;	/* unreadable now: nothing changes */
		switch (watch_mod__change(m, &seen)) {
		case MOD_SAME:
			m->live = seen.live;
			break;
		case MOD_LEFT:
			watch__release_module(w, m->name);
			m->live = false;
			m->ino = 0;
			m->since = clock__unix_s();
			break;
		case MOD_RELOADED:
			watch__release_module(w, m->name);
			/* the new load is traced afresh */
			/* fall through */
		case MOD_ARRIVED:
			arrived(w, m, &seen);
			break;
		}
	}
}
