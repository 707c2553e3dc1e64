/* SPDX-License-Identifier: GPL-2.0 */
/* What every verb shares: exit codes, argument helpers, privilege check. */
#ifndef LPS_CLI_H
#define LPS_CLI_H

#include <stdbool.h>

/* Exit status contract (docs/verbs.md). */
enum {
	CLI_EXIT_OK = 0,
	CLI_EXIT_ERROR = 1,
	CLI_EXIT_USAGE = 2,
	CLI_EXIT_REGRESSED = 3,
};
/*
 * What each status means for every verb, in the manual pages and docs/usage.md;
 * NULL for CLI_EXIT_REGRESSED, which only some verbs use (their pages say how:
 * manpage_text.c).
 */
extern const char *const cli_exit_meaning[CLI_EXIT_REGRESSED + 1];

/* A positive, finite number of seconds; 0 on success, -EINVAL otherwise. */
int cli__parse_seconds(const char *s, double *out);
/* Prints one usage line and returns -EINVAL. */
__attribute__((format(printf, 1, 2))) int cli__usage_error(const char *fmt, ...);
struct json_object;
/* One JSON document on stdout, one line, slashes as they are. */
void cli__print_json(struct json_object *doc);
/* 0 when BPF tracing is allowed by our credentials, else says why and returns -EPERM. */
int cli__check_privileges(void);

int do_trace(int argc, char **argv);
int do_status(int argc, char **argv);
int do_inspect(int argc, char **argv);
int do_gate(int argc, char **argv);
int do_revert(int argc, char **argv);
int do_watch(int argc, char **argv);
int do_overhead(int argc, char **argv);
int do_pool(int argc, char **argv);
int do_report(int argc, char **argv);

#endif
