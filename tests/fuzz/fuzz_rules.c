// SPDX-License-Identifier: GPL-2.0
/*
 * Rules files, as gate, watch and a gate client over the daemon's control
 * socket give them: parsed from memory (rules__load reads the file into
 * memory, then does the same), then applied to a few functions as a gate
 * would. What every caller relies on is checked: a refusal is one printable
 * line naming the file and a line; accepted rules keep to their limits.
 */
#include <errno.h>
#include "fuzz.h"
#include "rules.h"
#include "text.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const char *const funcs[] = { "version_proc_show", "do_slowpath_thing", "tcp_v4_rcv",
					     "ext4_file_write_iter" };
	struct rules r;
	struct rules_set s;
	char why[512];
	int ret;

	why[0] = '\0';
	ret = rules__parse("fuzz.yaml", (const char *)data, size, &r, why, sizeof(why));
	if (ret) {
		if (ret != -EINVAL && ret != -ENOMEM)
			abort();
		if (strncmp(why, "fuzz.yaml:", 10) || why[10] < '1' || why[10] > '9')
			abort();	/* every refusal names the file and a line */
		for (const char *p = why; *p; p++)
			if (*p < 0x20 || *p > 0x7e)
				abort();	/* one printable line */
		return 0;
	}
	if (r.nwatch > RULES_MAX_WATCH || r.noverrides > RULES_MAX_OVERRIDES ||
	    rules__ring_bytes(&r.defaults, r.nwatch) > (double)RULES_MAX_RING_BYTES)
		abort();
	for (size_t i = 0; i < r.nwatch; i++)
		if (!text__is_symbol(r.watch[i]))
			abort();
	for (size_t i = 0; i < sizeof(funcs) / sizeof(funcs[0]); i++) {
		rules__for_function(&r, funcs[i], &s);
		if (!(s.alpha > 0 && s.alpha <= 0.5 && s.look_interval_s >= 0.1 && s.baseline_s >= 0.1))
			abort();
	}
	rules__free(&r);
	return 0;
}
