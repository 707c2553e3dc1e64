// SPDX-License-Identifier: GPL-2.0
#include <stdio.h>
#include <string.h>
#include "klp_watch.h"

void klp_watch__init(struct klp_watch *w, const char *root)
{
	memset(w, 0, sizeof(*w));
	snprintf(w->root, sizeof(w->root), "%s", root);
}

static const struct klp_patch_entry *find(const struct klp_patch_list *l, const char *name)
{
	for (size_t i = 0; i < l->n; i++)
		if (!strcmp(l->v[i].name, name))
			return &l->v[i];
	return NULL;
}

/*
 * A patch that vanished while an atomic-replace patch is live was replaced
 * by it (the kernel frees replaced patches once the new one settles). Kernels
 * before 6.11 do not show `replace`; there a vanished patch reads as disabled.
 */
static const char *replacer(const struct klp_patch_list *now, const struct klp_patch_entry *gone)
{
	const struct klp_patch_entry *best = NULL;

	for (size_t i = 0; i < now->n; i++) {
		const struct klp_patch_entry *p = &now->v[i];

		if (p->replace == 1 && p->enabled == 1 && strcmp(p->name, gone->name) &&
		    (!best || p->stack_order > best->stack_order))
			best = p;
	}
	return best ? best->name : NULL;
}

int klp_watch__poll(struct klp_watch *w, klp_event_fn fn, void *arg)
{
	struct klp_patch_list now;
	int ret = klp_sysfs__list(w->root, &now);

	if (ret)
		return ret;
	klp_sysfs__fill_stack_order(&now, "/proc/modules");
	for (size_t i = 0; i < now.n; i++) {
		const struct klp_patch_entry *p = &now.v[i], *old = find(&w->prev, p->name);
		struct klp_event ev = { .patch = p };

		if (!old || !w->primed) {
			ev.kind = KLP_EV_APPEARED;
			fn(&ev, arg);
		}
		if (p->enabled == 1 && p->transition == 0 &&
		    (!old || !w->primed || old->transition == 1)) {
			ev.kind = KLP_EV_SETTLED;
			fn(&ev, arg);
		}
	}
	for (size_t i = 0; w->primed && i < w->prev.n; i++) {
		const struct klp_patch_entry *p = &w->prev.v[i];
		struct klp_event ev = { .kind = KLP_EV_GONE, .patch = p };

		if (find(&now, p->name))
			continue;
		ev.replaced_by = replacer(&now, p);
		fn(&ev, arg);
	}
	klp_patch_list__free(&w->prev);
	w->prev = now;
	w->primed = true;
	return 0;
}

void klp_watch__free(struct klp_watch *w)
{
	klp_patch_list__free(&w->prev);
}

const struct klp_patch_entry *klp_watch__active_for(const struct klp_patch_list *l,
						    const char *func)
{
	const struct klp_patch_entry *top = NULL;

	for (size_t i = 0; i < l->n; i++) {
		const struct klp_patch_entry *p = &l->v[i];

		if (p->enabled == 1 && p->transition == 0 && klp_patch_entry__has_func(p, func) &&
		    (!top || p->stack_order > top->stack_order))
			top = p;
	}
	return top;
}
