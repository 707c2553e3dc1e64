// SPDX-License-Identifier: GPL-2.0
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <syslog.h>
#include <unistd.h>
#include "audit.h"

int audit__open(struct audit *a, const char *dir)
{
	char path[4096];

	snprintf(path, sizeof(path), "%s/%s", dir, AUDIT_FILE);
	a->fd = open(path, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0600);
	if (a->fd < 0)
		return -errno;
	openlog("lpsentinel", LOG_PID, LOG_DAEMON);
	return 0;
}

int audit__record(struct audit *a, struct json_object *rec, int prio, const char *summary)
{
	const char *js = json_object_to_json_string_ext(rec, JSON_C_TO_STRING_PLAIN |
							JSON_C_TO_STRING_NOSLASHESCAPE);
	size_t len = strlen(js);
	char *line = malloc(len + 2);
	int ret = 0;

	syslog(prio, "%s %s", summary, js);
	if (!line)
		return -ENOMEM;
	memcpy(line, js, len);
	line[len++] = '\n';
	/* One write on an O_APPEND file: a crash leaves whole lines, never interleaved ones. */
	{
		ssize_t w = write(a->fd, line, len);

		if (w < 0 || fsync(a->fd))
			ret = -errno;
		else if ((size_t)w != len)
			ret = -ENOSPC;	/* a short write: the disk is full */
	}
	free(line);
	return ret;
}

void audit__close(struct audit *a)
{
	if (a->fd >= 0)
		close(a->fd);
	a->fd = -1;
	closelog();
}
