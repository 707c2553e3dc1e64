/* SPDX-License-Identifier: GPL-2.0 */
/*
 * /metrics over HTTP (libmicrohttpd, its own thread). The daemon's loop
 * publishes a rendered page after each tick; requests copy the latest one, so
 * the server never reads the daemon's state while the loop changes it.
 */
#ifndef LPS_METRICS_HTTP_H
#define LPS_METRICS_HTTP_H

#include <stddef.h>

struct metrics_http;

/* Listens on addr ("HOST:PORT", "[V6]:PORT" or ":PORT"); why gets a sentence on failure. */
int metrics_http__start(struct metrics_http **out, const char *addr, char *why, size_t len);
/* Takes ownership of page (malloc'd) as the new /metrics body. */
void metrics_http__publish(struct metrics_http *m, char *page, size_t len);
void metrics_http__stop(struct metrics_http *m);

#endif
