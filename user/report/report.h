/* SPDX-License-Identifier: GPL-2.0 */
/* Turning histograms into what people and programs read: text and JSON. */
#ifndef LPS_REPORT_H
#define LPS_REPORT_H

#include <stdio.h>
#include <json-c/json.h>
#include "lpsentinel.h"
#include "probes.h"

/* The STATS object docs/verbs.md fixes: calls, errors, mean/p50/p90/p99/max, histogram. */
struct json_object *report__stats_json(const struct lps_hist *h);
/* One function's entry in `trace` output: STATS plus who and how it was traced. */
struct json_object *report__function_json(const struct probe_info *info, const struct lps_hist *h);

/* Readable block for one function: summary line and a bar histogram. */
void report__function_text(FILE *f, const struct probe_info *info, const struct lps_hist *h);


#endif
