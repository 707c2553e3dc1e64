// SPDX-License-Identifier: GPL-2.0
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <bpf/libbpf.h>
#include "log.h"

static void vreport(const char *level, const char *fmt, va_list ap)
{
	fprintf(stderr, "lpsentinel: %s", level);
	vfprintf(stderr, fmt, ap);
	fputc('\n', stderr);
}

void lps_err(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vreport("error: ", fmt, ap);
	va_end(ap);
}

void lps_warn(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vreport("warning: ", fmt, ap);
	va_end(ap);
}

static char culprit[256];
static bool culprit_weak;	/* "Error in ...": a later "map '...'" line names it better */

void lps_libbpf_mark(void)
{
	culprit[0] = 0;
	culprit_weak = false;
}

const char *lps_libbpf_culprit(void)
{
	return culprit;
}

/* Keeps the first warning naming a map or program, one line, printable. */
static void keep_culprit(enum libbpf_print_level level, const char *fmt, va_list ap)
{
	char line[256];
	bool weak;

	if (level != LIBBPF_WARN || (culprit[0] && !culprit_weak))
		return;
	vsnprintf(line, sizeof(line), fmt, ap);
	if (strncmp(line, "libbpf: ", 8) == 0)
		memmove(line, line + 8, strlen(line + 8) + 1);
	weak = !strncmp(line, "Error in ", 9);
	if ((strncmp(line, "map '", 5) && strncmp(line, "prog '", 6) && !weak) ||
	    (weak && culprit[0]))
		return;
	/* "Error in bpf_object__probe_loading():EAGAIN(11). Couldn't load...": its first sentence. */
	if (strstr(line, ". "))
		*strstr(line, ". ") = 0;
	for (char *c = line; *c; c++)
		if (*c == '\n' || (unsigned char)*c < 0x20 || (unsigned char)*c > 0x7e)
			*c = *c == '\n' && !c[1] ? 0 : ' ';
	snprintf(culprit, sizeof(culprit), "%s", line);
	culprit_weak = weak;
}

static int libbpf_print(enum libbpf_print_level level, const char *fmt, va_list ap)
{
	/* libbpf explains failures over many lines; we report each failure once,
	 * ourselves, naming the map or program it named first. LPS_DEBUG=1
	 * brings libbpf's own account back. */
	keep_culprit(level, fmt, ap);
	return 0;
}

static int libbpf_print_debug(enum libbpf_print_level level, const char *fmt, va_list ap)
{
	va_list copy;

	va_copy(copy, ap);
	keep_culprit(level, fmt, copy);
	va_end(copy);
	return vfprintf(stderr, fmt, ap);
}

void lps_silence_libbpf(void)
{
	const char *dbg = getenv("LPS_DEBUG");

	libbpf_set_print(dbg && *dbg == '1' ? libbpf_print_debug : libbpf_print);
}
