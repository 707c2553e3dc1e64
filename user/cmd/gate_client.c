// SPDX-License-Identifier: GPL-2.0
/*
 * gate with a watch daemon running: the patch is handed to the daemon over
 * its control socket, so its functions are probed once, and gate prints the
 * daemon's verdict with the same exit codes as a standalone gate.
 */
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <json-c/json.h>
#include "cli.h"
#include "control.h"
#include "gate.h"
#include "log.h"
#include "stop.h"

/* The daemon's verdict document, as gate prints it. */
static void print_daemon_verdict(const struct gate_args *a, struct json_object *doc)
{
	struct json_object *fns = NULL, *sys = NULL, *checks = NULL;

	if (a->json) {
		cli__print_json(doc);
		return;
	}
	printf("gate %s: %s, %s (%s) [judged by the watch daemon]\n",
	       json_object_get_string(json_object_object_get(doc, "patch")),
	       json_object_get_string(json_object_object_get(doc, "verdict")),
	       json_object_get_string(json_object_object_get(doc, "action")),
	       json_object_get_string(json_object_object_get(doc, "reason")));
	if (json_object_object_get_ex(doc, "system", &sys))
		json_object_object_get_ex(sys, "checks", &checks);
	for (size_t k = 0; checks && k < json_object_array_length(checks); k++) {
		struct json_object *c = json_object_array_get_idx(checks, k);

		printf("  %-16s %-12s %s\n", json_object_get_string(json_object_object_get(c, "check")),
		       json_object_get_string(json_object_object_get(c, "result")),
		       json_object_get_string(json_object_object_get(c, "detail")));
	}
	json_object_object_get_ex(doc, "functions", &fns);
	for (size_t i = 0; fns && i < json_object_array_length(fns); i++) {
		struct json_object *f = json_object_array_get_idx(fns, i);

		printf("  %s: %s\n", json_object_get_string(json_object_object_get(f, "function")),
		       json_object_get_string(json_object_object_get(f, "verdict")));
		checks = json_object_object_get(f, "checks");
		for (size_t k = 0; checks && k < json_object_array_length(checks); k++) {
			struct json_object *c = json_object_array_get_idx(checks, k);

			printf("    %-16s %-12s %s\n",
			       json_object_get_string(json_object_object_get(c, "check")),
			       json_object_get_string(json_object_object_get(c, "result")),
			       json_object_get_string(json_object_object_get(c, "detail")));
		}
	}
}

/*
 * A watch daemon runs: hand it the patch, so the functions are probed once,
 * and wait for its verdict. Once handed over the patch is the daemon's: an
 * interrupted gate leaves it to the daemon's judgement.
 */
int gate__via_daemon(const struct gate_args *a, int fd)
{
	struct json_object *req = json_object_new_object(), *doc, *v;
	char path[4096], rpath[4096], why[256];
	const char *action;
	bool operational;
	struct rules rules;
	int ret;

	/* Malformed rules are refused here, in gate's own words, as standalone. */
	if (a->rules_path) {
		if (rules__load(a->rules_path, &rules, why, sizeof(why))) {
			lps_err("rules: %s", why);
			json_object_put(req);
			return CLI_EXIT_ERROR;
		}
		rules__free(&rules);
	}
	if (!realpath(a->module, path) || (a->rules_path && !realpath(a->rules_path, rpath))) {
		lps_err("%s: %s", access(a->module, R_OK) ? a->module : a->rules_path, strerror(errno));
		json_object_put(req);
		return CLI_EXIT_ERROR;
	}
	json_object_object_add(req, "op", json_object_new_string("gate"));
	json_object_object_add(req, "module", json_object_new_string(path));
	if (a->rules_path)
		json_object_object_add(req, "rules", json_object_new_string(rpath));
	if (a->baseline_s)
		json_object_object_add(req, "baseline_s", json_object_new_double(a->baseline_s));
	if (a->observe_s)
		json_object_object_add(req, "observe_s", json_object_new_double(a->observe_s));
	ret = control__send(fd, req);
	json_object_put(req);
	if (ret) {
		lps_err("the watch daemon's control socket: %s", strerror(-ret));
		return CLI_EXIT_ERROR;
	}
	if (!a->json)
		fprintf(stderr, "gate %s: handed to the watch daemon (%s/%s); waiting for its verdict\n",
			a->module, a->state_dir, CONTROL_SOCKET);
	stop__catch_signals();
	doc = control__reply(fd);
	if (!doc) {
		lps_err(stop__requested() ? "interrupted; the watch daemon keeps judging %s (see "
			"lpsentinel status)" : "the watch daemon gave no verdict on %s: the connection "
			"closed", a->module);
		return CLI_EXIT_ERROR;
	}
	if (json_object_object_get_ex(doc, "error", &v)) {
		lps_err("watch daemon: %s", json_object_get_string(v));
		json_object_put(doc);
		return CLI_EXIT_ERROR;
	}
	action = json_object_get_string(json_object_object_get(doc, "action"));
	if (!action) {
		lps_err("the watch daemon's reply has no action: %s", json_object_to_json_string(doc));
		json_object_put(doc);
		return CLI_EXIT_ERROR;
	}
	print_daemon_verdict(a, doc);
	/* As standalone: a revert because it could not be judged is an operational stop (1). */
	operational = json_object_object_get_ex(doc, "operational", &v) &&
		      json_object_get_boolean(v);
	ret = !strcmp(action, "kept") ? CLI_EXIT_OK :
	      !strcmp(action, "reverted") && !operational ? CLI_EXIT_REGRESSED : CLI_EXIT_ERROR;
	if (ret == CLI_EXIT_ERROR)
		lps_err("%s: %s%s", a->module,
			json_object_get_string(json_object_object_get(doc, "reason")),
			!strcmp(action, "reverted") ? "; the patch was reverted" : "");
	json_object_put(doc);
	return ret;
}

