/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The HTML report's page: a skeleton that can load nothing (a
 * Content-Security-Policy of default-src 'none', inline styles, data: images;
 * no script at all) and text escaped for it. Every string that came from a
 * verdict file is hostile and goes through html__text.
 */
#ifndef LPS_HTML_H
#define LPS_HTML_H

#include <stdio.h>

/* s escaped for element text and quoted attribute values: & < > " ' and control bytes. */
void html__text(FILE *f, const char *s);
/* The same, at most max bytes of s (then "..."). */
void html__text_n(FILE *f, const char *s, size_t max);
/* <!DOCTYPE html> up to <body>, with the CSP, the style sheet and the escaped title. */
void html__head(FILE *f, const char *title);
void html__tail(FILE *f);
/* A class name for a result: "pass", "fail", "inconclusive", "" (static, safe). */
const char *html__result_class(const char *result);

#endif
