/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The audit trail: every decision as one JSON line appended to
 * <state>/audit.jsonl (synced before we act on it being written) and to syslog.
 */
#ifndef LPS_AUDIT_H
#define LPS_AUDIT_H

#include <json-c/json.h>

#define AUDIT_FILE "audit.jsonl"

struct audit {
	int fd;
};

/* Opens dir/audit.jsonl for appending (0600), and syslog as "lpsentinel"; -errno. */
int audit__open(struct audit *a, const char *dir);
/*
 * Appends rec as one line and sends summary (with the line) to syslog at
 * priority prio. Takes a reference to rec, does not consume it; -errno.
 */
int audit__record(struct audit *a, struct json_object *rec, int prio, const char *summary);
void audit__close(struct audit *a);

#endif
