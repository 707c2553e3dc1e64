// SPDX-License-Identifier: GPL-2.0
#include <errno.h>
#include <fcntl.h>
#include <fnmatch.h>
#include <math.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "rules.h"
#include "rules_yaml.h"
#include "safe_file.h"
#include "text.h"

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

/*
 * Every setting, with the range it is accepted in (docs/design.md lists
 * them): check "" is the top level of defaults: and of a functions: entry.
 * Adding a setting is one line here.
 */
enum setting_kind { SET_BOOL, SET_DOUBLE, SET_COUNT };
#define RS(field) offsetof(struct rules_set, field)
#define DAY 86400
#define COUNT_MAX 1e12	/* whole numbers: far above any window's events, exact in a double */
static const struct setting {
	const char *check, *key;
	enum setting_kind kind;
	size_t off;
	double min, max;
} settings[] = {
	{ "", "baseline_s", SET_DOUBLE, RS(baseline_s), 0.1, DAY },
	{ "", "observe_s", SET_DOUBLE, RS(observe_s), 0.1, DAY },
	{ "", "transition_timeout_s", SET_DOUBLE, RS(transition_timeout_s), 0.1, DAY },
	{ "", "revert_timeout_s", SET_DOUBLE, RS(revert_timeout_s), 0.1, DAY },
	{ "", "look_interval_s", SET_DOUBLE, RS(look_interval_s), 0.1, 3600 },
	{ "", "min_calls", SET_COUNT, RS(min_calls), 1, COUNT_MAX },
	{ "", "alpha", SET_DOUBLE, RS(alpha), 1e-12, 0.5 },
	{ "", "cpu_budget", SET_DOUBLE, RS(cpu_budget_pct), 0, 100 },
	{ "latency", "enabled", SET_BOOL, RS(latency.enabled), 0, 0 },
	{ "latency", "ratio", SET_DOUBLE, RS(latency.ratio), 1, 1e6 },
	{ "latency", "min_delta_ns", SET_DOUBLE, RS(latency.min_delta_ns), 0, 1e12 },
	{ "errors", "enabled", SET_BOOL, RS(errors.enabled), 0, 0 },
	{ "errors", "min_errors", SET_COUNT, RS(errors.min_errors), 0, COUNT_MAX },
	{ "errors", "rate_increase", SET_DOUBLE, RS(errors.rate_increase), 0, 1 },
	{ "lock_contention", "enabled", SET_BOOL, RS(lock_contention.enabled), 0, 0 },
	{ "lock_contention", "min_events", SET_COUNT, RS(lock_contention.min_events), 0, COUNT_MAX },
	{ "lock_contention", "rate_increase", SET_DOUBLE, RS(lock_contention.rate_increase), 0, 1e6 },
	{ "lock_contention", "sys_ratio", SET_DOUBLE, RS(lock_contention.sys_ratio), 1, 1e6 },
	{ "lock_contention", "sys_min_events", SET_COUNT, RS(lock_contention.sys_min_events), 0,
	  COUNT_MAX },
	{ "kernel_faults", "enabled", SET_BOOL, RS(kernel_faults.enabled), 0, 0 },
	{ "kernel_faults", "max_events", SET_COUNT, RS(kernel_faults.max_events), 0, COUNT_MAX },
	{ "kernel_faults", "min_page_faults", SET_COUNT, RS(kernel_faults.min_page_faults), 0,
	  COUNT_MAX },
	{ "kernel_faults", "page_fault_rate_increase", SET_DOUBLE,
	  RS(kernel_faults.page_fault_rate_increase), 0, 1e6 },
	{ "runqueue_latency", "enabled", SET_BOOL, RS(runqueue_latency.enabled), 0, 0 },
	{ "runqueue_latency", "ratio", SET_DOUBLE, RS(runqueue_latency.ratio), 1, 1e6 },
	{ "runqueue_latency", "min_delta_ns", SET_DOUBLE, RS(runqueue_latency.min_delta_ns), 0, 1e12 },
};
#define NSETTINGS (sizeof(settings) / sizeof(settings[0]))

static const struct setting *find_setting(const char *check, const char *key)
{
	for (size_t i = 0; i < NSETTINGS; i++)
		if (!strcmp(settings[i].check, check) && (!key || !strcmp(settings[i].key, key)))
			return &settings[i];
	return NULL;
}

struct ctx {
	const char *path;
	yaml_document_t *doc;
	char *why;
	size_t len;
};

static int bad(const struct ctx *c, const yaml_node_t *n, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

/* Every message names the file and line (the loader keeps scalars printable: one line). */
static int bad(const struct ctx *c, const yaml_node_t *n, const char *fmt, ...)
{
	char msg[200];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	snprintf(c->why, c->len, "%s:%zu: %s", c->path, n ? n->start_mark.line + 1 : 1, msg);
	return -EINVAL;
}

/* A scalar's text, else NULL. Keys always have one: rules_yaml__load refuses other keys. */
static const char *scalar(const yaml_node_t *n)
{
	return n && n->type == YAML_SCALAR_NODE ? (const char *)n->data.scalar.value : NULL;
}

/*
 * Numbers are plain decimals: no sign, no spaces, no hex, inf or nan, and no
 * leading zero (YAML 1.1 reads 010 as octal 8). A count has digits only.
 */
static bool decimal(const char *s, bool whole)
{
	size_t n = strspn(s, "0123456789");

	if (!n || (s[0] == '0' && n > 1))
		return false;
	s += n;
	if (whole)
		return !*s;
	if (*s == '.') {
		n = strspn(++s, "0123456789");
		if (!n)
			return false;
		s += n;
	}
	if (*s == 'e' || *s == 'E') {
		s += s[1] == '-' || s[1] == '+' ? 2 : 1;
		n = strspn(s, "0123456789");
		if (!n)
			return false;
		s += n;
	}
	return !*s;
}

static int get_value(const struct ctx *c, const yaml_node_t *n, const struct setting *st,
		     struct rules_set *s)
{
	const char *v = scalar(n);
	char *field = (char *)s + st->off;
	double d;

	if (st->kind == SET_BOOL) {
		if (v && (!strcmp(v, "true") || !strcmp(v, "yes")))
			*(bool *)field = true;
		else if (v && (!strcmp(v, "false") || !strcmp(v, "no")))
			*(bool *)field = false;
		else
			return bad(c, n, "%s: expected true or false", st->key);
		return 0;
	}
	errno = 0;
	d = v && decimal(v, st->kind == SET_COUNT) ? strtod(v, NULL) : NAN;
	if (errno || !isfinite(d) || d < st->min || d > st->max) {
		if (!v)
			v = "(not a scalar)";
		return bad(c, n, "%s: '%.40s' is not a %s in [%g, %g]", st->key, v,
			   st->kind == SET_COUNT ? "whole number" : "number", st->min, st->max);
	}
	if (st->kind == SET_COUNT)
		*(__u64 *)field = (__u64)d;
	else
		*(double *)field = d;
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
	int ret;

	if (map->type != YAML_MAPPING_NODE)
		return bad(c, map, "check '%s' must be a mapping", name);
	FOR_PAIRS(c, map, k, v) {
		const struct setting *st = find_setting(name, scalar(k));

		if (!st)
			return bad(c, k, "unknown setting '%.64s' for check '%s'", scalar(k), name);
		ret = get_value(c, v, st, s);
		if (ret)
			return ret;
	}
	return 0;
}

/* Keys of defaults: and of each functions: entry (which also has match:). */
static int apply(const struct ctx *c, yaml_node_t *map, struct rules_set *s, bool is_override)
{
	yaml_node_t *k, *v, *ck, *cv;
	int ret;

	if (map->type != YAML_MAPPING_NODE)
		return bad(c, map, "expected a mapping of settings");
	FOR_PAIRS(c, map, k, v) {
		const char *key = scalar(k), *p = scalar(v);
		const struct setting *st = find_setting("", key);

		if (st) {
			ret = get_value(c, v, st, s);
			if (ret)
				return ret;
		} else if (is_override && !strcmp(key, "match")) {
			continue;
		} else if (!strcmp(key, "inconclusive")) {
			if (p && (!strcmp(p, "keep") || !strcmp(p, "revert")))
				s->inconclusive_revert = !strcmp(p, "revert");
			else
				return bad(c, v, "inconclusive is keep or revert");
		} else if (!strcmp(key, "checks")) {
			if (v->type != YAML_MAPPING_NODE)
				return bad(c, v, "checks must be a mapping");
			FOR_PAIRS(c, v, ck, cv) {
				const char *name = scalar(ck);

				if (!*name || !find_setting(name, NULL))
					return bad(c, ck, "unknown check '%.64s' (latency, errors, "
						   "lock_contention, kernel_faults, runqueue_latency)",
						   name);
				ret = apply_check(c, name, cv, s);
				if (ret)
					return ret;
			}
		} else {
			return bad(c, k, "unknown setting '%.64s'", key);
		}
	}
	return 0;
}

/*
 * A list section (functions:, watch:) of at most max items: room(r, n) makes
 * room for its n items, then each goes to item() in order with its node id.
 * what: the section's name. Each section is read once (the loader refuses a
 * key given twice), so room() never replaces a list.
 */
static int read_list(const struct ctx *c, const yaml_node_t *seq, struct rules *r,
		     const char *what, size_t max, int (*room)(struct rules *r, size_t n),
		     int (*item)(const struct ctx *c, yaml_node_t *e, int id, struct rules *r))
{
	const yaml_node_item_t *it;
	size_t n;
	int ret;

	if (seq->type != YAML_SEQUENCE_NODE)
		return bad(c, seq, "%s must be a list", what);
	it = seq->data.sequence.items.start;
	n = (size_t)(seq->data.sequence.items.top - it);
	if (n > max)
		return bad(c, seq, "%s has %zu entries, more than %zu", what, n, max);
	ret = room(r, n);
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

/* A glob over symbol names: their characters and fnmatch's *, ?, [...], ! and ^. */
static bool glob_ok(const char *g)
{
	size_t n = strlen(g);

	return n && n <= TEXT_SYMBOL_MAX &&
	       strspn(g, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789_.$*?[]!^-") == n;
}

/* functions: one entry, a mapping with match: and settings that override the defaults. */
static int functions_item(const struct ctx *c, yaml_node_t *e, int id, struct rules *r)
{
	struct rules_set scratch = r->defaults;
	yaml_node_t *k, *v, *match = NULL;
	int ret;

	if (e->type != YAML_MAPPING_NODE)
		return bad(c, e, "each functions entry is a mapping with match:");
	FOR_PAIRS(c, e, k, v)
		if (!strcmp(scalar(k), "match"))
			match = v;
	if (!match)
		return bad(c, e, "functions entry without a match: glob");
	if (!scalar(match) || !glob_ok(scalar(match)))
		return bad(c, match, "match: '%.64s' is not a glob of symbol names "
			   "([A-Za-z0-9_.$] and *?[]!^-, at most %d bytes)",
			   scalar(match) ? scalar(match) : "", TEXT_SYMBOL_MAX);
	ret = apply(c, e, &scratch, true);	/* validates it now, not at gate time */
	if (ret)
		return ret;
	r->overrides[r->noverrides] = id;
	r->globs[r->noverrides++] = (char *)scalar(match);
	return 0;
}

static int watch_room(struct rules *r, size_t n)
{
	r->watch = calloc(n + 1, sizeof(*r->watch));
	r->nwatch = 0;
	return r->watch ? 0 : -ENOMEM;
}

/* watch: the functions the daemon keeps baselines for, a list of names. */
static int watch_item(const struct ctx *c, yaml_node_t *e, int id, struct rules *r)
{
	const char *name = scalar(e);

	(void)id;
	if (!name || !text__is_symbol(name))
		return bad(c, e, "watch entry '%.64s' is not a kernel symbol name "
			   "([A-Za-z0-9_.$], at most %d bytes)", name ? name : "", TEXT_SYMBOL_MAX);
	r->watch[r->nwatch++] = name;
	return 0;
}

size_t rules__ring_slots(double baseline_s, double look_interval_s)
{
	return (size_t)ceil(baseline_s / look_interval_s) + 1;
}

double rules__ring_bytes(const struct rules_set *def, size_t nfuncs)
{
	return (double)(nfuncs + 1) * (double)rules__ring_slots(def->baseline_s, def->look_interval_s) *
	       (double)RULES_RING_SLOT_BYTES;
}

/*
 * The daemon keeps baseline_s of look_interval_s slots per watched function:
 * a day at 0.1 s would be 3.8 GB for one. Refused at the defaults: line.
 */
static int check_memory(const struct ctx *c, const yaml_node_t *at, const struct rules *r)
{
	const struct rules_set *d = &r->defaults;
	double bytes = rules__ring_bytes(d, r->nwatch);

	if (bytes <= (double)RULES_MAX_RING_BYTES)
		return 0;
	return bad(c, at, "baseline rings need %.0f MiB, more than %lu: (%zu watched + the system) x "
		   "%zu slots (baseline_s / look_interval_s + 1) x %zu bytes", bytes / (1 << 20),
		   RULES_MAX_RING_BYTES >> 20, r->nwatch,
		   rules__ring_slots(d->baseline_s, d->look_interval_s), RULES_RING_SLOT_BYTES);
}

int rules__parse(const char *name, const char *buf, size_t size, struct rules *r, char *why,
		 size_t len)
{
	struct ctx c = { .path = name, .doc = &r->doc, .why = why, .len = len };
	yaml_node_t *root, *k, *v, *defaults = NULL;
	int ret;

	memset(r, 0, sizeof(*r));
	rules__builtin(&r->defaults);
	ret = rules_yaml__load(name, buf, size, &r->doc, why, len);
	if (ret)
		return ret;
	r->loaded = true;
	root = yaml_document_get_root_node(&r->doc);
	if (!root)
		ret = bad(&c, NULL, "empty rules file");
	else if (root->type != YAML_MAPPING_NODE)
		ret = bad(&c, root, "the top level must be a mapping (defaults:, functions:, watch:)");
	else
		FOR_PAIRS(&c, root, k, v) {
			const char *key = scalar(k);

			if (!strcmp(key, "defaults"))
				ret = apply(&c, defaults = v, &r->defaults, false);
			else if (!strcmp(key, "functions"))
				ret = read_list(&c, v, r, "functions", RULES_MAX_OVERRIDES,
						functions_room, functions_item);
			else if (!strcmp(key, "watch"))
				ret = read_list(&c, v, r, "watch", RULES_MAX_WATCH, watch_room,
						watch_item);
			else
				ret = bad(&c, k, "unknown section '%.64s' (defaults, functions, watch)",
					  key);
			if (ret)
				break;
		}
	if (!ret)
		ret = check_memory(&c, defaults ? defaults : root, r);
	if (ret)
		rules__free(r);
	return ret;
}

int rules__load(const char *path, struct rules *r, char *why, size_t len)
{
	char *buf = NULL, msg[200];
	size_t size;
	int ret;

	memset(r, 0, sizeof(*r));
	ret = safe_file__read(AT_FDCWD, path, 0, SAFE_FILE_MAX_TEXT, &buf, &size, msg, sizeof(msg));
	if (ret) {
		snprintf(why, len, "%s: %s", path, msg);
		return ret;
	}
	ret = rules__parse(path, buf, size, r, why, len);
	free(buf);
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
