// SPDX-License-Identifier: GPL-2.0
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <poll.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>
#include "clock.h"
#include "control.h"
#include "log.h"

/* The pid written in a lock file (fd at any offset), or 0. */
static int lock_pid(int fd)
{
	char buf[24] = "";
	int pid = 0;

	if (pread(fd, buf, sizeof(buf) - 1, 0) > 0 && sscanf(buf, "%d", &pid) == 1 && pid > 0)
		return pid;
	return 0;
}

int control__lock(int dir_fd, int *holder)
{
	int fd = openat(dir_fd, CONTROL_LOCK, O_RDWR | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0600);
	char buf[24];
	int ret, n;

	*holder = 0;
	if (fd < 0)
		return -errno;
	if (flock(fd, LOCK_EX | LOCK_NB)) {
		ret = errno == EWOULDBLOCK ? -EBUSY : -errno;
		*holder = lock_pid(fd);
		close(fd);
		return ret;
	}
	n = snprintf(buf, sizeof(buf), "%d\n", (int)getpid());
	if (ftruncate(fd, 0) || pwrite(fd, buf, (size_t)n, 0) != n) {
		ret = -errno;
		close(fd);
		return ret;
	}
	return fd;
}

bool control__daemon_runs(const char *dir, int *pid)
{
	char path[PATH_MAX];
	struct stat st;
	bool held = false;
	int fd;

	*pid = 0;
	if ((size_t)snprintf(path, sizeof(path), "%s/%s", dir, CONTROL_LOCK) >= sizeof(path))
		return false;
	/* O_NONBLOCK: a FIFO put there does not hold the gate. */
	fd = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW | O_NONBLOCK);
	if (fd < 0)
		return false;
	if (!fstat(fd, &st) && S_ISREG(st.st_mode) && st.st_uid == 0) {
		held = flock(fd, LOCK_SH | LOCK_NB) && errno == EWOULDBLOCK;
		if (held)
			*pid = lock_pid(fd);
	}
	close(fd);	/* a shared lock taken here goes with it */
	return held;
}

static int sock_path(const char *dir, struct sockaddr_un *sa)
{
	memset(sa, 0, sizeof(*sa));
	sa->sun_family = AF_UNIX;
	if ((size_t)snprintf(sa->sun_path, sizeof(sa->sun_path), "%s/%s", dir, CONTROL_SOCKET) >=
	    sizeof(sa->sun_path))
		return -ENAMETOOLONG;
	return 0;
}

int control__listen(const char *dir)
{
	struct sockaddr_un sa;
	int fd, ret = sock_path(dir, &sa);

	if (ret)
		return ret;
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
	if (fd < 0)
		return -errno;
	unlink(sa.sun_path);	/* a daemon killed with SIGKILL leaves its socket */
	/* Created 0600 from the start: no window in which another user could connect. */
	{
		mode_t old = umask(0177);

		ret = bind(fd, (struct sockaddr *)&sa, sizeof(sa));
		umask(old);
	}
	if (ret || listen(fd, 64)) {
		ret = -errno;
		close(fd);
		return ret;
	}
	return fd;
}

void control_server__init(struct control_server *s, int lfd)
{
	memset(s, 0, sizeof(*s));
	s->lfd = lfd;
	s->deadline_s = CONTROL_DEADLINE_S;
	for (size_t i = 0; i < sizeof(s->conn) / sizeof(s->conn[0]); i++)
		s->conn[i].fd = -1;
}

/*
 * Bytes a client sent and nobody read would make the kernel reset the
 * connection at the close, and the client could lose its error line: what
 * has arrived (a bounded amount, without waiting) is read and dropped first.
 */
static void drain(int fd)
{
	for (size_t n = 0; n < (1u << 20);) {
		char junk[4096];
		ssize_t r = recv(fd, junk, sizeof(junk), MSG_DONTWAIT);

		if (r <= 0)
			break;
		n += (size_t)r;
	}
}

static void conn_close(struct control_conn *c)
{
	if (c->fd >= 0)
		close(c->fd);
	free(c->buf);
	memset(c, 0, sizeof(*c));
	c->fd = -1;
}

/*
 * A one-line refusal on a connection that gets no slot: never waits for the
 * client. Busy ones say so in a field too: gate tries again.
 */
static void refuse(int fd, const char *msg, bool busy)
{
	char line[256];
	int n = snprintf(line, sizeof(line), "{\"error\":\"%s\"%s}\n", msg,
			 busy ? ",\"busy\":true" : "");

	/* A client that cannot take it gets the close alone. */
	(void)!send(fd, line, (size_t)n, MSG_DONTWAIT | MSG_NOSIGNAL);
	drain(fd);
	close(fd);
}

static size_t count(const struct control_server *s, enum control_conn_state st)
{
	size_t n = 0;

	for (size_t i = 0; i < sizeof(s->conn) / sizeof(s->conn[0]); i++)
		n += s->conn[i].state == st;
	return n;
}

static void accept_all(struct control_server *s)
{
	for (;;) {
		struct ucred cred;
		socklen_t clen = sizeof(cred);
		struct control_conn *c = NULL;
		int fd = accept4(s->lfd, NULL, NULL, SOCK_CLOEXEC | SOCK_NONBLOCK);

		if (fd < 0)	/* none waiting, or none can be taken now (EMFILE...): next time */
			return;
		if (getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &cred, &clen) || cred.uid != 0) {
			s->st.refused++;
			refuse(fd, "only root may use the control socket", false);
			continue;
		}
		for (size_t i = 0; !c && i < sizeof(s->conn) / sizeof(s->conn[0]); i++)
			if (s->conn[i].state == CONN_FREE)
				c = &s->conn[i];
		if (!c || count(s, CONN_READING) >= CONTROL_SLOTS) {
			s->st.busy++;
			refuse(fd, "busy: too many requests at once; try again", true);
			continue;
		}
		c->buf = malloc(CONTROL_REQUEST_MAX + 1);
		if (!c->buf) {
			refuse(fd, "out of memory", false);
			continue;
		}
		s->st.accepted++;
		c->fd = fd;
		c->state = CONN_READING;
		c->deadline = clock__now_s() + s->deadline_s;
		c->len = 0;
	}
}

__attribute__((format(printf, 3, 4)))
static void conn_error(struct control_server *s, int id, const char *fmt, ...)
{
	char msg[640];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	fprintf(stderr, "lpsentinel watch: control socket: %s\n", msg);
	control_server__error(s, id, msg);
}

/* Reads what has come; a whole line is parsed and handed over. */
static void conn_read(struct control_server *s, int id, control_request_fn fn, void *arg)
{
	struct control_conn *c = &s->conn[id];
	struct control_request req;
	char why[512];
	char *nl;
	ssize_t r;

	r = recv(c->fd, c->buf + c->len, CONTROL_REQUEST_MAX - c->len, MSG_DONTWAIT);
	if (r < 0 && (errno == EAGAIN || errno == EINTR))
		return;
	if (r <= 0) {	/* gone before its request was whole: nobody to answer */
		conn_close(c);
		return;
	}
	nl = memchr(c->buf + c->len, '\n', (size_t)r);
	c->len += (size_t)r;
	if (!nl) {
		if (c->len == CONTROL_REQUEST_MAX) {
			s->st.refused++;
			conn_error(s, id, "request refused: over %d bytes without a newline",
				   CONTROL_REQUEST_MAX);
		}
		return;
	}
	if (control__parse_request(c->buf, (size_t)(nl - c->buf), &req, why, sizeof(why))) {
		s->st.refused++;
		conn_error(s, id, "request refused: %s", why);
		return;
	}
	free(c->buf);
	c->buf = NULL;
	c->len = 0;
	c->state = CONN_HELD;
	/* A gate's wait is the verdict's: no deadline, and it can always be answered. */
	if (count(s, CONN_HELD) > CONTROL_GATES_MAX) {
		struct json_object *doc = json_object_new_object();

		s->st.busy++;
		json_object_object_add(doc, "error", json_object_new_string(
			"busy: too many gates waiting for verdicts; try again"));
		json_object_object_add(doc, "busy", json_object_new_boolean(1));
		control_server__reply(s, id, doc);
		json_object_put(doc);
		return;
	}
	fn(arg, s, id, &req);
}

/* Writes what the client takes now; closes once all of it went. */
static void conn_write(struct control_conn *c)
{
	while (c->off < c->len) {
		ssize_t w = send(c->fd, c->buf + c->off, c->len - c->off,
				 MSG_DONTWAIT | MSG_NOSIGNAL);

		if (w < 0 && errno == EINTR)
			continue;
		if (w < 0 && errno == EAGAIN)
			return;
		if (w <= 0)
			break;	/* gone: the audit trail has the verdict */
		c->off += (size_t)w;
	}
	drain(c->fd);
	conn_close(c);
}

void control_server__poll(struct control_server *s, double timeout_s, control_request_fn fn,
			  void *arg)
{
	enum { N = sizeof(s->conn) / sizeof(s->conn[0]) };
	struct pollfd p[N + 1];
	int who[N + 1], n = 0, ms = timeout_s > 0 ? (int)ceil(timeout_s * 1000) : 0;
	double now = clock__now_s();

	if (s->lfd < 0) {
		clock__nap(timeout_s);
		return;
	}
	p[n] = (struct pollfd){ .fd = s->lfd, .events = POLLIN };
	who[n++] = -1;
	for (int i = 0; i < N; i++) {
		struct control_conn *c = &s->conn[i];

		if (c->state != CONN_READING && c->state != CONN_WRITING)
			continue;
		/* Deadlines end the wait too, so they are kept to the millisecond. */
		if (c->deadline <= now)
			ms = 0;
		else if ((c->deadline - now) * 1000 < ms)
			ms = (int)ceil((c->deadline - now) * 1000);
		p[n] = (struct pollfd){ .fd = c->fd,
					.events = c->state == CONN_READING ? POLLIN : POLLOUT };
		who[n++] = i;
	}
	if (poll(p, (nfds_t)n, ms) < 0)
		return;	/* a signal: the loop looks at it */
	for (int k = 0; k < n; k++) {
		struct control_conn *c = who[k] >= 0 ? &s->conn[who[k]] : NULL;

		if (!p[k].revents)
			continue;
		if (!c)
			accept_all(s);
		else if (c->state == CONN_READING)
			conn_read(s, who[k], fn, arg);
		else if (c->state == CONN_WRITING)
			conn_write(c);
	}
	now = clock__now_s();
	for (int i = 0; i < N; i++) {
		struct control_conn *c = &s->conn[i];

		if ((c->state == CONN_READING || c->state == CONN_WRITING) && now >= c->deadline) {
			s->st.timed_out++;
			if (c->state == CONN_READING) {
				conn_error(s, i, "request refused: not whole within %g s",
					   s->deadline_s);
				/* the refusal had its chance to go out with the error: done */
				if (c->state == CONN_WRITING)
					conn_close(c);
			} else {
				conn_close(c);
			}
		}
	}
}

void control_server__reply(struct control_server *s, int id, struct json_object *doc)
{
	struct control_conn *c = &s->conn[id];
	const char *js = json_object_to_json_string_ext(doc, JSON_C_TO_STRING_PLAIN |
							JSON_C_TO_STRING_NOSLASHESCAPE);
	size_t len = strlen(js);

	free(c->buf);
	c->buf = malloc(len + 2);
	if (!c->buf) {
		conn_close(c);
		return;
	}
	memcpy(c->buf, js, len);
	c->buf[len++] = '\n';
	c->len = len;
	c->off = 0;
	c->state = CONN_WRITING;
	c->deadline = clock__now_s() + s->deadline_s;
	conn_write(c);
}

void control_server__error(struct control_server *s, int id, const char *msg)
{
	struct json_object *doc = json_object_new_object();

	json_object_object_add(doc, "error", json_object_new_string(msg));
	control_server__reply(s, id, doc);
	json_object_put(doc);
}

void control_server__close(struct control_server *s)
{
	for (size_t i = 0; i < sizeof(s->conn) / sizeof(s->conn[0]); i++)
		if (s->conn[i].state != CONN_FREE)
			conn_close(&s->conn[i]);
	if (s->lfd >= 0)
		close(s->lfd);
	s->lfd = -1;
}

int control__send(int fd, struct json_object *doc)
{
	const char *js = json_object_to_json_string_ext(doc, JSON_C_TO_STRING_PLAIN |
							JSON_C_TO_STRING_NOSLASHESCAPE);
	size_t len = strlen(js);

	while (len) {
		ssize_t w = send(fd, js, len, MSG_NOSIGNAL);

		if (w < 0 && errno == EINTR)
			continue;
		if (w < 0)
			return -errno;
		js += w;
		len -= (size_t)w;
	}
	return send(fd, "\n", 1, MSG_NOSIGNAL) == 1 ? 0 : -errno;
}

int control__connect(const char *dir, char *why, size_t why_len)
{
	struct sockaddr_un sa;
	struct ucred cred;
	socklen_t clen = sizeof(cred);
	int fd, ret = sock_path(dir, &sa);

	if (ret) {
		snprintf(why, why_len, "%s/%s: path too long", dir, CONTROL_SOCKET);
		return ret;
	}
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0) {
		ret = -errno;
		snprintf(why, why_len, "socket: %s", strerror(-ret));
		return ret;
	}
	if (connect(fd, (struct sockaddr *)&sa, sizeof(sa))) {
		ret = -errno;
		snprintf(why, why_len, "%s: %s", sa.sun_path, strerror(-ret));
		close(fd);
		return ret;
	}
	/*
	 * The patch is handed over and the verdict believed only if root serves
	 * the socket: a user who owns the directory could serve it and answer "kept".
	 */
	if (getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &cred, &clen)) {
		ret = -errno;
		snprintf(why, why_len, "%s: cannot tell who serves it: %s", sa.sun_path,
			 strerror(-ret));
		close(fd);
		return ret;
	}
	if (cred.uid != 0) {
		snprintf(why, why_len, "%s is served by uid %u (pid %d), not by root; not handing it "
			 "the patch", sa.sun_path, (unsigned)cred.uid, (int)cred.pid);
		close(fd);
		return -EPERM;
	}
	return fd;
}

struct json_object *control__reply(int fd, char *why, size_t why_len)
{
	size_t n = 0, cap = 65536;
	char *buf = malloc(cap + 1);
	struct json_object *doc = NULL;

	if (!buf) {
		snprintf(why, why_len, "out of memory");
		return NULL;
	}
	for (;;) {
		ssize_t r;

		if (n == cap) {
			char *v = cap < CONTROL_REPLY_MAX ? realloc(buf, 2 * cap + 1) : NULL;

			if (!v) {
				snprintf(why, why_len, "the reply is over %lu bytes", CONTROL_REPLY_MAX);
				goto out;
			}
			buf = v;
			cap *= 2;
		}
		r = read(fd, buf + n, cap - n);
		if (r < 0 && errno == ECONNRESET && n)
			break;	/* what came before the reset is the reply */
		if (r < 0) {
			snprintf(why, why_len, "%s", strerror(errno));
			goto out;
		}
		if (r == 0)
			break;
		n += (size_t)r;
	}
	if (!n) {
		snprintf(why, why_len, "the connection closed without a reply");
		goto out;
	}
	control__parse_reply(buf, n, &doc, why, why_len);
out:
	free(buf);
	return doc;
}
