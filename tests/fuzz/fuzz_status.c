// SPDX-License-Identifier: GPL-2.0
/*
 * The daemon's status.json, as `lpsentinel status --state DIR` reads it:
 * parsed, checked, and printed as text. Whatever the input, no abort (json-c
 * asserts on a typed accessor of the wrong type) and nothing printed but
 * printable ASCII lines: no row forged, no terminal escape.
 */
#include "fuzz.h"
#include "daemon_status.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct json_object *doc;
	char why[256], *out = NULL;
	size_t outn = 0;
	FILE *f;

	if (daemon_status__parse((const char *)data, size, &doc, why, sizeof(why)))
		return 0;
	f = open_memstream(&out, &outn);
	if (!f)
		abort();
	daemon_status__text(f, doc);
	fclose(f);
	for (size_t i = 0; i < outn; i++)
		if ((out[i] < 0x20 && out[i] != '\n') || out[i] > 0x7e)
			abort();
	free(out);
	json_object_put(doc);
	return 0;
}
