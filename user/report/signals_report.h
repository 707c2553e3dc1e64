/* SPDX-License-Identifier: GPL-2.0 */
/* The health signals as JSON fields and text lines, for trace and gate. */
#ifndef LPS_SIGNALS_REPORT_H
#define LPS_SIGNALS_REPORT_H

#include <stdio.h>
#include <json-c/json.h>
#include "signals.h"

/* {"lock_contentions", "lock_wait_ns", "page_faults"} */
struct json_object *signals_report__json(const struct lps_func_signals *s);
/* Adds the same three fields to an existing object (a trace function entry). */
void signals_report__add_fields(struct json_object *o, const struct lps_func_signals *s);
/* "    lock contentions N (X waited), page faults N" */
void signals_report__text(FILE *f, const char *indent, const struct lps_func_signals *s);
/* The system's signals: contention, run queue, what could not be recorded. */
struct json_object *signals_report__system_json(const struct signals_snapshot *s,
						const char *lock_mode);
void signals_report__system_text(FILE *f, const struct signals_snapshot *s);

#endif
