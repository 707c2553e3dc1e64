/* SPDX-License-Identifier: GPL-2.0 */
/* The parts of a verdict both gate and watch report: checks and kernel faults as JSON. */
#ifndef LPS_VERDICT_REPORT_H
#define LPS_VERDICT_REPORT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>
#include <json-c/json.h>
#include "judge.h"
#include "kfaults.h"
#include "rules_set.h"

/* [{"check", "result", "detail", "p"}] */
struct json_object *verdict_report__checks_json(const struct check_result *c, size_t n);
/* The system's checks: the transition's first, then those of sysj. */
struct json_object *verdict_report__system_checks_json(const struct check_result *transition,
							const struct func_judgement *sysj);
/*
 * One check as text: "<indent>check result detail", and when it saw only part
 * of what it judges a second line "coverage: ..." (gate, and gate's reading
 * of the daemon's reply).
 */
void verdict_report__check_text(FILE *f, const char *indent, const char *check,
				const char *result, const char *detail, const char *coverage);
/*
 * Adds to each check of checks (an array of checks_json) its settings from
 * r: "thresholds" {"ratio", "min_delta_ns", ...} and, for a statistical
 * test, "alpha" (the share of the last look judged). system: the system's
 * checks, whose lock and fault thresholds differ.
 */
void verdict_report__add_thresholds(struct json_object *checks, const struct rules_set *r,
				    double alpha, bool system);
/* [{"kind", "line", "call_trace": [...]}] */
struct json_object *verdict_report__faults_json(const struct kfault_log *l);

/*
 * A verdict document read back (the daemon's reply to gate): patch, verdict,
 * action and reason strings; operational a boolean; system and functions,
 * when there, of the shapes written above. Anything else: false, why says
 * which field. Every typed accessor on doc is safe after true.
 */
bool verdict_report__check_json(struct json_object *doc, char *why, size_t len);

#endif
