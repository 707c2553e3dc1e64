// SPDX-License-Identifier: GPL-2.0
#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <syslog.h>
#include <time.h>
#include <unistd.h>
#include "audit.h"
#include "log.h"
#include "safe_file.h"

int audit__open(struct audit *a, int dirfd, char *why, size_t len)
{
	int ret;

	memset(a, 0, sizeof(*a));
	/* O_NONBLOCK: a FIFO put there must not hold the daemon; it is refused below. */
	a->fd = openat(dirfd, AUDIT_FILE, O_WRONLY | O_APPEND | O_CREAT | O_NOFOLLOW | O_NONBLOCK |
		       O_CLOEXEC | O_NOCTTY, 0600);
	if (a->fd < 0) {
		ret = -errno;
		snprintf(why, len, "%s", ret == -ELOOP ? "is a symbolic link: refused" :
			 strerror(-ret));
		return ret;
	}
	ret = safe_file__check_fd(a->fd, 0, SIZE_MAX, why, len);
	if (!ret && fcntl(a->fd, F_SETFL, O_APPEND)) {
		ret = -errno;
		snprintf(why, len, "fcntl: %s", strerror(errno));
	}
	if (ret) {
		close(a->fd);
		a->fd = -1;
		return ret;
	}
	openlog("lpsentinel", LOG_PID, LOG_DAEMON);
	return 0;
}

/*
 * One write on an O_APPEND file: a crash leaves whole lines, never
 * interleaved ones. A short write (the disk filled up) is cut off again, so
 * the line written later is not glued to half of this one.
 */
static int write_line(struct audit *a, const char *line)
{
	size_t len = strlen(line);
	off_t end = lseek(a->fd, 0, SEEK_END);
	ssize_t w = write(a->fd, line, len);
	int ret = 0;

	if (w < 0)
		ret = -errno;
	else if ((size_t)w != len)
		ret = -ENOSPC;
	else if (fsync(a->fd))
		ret = -errno;
	if (ret && w > 0 && end >= 0 && ftruncate(a->fd, end))
		lps_warn("audit trail: cannot cut off a partly written line: %s", strerror(errno));
	return ret;
}

/* The trail says itself that lines were late or lost, once it can be written again. */
static int note_gap(struct audit *a)
{
	char line[256];
	int ret;

	snprintf(line, sizeof(line), "{\"event\":\"audit_write_failed\",\"failed_writes\":%llu,"
		 "\"dropped_lines\":%llu,\"error\":\"%s\"}\n", (unsigned long long)a->failed,
		 (unsigned long long)a->dropped, strerror(-a->last_err));
	ret = write_line(a, line);
	if (ret)
		return ret;
	lps_warn("audit trail: written again after %llu failed writes (%llu lines lost)",
		 (unsigned long long)a->failed, (unsigned long long)a->dropped);
	a->last_err = 0;
	return 0;
}

int audit__flush(struct audit *a)
{
	int ret;

	while (a->npending) {
		ret = a->fd < 0 ? -EBADF : write_line(a, a->pending[0]);
		if (ret) {
			/* Said once a failure starts; counted every time. */
			if (!a->last_err)
				lps_warn("audit trail: cannot append: %s; %zu line%s kept to write "
					 "again", strerror(-ret), a->npending, a->npending == 1 ? "" : "s");
			a->last_err = ret;
			a->failed++;
			return ret;
		}
		free(a->pending[0]);
		memmove(a->pending, a->pending + 1, --a->npending * sizeof(*a->pending));
	}
	return a->last_err ? note_gap(a) : 0;
}

int audit__record(struct audit *a, struct json_object *rec, int prio, const char *summary)
{
	const char *js = json_object_to_json_string_ext(rec, JSON_C_TO_STRING_PLAIN |
							JSON_C_TO_STRING_NOSLASHESCAPE);
	size_t len = strlen(js);
	char *line = malloc(len + 2);

	syslog(prio, "%s %s", summary, js);
	if (!line) {
		a->dropped++;
		return -ENOMEM;
	}
	memcpy(line, js, len);
	memcpy(line + len, "\n", 2);
	if (a->npending == AUDIT_PENDING_MAX) {	/* the oldest goes: syslog has it */
		free(a->pending[0]);
		memmove(a->pending, a->pending + 1, --a->npending * sizeof(*a->pending));
		a->dropped++;
	}
	a->pending[a->npending++] = line;
	return audit__flush(a);
}

void audit__close(struct audit *a)
{
	if (audit__flush(a) && a->npending)
		lps_warn("audit trail: %zu line%s could not be written (syslog has them)",
			 a->npending, a->npending == 1 ? "" : "s");
	while (a->npending)
		free(a->pending[--a->npending]);
	if (a->fd >= 0)
		close(a->fd);
	a->fd = -1;
	closelog();
}

struct json_object *audit__decision(const char *event, const char *kernel, const char *patch,
				    const char *verdict, const char *action, const char *reason,
				    bool operational)
{
	struct json_object *doc = json_object_new_object();
	time_t now = time(NULL);
	char when[32];

	strftime(when, sizeof(when), "%Y-%m-%dT%H:%M:%SZ", gmtime(&now));
	json_object_object_add(doc, "time", json_object_new_string(when));
	json_object_object_add(doc, "event", json_object_new_string(event));
	json_object_object_add(doc, "kernel", json_object_new_string(kernel));
	json_object_object_add(doc, "patch", json_object_new_string(patch));
	json_object_object_add(doc, "verdict", json_object_new_string(verdict));
	json_object_object_add(doc, "action", json_object_new_string(action));
	json_object_object_add(doc, "reason", json_object_new_string(reason));
	json_object_object_add(doc, "operational", json_object_new_boolean(operational));
	return doc;
}
