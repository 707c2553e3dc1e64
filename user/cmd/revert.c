// SPDX-License-Identifier: GPL-2.0
/*
 * lpsentinel revert PATCH [--timeout SECONDS] [--force] [--unload] [--json]
 * Disables a livepatch, waits for the unpatch transition, optionally unloads
 * the module. A stalled transition is reported with its blockers and left as
 * the kernel has it; `force` is written only when --force asks for it.
 */
#include <errno.h>
#include <limits.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include "cli.h"
#include "gate_record.h"
#include "klp_control.h"
#include "lifecycle.h"
#include "klp_report.h"
#include "log.h"
#include "opts.h"
#include "text.h"

struct revert_args {
	char patch[128];
	double timeout_s;
	bool force, unload, json;
};

static const struct cli_opt revert_opts[] = {
	{ "timeout", 't', "SECONDS", "the bound for the whole revert (default 60)",
	  CLI_SET_SECONDS(struct revert_args, timeout_s,
			  "--timeout wants a positive number of seconds") },
	{ "force", 'f', NULL, "past the timeout, write force and wait SECONDS more (the module "
	  "can then never be removed)", CLI_SET_FLAG(struct revert_args, force) },
	{ "unload", 'u', NULL, "then remove the module", CLI_SET_FLAG(struct revert_args, unload) },
	{ "json", 'j', NULL, "one JSON document on stdout", CLI_SET_FLAG(struct revert_args, json) },
	{ 0 },
};

const struct cli_verb cli_verb_revert = {
	.name = "revert", .args = "PATCH", .opts = revert_opts, .run = do_revert,
	.summary = "Disable a livepatch, wait for the unpatch, optionally unload its module",
	.min_args = 1, .max_args = 1,
	.args_error = "revert needs exactly one PATCH (name or module file)",
};

static int parse_revert_args(int argc, char **argv, struct revert_args *a)
{
	int first, ret;

	a->timeout_s = 60;
	ret = cli__parse(&cli_verb_revert, argc, argv, NULL, a, &first);
	if (ret)
		return ret;
	klp_patch_name(argv[first], a->patch, sizeof(a->patch));
	/* It names paths under /sys: "..", or a name with a newline, is not a patch. */
	if (!text__is_module(a->patch)) {
		char esc[96];

		lps_err("\"%s\" is not a livepatch name ([A-Za-z0-9_-], at most %d characters)",
			text__escape(a->patch, esc, sizeof(esc)), TEXT_MODULE_MAX);
		return -EINVAL;
	}
	return 0;
}

/* The bound, and when it was overrun which kernel call did not return: in every JSON result. */
static void add_bound_json(struct json_object *doc, const struct klp_revert_result *r)
{
	struct json_object *o = NULL;
	char text[192];

	json_object_object_add(doc, "elapsed_s", json_object_new_double(r->elapsed_s));
	json_object_object_add(doc, "bound_s", json_object_new_double(r->bound_s));
	if (klp_revert_result__overrun(r, text, sizeof(text))) {
		o = json_object_new_object();
		json_object_object_add(o, "call", json_object_new_string(
					       klp_revert_call__name(r->slow_call)));
		json_object_object_add(o, "call_s", json_object_new_double(r->slow_s));
		json_object_object_add(o, "calls_s", json_object_new_double(r->calls_s));
		json_object_object_add(o, "text", json_object_new_string(text));
	}
	json_object_object_add(doc, "overrun", o);
}

/* The stall report: blockers and stacks on stdout (text or JSON). */
static void report_stall(const struct revert_args *a, const struct klp_revert_result *r)
{
	if (!r->have_stall)
		return;
	if (a->json) {
		struct json_object *doc = json_object_new_object();

		json_object_object_add(doc, "patch", json_object_new_string(a->patch));
		json_object_object_add(doc, "result", json_object_new_string("stalled"));
		json_object_object_add(doc, "state", klp_report__patch_json(&r->stalled, &r->stall));
		add_bound_json(doc, r);
		cli__print_json(doc);
		json_object_put(doc);
	} else {
		klp_report__patch_text(stdout, &r->stalled, &r->stall);
	}
}

static int run_revert(const struct revert_args *a)
{
	const char *root = KLP_SYSFS_ROOT_DEFAULT;
	struct klp_revert_opts o = { .timeout_s = a->timeout_s, .force = a->force, .unload = a->unload };
	struct klp_revert_result r;
	char why[512], dir[PATH_MAX], overrun[192];
	int ret;

	snprintf(dir, sizeof(dir), "%s/%s", root, a->patch);
	if (access(dir, F_OK) &&
	    !(a->unload && klp_control__module_loaded(a->patch))) {
		lps_err("%s: no such livepatch is loaded (nothing under %s)", a->patch, root);
		return CLI_EXIT_ERROR;
	}
	/* --unload takes out livepatch modules only, never a module a patch may patch. */
	if (a->unload && klp_control__module_loaded(a->patch) &&
	    klp_control__is_livepatch(a->patch) <= 0) {
		lps_err("%s: not a livepatch module (no K in /sys/module/%s/taint): refused to "
			"unload it", a->patch, a->patch);
		return CLI_EXIT_ERROR;
	}
	ret = klp_life__revert(root, a->patch, &o, &r);
	/* Who blocked the unpatch, whether or not force then got past them. */
	report_stall(a, &r);
	if (r.force_written)
		fprintf(stderr, "lpsentinel: warning: %s: forced the transition: tasks that were "
			"blocking it may still run patched code, and the module %s can never be "
			"removed until reboot\n", a->patch, a->patch);
	/*
	 * Past the bound only when the kernel did not return: said on stderr.
	 * A revert that got the patch out still succeeds (docs/operations.md).
	 */
	if (klp_revert_result__overrun(&r, overrun, sizeof(overrun)))
		lps_warn("%s: %s", a->patch, overrun);
	if (ret) {
		klp_revert_result__why(&r, a->patch, &o, why, sizeof(why));
		lps_err("%s", why);
		/* --json: one document whatever happened; the stall report is it when there was one. */
		if (a->json && !r.have_stall) {
			struct json_object *doc = json_object_new_object();

			json_object_object_add(doc, "patch", json_object_new_string(a->patch));
			json_object_object_add(doc, "result", json_object_new_string("failed"));
			json_object_object_add(doc, "error", json_object_new_string(why));
			add_bound_json(doc, &r);
			cli__print_json(doc);
			json_object_put(doc);
		}
		goto cleanup;
	}
	/* A note a killed gate left (gate_record.h): nothing is half-handled any more. */
	if (r.unloaded || !klp_control__module_loaded(a->patch))
		gate_record__remove(a->patch);
	if (a->json) {
		struct json_object *doc = json_object_new_object();

		json_object_object_add(doc, "patch", json_object_new_string(a->patch));
		json_object_object_add(doc, "result", json_object_new_string("reverted"));
		json_object_object_add(doc, "was_enabled", json_object_new_boolean(r.was_loaded));
		json_object_object_add(doc, "forced", json_object_new_boolean(r.forced));
		json_object_object_add(doc, "unloaded", json_object_new_boolean(r.unloaded));
		add_bound_json(doc, &r);
		cli__print_json(doc);
		json_object_put(doc);
	} else {
		printf("%s: reverted in %.2fs%s%s%s\n", a->patch, r.elapsed_s,
		       r.forced ? " (forced: the module stays loaded for good)" : "",
		       r.unloaded ? ", module unloaded" : "", overrun[0] ? " (over its bound)" : "");
	}
cleanup:
	klp_revert_result__free(&r);
	return ret ? CLI_EXIT_ERROR : CLI_EXIT_OK;
}

int do_revert(int argc, char **argv)
{
	struct revert_args a = { 0 };
	int ret = cli__parsed(&cli_verb_revert, parse_revert_args(argc, argv, &a));

	if (ret != CLI_RUN)
		return ret;
	if (geteuid() != 0) {
		lps_err("permission denied: reverting a livepatch needs root");
		return CLI_EXIT_ERROR;
	}
	return run_revert(&a);
}
