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
#include "report_html.h"
#include "cli.h"
#include "clock.h"
#include "control.h"
#include "gate.h"
#include "log.h"
#include "opts.h"
#include "stop.h"
#include "text.h"
#include "verdict_report.h"

#define BUSY_RETRY_S 60.0

/* A string field of a checked verdict document, escaped for a terminal. */
static const char *str(struct json_object *o, const char *key, char *buf, size_t len)
{
	return text__escape(json_object_get_string(json_object_object_get(o, key)), buf, len);
}

static void print_checks(FILE *out, struct json_object *checks, const char *indent)
{
	char a[256], b[256], c[1024], d[1024];

	for (size_t k = 0; checks && k < json_object_array_length(checks); k++) {
		struct json_object *ck = json_object_array_get_idx(checks, k), *cov;
		bool partial = json_object_object_get_ex(ck, "coverage", &cov);

		verdict_report__check_text(out, indent, str(ck, "check", a, sizeof(a)),
					   str(ck, "result", b, sizeof(b)),
					   str(ck, "detail", c, sizeof(c)),
					   partial ? str(ck, "coverage", d, sizeof(d)) : NULL);
	}
}

int gate__daemon_reply(FILE *out, bool json, struct json_object *doc, char *why, size_t len)
{
	struct json_object *fns = NULL, *sys = NULL, *checks = NULL, *v;
	char a[256], b[64], c[64], d[1024];
	const char *action;
	bool operational;

	if (json_object_object_get_ex(doc, "error", &v)) {
		if (!json_object_is_type(v, json_type_string) || !v)
			snprintf(why, len, "watch daemon: a malformed reply (error is not a string)");
		else
			snprintf(why, len, "watch daemon: %s", str(doc, "error", d, sizeof(d)));
		return CLI_EXIT_ERROR;
	}
	if (!verdict_report__check_json(doc, d, sizeof(d))) {
		snprintf(why, len, "watch daemon: a malformed reply: %s", d);
		return CLI_EXIT_ERROR;
	}
	if (json) {
		fprintf(out, "%s\n", json_object_to_json_string_ext(doc, JSON_C_TO_STRING_PLAIN |
						JSON_C_TO_STRING_NOSLASHESCAPE));
	} else {
		fprintf(out, "gate %s: %s, %s (%s) [judged by the watch daemon]\n",
			str(doc, "patch", a, sizeof(a)), str(doc, "verdict", b, sizeof(b)),
			str(doc, "action", c, sizeof(c)), str(doc, "reason", d, sizeof(d)));
		if (json_object_object_get_ex(doc, "system", &sys))
			json_object_object_get_ex(sys, "checks", &checks);
		print_checks(out, checks, "  ");
		json_object_object_get_ex(doc, "functions", &fns);
		for (size_t i = 0; fns && i < json_object_array_length(fns); i++) {
			struct json_object *f = json_object_array_get_idx(fns, i);

			fprintf(out, "  %s: %s\n", str(f, "function", a, sizeof(a)),
				str(f, "verdict", b, sizeof(b)));
			checks = NULL;
			json_object_object_get_ex(f, "checks", &checks);
			print_checks(out, checks, "    ");
		}
	}
	fflush(out);
	/* As standalone: a revert because it could not be judged is an operational stop (1). */
	action = json_object_get_string(json_object_object_get(doc, "action"));
	operational = json_object_object_get_ex(doc, "operational", &v) &&
		      json_object_get_boolean(v);
	if (!strcmp(action, "kept"))
		return CLI_EXIT_OK;
	if (!strcmp(action, "reverted") && !operational)
		return CLI_EXIT_REGRESSED;
	snprintf(why, len, "%s: %s%s", str(doc, "patch", a, sizeof(a)),
		 str(doc, "reason", d, sizeof(d)),
		 !strcmp(action, "reverted") ? "; the patch was reverted" : "");
	return CLI_EXIT_ERROR;
}

/*
 * A watch daemon runs: hand it the patch, so the functions are probed once,
 * and wait for its verdict. Once handed over the patch is the daemon's: an
 * interrupted gate leaves it to the daemon's judgement.
 */
/* --html for a verdict the daemon made: said when it cannot be written, the verdict stands. */
static void daemon_html(const struct gate_args *a, struct json_object *doc)
{
	char why[768], title[300];

	snprintf(title, sizeof(title), "lpsentinel gate %s (judged by the watch daemon)",
		 a->module);
	if (report_html__from_doc(a->html, title, doc, why, sizeof(why)))
		lps_err("--html %s: %s", a->html, why);
}

int gate__via_daemon(const struct gate_args *a, int fd)
{
	struct json_object *req = json_object_new_object(), *doc;
	char path[4096], rpath[4096], why[1280];
	struct rules rules;
	bool busy = false;
	int ret, said_busy = 0;

	/* Malformed rules are refused here, in gate's own words, as standalone. */
	if (a->rules_path) {
		if (rules__load(a->rules_path, &rules, why, sizeof(why))) {
			lps_err("rules: %s", why);
			ret = CLI_EXIT_ERROR;
			goto out;
		}
		rules__free(&rules);
	}
	if (!realpath(a->module, path) || (a->rules_path && !realpath(a->rules_path, rpath))) {
		lps_err("%s: %s", access(a->module, R_OK) ? a->module : a->rules_path, strerror(errno));
		ret = CLI_EXIT_ERROR;
		goto out;
	}
	json_object_object_add(req, "op", json_object_new_string("gate"));
	json_object_object_add(req, "module", json_object_new_string(path));
	if (a->rules_path)
		json_object_object_add(req, "rules", json_object_new_string(rpath));
	if (a->baseline_s)
		json_object_object_add(req, "baseline_s", json_object_new_double(a->baseline_s));
	if (a->observe_s)
		json_object_object_add(req, "observe_s", json_object_new_double(a->observe_s));
	if (a->param_n) {	/* checked by parse_gate_args, and again by the daemon */
		struct json_object *pv = json_object_new_array();

		for (size_t i = 0; i < a->param_n; i++)
			json_object_array_add(pv, json_object_new_string(a->param_v[i]));
		json_object_object_add(req, "params", pv);
	}
	/* A busy daemon (every request slot taken) is asked again for a minute. */
	for (double t0 = clock__now_s();;) {
		struct json_object *v;
		bool sent;

		/*
		 * A daemon with no slot free closes at once, maybe before the
		 * request is in: its busy line may still be there to read, and a
		 * request it never took can be sent again.
		 */
		ret = control__send(fd, req);
		sent = !ret;
		if (ret && ret != -EPIPE && ret != -ECONNRESET) {
			lps_err("the watch daemon's control socket: %s", strerror(-ret));
			goto out;
		}
		if (!a->json && !busy && sent)
			fprintf(stderr, "gate %s: handed to the watch daemon (%s/%s); waiting for its "
				"verdict\n", a->module, a->state_dir, CONTROL_SOCKET);
		stop__catch_signals();
		doc = control__reply(fd, why, sizeof(why));
		if (!doc && (sent || stop__requested())) {
			if (stop__requested())
				lps_err("interrupted; the watch daemon keeps judging %s (see lpsentinel "
					"status)", a->module);
			else
				lps_err("the watch daemon gave no verdict on %s: %s", a->module, why);
			ret = CLI_EXIT_ERROR;
			goto out;
		}
		busy = !doc || (json_object_object_get_ex(doc, "busy", &v) &&
				json_object_is_type(v, json_type_boolean) &&
				json_object_get_boolean(v));
		if (!busy || clock__now_s() - t0 > BUSY_RETRY_S || stop__requested()) {
			if (doc)
				break;
			lps_err("the watch daemon did not take the request for %s: %s", a->module, why);
			ret = CLI_EXIT_ERROR;
			goto out;
		}
		if (!said_busy++)
			fprintf(stderr, "gate %s: the watch daemon is busy; asking again for up to "
				"%.0f s\n", a->module, BUSY_RETRY_S);
		json_object_put(doc);
		close(fd);
		clock__nap(0.5);
		fd = control__connect(a->state_dir, why, sizeof(why));
		if (fd < 0) {
			lps_err("%s", why);
			ret = CLI_EXIT_ERROR;
			goto out;
		}
	}
	ret = gate__daemon_reply(stdout, a->json, doc, why, sizeof(why));
	if (ret == CLI_EXIT_ERROR)
		lps_err("%s", why);
	else if (a->html)	/* the daemon's verdict, as lpsentinel report renders it */
		daemon_html(a, doc);
	json_object_put(doc);
out:
	json_object_put(req);
	if (fd >= 0)
		close(fd);
	return ret;
}

int gate__refuse_second_judge(const struct gate_args *a, const char *why)
{
	int pid;

	if (!control__daemon_runs(a->state_dir, &pid))
		return CLI_RUN;
	if (pid)
		lps_err("a watch daemon (pid %d) runs on %s but its control socket is unreachable: "
			"%s; use --standalone to judge here anyway", pid, a->state_dir, why);
	else
		lps_err("a watch daemon runs on %s (%s/%s is held) but its control socket is "
			"unreachable: %s; use --standalone to judge here anyway", a->state_dir,
			a->state_dir, CONTROL_LOCK, why);
	return CLI_EXIT_ERROR;
}
