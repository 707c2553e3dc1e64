// SPDX-License-Identifier: GPL-2.0
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include "kmsg.h"

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

int kmsg__read(int fd, int (*fn)(const char *text, __u64 ts_usec, void *arg), void *arg)
{
	char rec[8192];

	for (;;) {
		/* One read returns one record: "prio,seq,ts_usec,flags;text\n..." */
		ssize_t n = read(fd, rec, sizeof(rec) - 1);
		unsigned long long ts;
		char *text;

		if (n < 0 && errno == EPIPE)
			continue;	/* overwritten before we read it */
		if (n < 0)
			return errno == EAGAIN ? 0 : -errno;
		if (n == 0)
			return 0;
		rec[n] = '\0';
		text = strchr(rec, ';');
		if (!text || sscanf(rec, "%*u,%*u,%llu", &ts) != 1)
			continue;
		text++;
		text[strcspn(text, "\n")] = '\0';
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
