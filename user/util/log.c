// SPDX-License-Identifier: GPL-2.0
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
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

static int libbpf_print(enum libbpf_print_level level, const char *fmt, va_list ap)
{
	/* libbpf explains failures over many lines; we report each failure once,
	 * ourselves. LPS_DEBUG=1 brings libbpf's own account back. */
	(void)level;
	(void)fmt;
	(void)ap;
	return 0;
}

static int libbpf_print_debug(enum libbpf_print_level level, const char *fmt, va_list ap)
{
	(void)level;
	return vfprintf(stderr, fmt, ap);
}

void lps_silence_libbpf(void)
{
	const char *dbg = getenv("LPS_DEBUG");

	libbpf_set_print(dbg && *dbg == '1' ? libbpf_print_debug : libbpf_print);
}
