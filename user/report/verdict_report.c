// SPDX-License-Identifier: GPL-2.0
#include <stdio.h>
#include <string.h>
#include "verdict_report.h"

struct json_object *verdict_report__checks_json(const struct check_result *c, size_t n)
{
	struct json_object *arr = json_object_new_array();

	for (size_t i = 0; i < n; i++) {
		struct json_object *o = json_object_new_object();

		json_object_object_add(o, "check", json_object_new_string(c[i].check));
		json_object_object_add(o, "result", json_object_new_string(verdict__name(c[i].result)));
		json_object_object_add(o, "detail", json_object_new_string(c[i].detail));
		json_object_object_add(o, "p", json_object_new_double(c[i].p));
		if (c[i].coverage)
			json_object_object_add(o, "coverage", json_object_new_string(c[i].coverage));
		json_object_array_add(arr, o);
	}
	return arr;
}

void verdict_report__check_text(FILE *f, const char *indent, const char *check,
				const char *result, const char *detail, const char *coverage)
{
	fprintf(f, "%s%-16s %-12s %s\n", indent, check, result, detail);
	if (coverage)
		fprintf(f, "%s%-16s %-12s coverage: %s\n", indent, "", "", coverage);
}

struct json_object *verdict_report__faults_json(const struct kfault_log *l)
{
	struct json_object *arr = json_object_new_array();

	for (size_t i = 0; i < l->n; i++) {
		struct json_object *o = json_object_new_object(), *tr = json_object_new_array();

		json_object_object_add(o, "kind", json_object_new_string(l->v[i].kind));
		json_object_object_add(o, "line", json_object_new_string(l->v[i].line));
		for (size_t k = 0; k < l->v[i].ntrace; k++)
			json_object_array_add(tr, json_object_new_string(l->v[i].trace[k]));
		json_object_object_add(o, "call_trace", tr);
		json_object_array_add(arr, o);
	}
	return arr;
}

struct json_object *verdict_report__system_checks_json(const struct check_result *transition,
							const struct func_judgement *sysj)
{
	struct json_object *arr = verdict_report__checks_json(transition, 1);
	struct json_object *more = verdict_report__checks_json(sysj->checks, sysj->n);

	for (size_t k = 0; k < json_object_array_length(more); k++)
		json_object_array_add(arr, json_object_get(json_object_array_get_idx(more, k)));
	json_object_put(more);
	return arr;
}

/* obj[key] is of type t (or absent, when optional); why names it otherwise. */
static bool field_ok(struct json_object *obj, const char *where, const char *key,
		     enum json_type t, bool optional, char *why, size_t len)
{
	struct json_object *v;

	if (!json_object_object_get_ex(obj, key, &v))
		if (optional)
			return true;
	if (json_object_is_type(v, t) && (v || t == json_type_null))
		return true;
	snprintf(why, len, "%s%s%s is %s, not %s", where, *where ? "." : "", key,
		 v ? json_type_to_name(json_object_get_type(v)) : "null or missing", json_type_to_name(t));
	return false;
}

/* An optional array of checks, each {"check", "result", "detail"} strings, "coverage" maybe. */
static bool checks_ok(struct json_object *obj, const char *where, char *why, size_t len)
{
	struct json_object *arr;
	char at[96];

	if (!field_ok(obj, where, "checks", json_type_array, true, why, len))
		return false;
	if (!json_object_object_get_ex(obj, "checks", &arr))
		return true;
	for (size_t k = 0; k < json_object_array_length(arr); k++) {
		struct json_object *c = json_object_array_get_idx(arr, k);

		snprintf(at, sizeof(at), "%s.checks[%zu]", where, k);
		if (!json_object_is_type(c, json_type_object) || !c) {
			snprintf(why, len, "%s is not an object", at);
			return false;
		}
		if (!field_ok(c, at, "check", json_type_string, false, why, len) ||
		    !field_ok(c, at, "result", json_type_string, false, why, len) ||
		    !field_ok(c, at, "detail", json_type_string, false, why, len) ||
		    !field_ok(c, at, "coverage", json_type_string, true, why, len))
			return false;
	}
	return true;
}

bool verdict_report__check_json(struct json_object *doc, char *why, size_t len)
{
	static const char *const strings[] = { "patch", "verdict", "action", "reason" };
	struct json_object *sys, *fns;
	char at[64];

	if (!json_object_is_type(doc, json_type_object) || !doc) {
		snprintf(why, len, "not a JSON object");
		return false;
	}
	for (size_t i = 0; i < sizeof(strings) / sizeof(strings[0]); i++)
		if (!field_ok(doc, "", strings[i], json_type_string, false, why, len))
			return false;
	if (!field_ok(doc, "", "operational", json_type_boolean, true, why, len) ||
	    !field_ok(doc, "", "system", json_type_object, true, why, len) ||
	    !field_ok(doc, "", "functions", json_type_array, true, why, len))
		return false;
	if (json_object_object_get_ex(doc, "system", &sys) && !checks_ok(sys, "system", why, len))
		return false;
	if (!json_object_object_get_ex(doc, "functions", &fns))
		return true;
	for (size_t i = 0; i < json_object_array_length(fns); i++) {
		struct json_object *f = json_object_array_get_idx(fns, i);

		snprintf(at, sizeof(at), "functions[%zu]", i);
		if (!json_object_is_type(f, json_type_object) || !f) {
			snprintf(why, len, "%s is not an object", at);
			return false;
		}
		if (!field_ok(f, at, "function", json_type_string, false, why, len) ||
		    !field_ok(f, at, "verdict", json_type_string, false, why, len) ||
		    !checks_ok(f, at, why, len))
			return false;
	}
	return true;
}

static void num(struct json_object *o, const char *key, double v)
{
	json_object_object_add(o, key, json_object_new_double(v));
}

void verdict_report__add_thresholds(struct json_object *checks, const struct rules_set *r,
				    double alpha, bool system)
{
	for (size_t k = 0; k < json_object_array_length(checks); k++) {
		struct json_object *c = json_object_array_get_idx(checks, k), *name, *t;
		const char *n;
		bool test = true;	/* a statistical test: alpha applies */

		if (!json_object_object_get_ex(c, "check", &name))
			continue;
		n = json_object_get_string(name);
		t = json_object_new_object();
		if (!strcmp(n, "latency")) {
			num(t, "ratio", r->latency.ratio);
			num(t, "min_delta_ns", r->latency.min_delta_ns);
		} else if (!strcmp(n, "errors")) {
			num(t, "min_errors", (double)r->errors.min_errors);
			num(t, "rate_increase", r->errors.rate_increase);
		} else if (!strcmp(n, "lock_contention") && system) {
			num(t, "sys_ratio", r->lock_contention.sys_ratio);
			num(t, "sys_min_events", (double)r->lock_contention.sys_min_events);
		} else if (!strcmp(n, "lock_contention")) {
			num(t, "min_events", (double)r->lock_contention.min_events);
			num(t, "rate_increase", r->lock_contention.rate_increase);
		} else if (!strcmp(n, "kernel_faults") && system) {
			num(t, "max_events", (double)r->kernel_faults.max_events);
			test = false;
		} else if (!strcmp(n, "kernel_faults")) {
			num(t, "min_page_faults", (double)r->kernel_faults.min_page_faults);
			num(t, "page_fault_rate_increase", r->kernel_faults.page_fault_rate_increase);
		} else if (!strcmp(n, "runqueue_latency")) {
			num(t, "ratio", r->runqueue_latency.ratio);
			num(t, "min_delta_ns", r->runqueue_latency.min_delta_ns);
		} else if (!strcmp(n, "transition")) {
			num(t, "timeout_s", r->transition_timeout_s);
			test = false;
		}
		if (test)
			num(c, "alpha", alpha);
		json_object_object_add(c, "thresholds", t);
	}
}
