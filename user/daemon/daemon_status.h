/* SPDX-License-Identifier: GPL-2.0 */
/* What a running watch daemon says about itself (<state>/status.json), for `status`. */
#ifndef LPS_DAEMON_STATUS_H
#define LPS_DAEMON_STATUS_H

#include <stdio.h>
#include <json-c/json.h>

#define WATCH_DEFAULT_STATE_DIR "/var/lib/lpsentinel"
#define WATCH_STATUS_FILE "status.json"

/* The daemon's status document if one is running with this state dir, else NULL. */
struct json_object *daemon_status__read(const char *state_dir);
void daemon_status__text(FILE *f, struct json_object *st);

#endif
