// SPDX-License-Identifier: GPL-2.0
#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>
#include "klp_params.h"
#include "text.h"

static bool name_char(char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
	       c == '_' || c == '-';
}

int klp_params__check(const char *param, char *why, size_t len)
{
	const char *eq = strchr(param, '=');
	char esc[96];
	size_t n;

	for (n = 0; param + n != eq && param[n] && name_char(param[n]); n++)
		;
	if (!eq || param + n != eq || !n || n > KLP_PARAM_NAME_MAX) {
		snprintf(why, len, "module parameter \"%s\" is not PARAM=VALUE (a name of "
			 "[A-Za-z0-9_-], at most %d characters, then '=')",
			 text__escape(param, esc, sizeof(esc)), KLP_PARAM_NAME_MAX);
		return -EINVAL;
	}
	/* The kernel would split a value at a space and read quotes: neither passes. */
	for (const char *v = eq + 1; *v; v++)
		if (*v <= ' ' || *v >= 0x7f || *v == '"' || *v == '\'') {
			snprintf(why, len, "module parameter \"%s\": its value must be printable "
				 "ASCII without spaces or quotes",
				 text__escape(param, esc, sizeof(esc)));
			return -EINVAL;
		}
	return 0;
}

int klp_params__join(const char *const *v, size_t n, char *out, size_t outlen, char *why,
		     size_t len)
{
	size_t off = 0, cap = outlen < KLP_PARAMS_MAX ? outlen : KLP_PARAMS_MAX;
	int ret;

	if (cap)
		out[0] = '\0';
	for (size_t i = 0; i < n; i++) {
		size_t need = strlen(v[i]) + (i ? 1 : 0);

		ret = klp_params__check(v[i], why, len);
		if (ret)
			return ret;
		if (off + need >= cap) {
			snprintf(why, len, "module parameters: more than %zu bytes in all", cap - 1);
			return -E2BIG;
		}
		snprintf(out + off, cap - off, "%s%s", i ? " " : "", v[i]);
		off += need;
	}
	return 0;
}
