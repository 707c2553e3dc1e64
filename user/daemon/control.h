/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The watch daemon's control socket, <state>/control.sock: root only (0600 in
 * a 0700 directory, and the peer's uid checked), one JSON request line per
 * connection, one JSON reply when the work is done. `gate` uses it to hand
 * its patch to a running daemon instead of probing the functions twice.
 */
#ifndef LPS_CONTROL_H
#define LPS_CONTROL_H

#include <stddef.h>
#include <json-c/json.h>

#define CONTROL_SOCKET "control.sock"

/* Daemon: listens on dir/control.sock (a stale socket is replaced); fd or -errno. */
int control__listen(const char *dir);
/*
 * Daemon: one pending connection from root with its request (read within a
 * second), without blocking on the listener; 0 and *req (caller puts);
 * -EAGAIN when none can be taken now; other -errno for a connection refused
 * (closed here).
 */
int control__accept(int lfd, int *cfd, struct json_object **req);
/* Both: one JSON document and a newline; -errno. */
int control__send(int fd, struct json_object *doc);

/* Client: connects to dir/control.sock; fd, or -ENOENT/-ECONNREFUSED when no daemon listens. */
int control__connect(const char *dir);
/* Client: the reply, read until the daemon closes; NULL with errno on failure. */
struct json_object *control__reply(int fd);

#endif
