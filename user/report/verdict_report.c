// SPDX-License-Identifier: GPL-2.0
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
		json_object_array_add(arr, o);
	}
	return arr;
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
