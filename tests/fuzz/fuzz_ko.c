// SPDX-License-Identifier: GPL-2.0
/*
 * Livepatch module files (.ko), as `inspect`, gate, overhead and the daemon
 * read them: the input is written to a file and read by the real reader
 * (klp_module__inspect: safe_file open, libelf, the klp/kpatch layouts).
 * What it accepts must be names a printer can trust.
 */
#include "fuzz.h"
#include "klp_module.h"
#include "text.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct klp_module_info m;
	char path[256], why[256];

	if (fuzz_file(data, size, path, sizeof(path)))
		return 0;
	if (!klp_module__inspect(path, &m, why, sizeof(why))) {
		size_t sum = 0;

		/* a patch may replace nothing (states, callbacks): its objects then say so */
		if (!text__is_module(m.patch) || !m.style || (!m.n && !m.nobjects))
			abort();
		for (size_t i = 0; i < m.nobjects; i++) {
			if (!text__is_module(m.objects[i].name))
				abort();
			sum += m.objects[i].nfuncs;
		}
		if (sum != m.n)
			abort();
		for (size_t i = 0; i < m.n; i++)
			if (!text__is_module(m.targets[i].object) ||
			    !text__is_symbol(m.targets[i].function) ||
			    !text__is_symbol(m.targets[i].replacement))
				abort();
		klp_module_info__free(&m);
	} else {
		/* one line of printable text */
		for (const char *p = why; *p; p++)
			if (*p < 0x20 || *p >= 0x7f)
				abort();
		if (!why[0])
			abort();
	}
	unlink(path);
	return 0;
}
