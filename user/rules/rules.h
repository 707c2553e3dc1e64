/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Gate rules (rules/default.yaml, parsed with libyaml): defaults, then
 * per-function overrides matched by glob, applied in file order.
 */
#ifndef LPS_RULES_H
#define LPS_RULES_H

#include <stdbool.h>
#include <stddef.h>
#include <yaml.h>
#include "rules_set.h"


struct rules {
	yaml_document_t doc;	/* kept: overrides are applied from its nodes */
	bool loaded;
	struct rules_set defaults;
	int *overrides;		/* node ids of the functions: entries */
	char **globs;
	size_t noverrides;
	const char **watch;	/* watch: functions the daemon keeps baselines for */
	size_t nwatch;
};

/* Built-in defaults, the same as rules/default.yaml ships. */
void rules__builtin(struct rules_set *s);
/* Parses and validates path; on error why says "path:line: reason". */
int rules__load(const char *path, struct rules *r, char *why, size_t len);
/*
 * The rules of path, or the built-in ones when path is NULL; *def gets their
 * defaults. On error why says "path:line: reason" and nothing is kept.
 */
int rules__load_or_builtin(const char *path, struct rules *r, struct rules_set *def, char *why,
			   size_t len);
/* The rules for one function: defaults, then every matching override. */
void rules__for_function(const struct rules *r, const char *func, struct rules_set *out);
void rules__free(struct rules *r);

#endif
