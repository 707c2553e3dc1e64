/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Names and text lpsentinel did not write (from a .ko, a state file, the
 * kernel's log, a client) are checked or escaped once, where they come in, so
 * that no printer (text or JSON) can be made to forge a row, move a terminal's
 * cursor or write invalid UTF-8.
 */
#ifndef LPS_TEXT_H
#define LPS_TEXT_H

#include <stdbool.h>
#include <stddef.h>

#define TEXT_SYMBOL_MAX 511	/* KSYM_NAME_LEN - 1 on 6.1 and later */
#define TEXT_MODULE_MAX 55	/* MODULE_NAME_LEN - 1 */

/* A kernel symbol name: [A-Za-z0-9_.$], 1 to TEXT_SYMBOL_MAX bytes. */
bool text__is_symbol(const char *s);

/* A module (and so a livepatch) name: [A-Za-z0-9_-], 1 to TEXT_MODULE_MAX bytes. */
bool text__is_module(const char *s);

/* The N bytes at S are printable ASCII (a NUL among them is not). */
bool text__is_printable(const char *s, size_t n);

/*
 * Copies S into OUT (LEN bytes, always terminated) with every byte that is
 * not printable ASCII written as \xNN, and a backslash as \\: the result is
 * printable ASCII, and so also valid UTF-8. Returns OUT.
 */
char *text__escape(const char *s, char *out, size_t len);

/* text__escape in place for text read into a buffer of LEN bytes (truncates to fit). */
void text__escape_inplace(char *s, size_t len);

#endif
