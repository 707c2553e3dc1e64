// SPDX-License-Identifier: GPL-2.0
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <time.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/time.h>
#include <sys/un.h>
#include <unistd.h>
#include "control.h"

#define REQUEST_MAX 8192

static long now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
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
	if (ret || listen(fd, 8)) {
		ret = -errno;
		close(fd);
		return ret;
	}
	return fd;
}

int control__accept(int lfd, int *cfd, struct json_object **req)
{
	struct timeval tv = { .tv_sec = 2 };
	struct ucred cred;
	socklen_t len = sizeof(cred);
	char buf[REQUEST_MAX + 1];
	size_t n = 0;
	long deadline;
	int fd, ret = 0;

	fd = accept4(lfd, NULL, NULL, SOCK_CLOEXEC);
	if (fd < 0)	/* none waiting, or none can be taken now (EMFILE...): next tick */
		return -EAGAIN;
	if (getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &cred, &len) || cred.uid != 0) {
		ret = -EPERM;
		goto fail;
	}
	/* The client writes its request at once: a whole second at most, then it is dropped. */
	setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv));
	deadline = now_ms() + 1000;
	while (n < REQUEST_MAX && !memchr(buf, '\n', n)) {
		struct pollfd p = { .fd = fd, .events = POLLIN };
		long left = deadline - now_ms();
		ssize_t r;

		if (left <= 0 || poll(&p, 1, (int)left) <= 0) {
			ret = -ETIMEDOUT;
			goto fail;
		}
		r = read(fd, buf + n, REQUEST_MAX - n);
		if (r <= 0) {
			ret = r ? -errno : -EPROTO;
			goto fail;
		}
		n += (size_t)r;
	}
	buf[n] = 0;
	*req = json_tokener_parse(buf);
	if (!*req || !json_object_is_type(*req, json_type_object)) {
		json_object_put(*req);
		*req = NULL;
		ret = -EPROTO;
		goto fail;
	}
	*cfd = fd;
	return 0;
fail:
	close(fd);
	return ret;
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

int control__connect(const char *dir)
{
	struct sockaddr_un sa;
	int fd, ret = sock_path(dir, &sa);

	if (ret)
		return ret;
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -errno;
	if (connect(fd, (struct sockaddr *)&sa, sizeof(sa))) {
		ret = -errno;
		close(fd);
		return ret;
	}
	return fd;
}

struct json_object *control__reply(int fd)
{
	size_t n = 0, cap = 65536;
	char *buf = malloc(cap + 1);
	struct json_object *doc;

	if (!buf)
		return NULL;
	for (;;) {
		ssize_t r;

		if (n == cap) {
			char *v = cap < (64u << 20) ? realloc(buf, 2 * cap + 1) : NULL;

			if (!v) {
				free(buf);
				errno = EMSGSIZE;
				return NULL;
			}
			buf = v;
			cap *= 2;
		}
		r = read(fd, buf + n, cap - n);
		if (r < 0 && errno == EINTR)
			break;	/* a signal: the caller decides */
		if (r < 0) {
			free(buf);
			return NULL;
		}
		if (r == 0)
			break;
		n += (size_t)r;
	}
	buf[n] = 0;
	doc = n ? json_tokener_parse(buf) : NULL;
	free(buf);
	if (!doc)
		errno = n ? EPROTO : ECONNRESET;
	return doc;
}
