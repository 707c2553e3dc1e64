// SPDX-License-Identifier: GPL-2.0
/*
 * The watch daemon's state file (<state>/state.lps), as a damaged disk, a
 * restore from another machine or anyone who wrote the directory could leave
 * it. Each input is decoded twice: as the file's bytes, and as the payload
 * inside a valid header, zlib stream and CRCs made here, so that the fuzzer
 * gets past the checksums (random bytes never match them) to the records.
 * What is accepted must hold what the daemon relies on: names that are
 * kernel symbols and module names.
 */
#include "fuzz.h"
#include "text.h"
#include "watch_state.h"

static void decode(const uint8_t *buf, size_t n)
{
	struct watch_state st;
	char why[128];

	if (watch_state__decode(buf, n, &st, why, sizeof(why)))
		return;
	for (size_t i = 0; i < st.nfuncs; i++)
		if (!text__is_symbol(st.funcs[i].function))
			abort();
	for (size_t i = 0; i < st.npatches; i++)
		if (!text__is_module(st.patches[i].patch))
			abort();
	watch_state__free(&st);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	unsigned char *file;
	size_t n;

	decode(data, size);
	if (!watch_state__wrap(data, size, &file, &n)) {
		decode(file, n);
		free(file);
	}
	return 0;
}
