// SPDX-License-Identifier: GPL-2.0
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <math.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include "clock.h"
#include "daemon_status.h"
#include "safe_file.h"
#include "text.h"

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

/* What each field the printers read must be; what the daemon writes (watch_persist.c). */
enum field_kind {
	F_TEXT,		/* printable ASCII: nothing a terminal or a JSON reader trips on */
	F_TEXT_OR_NULL,
	F_SYMBOL,	/* a kernel function name */
	F_PATCH,	/* a module name */
	F_PID,
	F_COUNT,	/* an integer, not negative */
	F_NUMBER,	/* finite */
	F_BOOL,
	F_OBJECTS,	/* an array of objects */
};

struct field {
	const char *key;
	enum field_kind kind;
	bool optional;	/* may be absent (fields older daemons do not write) */
};

static const struct field doc_fields[] = {
	{ "pid", F_PID }, { "kernel", F_TEXT }, { "uptime_s", F_NUMBER },
	{ "listen", F_TEXT_OR_NULL }, { "functions", F_OBJECTS }, { "patches", F_OBJECTS },
	{ "lock_coverage", F_TEXT, true },	/* absent: lock_contention sees every lock */
	{ "control_error", F_TEXT_OR_NULL, true },
	{ 0 },
};

static const struct field fn_fields[] = {
	{ "function", F_SYMBOL }, { "object", F_PATCH }, { "state", F_TEXT },
	{ "since", F_NUMBER }, { "attach", F_TEXT }, { "calls", F_COUNT }, { "errors", F_COUNT },
	{ "baseline_calls", F_COUNT }, { "baseline_p50_ns", F_NUMBER }, { "judging", F_BOOL },
	{ "traced_as", F_SYMBOL, true },	/* absent: traced under its own name */
	/* absent: no CPU budget, attached throughout */
	{ "cpu_budget_pct", F_NUMBER, true }, { "sampled", F_NUMBER, true },
	{ 0 },
};

static const struct field patch_fields[] = {
	{ "patch", F_PATCH }, { "state", F_TEXT }, { "verdict", F_TEXT_OR_NULL },
	{ "at", F_NUMBER }, { 0 },
};

static bool printable(struct json_object *v)
{
	const char *s = json_object_get_string(v);
	size_t n = (size_t)json_object_get_string_len(v);

	/* An escaped NUL fails too; more than 4096 bytes is more than a name can be. */
	return n <= 4096 && text__is_printable(s, n);
}

static bool of_kind(struct json_object *v, enum field_kind kind)
{
	switch (kind) {
	case F_TEXT_OR_NULL:
		if (!v)
			return true;
		/* fall through */
	case F_TEXT:
		return json_object_is_type(v, json_type_string) && printable(v);
	case F_SYMBOL:
		return json_object_is_type(v, json_type_string) && printable(v) &&
		       text__is_symbol(json_object_get_string(v));
	case F_PATCH:
		return json_object_is_type(v, json_type_string) && printable(v) &&
		       text__is_module(json_object_get_string(v));
	case F_PID:
		return json_object_is_type(v, json_type_int) && json_object_get_int64(v) > 0 &&
		       json_object_get_int64(v) <= INT_MAX;
	case F_COUNT:
		return json_object_is_type(v, json_type_int) && json_object_get_int64(v) >= 0;
	case F_NUMBER:
		return (json_object_is_type(v, json_type_double) ||
			json_object_is_type(v, json_type_int)) && isfinite(json_object_get_double(v));
	case F_BOOL:
		return json_object_is_type(v, json_type_boolean);
	case F_OBJECTS:
		return json_object_is_type(v, json_type_array);
	}
	return false;
}

static int check(struct json_object *o, const struct field *fields, const char *what,
		 char *why, size_t len);

/* Every element of the array at key is an object with fields. */
static int check_objects(struct json_object *arr, const char *key, const struct field *fields,
			 char *why, size_t len)
{
	size_t n = json_object_array_length(arr);

	for (size_t i = 0; i < n; i++) {
		char what[64];

		snprintf(what, sizeof(what), "%s[%zu]", key, i);
		if (check(json_object_array_get_idx(arr, i), fields, what, why, len))
			return -EBADMSG;
	}
	return 0;
}

static int check(struct json_object *o, const struct field *fields, const char *what,
		 char *why, size_t len)
{
	if (!json_object_is_type(o, json_type_object)) {
		snprintf(why, len, "%s is not an object", what);
		return -EBADMSG;
	}
	for (const struct field *f = fields; f->key; f++) {
		struct json_object *v;

		if (!json_object_object_get_ex(o, f->key, &v)) {
			if (f->optional)
				continue;
			snprintf(why, len, "%s has no \"%s\"", what, f->key);
			return -EBADMSG;
		}
		if (!of_kind(v, f->kind)) {
			snprintf(why, len, "%s: \"%s\" is not what the daemon writes there", what,
				 f->key);
			return -EBADMSG;
		}
		if (f->kind == F_OBJECTS &&
		    check_objects(v, f->key, !strcmp(f->key, "functions") ? fn_fields :
				  patch_fields, why, len))
			return -EBADMSG;
	}
	return 0;
}

int daemon_status__parse(const char *buf, size_t len, struct json_object **out, char *why,
			 size_t why_len)
{
	struct json_tokener *tok = json_tokener_new();
	struct json_object *doc = NULL;
	size_t end;

	*out = NULL;
	if (!tok) {
		snprintf(why, why_len, "out of memory");
		return -ENOMEM;
	}
	if (len <= INT_MAX)
		doc = json_tokener_parse_ex(tok, buf, (int)len);
	end = json_tokener_get_parse_end(tok);
	if (!doc || json_tokener_get_error(tok) != json_tokener_success) {
		snprintf(why, why_len, "not JSON: %s",
			 len > INT_MAX ? "too large" : json_tokener_error_desc(json_tokener_get_error(tok)));
		goto bad;
	}
	while (end < len && strchr(" \t\r\n", buf[end]) && buf[end])
		end++;
	if (end < len) {
		snprintf(why, why_len, "more after the document (at byte %zu)", end);
		goto bad;
	}
	if (check(doc, doc_fields, "the document", why, why_len))
		goto bad;
	json_tokener_free(tok);
	*out = doc;
	return 0;
bad:
	json_object_put(doc);
	json_tokener_free(tok);
	return -EBADMSG;
}

int daemon_status__read(const char *state_dir, struct json_object **out, char *why,
			size_t why_len)
{
	struct json_object *st = NULL, *pid;
	int dfd, ret;
	char *buf;
	size_t n;

	*out = NULL;
	dfd = open(state_dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (dfd < 0 && errno == ENOENT)
		return 0;	/* no daemon ever ran with it */
	if (dfd < 0) {
		ret = -errno;
		snprintf(why, why_len, "%s", strerror(errno));
		return ret;
	}
	/* Not through a link, not a FIFO or a device, not more than a status can be. */
	ret = safe_file__read(dfd, WATCH_STATUS_FILE, SAFE_NOFOLLOW, SAFE_FILE_MAX_TEXT, &buf, &n,
			      why, why_len);
	close(dfd);
	if (ret == -ENOENT)
		return 0;
	if (ret)
		return ret;
	ret = daemon_status__parse(buf, n, &st, why, why_len);
	free(buf);
	if (ret)
		return ret;
	json_object_object_get_ex(st, "pid", &pid);
	if (!alive(json_object_get_int(pid))) {
		json_object_put(st);
		return 0;
	}
	*out = st;
	return 0;
}

static const char *str(struct json_object *o, const char *key)
{
	struct json_object *v;

	return json_object_object_get_ex(o, key, &v) && v ? json_object_get_string(v) : "-";
}

static double num(struct json_object *o, const char *key)
{
	return json_object_get_double(json_object_object_get(o, key));
}

void daemon_status__text(FILE *f, struct json_object *st)
{
	struct json_object *fns = json_object_object_get(st, "functions");
	struct json_object *pv = json_object_object_get(st, "patches"), *cov;
	double now = clock__unix_s();

	fprintf(f, "watch daemon: pid %s, up %.0fs, kernel %s, metrics %s, %zu functions\n",
		str(st, "pid"), num(st, "uptime_s"), str(st, "kernel"), str(st, "listen"),
		json_object_array_length(fns));
	if (json_object_object_get_ex(st, "lock_coverage", &cov))
		fprintf(f, "  lock_contention covers %s\n", json_object_get_string(cov));
	if (json_object_object_get(st, "control_error"))
		fprintf(f, "  control socket: %s\n", str(st, "control_error"));
	for (size_t i = 0; i < json_object_array_length(fns); i++) {
		struct json_object *fn = json_object_array_get_idx(fns, i);
		bool module = strcmp(str(fn, "object"), "vmlinux");
		/* How long ago it was traced, or released: what its counts and baseline cover. */
		double ago = fmax(0, now - num(fn, "since"));
		struct json_object *ta = json_object_object_get(fn, "traced_as");
		const char *traced_as = ta ? json_object_get_string(ta) : NULL;
		char sampled[80] = "";

		if (!strcmp(str(fn, "state"), "waiting")) {
			fprintf(f, "  %-28s waiting for module %s (not loaded for %.0fs), calls %s "
				"in its earlier loads, baseline %s calls\n", str(fn, "function"),
				str(fn, "object"), ago, str(fn, "calls"), str(fn, "baseline_calls"));
			continue;
		}
		if (json_object_object_get(fn, "sampled") && json_object_object_get(fn, "cpu_budget_pct"))
			snprintf(sampled, sizeof(sampled), " (budget %.3g%%: sampled %.2f%% of the time)",
				 num(fn, "cpu_budget_pct"), num(fn, "sampled") * 100);
		fprintf(f, "  %-28s %s%s%s calls %s%s, baseline %s calls p50 %.0fns%s%s%s, traced for "
			"%.0fs%s\n", str(fn, "function"), str(fn, "attach"),
			traced_as ? " as " : "", traced_as ? traced_as : "", str(fn, "calls"), sampled,
			str(fn, "baseline_calls"), num(fn, "baseline_p50_ns"),
			module ? ", in module " : "", module ? str(fn, "object") : "",
			module ? " (since it loaded)" : "", ago,
			json_object_get_boolean(json_object_object_get(fn, "judging")) ?
			", judging a patch" : "");
	}
	for (size_t i = 0; i < json_object_array_length(pv); i++) {
		struct json_object *p = json_object_array_get_idx(pv, i);

		fprintf(f, "  patch %-22s %s, verdict %s\n", str(p, "patch"), str(p, "state"),
			str(p, "verdict"));
	}
}
