// SPDX-License-Identifier: GPL-2.0
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include "kmsg.h"
#include "text.h"

int kmsg__open(const char *path, bool from_end)
{
	int fd = open(path, O_RDONLY | O_NONBLOCK | O_CLOEXEC);

	if (fd < 0)
		return -errno;
	/* SEEK_END on /dev/kmsg: only records logged from now on will be read. */
	if (from_end && lseek(fd, 0, SEEK_END) < 0) {
		int ret = -errno;

		close(fd);
		return ret;
	}
	return fd;
}

int kmsg__parse(char *rec, size_t n, const char **text, __u64 *ts_usec)
{
	unsigned long long ts;
	char *t, *end;

	rec[n] = '\0';
	t = memchr(rec, ';', n);
	if (!t || sscanf(rec, "%*u,%*u,%llu", &ts) != 1)
		return -EINVAL;
	t++;
	end = t + strcspn(t, "\n");
	*end = '\0';
	/* The log carries what drivers and users wrote: printable ASCII from here on. */
	text__escape_inplace(t, (size_t)(rec + n + 1 - t));
	*text = t;
	*ts_usec = ts;
	return 0;
}

int kmsg__read(int fd, int (*fn)(const char *text, __u64 ts_usec, void *arg), void *arg)
{
	char rec[8192];

	for (;;) {
		/* One read returns one record: "prio,seq,ts_usec,flags;text\n..." */
		ssize_t n = read(fd, rec, sizeof(rec) - 1);
		const char *text;
		__u64 ts;

		if (n < 0 && errno == EPIPE)
			continue;	/* overwritten before we read it */
		if (n < 0)
			return errno == EAGAIN ? 0 : -errno;
		if (n == 0)
			return 0;
		if (kmsg__parse(rec, (size_t)n, &text, &ts))
			continue;
		if (fn(text, ts, arg))
			return 0;
	}
}

int kmsg__scan(const char *path, int (*fn)(const char *text, __u64 ts_usec, void *arg),
	       void *arg)
{
	int fd = kmsg__open(path, false), ret;

	if (fd < 0)
		return fd;
	ret = kmsg__read(fd, fn, arg);
	close(fd);
	return ret;
}

__u64 kmsg__now_usec(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (__u64)ts.tv_sec * 1000000 + (__u64)ts.tv_nsec / 1000;
}
