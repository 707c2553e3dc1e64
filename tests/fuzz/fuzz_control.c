// SPDX-License-Identifier: GPL-2.0
/*
 * The control socket's two parsers of bytes from the other side: the
 * daemon's of a gate request (any root process can connect), and gate's of
 * the daemon's reply, checked and printed as gate prints it (text and JSON).
 * Every input goes through both. What passes must hold what the code after
 * relies on: seconds finite and in range, paths absolute and NUL-free.
 */
#include <math.h>
#include "fuzz.h"
#include "cli.h"
#include "control.h"
#include "gate.h"

static FILE *devnull;

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct control_request req;
	struct json_object *doc;
	char why[1280];

	if (!devnull)
		devnull = fopen("/dev/null", "w");
	if (!control__parse_request((const char *)data, size, &req, why, sizeof(why))) {
		if (req.module[0] != '/' || (req.rules[0] && req.rules[0] != '/'))
			abort();
		if (req.observe_s && !(isfinite(req.observe_s) &&
				       req.observe_s >= CONTROL_SECONDS_MIN &&
				       req.observe_s <= CONTROL_SECONDS_MAX))
			abort();
		if (req.baseline_s && !(isfinite(req.baseline_s) &&
					req.baseline_s >= CONTROL_SECONDS_MIN &&
					req.baseline_s <= CONTROL_SECONDS_MAX))
			abort();
	}
	if (!control__parse_reply((const char *)data, size, &doc, why, sizeof(why))) {
		int a = gate__daemon_reply(devnull, false, doc, why, sizeof(why));
		int b = gate__daemon_reply(devnull, true, doc, why, sizeof(why));

		/* The exit code is the reply's, whatever the output format. */
		if (a != b || (a != CLI_EXIT_OK && a != CLI_EXIT_ERROR && a != CLI_EXIT_REGRESSED))
			abort();
		json_object_put(doc);
	}
	return 0;
}
