// SPDX-License-Identifier: GPL-2.0
/*
 * The daemon's CPU budgets (watch --cpu-budget, cpu_budget in the rules):
 * which functions have one, how long their rings are, and ending their
 * windows and gaps on time between the loop's reads. A group's probes are
 * paused and resumed by its budget_set (budget_set.h); a group whose probes
 * cannot attach again is let go, never the daemon.
 */
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <string.h>
#include "log.h"
#include "clock.h"
#include "watch.h"

double watch__fn_budget(const struct watch *w, const char *name)
{
	struct rules_set fr;

	if (w->a.cpu_budget > 0)
		return w->a.cpu_budget;
	if (!w->rules.loaded)
		return w->def.cpu_budget_pct;
	rules__for_function(&w->rules, name, &fr);
	return fr.cpu_budget_pct;
}

/*
 * The rules' memory estimate (rules__ring_bytes) counts the same slots.
 * Under a budget the ring spans a whole cycle more (the longest gap and a
 * window): a baseline frozen at any moment then holds an attached window,
 * as gate's baseline, which lasts whole cycles, does.
 */
size_t watch__ring_len(const struct watch *w, double cpu_budget)
{
	return rules__ring_slots(w->def.baseline_s + (cpu_budget > 0 ? BUDGET_MAX_GAP_S +
						       BUDGET_WINDOW_S : 0), w->tick_s);
}

void watch__budget_tick(struct watch *w, double *next_due)
{
	*next_due = INFINITY;
	for (size_t gi = 0; gi < w->ngroups; gi++) {
		struct watch_group *g = w->groups[gi];
		struct probe_err perr = { 0 };
		int ret;

		if (!g->bs)
			continue;
		ret = budget_set__tick(g->bs, g->ps, clock__now_s(), &perr);
		if (!ret) {
			*next_due = fmin(*next_due, budget_set__next_due(g->bs));
			continue;
		}
		/*
		 * A probe that cannot attach again: its module went in a gap (the
		 * next module tick would have said so), or the kernel refuses it now.
		 * The group goes, said; the daemon and every other group go on.
		 */
		lps_warn("%s: %s; %s", perr.func[0] ? perr.func : "probes",
			 perr.what[0] ? perr.what : strerror(-ret), g->module[0] ?
			 "its module's functions wait for it" : "its group is no longer watched");
		w->probe_failures += g->n;
		if (g->module[0])
			watch__release_module(w, g->module);
		else
			watch__drop_group(w, g);
		gi--;	/* the groups after it moved down */
	}
}
