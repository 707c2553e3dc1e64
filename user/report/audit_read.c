// SPDX-License-Identifier: GPL-2.0
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <json-c/json.h>
#include "audit_read.h"
#include "safe_file.h"
#include "verdict_read_int.h"

/* The two-digit parts of a time that have a range: where each starts, its least and most. */
static const struct { unsigned char at, lo, hi; } time_parts[] = {
	{ 5, 1, 12 }, { 8, 1, 31 }, { 11, 0, 23 }, { 14, 0, 59 }, { 17, 0, 59 },
};

bool audit_read__time_ok(const char *s)
{
	static const char shape[] = "dddd-dd-ddTdd:dd:ddZ";
	size_t n = strlen(s);

	if (!n || n > sizeof(shape) - 1)
		return false;
	for (size_t i = 0; i < n; i++)
		if (shape[i] == 'd' ? s[i] < '0' || s[i] > '9' : s[i] != shape[i])
			return false;
	/* Each part given in range; a part cut after its first digit must be able to be. */
	for (size_t k = 0; k < sizeof(time_parts) / sizeof(time_parts[0]); k++) {
		size_t at = time_parts[k].at;
		int d = at < n ? s[at] - '0' : -1;

		if (d < 0)
			break;
		if (at + 1 < n ? d * 10 + s[at + 1] - '0' < time_parts[k].lo ||
				 d * 10 + s[at + 1] - '0' > time_parts[k].hi :
				 d * 10 > time_parts[k].hi || d * 10 + 9 < time_parts[k].lo)
			return false;
	}
	return true;
}

bool audit_read__period_ok(const struct audit_period *p)
{
	/* since after until, unless since falls inside the span until's prefix covers */
	return !p->since || !p->until || strcmp(p->since, p->until) <= 0 ||
	       !strncmp(p->since, p->until, strlen(p->until));
}

/* Is t in the period? Prefixes compare as the start (since) or the whole of (until) a span. */
static bool in_period(const char *t, const struct audit_period *p)
{
	return (!p->since || strcmp(t, p->since) >= 0) &&
	       (!p->until || strncmp(t, p->until, strlen(p->until)) <= 0);
}

static int read_row(struct json_object *o, size_t line, struct report_audit_row *r, char *why,
		    size_t len)
{
	struct json_object *op = vread__get(o, "operational");
	char err[512];
	int ret;

	if ((ret = vread__str(o, "", "time", false, r->time, sizeof(r->time), err, sizeof(err))) ||
	    (ret = vread__str(o, "", "event", false, r->event, sizeof(r->event), err,
			      sizeof(err))) ||
	    (ret = vread__str(o, "", "patch", true, r->patch, sizeof(r->patch), err,
			      sizeof(err))) ||
	    (ret = vread__str(o, "", "verdict", true, r->verdict, sizeof(r->verdict), err,
			      sizeof(err))) ||
	    (ret = vread__str(o, "", "action", true, r->action, sizeof(r->action), err,
			      sizeof(err))) ||
	    (ret = vread__str(o, "", "reason", true, r->reason, sizeof(r->reason), err,
			      sizeof(err))))
		return vread__bad(why, len, "line %zu: %s", line, err);
	if (!audit_read__time_ok(r->time) || strlen(r->time) != 20)
		return vread__bad(why, len, "line %zu: time is not a UTC time", line);
	/* As the verdict reader: a field of the wrong type is refused, not read as false. */
	if (op && !json_object_is_type(op, json_type_boolean))
		return vread__bad(why, len, "line %zu: operational is not a boolean", line);
	r->operational = op && json_object_get_boolean(op);
	r->verdict_idx = -1;
	return 0;
}

/* Where a kept row's line is: its verdict is read from there once the newest rows are known. */
struct line_at {
	size_t at, size, line;
};

/* One line: its row into r; 1 when it is in the period, 0 when not, or -errno (said). */
static int read_line(const char *s, size_t size, size_t line, const struct audit_period *p,
		     struct report_audit_row *r, char *why, size_t len)
{
	struct json_tokener *tok = json_tokener_new_ex(16);
	struct json_object *o = NULL;
	int ret = 0;

	if (!tok)
		return -ENOMEM;
	o = json_tokener_parse_ex(tok, s, (int)size);
	if (!o || !json_object_is_type(o, json_type_object) ||
	    json_tokener_get_parse_end(tok) != size) {
		ret = vread__bad(why, len, "line %zu is not one JSON object", line);
		goto cleanup;
	}
	memset(r, 0, sizeof(*r));
	if (!(ret = read_row(o, line, r, why, len)))
		ret = in_period(r->time, p);
cleanup:
	json_object_put(o);
	json_tokener_free(tok);
	return ret;
}

/* The kept verdict lines' evidence, read by the one verdict reader, within the page's totals. */
static int read_verdicts(const char *buf, const struct line_at *w, struct report_audit_row *rows,
			 size_t n, struct report_verdict *v, size_t *nv, char *why, size_t len)
{
	char err[512];
	int ret;

	for (size_t i = 0; i < n && *nv < AUDIT_READ_MAX_VERDICTS; i++) {
		if (strcmp(rows[i].event, "verdict"))
			continue;
		if (verdict_read__buf_detail(buf + w[i].at, w[i].size, &v[*nv].doc, &v[*nv].more,
					     err, sizeof(err)))
			return vread__bad(why, len, "line %zu: %s", w[i].line, err);
		v[*nv].source = "the audit trail";
		rows[i].verdict_idx = (int)(*nv)++;
		if ((ret = report_html__check_totals(v, *nv, why, len)))
			return ret;
	}
	return 0;
}

int audit_read__file(const char *path, const struct audit_period *p,
		     struct report_audit_row **rows, size_t *n, size_t *left_out,
		     struct report_verdict **v, size_t *nv, char *why, size_t len)
{
	struct report_audit_row *ring = NULL, r;
	struct line_at *ring_at = NULL, *w = NULL;
	char *buf = NULL;
	size_t size, lines = 1, line = 0, total = 0, cap;
	int ret = safe_file__read(AT_FDCWD, path, 0, AUDIT_READ_MAX_BYTES, &buf, &size, why, len);

	*rows = NULL;
	*v = NULL;
	*n = *nv = *left_out = 0;
	if (ret)
		return ret;
	for (const char *c = buf; size && (c = memchr(c, '\n', size - (size_t)(c - buf))); c++)
		lines++;
	/* The newest rows of the period in a ring of at most AUDIT_READ_MAX_ROWS. */
	cap = lines < AUDIT_READ_MAX_ROWS ? lines : AUDIT_READ_MAX_ROWS;
	ring = calloc(cap, sizeof(*ring));
	ring_at = calloc(cap, sizeof(*ring_at));
	*rows = calloc(cap, sizeof(**rows));
	w = calloc(cap, sizeof(*w));
	*v = calloc(AUDIT_READ_MAX_VERDICTS, sizeof(**v));
	if (!ring || !ring_at || !*rows || !w || !*v) {
		ret = -ENOMEM;
		goto cleanup;
	}
	for (size_t at = 0; at < size && ret >= 0;) {
		char *nl = memchr(buf + at, '\n', size - at);
		size_t end = nl ? (size_t)(nl - buf) : size;

		line++;
		if (end > at && (ret = read_line(buf + at, end - at, line, p, &r, why, len)) > 0) {
			ring[total % cap] = r;
			ring_at[total % cap] = (struct line_at){ at, end - at, line };
			total++;
		}
		at = end + 1;
	}
	if (ret < 0)
		goto cleanup;
	/* Oldest first: the ring from its oldest slot on. */
	*n = total < cap ? total : cap;
	*left_out = total - *n;
	for (size_t i = 0; i < *n; i++) {
		size_t k = (total - *n + i) % cap;

		(*rows)[i] = ring[k];
		w[i] = ring_at[k];
	}
	ret = read_verdicts(buf, w, *rows, *n, *v, nv, why, len);
cleanup:
	if (ret == -ENOMEM)
		snprintf(why, len, "out of memory");
	free(buf);
	free(ring);
	free(ring_at);
	free(w);
	if (ret) {
		audit_read__free(*rows, *v, *nv);
		*rows = NULL;
		*v = NULL;
		*n = *nv = *left_out = 0;
	}
	return ret;
}

void audit_read__free(struct report_audit_row *rows, struct report_verdict *v, size_t nv)
{
	for (size_t i = 0; v && i < nv; i++) {
		verdict_doc__free(&v[i].doc);
		verdict_detail__free(&v[i].more);
	}
	free(v);
	free(rows);
}
