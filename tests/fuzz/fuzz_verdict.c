// SPDX-License-Identifier: GPL-2.0
/*
 * A verdict file as `lpsentinel pool` reads it from another host: parsed,
 * checked, then every function judged as pool would (each host a stratum:
 * the file once, then twice). Counts are capped where a double is exact, so
 * no judgement can run long whatever the file says. Whatever the input, no abort (json-c asserts on a
 * typed accessor of the wrong type), no overread, and every histogram read
 * adds up to what it claims.
 */
#include "fuzz.h"
#include "hist.h"
#include "judge.h"
#include "rules.h"
#include "verdict_read.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct verdict_doc d;
	struct rules_set r;
	char why[256];

	if (verdict_read__buf((const char *)data, size, &d, why, sizeof(why)))
		return 0;
	rules__builtin(&r);
	for (size_t i = 0; i < d.n; i++) {
		const struct verdict_fn *fn = &d.fns[i];
		struct func_window b[2] = { { .hist = &fn->base, .none = fn->none },
					    { .hist = &fn->base, .none = fn->none } };
		struct func_window o[2] = { { .hist = &fn->obs }, { .hist = &fn->obs } };
		struct func_judgement j;

		if (fn->signals) {
			b[0].sig = b[1].sig = &fn->sbase;
			o[0].sig = o[1].sig = &fn->sobs;
		}
		/* one host (gate's path, exact tests) and two (the stratified ones) */
		for (size_t k = 1; k <= 2; k++) {
			judge__strata(b, o, k, &r, r.alpha, &j);
			if (j.n > JUDGE_MAX_CHECKS || hist_percentile(&fn->obs, 0.5) < 0)
				abort();
		}
	}
	verdict_doc__free(&d);
	return 0;
}
