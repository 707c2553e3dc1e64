// SPDX-License-Identifier: GPL-2.0
#include <errno.h>
#include <fnmatch.h>
#include <math.h>
#include <stdarg.h>
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
	s->look_interval_s = 1;
	s->min_calls = 200;
	s->alpha = 0.001;
	s->latency.enabled = true;
	s->latency.ratio = 1.5;
	s->latency.min_delta_ns = 20000;
	s->errors.enabled = true;
	s->errors.min_errors = 5;
	s->errors.rate_increase = 0.001;
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
	double d;
	int ret = 0;

	if (map->type != YAML_MAPPING_NODE)
		return bad(c, map, "check '%s' must be a mapping", name);
	FOR_PAIRS(c, map, k, v) {
		const char *key = scalar(k);

		if (!key)
			return bad(c, k, "keys must be plain names");
		if (!strcmp(key, "enabled"))
			ret = get_bool(c, v, !strcmp(name, "latency") ? &s->latency.enabled :
				       &s->errors.enabled);
		else if (!strcmp(name, "latency") && !strcmp(key, "ratio"))
			ret = get_number(c, v, 1, 1e6, &s->latency.ratio);
		else if (!strcmp(name, "latency") && !strcmp(key, "min_delta_ns"))
			ret = get_number(c, v, 0, 1e12, &s->latency.min_delta_ns);
		else if (!strcmp(name, "errors") && !strcmp(key, "min_errors")) {
			ret = get_number(c, v, 0, 1e15, &d);
			s->errors.min_errors = (__u64)d;
		} else if (!strcmp(name, "errors") && !strcmp(key, "rate_increase"))
			ret = get_number(c, v, 0, 1, &s->errors.rate_increase);
		else
			return bad(c, k, "unknown setting '%s' for check '%s'", key, name);
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

				if (!name || (strcmp(name, "latency") && strcmp(name, "errors")))
					return bad(c, ck, "unknown check '%s' (latency, errors)",
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

static int read_functions(const struct ctx *c, yaml_node_t *seq, struct rules *r)
{
	size_t n;

	if (seq->type != YAML_SEQUENCE_NODE)
		return bad(c, seq, "functions must be a list");
	n = (size_t)(seq->data.sequence.items.top - seq->data.sequence.items.start);
	r->overrides = calloc(n ? n : 1, sizeof(*r->overrides));
	r->globs = calloc(n ? n : 1, sizeof(*r->globs));
	if (!r->overrides || !r->globs)
		return -ENOMEM;
	for (size_t i = 0; i < n; i++) {
		int id = seq->data.sequence.items.start[i];
		yaml_node_t *e = yaml_document_get_node(c->doc, id), *k, *v;
		struct rules_set scratch = r->defaults;
		const char *glob = NULL;
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
		r->overrides[i] = id;
		r->globs[i] = (char *)glob;
		r->noverrides = i + 1;
	}
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
			ret = read_functions(&c, v, r);
		else
			ret = bad(&c, k, "unknown section '%s' (defaults, functions)", key ? key : "?");
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
	memset(r, 0, sizeof(*r));
}
