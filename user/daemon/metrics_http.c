// SPDX-License-Identifier: GPL-2.0
#include <errno.h>
#include <netdb.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <microhttpd.h>
#include "metrics_http.h"

struct metrics_http {
	struct MHD_Daemon *d;
	pthread_mutex_t lock;
	char *page;
	size_t len;
};

static enum MHD_Result reply(struct MHD_Connection *c, unsigned status, const char *type,
			     const char *body, size_t len)
{
	struct MHD_Response *r = MHD_create_response_from_buffer(len, (void *)body,
								 MHD_RESPMEM_MUST_COPY);
	enum MHD_Result ret;

	if (!r)
		return MHD_NO;
	MHD_add_response_header(r, MHD_HTTP_HEADER_CONTENT_TYPE, type);
	ret = MHD_queue_response(c, status, r);
	MHD_destroy_response(r);
	return ret;
}

static enum MHD_Result handle(void *cls, struct MHD_Connection *c, const char *url,
			      const char *method, const char *version, const char *upload,
			      size_t *upload_len, void **req)
{
	static const char text[] = "text/plain; charset=utf-8";
	struct metrics_http *m = cls;
	enum MHD_Result ret;

	(void)version;
	(void)upload;
	(void)req;
	if (strcmp(method, "GET") && strcmp(method, "HEAD"))
		return reply(c, MHD_HTTP_METHOD_NOT_ALLOWED, text, "GET only\n", 9);
	if (*upload_len)
		return MHD_NO;
	if (!strcmp(url, "/"))
		return reply(c, MHD_HTTP_OK, text, "lpsentinel watch: see /metrics\n", 31);
	if (strcmp(url, "/metrics"))
		return reply(c, MHD_HTTP_NOT_FOUND, text, "not found\n", 10);
	pthread_mutex_lock(&m->lock);
	ret = reply(c, m->page ? MHD_HTTP_OK : MHD_HTTP_SERVICE_UNAVAILABLE,
		    "text/plain; version=0.0.4; charset=utf-8", m->page ? m->page : "starting\n",
		    m->page ? m->len : 9);
	pthread_mutex_unlock(&m->lock);
	return ret;
}

/* "HOST:PORT", "[V6]:PORT", ":PORT" into a socket address. */
static int parse_addr(const char *addr, struct sockaddr_storage *ss, socklen_t *sl, char *why,
		      size_t len)
{
	struct addrinfo hints = { .ai_flags = AI_NUMERICHOST | AI_NUMERICSERV | AI_PASSIVE,
				  .ai_socktype = SOCK_STREAM }, *res = NULL;
	char host[256];
	const char *colon = strrchr(addr, ':'), *port;
	size_t hl;
	int ret;

	if (!colon || !colon[1]) {
		snprintf(why, len, "--listen wants ADDR:PORT, not '%s'", addr);
		return -EINVAL;
	}
	port = colon + 1;
	{
		char *end;
		long pn = strtol(port, &end, 10);

		if (*end || pn < 1 || pn > 65535) {
			snprintf(why, len, "--listen '%s': port must be 1-65535", addr);
			return -EINVAL;
		}
	}
	hl = (size_t)(colon - addr);
	if (hl >= 2 && addr[0] == '[' && addr[hl - 1] == ']') {
		addr++;
		hl -= 2;
	}
	if (hl >= sizeof(host)) {
		snprintf(why, len, "--listen: address too long");
		return -EINVAL;
	}
	memcpy(host, addr, hl);
	host[hl] = 0;
	ret = getaddrinfo(hl ? host : NULL, port, &hints, &res);
	if (ret) {
		snprintf(why, len, "--listen '%s': %s", addr, gai_strerror(ret));
		return -EINVAL;
	}
	memcpy(ss, res->ai_addr, res->ai_addrlen);
	*sl = res->ai_addrlen;
	freeaddrinfo(res);
	return 0;
}

int metrics_http__start(struct metrics_http **out, const char *addr, char *why, size_t len)
{
	struct sockaddr_storage ss;
	struct metrics_http *m;
	socklen_t sl;
	unsigned flags = MHD_USE_INTERNAL_POLLING_THREAD;
	int ret = parse_addr(addr, &ss, &sl, why, len);

	if (ret)
		return ret;
	m = calloc(1, sizeof(*m));
	if (!m)
		return -ENOMEM;
	pthread_mutex_init(&m->lock, NULL);
	if (ss.ss_family == AF_INET6)
		flags |= MHD_USE_IPv6;
	m->d = MHD_start_daemon(flags, 0, NULL, NULL, handle, m,
				MHD_OPTION_SOCK_ADDR, (struct sockaddr *)&ss,
				MHD_OPTION_CONNECTION_LIMIT, 32u,
				MHD_OPTION_CONNECTION_TIMEOUT, 10u, MHD_OPTION_END);
	if (!m->d) {
		ret = errno ? -errno : -EADDRINUSE;
		snprintf(why, len, "cannot listen on %s: %s", addr, strerror(-ret));
		pthread_mutex_destroy(&m->lock);
		free(m);
		return ret;
	}
	*out = m;
	return 0;
}

void metrics_http__publish(struct metrics_http *m, char *page, size_t len)
{
	char *old;

	pthread_mutex_lock(&m->lock);
	old = m->page;
	m->page = page;
	m->len = len;
	pthread_mutex_unlock(&m->lock);
	free(old);
}

void metrics_http__stop(struct metrics_http *m)
{
	if (!m)
		return;
	MHD_stop_daemon(m->d);
	pthread_mutex_destroy(&m->lock);
	free(m->page);
	free(m);
}
