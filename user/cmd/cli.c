// SPDX-License-Identifier: GPL-2.0
#include <errno.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/syscall.h>
#include <unistd.h>
#include <linux/capability.h>
#include <json-c/json.h>
#include "cli.h"

const char *const cli_exit_meaning[CLI_EXIT_REGRESSED + 1] = {
	[CLI_EXIT_OK] = "Success.",
	[CLI_EXIT_ERROR] = "Operational error: one line on standard error says what and why.",
	[CLI_EXIT_USAGE] = "Usage error: a bad option or argument (one line on standard error).",
};

int cli__parse_seconds(const char *s, double *out)
{
	char *end;
	double v;

	errno = 0;
	v = strtod(s, &end);
	if (errno || end == s || *end || !isfinite(v) || v <= 0 || v > 1e7)
		return -EINVAL;
	*out = v;
	return 0;
}

int cli__usage_error(const char *fmt, ...)
{
	va_list ap;

	fputs("lpsentinel: usage error: ", stderr);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
	return -EINVAL;
}

#ifndef CAP_PERFMON
#define CAP_PERFMON 38
#endif
#ifndef CAP_BPF
#define CAP_BPF 39
#endif

static bool has_cap(const struct __user_cap_data_struct data[2], int cap)
{
	return data[cap / 32].effective & (1u << (cap % 32));
}

int cli__check_privileges(void)
{
	struct __user_cap_header_struct hdr = { .version = _LINUX_CAPABILITY_VERSION_3 };
	struct __user_cap_data_struct data[2] = { 0 };

	if (geteuid() == 0)
		return 0;
	/* Without root, tracing kernel functions needs all three (docs/operations.md). */
	if (syscall(SYS_capget, &hdr, data) == 0 && has_cap(data, CAP_SYS_ADMIN) &&
	    has_cap(data, CAP_BPF) && has_cap(data, CAP_PERFMON))
		return 0;
	fprintf(stderr, "lpsentinel: error: permission denied: tracing kernel functions needs "
		"root (or CAP_BPF, CAP_PERFMON and CAP_SYS_ADMIN)\n");
	return -EPERM;
}

void cli__print_json(struct json_object *doc)
{
	printf("%s\n", json_object_to_json_string_ext(doc, JSON_C_TO_STRING_PLAIN |
						      JSON_C_TO_STRING_NOSLASHESCAPE));
	fflush(stdout);
}
