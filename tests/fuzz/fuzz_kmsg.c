// SPDX-License-Identifier: GPL-2.0
/*
 * Kernel log records (/dev/kmsg), as written by any driver or by anyone who
 * can write /dev/kmsg: one record per input line, parsed, then fed to the
 * fault tracker that pins warnings and oopses on patched functions.
 */
#include "fuzz.h"
#include "kfaults.h"
#include "kmsg.h"
#include "text.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const char *const names[] = { "version_proc_show", "lp_gate_warn_version_show", NULL };
	struct kfault_log log = { 0 };
	char *s = fuzz_cstr(data, size), *line, *save = NULL;
	const char *first = NULL;

	if (!s)
		return 0;
	for (line = strtok_r(s, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
		char rec[8192];
		size_t n = strnlen(line, sizeof(rec) - 1);
		const char *text;
		__u64 ts;

		memcpy(rec, line, n);
		if (kmsg__parse(rec, n, &text, &ts))
			continue;
		for (const char *p = text; *p; p++)	/* what every printer relies on */
			if (*p < 0x20 || *p >= 0x7f)
				abort();
		if (kfault_log__feed(&log, text))
			break;
	}
	kfault_log__count_naming(&log, names, &first);
	for (size_t i = 0; i < log.n; i++)
		kfault__names(&log.v[i], names);
	kfault_log__free(&log);
	free(s);
	return 0;
}
