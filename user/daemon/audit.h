/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The audit trail: every decision as one JSON line appended to
 * <state>/audit.jsonl (synced before we act on it being written) and to syslog.
 *
 * A line that cannot be written (disk full, I/O error) is kept and written
 * again before the next one, so the trail stays in order; what could not be
 * kept is counted, and the trail itself says so once it can be written again.
 */
#ifndef LPS_AUDIT_H
#define LPS_AUDIT_H

#include <stdbool.h>
#include <stddef.h>
#include <linux/types.h>
#include <json-c/json.h>

#define AUDIT_FILE "audit.jsonl"
#define AUDIT_PENDING_MAX 64	/* lines kept for a retry; older ones are dropped, counted */

struct audit {
	int fd;
	char *pending[AUDIT_PENDING_MAX];	/* lines not written yet, oldest first */
	size_t npending;
	__u64 failed;		/* write attempts that failed */
	__u64 dropped;		/* lines lost: more failed than could be kept */
	int last_err;		/* -errno of the last failure, 0 once everything is written */
};

/*
 * Opens audit.jsonl of the directory DIRFD for appending (0600, created when
 * missing, never through a link, a regular file only), and syslog as
 * "lpsentinel"; -errno with one sentence in WHY.
 */
int audit__open(struct audit *a, int dirfd, char *why, size_t len);
/*
 * Appends rec as one line (after any line still pending) and sends summary
 * (with the line) to syslog at priority prio. Takes a reference to rec, does
 * not consume it. 0 when everything is written; else -errno, and the line is
 * pending (or dropped and counted).
 */
int audit__record(struct audit *a, struct json_object *rec, int prio, const char *summary);
/*
 * A new decision record with the fields every one starts with: time (UTC),
 * event, kernel, patch, verdict, action, reason and operational (reverted
 * because it could not be judged, not on a verdict: gate exits 1 for it).
 */
struct json_object *audit__decision(const char *event, const char *kernel, const char *patch,
				    const char *verdict, const char *action, const char *reason,
				    bool operational);
/* Writes what is pending (once a tick); 0 when nothing is left, else -errno. */
int audit__flush(struct audit *a);
void audit__close(struct audit *a);

#endif
