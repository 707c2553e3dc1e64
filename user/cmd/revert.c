// SPDX-License-Identifier: GPL-2.0
/*
 * lpsentinel revert PATCH [--timeout SECONDS] [--force] [--unload] [--json]
 * Disables a livepatch, waits for the unpatch transition, optionally unloads
 * the module. A stalled transition is reported with its blockers and left as
 * the kernel has it; `force` is written only when --force asks for it.
 */
#include <errno.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include "cli.h"
#include "klp_control.h"
#include "klp_report.h"
#include "log.h"
#include "opts.h"

struct revert_args {
	char patch[128];
	double timeout_s;
	bool force, unload, json;
};

static const struct cli_opt revert_opts[] = {
	{ "timeout", 't', "SECONDS", "wait this long for the unpatch (default 60)" },
	{ "force", 'f', NULL, "past the timeout, write force (the module can then never be "
	  "removed)" },
	{ "unload", 'u', NULL, "then remove the module" },
	{ "json", 'j', NULL, "one JSON document on stdout" },
	{ 0 },
};

const struct cli_verb cli_verb_revert = {
	.name = "revert", .args = "PATCH", .opts = revert_opts, .run = do_revert,
	.summary = "Disable a livepatch, wait for the unpatch, optionally unload its module",
	.min_args = 1, .max_args = 1,
	.args_error = "revert needs exactly one PATCH (name or module file)",
};

static int revert_opt(int key, const char *arg, void *data)
{
	struct revert_args *a = data;

	switch (key) {
	case 't':
		return cli__opt_seconds(arg, &a->timeout_s,
					"--timeout wants a positive number of seconds");
	case 'f': a->force = true; break;
	case 'u': a->unload = true; break;
	case 'j': a->json = true; break;
	}
	return 0;
}

static int parse_revert_args(int argc, char **argv, struct revert_args *a)
{
	int first, ret;

	a->timeout_s = 60;
	ret = cli__parse(&cli_verb_revert, argc, argv, revert_opt, a, &first);
	if (!ret)
		klp_patch_name(argv[first], a->patch, sizeof(a->patch));
	return ret;
}

static double since(const struct timespec *t0)
{
	struct timespec t;

	clock_gettime(CLOCK_MONOTONIC, &t);
	return (double)(t.tv_sec - t0->tv_sec) + (double)(t.tv_nsec - t0->tv_nsec) / 1e9;
}

/* The stall report: blockers and stacks on stdout (text or JSON). */
static void report_stall(const struct revert_args *a, const struct klp_patch_entry *p)
{
	struct klp_transition_info t;

	if (klp_transition_info__read(p, &t))
		return;
	if (a->json) {
		struct json_object *doc = json_object_new_object();

		json_object_object_add(doc, "patch", json_object_new_string(a->patch));
		json_object_object_add(doc, "result", json_object_new_string("stalled"));
		json_object_object_add(doc, "state", klp_report__patch_json(p, &t));
		cli__print_json(doc);
		json_object_put(doc);
	} else {
		klp_report__patch_text(stdout, p, &t);
	}
	klp_transition_info__free(&t);
}

static int run_revert(const struct revert_args *a)
{
	const char *root = KLP_SYSFS_ROOT_DEFAULT;
	struct klp_patch_entry p = { 0 };
	bool forced = false, unloaded = false, was_loaded;
	struct timespec t0;
	int ret;

	clock_gettime(CLOCK_MONOTONIC, &t0);
	ret = klp_sysfs__read_patch(root, a->patch, &p);
	was_loaded = ret == 0;
	if (ret == -ENOENT && !(a->unload && klp_control__module_loaded(a->patch))) {
		lps_err("%s: no such livepatch is loaded (nothing under %s)", a->patch, root);
		return CLI_EXIT_ERROR;
	}
	if (ret && ret != -ENOENT) {
		lps_err("%s: cannot read its state: %s", a->patch, strerror(-ret));
		return CLI_EXIT_ERROR;
	}
	/* Enabled (or still patching): 0 starts, or reverses into, the unpatch. */
	if (was_loaded && p.enabled == 1) {
		ret = klp_control__write(root, a->patch, "enabled", "0");
		if (ret) {
			lps_err("%s: the kernel refused to disable it: %s", a->patch, strerror(-ret));
			goto cleanup;
		}
	}
	if (was_loaded)
		ret = klp_control__wait_gone(root, a->patch, a->timeout_s);
	if (ret == -ETIMEDOUT) {
		klp_patch_entry__free(&p);
		if (klp_sysfs__read_patch(root, a->patch, &p) == 0)
			report_stall(a, &p);
		if (!a->force) {
			lps_err("%s: the unpatch transition did not finish in %.0fs; tasks above "
				"still run patched code (left as is; --force would write 'force', "
				"after which the module can never be removed)", a->patch, a->timeout_s);
			goto cleanup;
		}
		/* Asked for: complete the transition whatever the blockers do. */
		ret = klp_control__write(root, a->patch, "force", "1");
		if (ret) {
			lps_err("%s: the kernel refused 'force': %s", a->patch, strerror(-ret));
			goto cleanup;
		}
		forced = true;
		fprintf(stderr, "lpsentinel: warning: %s: forced the transition: tasks that were "
			"blocking it may still run patched code, and the module %s can never be "
			"removed until reboot\n", a->patch, a->patch);
		ret = klp_control__wait_gone(root, a->patch, a->timeout_s);
		if (ret) {
			lps_err("%s: still not unpatched after 'force'", a->patch);
			goto cleanup;
		}
	}
	if (a->unload && !forced) {
		ret = klp_control__unload(a->patch);
		if (ret) {
			lps_err("%s: reverted, but the module cannot be unloaded: %s", a->patch,
				strerror(-ret));
			goto cleanup;
		}
		unloaded = true;
	}
	if (a->json) {
		struct json_object *doc = json_object_new_object();

		json_object_object_add(doc, "patch", json_object_new_string(a->patch));
		json_object_object_add(doc, "result", json_object_new_string("reverted"));
		json_object_object_add(doc, "was_enabled", json_object_new_boolean(was_loaded));
		json_object_object_add(doc, "forced", json_object_new_boolean(forced));
		json_object_object_add(doc, "unloaded", json_object_new_boolean(unloaded));
		json_object_object_add(doc, "elapsed_s", json_object_new_double(since(&t0)));
		cli__print_json(doc);
		json_object_put(doc);
	} else {
		printf("%s: reverted in %.2fs%s%s\n", a->patch, since(&t0),
		       forced ? " (forced: the module stays loaded for good)" : "",
		       unloaded ? ", module unloaded" : "");
	}
	ret = 0;
cleanup:
	klp_patch_entry__free(&p);
	return ret ? CLI_EXIT_ERROR : CLI_EXIT_OK;
}

int do_revert(int argc, char **argv)
{
	struct revert_args a = { 0 };
	int ret = parse_revert_args(argc, argv, &a);

	if (ret > 0)
		return CLI_EXIT_OK;
	if (ret)
		return CLI_EXIT_USAGE;
	if (geteuid() != 0) {
		lps_err("permission denied: reverting a livepatch needs root");
		return CLI_EXIT_ERROR;
	}
	return run_revert(&a);
}
