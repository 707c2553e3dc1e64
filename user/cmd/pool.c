// SPDX-License-Identifier: GPL-2.0
/*
 * lpsentinel pool VERDICT.json... [--fleet N] [--previous M] [--rules FILE] [--json]
 * One verdict on a patch from the verdicts many hosts wrote on it (gate
 * --json, or the watch daemon's): every function's windows of every host go
 * through the same engine as gate's, each host a stratum compared only with
 * its own before (judge__strata), so a mild regression that no one host's
 * window can call may be called from all of them. Exit 0 keep, 3 revert (a
 * pooled regression, or a host that did not keep it), 1 refused (damaged
 * files, verdicts on different patches or kernel builds, a host twice).
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "cli.h"
#include "engine.h"
#include "hist.h"
#include "log.h"
#include "opts.h"
#include "pool.h"
#include "report.h"
#include "rules.h"
#include "verdict_read.h"
#include "verdict_report.h"

struct pool_args {
	const char *rules_path;
	size_t fleet, previous;		/* 0: not given */
	bool json;
};

enum { OPT_FLEET = 1, OPT_PREVIOUS };

static const struct cli_opt pool_opts[] = {
	{ "fleet", 'n', "N", "hosts the rollout will judge in all: the pooled looks spend alpha "
	  "by the share of them judged (default: these verdicts' hosts, one final look)",
	  OPT_FLEET, .store = CLI_CALL },
	{ "previous", 'p', "M", "hosts pooled at the rollout's previous look (default 0)",
	  OPT_PREVIOUS, .store = CLI_CALL },
	{ "rules", 'r', "FILE", "rules file (default: the built-in rules)",
	  CLI_SET_STRING(struct pool_args, rules_path) },
	{ "json", 'j', NULL, "one JSON document on stdout", CLI_SET_FLAG(struct pool_args, json) },
	{ 0 },
};

const struct cli_verb cli_verb_pool = {
	.name = "pool", .args = "VERDICT.json...", .opts = pool_opts, .run = do_pool,
	.summary = "One verdict on a patch from the verdicts of many hosts: keep, or revert "
		   "everywhere",
	.min_args = 1, .max_args = JUDGE_MAX_STRATA,
	.args_error = "pool needs one to 256 verdict files (see lpsentinel pool --help)",
};

static int pool_opt(int key, const char *arg, void *data)
{
	struct pool_args *a = data;
	char *end;
	unsigned long v;

	errno = 0;
	v = strtoul(arg, &end, 10);
	if (errno || end == arg || *end || arg[0] == '-' || v > 1000000 || (key == OPT_FLEET && !v))
		return cli__usage_error("--%s wants a whole number of hosts%s, not '%s'",
					key == OPT_FLEET ? "fleet" : "previous",
					key == OPT_FLEET ? " above 0" : "", arg);
	if (key == OPT_FLEET)
		a->fleet = v;
	else
		a->previous = v;
	return 0;
}

/* Same patch module, same kernel build, each host once: or one line on why not. */
static int same_thing(const struct pool_input *in, char *why, size_t len)
{
	const struct lps_identity *a = &in->docs[0].id;

	for (size_t h = 0; h < in->k; h++) {
		const struct lps_identity *b = &in->docs[h].id;
		const char *f = in->files[h];

		if (!b->patch[0] || !b->patch_build_id[0] || !b->kernel_build_id[0] || !b->host[0]) {
			snprintf(why, len, "%s: no %s in its identity: cannot tell what it judged", f,
				 !b->patch[0] ? "patch name" : !b->patch_build_id[0] ?
				 "build id of the patch module" : !b->kernel_build_id[0] ?
				 "kernel build id" : "host");
			return -EINVAL;
		}
		if (strcmp(a->patch, b->patch) || strcmp(a->patch_build_id, b->patch_build_id)) {
			snprintf(why, len, "%s judged patch %s (module build %.12s), %s judged %s "
				 "(build %.12s): not the same patch", in->files[0], a->patch,
				 a->patch_build_id, f, b->patch, b->patch_build_id);
			return -EINVAL;
		}
		if (strcmp(a->kernel_build_id, b->kernel_build_id)) {
			snprintf(why, len, "%s ran kernel %s (build %.12s), %s ran %s (build %.12s): "
				 "not the same kernel build", in->files[0], a->release,
				 a->kernel_build_id, f, b->release, b->kernel_build_id);
			return -EINVAL;
		}
		for (size_t e = 0; e < h; e++)
			if (!strcmp(in->docs[e].id.host, b->host)) {
				snprintf(why, len, "%s and %s are both from host %s: each host is "
					 "pooled once", in->files[e], f, b->host);
				return -EINVAL;
			}
	}
	return 0;
}

/* The union of every host's functions, in order of first appearance. */
static int function_union(struct pool_input *in)
{
	size_t cap = 0;

	for (size_t h = 0; h < in->k; h++)
		cap += in->docs[h].n;
	in->names = calloc(cap ? cap : 1, sizeof(*in->names));
	if (!in->names)
		return -ENOMEM;
	for (size_t h = 0; h < in->k; h++)
		for (size_t f = 0; f < in->docs[h].n; f++) {
			const struct verdict_fn *fn = &in->docs[h].fns[f];
			size_t i;

			for (i = 0; i < in->n; i++)
				if (verdict_fn__same(in->names[i], fn))
					break;
			if (i < in->n)
				continue;
			/* One patch build measures the same functions everywhere. */
			if (in->n == VERDICT_READ_MAX_FUNCS)
				return -E2BIG;
			in->names[in->n++] = fn;
		}
	return 0;
}

/* Host h's entry for function i, or NULL when that host did not measure it. */
static const struct verdict_fn *find_fn(const struct verdict_doc *d, const struct verdict_fn *key)
{
	for (size_t f = 0; f < d->n; f++)
		if (verdict_fn__same(&d->fns[f], key))
			return &d->fns[f];
	return NULL;
}

/* The windows the engine judges: function by function, host by host. */
static int windows(struct pool_input *in)
{
	static const struct lps_hist empty;

	in->base = calloc(in->n * in->k + 1, sizeof(*in->base));
	in->obs = calloc(in->n * in->k + 1, sizeof(*in->obs));
	if (!in->base || !in->obs)
		return -ENOMEM;
	for (size_t i = 0; i < in->n; i++)
		for (size_t h = 0; h < in->k; h++) {
			const struct verdict_fn *fn = find_fn(&in->docs[h], in->names[i]);
			struct func_window *b = &in->base[i * in->k + h], *o = &in->obs[i * in->k + h];

			/* A host that did not measure it has no baseline and no calls: left out. */
			b->hist = fn && !fn->none ? &fn->base : &empty;
			b->none = !fn || fn->none;
			o->hist = fn ? &fn->obs : &empty;
			b->sig = fn && fn->signals ? &fn->sbase : NULL;
			o->sig = fn && fn->signals ? &fn->sobs : NULL;
		}
	for (size_t h = 0; h < in->k; h++) {
		in->sys_obs.faults += in->docs[h].sys_faults;
		if (!in->sys_obs.fault_line && in->docs[h].sys_faults)
			in->sys_obs.fault_line = in->docs[h].fault_line;
	}
	return 0;
}

/* The first host that did not keep the patch: its own verdict stops the rollout too. */
static const struct verdict_doc *host_not_kept(const struct pool_input *in, size_t *at)
{
	for (size_t h = 0; h < in->k; h++)
		if (strcmp(in->docs[h].action, "kept")) {
			*at = h;
			return &in->docs[h];
		}
	return NULL;
}

static int judge_pool(struct pool_input *in, const struct pool_args *a, struct rules *rules)
{
	struct engine_look look = { 0 };
	const struct verdict_doc *d;
	size_t fleet = a->fleet ? a->fleet : in->k;

	in->fr = calloc(in->n + 1, sizeof(*in->fr));
	in->fj = calloc(in->n + 1, sizeof(*in->fj));
	if (!in->fr || !in->fj)
		return -ENOMEM;
	for (size_t i = 0; i < in->n; i++)
		if (a->rules_path)
			rules__for_function(rules, in->names[i]->function, &in->fr[i]);
		else
			in->fr[i] = in->def;
	in->t_prev = (double)a->previous / (double)fleet;
	in->t = (double)in->k / (double)fleet;
	look = (struct engine_look){
		.t_prev = in->t_prev, .t = in->t, .observing = true, .n = in->n, .strata = in->k,
		.base = in->base, .obs = in->obs, .fr = in->fr, .sys_base = &in->sys_base,
		.sys_obs = &in->sys_obs, .def = &in->def,
		/* Calls that stopped on a host are that host's verdict, not the pool's. */
		.calls_in_look = 1,
	};
	engine__look(&look, in->fj, &in->sysj, &in->d);
	if (in->d.action == ENGINE_CONTINUE)	/* the engine says nothing to go on with */
		in->d.reason = "no regression so far; more hosts to come";
	in->pooled = in->d;
	d = host_not_kept(in, &in->host_stop);
	in->host_stop_set = d != NULL;
	if (d && in->d.action != ENGINE_REVERT) {
		snprintf(in->reason, sizeof(in->reason), "host %s did not keep it: %s, %s (%s)",
			 d->id.host, d->verdict, d->action, d->reason);
		in->d.action = ENGINE_REVERT;
		if (in->d.verdict < VERDICT_INCONCLUSIVE)
			in->d.verdict = VERDICT_INCONCLUSIVE;
		in->d.reason = in->reason;
	}
	return 0;
}

static void pool_input__free(struct pool_input *in)
{
	for (size_t h = 0; in->docs && h < in->k; h++)
		verdict_doc__free(&in->docs[h]);
	free(in->docs);
	free(in->names);
	free(in->base);
	free(in->obs);
	free(in->fr);
	free(in->fj);
}

int do_pool(int argc, char **argv)
{
	struct pool_args a = { 0 };
	struct pool_input in = { 0 };
	struct rules rules = { 0 };
	char why[512];
	int first, ret;

	ret = cli__parsed(&cli_verb_pool, cli__parse(&cli_verb_pool, argc, argv, pool_opt, &a,
						     &first));
	if (ret != CLI_RUN)
		return ret;
	in.k = (size_t)(argc - first);
	in.files = (const char *const *)argv + first;
	if (a.fleet && (in.k > a.fleet || a.previous >= in.k)) {
		cli__usage_error("--fleet %zu and --previous %zu do not hold %zu hosts (previous < "
				 "hosts <= fleet)", a.fleet, a.previous, in.k);
		return CLI_EXIT_USAGE;
	}
	if (!a.fleet && a.previous) {
		cli__usage_error("--previous needs --fleet");
		return CLI_EXIT_USAGE;
	}
	ret = CLI_EXIT_ERROR;
	if (rules__load_or_builtin(a.rules_path, &rules, &in.def, why, sizeof(why))) {
		lps_err("rules: %s", why);
		goto cleanup;
	}
	in.docs = calloc(in.k, sizeof(*in.docs));
	if (!in.docs) {
		lps_err("out of memory");
		goto cleanup;
	}
	for (size_t h = 0; h < in.k; h++)
		if (verdict_read__file(in.files[h], &in.docs[h], why, sizeof(why))) {
			lps_err("%s: %s", in.files[h], why);
			in.k = h + 1;	/* what was read is freed */
			goto cleanup;
		}
	if (same_thing(&in, why, sizeof(why))) {
		lps_err("%s", why);
		goto cleanup;
	}
	ret = function_union(&in);
	if (ret == -E2BIG) {
		lps_err("the verdicts name more than %d functions between them: not one patch build",
			VERDICT_READ_MAX_FUNCS);
		ret = CLI_EXIT_ERROR;
		goto cleanup;
	}
	ret = CLI_EXIT_ERROR;
	if (in.names == NULL || windows(&in) || judge_pool(&in, &a, &rules)) {
		lps_err("out of memory");
		goto cleanup;
	}
	pool__print(&in, a.json, a.fleet ? a.fleet : in.k, a.previous);
	ret = in.d.action == ENGINE_REVERT || in.d.action == ENGINE_INCONCLUSIVE ?
	      CLI_EXIT_REGRESSED : CLI_EXIT_OK;
cleanup:
	pool_input__free(&in);
	rules__free(&rules);
	return ret;
}
