// SPDX-License-Identifier: GPL-2.0
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "text.h"

static bool all_of(const char *s, size_t max, bool (*ok)(unsigned char))
{
	size_t n = 0;

	if (!s || !*s)
		return false;
	for (; s[n]; n++)
		if (n >= max || !ok((unsigned char)s[n]))
			return false;
	return true;
}

static bool alnum(unsigned char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9');
}

static bool symbol_char(unsigned char c)
{
	return alnum(c) || c == '_' || c == '.' || c == '$';
}

static bool module_char(unsigned char c)
{
	return alnum(c) || c == '_' || c == '-';
}

bool text__is_symbol(const char *s)
{
	return all_of(s, TEXT_SYMBOL_MAX, symbol_char);
}

bool text__is_module(const char *s)
{
	return all_of(s, TEXT_MODULE_MAX, module_char);
}

bool text__is_printable(const char *s, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if ((unsigned char)s[i] < 0x20 || (unsigned char)s[i] >= 0x7f)
			return false;
	return true;
}

char *text__escape(const char *s, char *out, size_t len)
{
	size_t o = 0;

	if (!len)
		return out;
	for (; s && *s; s++) {
		unsigned char c = *s;
		char e[5];
		size_t n;

		if (c == '\\')
			n = (size_t)snprintf(e, sizeof(e), "\\\\");
		else if (c >= 0x20 && c < 0x7f)
			e[0] = c, e[1] = '\0', n = 1;
		else
			n = (size_t)snprintf(e, sizeof(e), "\\x%02x", c);
		if (o + n >= len)
			break;
		memcpy(out + o, e, n);
		o += n;
	}
	out[o] = '\0';
	return out;
}

void text__escape_inplace(char *s, size_t len)
{
	char *tmp;

	if (!len)
		return;
	tmp = strndup(s, len - 1);
	if (!tmp) {	/* no memory: keep what is already safe */
		for (size_t i = 0; s[i]; i++)
			if ((unsigned char)s[i] < 0x20 || (unsigned char)s[i] >= 0x7f)
				s[i] = '?';
		return;
	}
	text__escape(tmp, s, len);
	free(tmp);
}
