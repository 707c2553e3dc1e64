// SPDX-License-Identifier: GPL-2.0
/* gate's options (docs/usage.md comes from this table) and its arguments, checked. */
#include "cli.h"
#include "control.h"
#include "daemon_status.h"
#include "gate.h"
#include "klp_params.h"
#include "opts.h"

static const struct cli_opt gate_opts[] = {
	{ "baseline", 'b', "SECONDS", "baseline window before the load (default: the rules')",
	  CLI_SET_SECONDS(struct gate_args, baseline_s, "--baseline wants seconds") },
	{ "observe", 'o', "SECONDS", "observe window after the transition (default: the rules')",
	  CLI_SET_SECONDS(struct gate_args, observe_s, "--observe wants seconds") },
	{ "cpu-budget", 0, "PERCENT", "keep each function's probes under PERCENT of a CPU: "
	  "they sample in windows, and the baseline and observe windows last whole cycles",
	  CLI_SET_PERCENT(struct gate_args, cpu_budget,
			  "--cpu-budget wants a percentage above 0 and at most 100") },
	{ "rules", 'r', "FILE", "rules file (default: the built-in rules)",
	  CLI_SET_STRING(struct gate_args, rules_path) },
	{ "json", 'j', NULL, "one JSON document on stdout", CLI_SET_FLAG(struct gate_args, json) },
	{ "html", 0, "FILE", "also write the verdict as a self-contained HTML report to FILE",
	  CLI_SET_STRING(struct gate_args, html) },
	{ "state", 's', "DIR", "where a running watch daemon's control socket is (default "
	  WATCH_DEFAULT_STATE_DIR ")", CLI_SET_STRING(struct gate_args, state_dir) },
	{ "standalone", 'S', NULL, "judge here even when a watch daemon runs",
	  CLI_SET_FLAG(struct gate_args, standalone) },
	{ 0 },
};

const struct cli_verb cli_verb_gate = {
	.name = "gate", .args = "PATCH.ko", .opts = gate_opts, .run = do_gate, .traces = true,
	.summary = "Baseline, load, observe, judge: keep the patch, or revert and unload it",
	.min_args = 1, .max_args = 1, .args_error = "gate needs exactly one PATCH.ko",
	.rest = "PARAM=VALUE",
};

int gate__parse_args(int argc, char **argv, struct gate_args *a)
{
	int first, rest = cli__rest(&cli_verb_gate, argc, argv), ret;
	char why[256];

	a->state_dir = WATCH_DEFAULT_STATE_DIR;
	ret = cli__parse(&cli_verb_gate, argc, argv, NULL, a, &first);
	if (ret)
		return ret;
	a->module = argv[first];
	/* The module's parameters, checked before anything is probed or loaded. */
	a->param_v = argv + rest;
	a->param_n = (size_t)(argc - rest);
	if (klp_params__join((const char *const *)a->param_v, a->param_n, a->params,
			     sizeof(a->params), why, sizeof(why)))
		return cli__usage_error("gate: %s", why);
	return 0;
}

