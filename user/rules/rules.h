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
#include "lpsentinel.h"

/* Longest lists a rules file may hold. */
#define RULES_MAX_WATCH		4096	/* watch: names */
#define RULES_MAX_OVERRIDES	1024	/* functions: entries, each matched against every function */
/* Most memory a rules file may make the watch daemon keep in baseline rings. */
#define RULES_MAX_RING_BYTES	(256UL << 20)
/*
 * What the watch daemon keeps per ring slot (one slot a look_interval_s) for
 * each watched function, and once for the system: a histogram delta, signal
 * counters and the slot's real length (user/daemon/watch_model.c).
 */
#define RULES_RING_SLOT_BYTES \
	(sizeof(struct lps_hist) + sizeof(struct lps_func_signals) + sizeof(double))


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
/*
 * Reads path (a regular file of at most SAFE_FILE_MAX_TEXT bytes; a FIFO or a
 * device is refused without blocking), then rules__parse. On error, -errno
 * and one line in why: "path: reason" when it cannot be read, "path:line:
 * reason" when it is malformed or out of range.
 */
int rules__load(const char *path, struct rules *r, char *why, size_t len);
/* The rules in the size bytes of buf, called name in messages; as rules__load. */
int rules__parse(const char *name, const char *buf, size_t size, struct rules *r, char *why,
		 size_t len);
/* Slots of each baseline ring: baseline_s in look_interval_s steps, and the one being filled. */
size_t rules__ring_slots(double baseline_s, double look_interval_s);
/* Bytes of the watch daemon's rings for nfuncs watched functions and the system. */
double rules__ring_bytes(const struct rules_set *def, size_t nfuncs);
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
