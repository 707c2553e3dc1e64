/* SPDX-License-Identifier: GPL-2.0 */
/* Livepatch state for people and programs: patches, transitions, blockers. */
#ifndef LPS_KLP_REPORT_H
#define LPS_KLP_REPORT_H

#include <stdio.h>
#include <json-c/json.h>
#include "klp_sysfs.h"
#include "klp_tasks.h"

struct json_object *klp_report__patch_json(const struct klp_patch_entry *p,
					   const struct klp_transition_info *t);
void klp_report__patch_text(FILE *f, const struct klp_patch_entry *p,
			    const struct klp_transition_info *t);
void klp_report__blockers_text(FILE *f, const struct klp_transition_info *t);

#endif
