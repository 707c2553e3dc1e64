// SPDX-License-Identifier: GPL-2.0
/*
 * lpsentinel status [--json] [--follow] [--state DIR]: every livepatch the
 * kernel holds, who blocks a transition, and what a running watch daemon
 * (with that state dir) watches and decided; --follow reports patches as
 * they come and go.
 */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include "cli.h"
#include "daemon_status.h"
#include "gate_record.h"
#include "klp_report.h"
#include "klp_watch.h"
#include "log.h"
#include "opts.h"
#include "stop.h"

struct follow_ctx {
	bool json;
	struct klp_watch *w;
};

static const char *const event_names[] = {
	[KLP_EV_APPEARED] = "appeared", [KLP_EV_SETTLED] = "settled", [KLP_EV_GONE] = "gone",
};

/* One line per event: JSON lines, or text. */
static void print_event(const struct klp_event *ev, void *arg)
{
	const struct follow_ctx *c = arg;

	if (c->json) {
		struct json_object *o = json_object_new_object();

		json_object_object_add(o, "event", json_object_new_string(event_names[ev->kind]));
		json_object_object_add(o, "patch", json_object_new_string(ev->patch->name));
		if (ev->kind == KLP_EV_GONE)
			json_object_object_add(o, "replaced_by", ev->replaced_by ?
					       json_object_new_string(ev->replaced_by) : NULL);
		else
			json_object_object_add(o, "state", klp_report__patch_json(ev->patch, NULL));
		cli__print_json(o);
		json_object_put(o);
		return;
	}
	printf("%s %s", event_names[ev->kind], ev->patch->name);
	if (ev->kind == KLP_EV_GONE && ev->replaced_by)
		printf(" (replaced by %s)", ev->replaced_by);
	for (size_t i = 0; ev->kind == KLP_EV_APPEARED && i < ev->patch->nobjs; i++)
		for (size_t j = 0; j < ev->patch->objs[i].nfuncs; j++)
			printf(" %s:%s", ev->patch->objs[i].name, ev->patch->objs[i].funcs[j].name);
	printf("\n");
	fflush(stdout);
}

/* --follow: report patches as they appear, settle and go, until a signal. */
static int follow(bool json)
{
	struct timespec nap = { .tv_nsec = 100 * 1000 * 1000 };
	struct klp_watch w;
	struct follow_ctx c = { .json = json, .w = &w };
	int ret = 0;

	stop__catch_signals();
	klp_watch__init(&w, KLP_SYSFS_ROOT_DEFAULT);
	while (!stop__requested()) {
		ret = klp_watch__poll(&w, print_event, &c);
		if (ret) {
			lps_err("cannot read %s: %s", KLP_SYSFS_ROOT_DEFAULT, strerror(-ret));
			break;
		}
		nanosleep(&nap, NULL);
	}
	klp_watch__free(&w);
	return ret ? CLI_EXIT_ERROR : CLI_EXIT_OK;
}

struct status_args {
	bool json, follow;
	const char *state_dir;
};

static const struct cli_opt status_opts[] = {
	{ "json", 'j', NULL, "JSON on stdout (with --follow: one JSON line per event)",
	  CLI_SET_FLAG(struct status_args, json) },
	{ "follow", 'f', NULL, "one line per patch that appears, settles or goes, until a signal",
	  CLI_SET_FLAG(struct status_args, follow) },
	{ "state", 's', "DIR", "a running watch daemon's state directory (default "
	  WATCH_DEFAULT_STATE_DIR ")", CLI_SET_STRING(struct status_args, state_dir) },
	{ 0 },
};

const struct cli_verb cli_verb_status = {
	.name = "status", .args = "", .opts = status_opts, .run = do_status,
	.summary = "Every loaded livepatch, who blocks a transition, and what a running watch "
		   "daemon watches",
	.min_args = 0, .max_args = 0, .args_error = "status takes no arguments, not '%s'",
	.bad_option = "unknown option",
};

int do_status(int argc, char **argv)
{
	struct status_args a = { .state_dir = WATCH_DEFAULT_STATE_DIR };
	struct json_object *doc = NULL, *arr = NULL, *daemon;
	const char *state_dir;
	struct klp_patch_list l = { 0 };
	bool json, follow_mode;
	char why[256];
	int ret;

	ret = cli__parsed(&cli_verb_status,
			  cli__parse(&cli_verb_status, argc, argv, NULL, &a, NULL));
	if (ret != CLI_RUN)
		return ret;
	json = a.json;
	follow_mode = a.follow;
	state_dir = a.state_dir;
	if (access(KLP_SYSFS_ROOT_DEFAULT, F_OK)) {
		lps_err("this kernel has no livepatch support (%s is missing)",
			KLP_SYSFS_ROOT_DEFAULT);
		return CLI_EXIT_ERROR;
	}
	if (follow_mode)
		return follow(json);
	ret = klp_sysfs__list(KLP_SYSFS_ROOT_DEFAULT, &l);
	if (ret == -ENOENT) {
		lps_err("this kernel has no livepatch support (%s is missing)",
			KLP_SYSFS_ROOT_DEFAULT);
		return CLI_EXIT_ERROR;
	}
	if (ret) {
		lps_err("cannot read %s: %s", KLP_SYSFS_ROOT_DEFAULT, strerror(-ret));
		return CLI_EXIT_ERROR;
	}
	klp_sysfs__fill_stack_order(&l, "/proc/modules");
	ret = daemon_status__read(state_dir, &daemon, why, sizeof(why));
	if (ret == -EACCES) {	/* not ours to read (a user's status): the patches still are */
		lps_warn("daemon status: %s/%s: %s; run as root to see the daemon", state_dir,
			 WATCH_STATUS_FILE, why);
	} else if (ret) {
		lps_err("daemon status: %s/%s: %s", state_dir, WATCH_STATUS_FILE, why);
		klp_patch_list__free(&l);
		return CLI_EXIT_ERROR;
	}
	if (json) {
		doc = json_object_new_object();
		arr = json_object_new_array();
		json_object_object_add(doc, "patches", arr);
		json_object_object_add(doc, "daemon", daemon);
	} else if (daemon) {
		daemon_status__text(stdout, daemon);
		json_object_put(daemon);
	}
	if (!json && !l.n) {
		printf("no livepatches loaded\n");
	}
	for (size_t i = 0; i < l.n; i++) {
		struct klp_transition_info t, *tp = NULL;

		if (l.v[i].transition == 1 && !klp_transition_info__read(&l.v[i], &t))
			tp = &t;
		if (json)
			json_object_array_add(arr, klp_report__patch_json(&l.v[i], tp));
		else
			klp_report__patch_text(stdout, &l.v[i], tp);
		if (tp)
			klp_transition_info__free(tp);
	}
	/* Patches a killed gate left half-handled, whatever the kernel lists. */
	if (json) {
		struct json_object *gates = json_object_new_array();

		gate_record__report(NULL, gates);
		json_object_object_add(doc, "gates", gates);
	} else {
		gate_record__report(stdout, NULL);
	}
	if (doc)
		cli__print_json(doc);
	json_object_put(doc);
	klp_patch_list__free(&l);
	return CLI_EXIT_OK;
}
