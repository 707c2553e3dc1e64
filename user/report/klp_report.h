/* SPDX-License-Identifier: GPL-2.0 */
/* Livepatch state for people and programs: patches, transitions, blockers. */
#ifndef LPS_KLP_REPORT_H
#define LPS_KLP_REPORT_H

#include <stdio.h>
#include <json-c/json.h>
#include "klp_sysfs.h"
#include "klp_tasks.h"

/* What holds up one patch's transition right now. */
struct klp_transition_info {
	int target;		/* 1 patching, 0 unpatching */
	double elapsed_s;	/* since the kernel logged its start; < 0 unknown */
	struct klp_blocker *blockers;
	size_t nblockers;
};

int klp_transition_info__read(const struct klp_patch_entry *p, struct klp_transition_info *t);
void klp_transition_info__free(struct klp_transition_info *t);

struct json_object *klp_report__patch_json(const struct klp_patch_entry *p,
					   const struct klp_transition_info *t);
void klp_report__patch_text(FILE *f, const struct klp_patch_entry *p,
			    const struct klp_transition_info *t);
void klp_report__blockers_text(FILE *f, const struct klp_transition_info *t);

#endif
