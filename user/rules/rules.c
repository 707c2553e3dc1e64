// SPDX-License-Identifier: GPL-2.0
#include <errno.h>
#include <fnmatch.h>
#include <math.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "rules.h"

void rules__builtin(struct rules_set *s)
{
	memset(s, 0, sizeof(*s));
	s->baseline_s = 10;
	s->observe_s = 10;
	s->transition_timeout_s = 60;
	s->revert_timeout_s = 120;
	s->look_interval_s = 1;
	s->min_calls = 200;
	s->alpha = 0.001;
	s->latency.enabled = true;
	s->latency.ratio = 1.5;
	s->latency.min_delta_ns = 20000;
	s->errors.enabled = true;
	s->errors.min_errors = 5;
	s->errors.rate_increase = 0.001;
	s->lock_contention.enabled = true;
	s->lock_contention.min_events = 20;
	s->lock_contention.rate_increase = 0.001;
	s->lock_contention.sys_ratio = 3;
	s->lock_contention.sys_min_events = 1000;
	s->kernel_faults.enabled = true;
	s->kernel_faults.max_events = 0;
	s->kernel_faults.min_page_faults = 20;
	s->kernel_faults.page_fault_rate_increase = 0.05;
	s->runqueue_latency.enabled = true;
	s->runqueue_latency.ratio = 2;
	s->runqueue_latency.min_delta_ns = 1000000;
}

/* Every setting a check takes: adding a check's setting is one line here. */
enum setting_kind { SET_BOOL, SET_DOUBLE, SET_COUNT };
#define RS(field) offsetof(struct rules_set, field)
static const struct check_setting {
	const char *check, *key;
	enum setting_kind kind;
	size_t off;
	double min, max;
} check_settings[] = {
	{ "latency", "enabled", SET_BOOL, RS(latency.enabled), 0, 0 },
	{ "latency", "ratio", SET_DOUBLE, RS(latency.ratio), 1, 1e6 },
	{ "latency", "min_delta_ns", SET_DOUBLE, RS(latency.min_delta_ns), 0, 1e12 },
	{ "errors", "enabled", SET_BOOL, RS(errors.enabled), 0, 0 },
	{ "errors", "min_errors", SET_COUNT, RS(errors.min_errors), 0, 1e15 },
	{ "errors", "rate_increase", SET_DOUBLE, RS(errors.rate_increase), 0, 1 },
	{ "lock_contention", "enabled", SET_BOOL, RS(lock_contention.enabled), 0, 0 },
	{ "lock_contention", "min_events", SET_COUNT, RS(lock_contention.min_events), 0, 1e15 },
	{ "lock_contention", "rate_increase", SET_DOUBLE, RS(lock_contention.rate_increase), 0, 1e6 },
	{ "lock_contention", "sys_ratio", SET_DOUBLE, RS(lock_contention.sys_ratio), 1, 1e6 },
	{ "lock_contention", "sys_min_events", SET_COUNT, RS(lock_contention.sys_min_events), 0, 1e15 },
	{ "kernel_faults", "enabled", SET_BOOL, RS(kernel_faults.enabled), 0, 0 },
	{ "kernel_faults", "max_events", SET_COUNT, RS(kernel_faults.max_events), 0, 1e15 },
	{ "kernel_faults", "min_page_faults", SET_COUNT, RS(kernel_faults.min_page_faults), 0, 1e15 },
	{ "kernel_faults", "page_fault_rate_increase", SET_DOUBLE,
	  RS(kernel_faults.page_fault_rate_increase), 0, 1e6 },
	{ "runqueue_latency", "enabled", SET_BOOL, RS(runqueue_latency.enabled), 0, 0 },
	{ "runqueue_latency", "ratio", SET_DOUBLE, RS(runqueue_latency.ratio), 1, 1e6 },
	{ "runqueue_latency", "min_delta_ns", SET_DOUBLE, RS(runqueue_latency.min_delta_ns), 0, 1e12 },
};

static bool known_check(const char *name)
{
	for (size_t i = 0; i < sizeof(check_settings) / sizeof(check_settings[0]); i++)
		if (!strcmp(check_settings[i].check, name))
			return true;
	return false;
}

struct ctx {
	const char *path;
	yaml_document_t *doc;
	char *why;
	size_t len;
};

static int bad(const struct ctx *c, const yaml_node_t *n, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

static int bad(const struct ctx *c, const yaml_node_t *n, const char *fmt, ...)
{
	char msg[200];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	snprintf(c->why, c->len, "%s:%zu: %s", c->path, n ? n->start_mark.line + 1 : 0, msg);
	return -EINVAL;
}

static const char *scalar(const yaml_node_t *n)
{
	return n && n->type == YAML_SCALAR_NODE ? (const char *)n->data.scalar.value : NULL;
}

static int get_number(const struct ctx *c, const yaml_node_t *n, double min, double max, double *out)
{
	const char *s = scalar(n);
	char *end;
	double v;

	if (!s)
		return bad(c, n, "expected a number");
	v = strtod(s, &end);
	if (end == s || *end || !isfinite(v) || v < min || v > max)
		return bad(c, n, "'%s' is not a number in [%g, %g]", s, min, max);
	*out = v;
	return 0;
}

static int get_bool(const struct ctx *c, const yaml_node_t *n, bool *out)
{
	const char *s = scalar(n);

	if (s && (!strcmp(s, "true") || !strcmp(s, "yes")))
		*out = true;
	else if (s && (!strcmp(s, "false") || !strcmp(s, "no")))
		*out = false;
	else
		return bad(c, n, "expected true or false");
	return 0;
}

/* Walks a mapping node's pairs, K_ and V_ set to each key and value node. */
#define FOR_PAIRS(c, map, K_, V_)                                                       \
	for (yaml_node_pair_t *p_ = (map)->data.mapping.pairs.start;                    \
	     p_ < (map)->data.mapping.pairs.top &&                                      \
	     ((K_) = yaml_document_get_node((c)->doc, p_->key),                         \
	      (V_) = yaml_document_get_node((c)->doc, p_->value), 1);                   \
	     p_++)

static int apply_check(const struct ctx *c, const char *name, yaml_node_t *map, struct rules_set *s)
{
	yaml_node_t *k, *v;
	int ret = 0;

	if (map->type != YAML_MAPPING_NODE)
		return bad(c, map, "check '%s' must be a mapping", name);
	FOR_PAIRS(c, map, k, v) {
		const char *key = scalar(k);
		const struct check_setting *cs = NULL;
		char *field;
		double d;

		if (!key)
			return bad(c, k, "keys must be plain names");
		for (size_t i = 0; i < sizeof(check_settings) / sizeof(check_settings[0]); i++)
			if (!strcmp(check_settings[i].check, name) && !strcmp(check_settings[i].key, key))
				cs = &check_settings[i];
		if (!cs)
			return bad(c, k, "unknown setting '%s' for check '%s'", key, name);
		field = (char *)s + cs->off;
		if (cs->kind == SET_BOOL) {
			ret = get_bool(c, v, (bool *)field);
		} else {
			ret = get_number(c, v, cs->min, cs->max, &d);
			if (!ret && cs->kind == SET_DOUBLE)
				*(double *)field = d;
			else if (!ret)
				*(__u64 *)field = (__u64)d;
		}
		if (ret)
			return ret;
	}
	return 0;
}

/* Keys of defaults: and of each functions: entry (which also has match:). */
static int apply(const struct ctx *c, yaml_node_t *map, struct rules_set *s, bool is_override)
{
	yaml_node_t *k, *v;
	double d;
	int ret = 0;

	if (map->type != YAML_MAPPING_NODE)
		return bad(c, map, "expected a mapping of settings");
	FOR_PAIRS(c, map, k, v) {
		const char *key = scalar(k);

		if (!key)
			return bad(c, k, "keys must be plain names");
		if (is_override && !strcmp(key, "match"))
			continue;
		if (!strcmp(key, "baseline_s"))
			ret = get_number(c, v, 0.1, 86400, &s->baseline_s);
		else if (!strcmp(key, "observe_s"))
			ret = get_number(c, v, 0.1, 86400, &s->observe_s);
		else if (!strcmp(key, "transition_timeout_s"))
			ret = get_number(c, v, 0.1, 86400, &s->transition_timeout_s);
		else if (!strcmp(key, "revert_timeout_s"))
			ret = get_number(c, v, 0.1, 86400, &s->revert_timeout_s);
		else if (!strcmp(key, "look_interval_s"))
			ret = get_number(c, v, 0.1, 3600, &s->look_interval_s);
		else if (!strcmp(key, "alpha"))
			ret = get_number(c, v, 1e-12, 0.5, &s->alpha);
		else if (!strcmp(key, "min_calls")) {
			ret = get_number(c, v, 1, 1e15, &d);
			s->min_calls = (__u64)d;
		} else if (!strcmp(key, "inconclusive")) {
			const char *p = scalar(v);

			if (p && !strcmp(p, "keep"))
				s->inconclusive_revert = false;
			else if (p && !strcmp(p, "revert"))
				s->inconclusive_revert = true;
			else
				return bad(c, v, "inconclusive is keep or revert");
		} else if (!strcmp(key, "checks")) {
			yaml_node_t *ck, *cv;

			if (v->type != YAML_MAPPING_NODE)
				return bad(c, v, "checks must be a mapping");
			FOR_PAIRS(c, v, ck, cv) {
				const char *name = scalar(ck);

				if (!name || !known_check(name))
					return bad(c, ck, "unknown check '%s' (latency, errors, "
						   "lock_contention, kernel_faults, runqueue_latency)",
						   name ? name : "?");
				ret = apply_check(c, name, cv, s);
				if (ret)
					return ret;
			}
		} else {
			return bad(c, k, "unknown setting '%s'", key);
		}
		if (ret)
			return ret;
	}
	return 0;
}

/*
 * A list section (functions:, watch:): room(r, n) makes room for its n items,
 * then each goes to item() in order with its node id. must: the error when
 * the section is no list.
 */
static int read_list(const struct ctx *c, const yaml_node_t *seq, struct rules *r,
		     const char *must, int (*room)(struct rules *r, size_t n),
		     int (*item)(const struct ctx *c, yaml_node_t *e, int id, struct rules *r))
{
	const yaml_node_item_t *it;
	int ret;

	if (seq->type != YAML_SEQUENCE_NODE)
		return bad(c, seq, "%s", must);
	it = seq->data.sequence.items.start;
	ret = room(r, (size_t)(seq->data.sequence.items.top - it));
	for (; !ret && it < seq->data.sequence.items.top; it++)
		ret = item(c, yaml_document_get_node(c->doc, *it), *it, r);
	return ret;
}

static int functions_room(struct rules *r, size_t n)
{
	r->overrides = calloc(n ? n : 1, sizeof(*r->overrides));
	r->globs = calloc(n ? n : 1, sizeof(*r->globs));
	r->noverrides = 0;
	return r->overrides && r->globs ? 0 : -ENOMEM;
}

/* functions: one entry, a mapping with match: and settings that override the defaults. */
static int functions_item(const struct ctx *c, yaml_node_t *e, int id, struct rules *r)
{
	struct rules_set scratch = r->defaults;
	const char *glob = NULL;
	yaml_node_t *k, *v;
	int ret;

	if (!e || e->type != YAML_MAPPING_NODE)
		return bad(c, e, "each functions entry is a mapping with match:");
	FOR_PAIRS(c, e, k, v)
		if (scalar(k) && !strcmp(scalar(k), "match"))
			glob = scalar(v);
	if (!glob || !*glob)
		return bad(c, e, "functions entry without a match: glob");
	ret = apply(c, e, &scratch, true);	/* validates it now, not at gate time */
	if (ret)
		return ret;
	r->overrides[r->noverrides] = id;
	r->globs[r->noverrides++] = (char *)glob;
	return 0;
}

static int watch_room(struct rules *r, size_t n)
{
	r->watch = calloc(n + 1, sizeof(*r->watch));
	return r->watch ? 0 : -ENOMEM;
}

/* watch: the functions the daemon keeps baselines for, a list of names. */
static int watch_item(const struct ctx *c, yaml_node_t *e, int id, struct rules *r)
{
	const char *name = e ? scalar(e) : NULL;

	(void)id;
	if (!name || !*name || strpbrk(name, " \t*?[/"))
		return bad(c, e, "watch entries are plain function names");
	r->watch[r->nwatch++] = name;
	return 0;
}

int rules__load(const char *path, struct rules *r, char *why, size_t len)
{
	struct ctx c = { .path = path, .doc = &r->doc, .why = why, .len = len };
	yaml_parser_t parser;
	yaml_node_t *root, *k, *v;
	FILE *f;
	int ret = 0;

	memset(r, 0, sizeof(*r));
	rules__builtin(&r->defaults);
	f = fopen(path, "r");
	if (!f) {
		snprintf(why, len, "%s: %s", path, strerror(errno));
		return -errno;
	}
	yaml_parser_initialize(&parser);
	yaml_parser_set_input_file(&parser, f);
	if (!yaml_parser_load(&parser, &r->doc)) {
		snprintf(why, len, "%s:%zu: %s", path, parser.problem_mark.line + 1,
			 parser.problem ? parser.problem : "malformed YAML");
		ret = -EINVAL;
		goto out;
	}
	r->loaded = true;
	root = yaml_document_get_root_node(&r->doc);
	if (!root) {
		ret = bad(&c, NULL, "empty rules file");
		goto out;
	}
	if (root->type != YAML_MAPPING_NODE) {
		ret = bad(&c, root, "the top level must be a mapping (defaults:, functions:)");
		goto out;
	}
	FOR_PAIRS(&c, root, k, v) {
		const char *key = scalar(k);

		if (key && !strcmp(key, "defaults"))
			ret = apply(&c, v, &r->defaults, false);
		else if (key && !strcmp(key, "functions"))
			ret = read_list(&c, v, r, "functions must be a list", functions_room,
					functions_item);
		else if (key && !strcmp(key, "watch"))
			ret = read_list(&c, v, r, "watch must be a list of function names", watch_room,
					watch_item);
		else
			ret = bad(&c, k, "unknown section '%s' (defaults, functions, watch)", key ? key : "?");
		if (ret)
			break;
	}
out:
	yaml_parser_delete(&parser);
	fclose(f);
	if (ret)
		rules__free(r);
	return ret;
}

void rules__for_function(const struct rules *r, const char *func, struct rules_set *out)
{
	struct ctx c = { .path = "", .doc = (yaml_document_t *)&r->doc };
	char why[8];

	c.why = why;
	c.len = sizeof(why);
	*out = r->defaults;
	for (size_t i = 0; i < r->noverrides; i++)
		if (!fnmatch(r->globs[i], func, 0))
			apply(&c, yaml_document_get_node(c.doc, r->overrides[i]), out, true);
}

void rules__free(struct rules *r)
{
	if (r->loaded)
		yaml_document_delete(&r->doc);
	free(r->overrides);
	free(r->globs);
	free(r->watch);
	memset(r, 0, sizeof(*r));
}

int rules__load_or_builtin(const char *path, struct rules *r, struct rules_set *def, char *why,
			   size_t len)
{
	int ret;

	if (!path) {
		rules__builtin(def);
		return 0;
	}
	ret = rules__load(path, r, why, len);
	if (!ret)
		*def = r->defaults;
	return ret;
}
