/* SPDX-License-Identifier: GPL-2.0 */
/*
 * What a running watch daemon says about itself (<state>/status.json), for
 * `status`. The file is read like any file lpsentinel did not write: without
 * following a link, without blocking, within a size limit, and every field's
 * type checked before it is used; a damaged file is one error, never a crash.
 */
#ifndef LPS_DAEMON_STATUS_H
#define LPS_DAEMON_STATUS_H

#include <stddef.h>
#include <stdio.h>
#include <json-c/json.h>

#define WATCH_DEFAULT_STATE_DIR "/var/lib/lpsentinel"
#define WATCH_STATUS_FILE "status.json"

/*
 * Parses LEN bytes of BUF as a status document and checks every field the
 * printers use (types, printable names): 0 and *out, or -EBADMSG and WHY.
 */
int daemon_status__parse(const char *buf, size_t len, struct json_object **out, char *why,
			 size_t why_len);
/*
 * The status document of the daemon running with this state dir: 0 and *out,
 * NULL when none runs (no status.json, or its pid is not a live lpsentinel);
 * -errno and WHY when status.json cannot be read or is damaged.
 */
int daemon_status__read(const char *state_dir, struct json_object **out, char *why,
			size_t why_len);
/* The document (checked by daemon_status__parse) as text. */
void daemon_status__text(FILE *f, struct json_object *st);

#endif
