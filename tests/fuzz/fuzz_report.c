// SPDX-License-Identifier: GPL-2.0
/*
 * A verdict file as `lpsentinel report` reads it: parsed with its details
 * (checks, faults, the stall, the timeline) and rendered as the HTML page.
 * Whatever the input, no abort, no overread, and no markup from it reaches
 * the page: a page never holds a script element, whatever the names say,
 * and no plot coordinate is inf or nan (an attribute's value starting so:
 * text from the input is escaped, so =" is only ever the page's own markup).
 */
#include "fuzz.h"
#include "report_html.h"

static bool non_finite_attr(const char *page)
{
	static const char *const bad[] = { "=\"nan", "=\"-nan", "=\"inf", "=\"-inf" };

	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		if (strstr(page, bad[i]))
			return true;
	return false;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct report_verdict v = { .source = "fuzz" };
	struct report_page p = { .title = "fuzz", .v = &v, .nv = 1 };
	char why[256], *page = NULL;
	size_t n;
	FILE *f;

	if (verdict_read__buf_detail((const char *)data, size, &v.doc, &v.more, why, sizeof(why)))
		return 0;
	f = open_memstream(&page, &n);
	if (f) {
		report_html__page(f, &p);
		fclose(f);
		if (!page || strstr(page, "<script") || !strstr(page, "</html>") || non_finite_attr(page))
			abort();
		free(page);
	}
	verdict_doc__free(&v.doc);
	verdict_detail__free(&v.more);
	return 0;
}
