// SPDX-License-Identifier: GPL-2.0
/* What pool prints: the docs/verbs.md JSON document, or text, from the same decision. */
#include <stdio.h>
#include <string.h>
#include "cli.h"
#include "hist.h"
#include "pool.h"
#include "report.h"
#include "verdict_report.h"

/* Function i's windows summed over the hosts (the pooled evidence people read). */
static size_t pooled(const struct pool_input *in, size_t i, struct lps_hist *b, struct lps_hist *o)
{
	size_t hosts = 0;

	memset(b, 0, sizeof(*b));
	memset(o, 0, sizeof(*o));
	for (size_t h = 0; h < in->k; h++) {
		const struct func_window *wb = &in->base[i * in->k + h], *wo = &in->obs[i * in->k + h];

		if (!wb->none)
			hist_add(b, wb->hist);
		hist_add(o, wo->hist);
		hosts += !wb->none;
	}
	return hosts;
}

static const char *action_name(const struct pool_input *in)
{
	return engine_action__name(in->d.action == ENGINE_INCONCLUSIVE ? ENGINE_REVERT : in->d.action);
}

static void print_json(const struct pool_input *in, size_t fleet, size_t previous)
{
	struct json_object *doc = json_object_new_object(), *hosts = json_object_new_array(),
			   *fns = json_object_new_array(), *sys = json_object_new_object();
	struct lps_identity id = in->docs[0].id;
	struct lps_hist b, o;

	id.host[0] = '\0';	/* the patch and kernel are every host's: hosts says who */
	json_object_object_add(doc, "patch", json_object_new_string(id.patch));
	json_object_object_add(doc, "identity", identity__json(&id));
	json_object_object_add(doc, "verdict", json_object_new_string(verdict__name(in->d.verdict)));
	json_object_object_add(doc, "action", json_object_new_string(action_name(in)));
	json_object_object_add(doc, "reason", json_object_new_string(in->d.reason ? in->d.reason : ""));
	/* What stopped it, apart: a rollout's policy may stop on one and not the other. */
	json_object_object_add(doc, "pooled_verdict",
			       json_object_new_string(verdict__name(in->pooled.verdict)));
	json_object_object_add(doc, "pooled_action", json_object_new_string(
		engine_action__name(in->pooled.action == ENGINE_INCONCLUSIVE ? ENGINE_REVERT :
				    in->pooled.action)));
	json_object_object_add(doc, "host_not_kept", in->host_stop_set ?
			       json_object_new_string(in->docs[in->host_stop].id.host) : NULL);
	json_object_object_add(doc, "fleet", json_object_new_uint64(fleet));
	json_object_object_add(doc, "previous", json_object_new_uint64(previous));
	json_object_object_add(doc, "pooled", json_object_new_uint64(in->k));
	/* The share of each check's alpha this look spent (judge__alpha_for_look). */
	json_object_object_add(doc, "alpha_share",
			       json_object_new_double(judge__alpha_for_look(1, in->t_prev, in->t)));
	for (size_t h = 0; h < in->k; h++) {
		struct json_object *o = json_object_new_object();

		json_object_object_add(o, "host", json_object_new_string(in->docs[h].id.host));
		json_object_object_add(o, "file", json_object_new_string(in->files[h]));
		json_object_object_add(o, "verdict", json_object_new_string(in->docs[h].verdict));
		json_object_object_add(o, "action", json_object_new_string(in->docs[h].action));
		json_object_object_add(o, "reason", json_object_new_string(in->docs[h].reason));
		json_object_array_add(hosts, o);
	}
	json_object_object_add(doc, "hosts", hosts);
	for (size_t i = 0; i < in->n; i++) {
		struct json_object *f = json_object_new_object();
		size_t with = pooled(in, i, &b, &o);

		json_object_object_add(f, "function", json_object_new_string(in->names[i]->function));
		json_object_object_add(f, "object", json_object_new_string(in->names[i]->object));
		json_object_object_add(f, "verdict", json_object_new_string(verdict__name(in->fj[i].verdict)));
		json_object_object_add(f, "hosts_with_baseline", json_object_new_uint64(with));
		json_object_object_add(f, "baseline", report__stats_json(&b));
		json_object_object_add(f, "observed", report__stats_json(&o));
		json_object_object_add(f, "checks", verdict_report__checks_json(in->fj[i].checks,
										 in->fj[i].n));
		json_object_array_add(fns, f);
	}
	json_object_object_add(doc, "functions", fns);
	json_object_object_add(sys, "checks", verdict_report__checks_json(in->sysj.checks, in->sysj.n));
	json_object_object_add(doc, "system", sys);
	cli__print_json(doc);
	json_object_put(doc);
}

static void print_text(const struct pool_input *in, size_t fleet, size_t previous)
{
	struct lps_hist b, o;

	printf("pool %s: %s, %s (%s)\n", in->docs[0].id.patch, verdict__name(in->d.verdict),
	       action_name(in), in->d.reason ? in->d.reason : "");
	printf("  %zu host%s of a fleet of %zu, %zu at the previous look: this look spends %.3g "
	       "of each check's alpha\n", in->k, in->k == 1 ? "" : "s", fleet, previous,
	       judge__alpha_for_look(1, in->t_prev, in->t));
	for (size_t h = 0; h < in->k; h++)
		printf("  host %s: %s, %s (%s)\n", in->docs[h].id.host, in->docs[h].verdict,
		       in->docs[h].action, in->docs[h].reason);
	for (size_t k = 0; k < in->sysj.n; k++)
		verdict_report__check_text(stdout, "  ", in->sysj.checks[k].check,
					   verdict__name(in->sysj.checks[k].result),
					   in->sysj.checks[k].detail, in->sysj.checks[k].coverage);
	for (size_t i = 0; i < in->n; i++) {
		size_t with = pooled(in, i, &b, &o);
		char b50[32], o50[32];

		fmt_ns(b50, sizeof(b50), hist_percentile(&b, 0.5));
		fmt_ns(o50, sizeof(o50), hist_percentile(&o, 0.5));
		printf("  %s: %s   %zu host%s with a baseline; before: %llu calls p50 %s   after: "
		       "%llu calls p50 %s\n", in->names[i]->function, verdict__name(in->fj[i].verdict),
		       with, with == 1 ? "" : "s", (unsigned long long)b.calls, b50,
		       (unsigned long long)o.calls, o50);
		for (size_t k = 0; k < in->fj[i].n; k++)
			verdict_report__check_text(stdout, "    ", in->fj[i].checks[k].check,
						   verdict__name(in->fj[i].checks[k].result),
						   in->fj[i].checks[k].detail, in->fj[i].checks[k].coverage);
	}
}

void pool__print(const struct pool_input *in, bool json, size_t fleet, size_t previous)
{
	if (json)
		print_json(in, fleet, previous);
	else
		print_text(in, fleet, previous);
}
