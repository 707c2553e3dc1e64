/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Following livepatches as they come and go, by polling sysfs: a patch
 * appears (with its functions), finishes its transition, or goes away (its
 * unpatch completed, or an atomic-replace patch took its place). gate and
 * watch build on this to start tracing a patch's functions the moment it
 * appears.
 */
#ifndef LPS_KLP_WATCH_H
#define LPS_KLP_WATCH_H

#include <stdbool.h>
#include "klp_sysfs.h"

enum klp_event_kind {
	KLP_EV_APPEARED,	/* a new patch directory */
	KLP_EV_SETTLED,		/* its transition finished: enabled and live */
	KLP_EV_GONE,		/* its directory went away */
};

struct klp_event {
	enum klp_event_kind kind;
	const struct klp_patch_entry *patch;	/* GONE: as last seen */
	const char *replaced_by;		/* GONE: the atomic-replace patch, if one */
};

struct klp_watch {
	char root[256];
	struct klp_patch_list prev;
	bool primed;
};

typedef void (*klp_event_fn)(const struct klp_event *ev, void *arg);

void klp_watch__init(struct klp_watch *w, const char *root);
/*
 * Compares sysfs with the last poll and reports every change through fn. The
 * first poll reports what is already there (APPEARED, and SETTLED when done).
 */
int klp_watch__poll(struct klp_watch *w, klp_event_fn fn, void *arg);
void klp_watch__free(struct klp_watch *w);

/*
 * The patch whose code runs for func now: among enabled, settled patches that
 * replace it, the one on top of the stack (highest stack_order). NULL if none.
 */
const struct klp_patch_entry *klp_watch__active_for(const struct klp_patch_list *l,
						    const char *func);

#endif
