/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The watch daemon's control socket, <state>/control.sock: root only (0600 in
 * a 0700 directory, and the peer's uid checked), one JSON request line per
 * connection, one JSON reply when the work is done. `gate` uses it to hand
 * its patch to a running daemon instead of probing the functions twice.
 *
 * Every byte a client sends is hostile, and no client can hold the daemon's
 * loop: the server never blocks. It reads requests a piece at a time as they
 * come, in at most CONTROL_SLOTS connections at once (more are told "busy"
 * and closed), each with CONTROL_DEADLINE_S for its whole request and again
 * for its reply, and a request of at most CONTROL_REQUEST_MAX bytes.
 * Replies are written as the client takes them.
 */
#ifndef LPS_CONTROL_H
#define LPS_CONTROL_H

#include <limits.h>
#include <stdbool.h>
#include <stddef.h>
#include <json-c/json.h>
#include "klp_params.h"

#define CONTROL_SOCKET		"control.sock"
#define CONTROL_SLOTS		8	/* connections whose request is being read */
#define CONTROL_GATES_MAX	16	/* gates waiting for a verdict at once */
#define CONTROL_REQUEST_MAX	16384	/* bytes, the newline included */
#define CONTROL_REPLY_MAX	(4UL << 20)	/* SAFE_FILE_MAX_TEXT: what gate reads */
#define CONTROL_DEADLINE_S	5.0	/* to send a whole request; to take a whole reply */
/* baseline_s and observe_s in a request: the rules file's range for them. */
#define CONTROL_SECONDS_MIN	0.1
#define CONTROL_SECONDS_MAX	86400.0

/*
 * A gate request, checked: {"op":"gate","module":ABS,"rules"?:ABS,"baseline_s"?,"observe_s"?,
 * "params"?:["PARAM=VALUE",...]}.
 */
struct control_request {
	char module[PATH_MAX];
	char rules[PATH_MAX];		/* "" when the gate gave none */
	double baseline_s, observe_s;	/* 0 when not given */
	char params[KLP_PARAMS_MAX];	/* module parameters, checked and joined; "" for none */
};

/*
 * Parses and checks one request (the bytes up to and without its newline):
 * one JSON object, no other field, each of the right type, seconds finite
 * and in range, paths absolute. 0, or -EINVAL with one sentence in why.
 */
int control__parse_request(const char *buf, size_t len, struct control_request *req, char *why,
			   size_t why_len);

/*
 * A reply as gate reads it: one JSON object of at most CONTROL_REPLY_MAX
 * bytes (a newline after it allowed). *doc (caller puts), or -EPROTO with why.
 */
int control__parse_reply(const char *buf, size_t len, struct json_object **doc, char *why,
			 size_t why_len);

/*
 * One daemon per state directory, and gates can tell it runs even when its
 * socket cannot be made: the daemon holds an exclusive flock on
 * <state>/watch.lock (root's, its pid inside) for as long as it runs.
 */
#define CONTROL_LOCK		"watch.lock"
/*
 * Daemon: takes the lock in the state directory dir_fd; the lock's fd (kept
 * open for the daemon's life), -EBUSY with *holder the pid of the daemon
 * that has it, or -errno.
 */
int control__lock(int dir_fd, int *holder);
/*
 * Gate: does a live process hold dir's lock (a daemon runs there)? *pid its
 * pid as written (0 when unreadable). A lock file that is not root's is
 * nobody's word and reads as false.
 */
bool control__daemon_runs(const char *dir, int *pid);

/* Daemon: listens on dir/control.sock (a stale socket is replaced); fd or -errno. */
int control__listen(const char *dir);

enum control_conn_state {
	CONN_FREE,
	CONN_READING,		/* its request is coming in (a slot) */
	CONN_HELD,		/* its request was taken: the owner will reply */
	CONN_WRITING,		/* its reply is going out */
};

struct control_conn {
	int fd;
	enum control_conn_state state;
	double deadline;	/* CLOCK_MONOTONIC s: reading or writing ends then */
	char *buf;		/* the request coming in, or the reply going out */
	size_t len, off;
};

struct control_stats {
	unsigned long long accepted, busy, timed_out, refused;
};

struct control_server {
	int lfd;		/* -1: not listening */
	double deadline_s;	/* CONTROL_DEADLINE_S (tests shorten it) */
	struct control_conn conn[CONTROL_SLOTS + CONTROL_GATES_MAX];
	struct control_stats st;
};

/* A request that parsed: the owner replies (control_server__reply) now or later. */
typedef void (*control_request_fn)(void *arg, struct control_server *s, int id,
				   const struct control_request *req);

void control_server__init(struct control_server *s, int lfd);
/*
 * Waits at most timeout_s for the socket and its connections, then does
 * what is ready without blocking: accepts, reads, calls fn for each whole
 * request that parsed (a malformed one is answered with its error here),
 * writes replies, and closes connections past their deadline.
 */
void control_server__poll(struct control_server *s, double timeout_s, control_request_fn fn,
			  void *arg);
/* Queues doc as connection id's reply (one line), written as the client reads. */
void control_server__reply(struct control_server *s, int id, struct json_object *doc);
/* The reply {"error": msg}. */
void control_server__error(struct control_server *s, int id, const char *msg);
/* Closes every connection and the socket. */
void control_server__close(struct control_server *s);

/* Both: one JSON document and a newline on a blocking descriptor; -errno. */
int control__send(int fd, struct json_object *doc);

/*
 * Client: connects to dir/control.sock; fd, or -ENOENT/-ECONNREFUSED when no
 * daemon listens. The daemon must be root: a socket served by another uid is
 * -EPERM, with why saying who serves it.
 */
int control__connect(const char *dir, char *why, size_t why_len);
/* Client: the reply, read until the daemon closes; NULL with why on failure (EINTR: a signal). */
struct json_object *control__reply(int fd, char *why, size_t why_len);

#endif
