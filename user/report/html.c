// SPDX-License-Identifier: GPL-2.0
#include <string.h>
#include "html.h"

void html__text_n(FILE *f, const char *s, size_t max)
{
	size_t i;

	for (i = 0; s[i] && i < max; i++) {
		unsigned char c = (unsigned char)s[i];

		switch (c) {
		case '&': fputs("&amp;", f); break;
		case '<': fputs("&lt;", f); break;
		case '>': fputs("&gt;", f); break;
		case '"': fputs("&quot;", f); break;
		case '\'': fputs("&#39;", f); break;
		case '\n': fputc('\n', f); break;
		default:
			/* Control bytes never reach the page (the reader refuses them anyway). */
			if (c < 0x20 || c == 0x7f)
				fputs("\xef\xbf\xbd", f);
			else
				fputc(c, f);
		}
	}
	if (s[i])
		fputs("...", f);
}

void html__text(FILE *f, const char *s)
{
	html__text_n(f, s, (size_t)-1);
}

const char *html__result_class(const char *r)
{
	if (!strcmp(r, "pass") || !strcmp(r, "kept") || !strcmp(r, "keep") ||
	    !strcmp(r, "completed") || !strcmp(r, "unloaded"))
		return "pass";
	if (!strcmp(r, "fail") || !strcmp(r, "reverted") || !strcmp(r, "revert") ||
	    !strcmp(r, "stalled") || !strcmp(r, "revert failed") || !strcmp(r, "failed"))
		return "fail";
	if (!strcmp(r, "inconclusive"))
		return "inconclusive";
	return "";
}

/* The whole style: no external font, no image, nothing the CSP would block. */
static const char style[] =
	"body{font:14px/1.4 system-ui,sans-serif;margin:0 auto;padding:8px 16px;max-width:1240px;"
	"color:#1d2330;background:#fff;box-sizing:border-box}"
	"h1{font-size:22px;margin:8px 0}h2{font-size:18px;margin:20px 0 6px;"
	"border-bottom:1px solid #ccd}h3{font-size:15px;margin:14px 0 4px;"
	"overflow-wrap:anywhere}"
	"table{border-collapse:collapse;margin:4px 0;width:100%;table-layout:auto}"
	"td,th{border:1px solid #d4d8e0;padding:2px 6px;text-align:left;vertical-align:top;"
	"overflow-wrap:anywhere}th{background:#f0f2f6;white-space:nowrap}"
	"td:first-child{white-space:nowrap}"
	"td.n{text-align:right;font-variant-numeric:tabular-nums;white-space:nowrap}"
	".pass{background:#e3f5e1}.fail{background:#fbe0de}.inconclusive{background:#fdf2d0}"
	".tag{display:inline-block;padding:0 8px;border-radius:4px;font-weight:600}"
	"svg{display:block;width:100%;max-width:1200px;height:auto;margin:4px 0}"
	"pre{white-space:pre-wrap;overflow-wrap:anywhere;background:#f6f7f9;padding:6px;"
	"margin:2px 0;font-size:12px}"
	".muted{color:#5a6272}.src{font-size:12px}";

void html__head(FILE *f, const char *title)
{
	fputs("<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">\n"
	      "<meta http-equiv=\"Content-Security-Policy\" content=\"default-src 'none'; "
	      "style-src 'unsafe-inline'; img-src data:\">\n"
	      "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n"
	      "<meta name=\"referrer\" content=\"no-referrer\">\n<title>", f);
	html__text(f, title);
	fprintf(f, "</title>\n<style>%s</style></head>\n<body>\n<h1>", style);
	html__text(f, title);
	fputs("</h1>\n", f);
}

void html__tail(FILE *f)
{
	fputs("<p class=\"muted src\">Written by lpsentinel report: one file, no script, "
	      "nothing loaded from elsewhere.</p>\n</body></html>\n", f);
}
