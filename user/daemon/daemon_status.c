// SPDX-License-Identifier: GPL-2.0
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>
#include "daemon_status.h"

/* Is pid a live lpsentinel? A stale file from a killed daemon must not be shown as live. */
static bool alive(int pid)
{
	char path[64], comm[32] = "";
	FILE *f;

	if (pid <= 0 || kill(pid, 0))
		return false;
	snprintf(path, sizeof(path), "/proc/%d/comm", pid);
	f = fopen(path, "r");
	if (!f)
		return false;
	if (!fgets(comm, sizeof(comm), f))
		comm[0] = 0;
	fclose(f);
	return !strncmp(comm, "lpsentinel", 10);
}

struct json_object *daemon_status__read(const char *state_dir)
{
	struct json_object *st, *pid;
	char path[4096];

	snprintf(path, sizeof(path), "%s/%s", state_dir, WATCH_STATUS_FILE);
	st = json_object_from_file(path);
	if (!st)
		return NULL;
	if (!json_object_is_type(st, json_type_object) ||
	    !json_object_object_get_ex(st, "pid", &pid) || !alive(json_object_get_int(pid))) {
		json_object_put(st);
		return NULL;
	}
	return st;
}

static const char *str(struct json_object *o, const char *key)
{
	struct json_object *v;

	return json_object_object_get_ex(o, key, &v) && v ? json_object_get_string(v) : "-";
}

void daemon_status__text(FILE *f, struct json_object *st)
{
	struct json_object *fns = NULL, *pv = NULL;

	json_object_object_get_ex(st, "functions", &fns);
	json_object_object_get_ex(st, "patches", &pv);
	fprintf(f, "watch daemon: pid %s, up %.0fs, kernel %s, metrics %s, %zu functions\n",
		str(st, "pid"), json_object_get_double(json_object_object_get(st, "uptime_s")),
		str(st, "kernel"), str(st, "listen"), fns ? json_object_array_length(fns) : 0);
	for (size_t i = 0; fns && i < json_object_array_length(fns); i++) {
		struct json_object *fn = json_object_array_get_idx(fns, i);

		fprintf(f, "  %-28s %s calls %s, baseline %s calls p50 %.0fns%s\n", str(fn, "function"),
			str(fn, "attach"), str(fn, "calls"), str(fn, "baseline_calls"),
			json_object_get_double(json_object_object_get(fn, "baseline_p50_ns")),
			json_object_get_boolean(json_object_object_get(fn, "judging")) ? ", judging a patch" : "");
	}
	for (size_t i = 0; pv && i < json_object_array_length(pv); i++) {
		struct json_object *p = json_object_array_get_idx(pv, i);

		fprintf(f, "  patch %-22s %s, verdict %s\n", str(p, "patch"), str(p, "state"),
			str(p, "verdict"));
	}
}
