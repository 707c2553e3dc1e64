// SPDX-License-Identifier: GPL-2.0
/*
 * After a restart: patches a killed run left half-judged (the state file
 * says judging) that are no longer livepatches. The likely story is that
 * the run was killed while reverting: 0 written to enabled, the unpatch
 * finished without it, the module still loaded. The revert is finished
 * (the module unloaded: a disabled livepatch module runs no code of its
 * own) and the audit trail says what was found and done. A half-judged
 * patch that is still a livepatch is judged again instead (watch_judge.c).
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <syslog.h>
#include "clock.h"
#include "klp_control.h"
#include "log.h"
#include "watch.h"

static void record(struct watch *w, struct watch_patch *rec, enum patch_state state,
		   const char *reason)
{
	struct json_object *doc = audit__decision("resumed", w->kernel, rec->name,
						  verdict__name(VERDICT_INCONCLUSIVE),
						  patch_state__name(state), reason, true);
	char summary[768];
	int ret;

	snprintf(summary, sizeof(summary), "patch %s: %s (%s)", rec->name, patch_state__name(state),
		 reason);
	ret = audit__record(&w->audit, doc, state == PATCH_FAILED ? LOG_WARNING : LOG_NOTICE, summary);
	if (ret)
		lps_warn("audit trail: cannot append: %s", strerror(-ret));
	fprintf(stderr, "lpsentinel watch: %s\n", summary);
	json_object_put(doc);
	rec->state = state;
	rec->verdict = VERDICT_INCONCLUSIVE;
	rec->judged = true;
	rec->at = clock__unix_s();
	w->dirty = true;
}

void watch_resume__orphans(struct watch *w)
{
	for (size_t i = 0; i < w->npatches; i++) {
		struct watch_patch *rec = &w->patches[i];
		struct klp_revert_opts o = { .timeout_s = w->def.revert_timeout_s, .unload = true };
		struct klp_revert_result r;
		char why[512], reason[640];

		if (rec->state != PATCH_JUDGING || watch_judge__active(w, rec->name))
			continue;
		if (!klp_control__module_loaded(rec->name)) {
			record(w, rec, PATCH_GONE, "a previous run was killed while judging it, and it "
			       "is gone (not a livepatch any more, module not loaded): nothing to do");
			continue;
		}
		int ret = klp_life__revert(KLP_SYSFS_ROOT_DEFAULT, rec->name, &o, &r);

		if (klp_revert_result__overrun(&r, why, sizeof(why)))
			lps_warn("%s: %s", rec->name, why);
		if (!ret) {
			w->reverts++;
			record(w, rec, PATCH_REVERTED, "a previous run was killed while reverting it "
			       "(disabled, module still loaded); the revert is finished: module unloaded");
		} else {
			klp_revert_result__why(&r, rec->name, &o, why, sizeof(why));
			snprintf(reason, sizeof(reason), "a previous run was killed while reverting it "
				 "(disabled, module still loaded); finishing the revert failed: %s", why);
			w->revert_failures++;
			record(w, rec, PATCH_FAILED, reason);
		}
		klp_revert_result__free(&r);
	}
}
