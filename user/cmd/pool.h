/* SPDX-License-Identifier: GPL-2.0 */
/* lpsentinel pool: what it read and decided (pool.c), and how it prints that (pool_report.c). */
#ifndef LPS_POOL_H
#define LPS_POOL_H

#include <stdbool.h>
#include <stddef.h>
#include "engine.h"
#include "rules_set.h"
#include "verdict_read.h"

struct pool_input {
	const char *const *files;
	struct verdict_doc *docs;	/* one per host, in the order given */
	size_t k;
	const struct verdict_fn **names;	/* the functions: each host's are matched by name */
	size_t n;
	struct func_window *base, *obs;	/* n * k: function by function, host by host */
	struct sys_window sys_base, sys_obs;	/* the kernel faults of every host */
	struct rules_set def, *fr;
	struct func_judgement *fj, sysj;
	struct engine_decision d;	/* the pool's: the engine's, or a host's stop */
	struct engine_decision pooled;	/* the engine's on the pooled evidence alone */
	bool host_stop_set;
	double t_prev, t;		/* the look's fractions of the fleet */
	size_t host_stop;		/* the host that did not keep it, when one did not */
	char reason[1280];
};

/* The pooled verdict on stdout: one JSON document, or text. */
void pool__print(const struct pool_input *in, bool json, size_t fleet, size_t previous);

#endif
