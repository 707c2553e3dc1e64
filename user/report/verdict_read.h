/* SPDX-License-Identifier: GPL-2.0 */
/*
 * A verdict read back for pooling: the JSON document gate --json or the watch
 * daemon wrote on some host, with its identity and every function's before
 * and after windows. The file is hostile: each field is checked for type,
 * range and consistency (a histogram's buckets must be lpsentinel's own
 * buckets, in order, adding up to "recorded"), and anything else is refused
 * with one line saying which field.
 */
#ifndef LPS_VERDICT_READ_H
#define LPS_VERDICT_READ_H

#include <stdbool.h>
#include <stddef.h>
#include <string.h>
#include <linux/types.h>
#include "identity.h"
#include "lpsentinel.h"
#include "verdict_detail.h"

#define VERDICT_READ_MAX_BYTES	(16UL << 20)	/* a verdict file */
#define VERDICT_READ_MAX_FUNCS	1024		/* functions in one verdict */

struct verdict_fn {
	char function[512];		/* KSYM_NAME_LEN */
	char object[64];
	bool none;			/* no baseline: first seen already patched */
	bool signals;			/* both windows' signals are there */
	struct lps_hist base, obs;
	struct lps_func_signals sbase, sobs;
};

struct verdict_doc {
	struct lps_identity id;
	char verdict[16], action[32], reason[1024];
	struct verdict_fn *fns;
	size_t n;
	size_t sys_faults;		/* kernel faults in the window, system-wide */
	char fault_line[256];		/* the first one's line */
};

/* The same function of the same object (what pool matches hosts' entries by). */
static inline bool verdict_fn__same(const struct verdict_fn *a, const struct verdict_fn *b)
{
	return !strcmp(a->function, b->function) && !strcmp(a->object, b->object);
}

/* Reads and checks path; 0, or -errno with one line in why ("functions[2].observed: ..."). */
int verdict_read__file(const char *path, struct verdict_doc *out, char *why, size_t len);
/* The same from size bytes of buf (the fuzz harness). */
int verdict_read__buf(const char *buf, size_t size, struct verdict_doc *out, char *why,
		      size_t len);
void verdict_doc__free(struct verdict_doc *d);
/*
 * The same, and what only people read (checks, faults, the stall, the
 * timeline: verdict_detail.h) into *more, checked the same way; on an error
 * both are freed.
 */
int verdict_read__file_detail(const char *path, struct verdict_doc *out,
			      struct verdict_detail *more, char *why, size_t len);
int verdict_read__buf_detail(const char *buf, size_t size, struct verdict_doc *out,
			     struct verdict_detail *more, char *why, size_t len);

#endif
