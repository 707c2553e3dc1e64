// SPDX-License-Identifier: GPL-2.0
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/syscall.h>
#include <unistd.h>
#include <linux/perf_event.h>
#include <bpf/libbpf.h>
#include "kfile.h"
#include "kretprobe.h"

#define EVENT_GROUP "lpsentinel"
/* The kernel's ceiling for maxactive (KRETPROBE_MAXACTIVE_MAX). */
#define MAXACTIVE_MAX 4096

static const char *tracefs(void)
{
	return access("/sys/kernel/tracing/kprobe_events", F_OK) == 0 ?
	       "/sys/kernel/tracing" : "/sys/kernel/debug/tracing";
}

static int append_kprobe_events(const char *line)
{
	char path[128];

	snprintf(path, sizeof(path), "%s/kprobe_events", tracefs());
	return kfile__write(path, O_APPEND, line);
}

static int read_event_id(const char *event)
{
	char path[256];
	FILE *f;
	int id = -1;

	snprintf(path, sizeof(path), "%s/events/%s/%s/id", tracefs(), EVENT_GROUP, event);
	f = fopen(path, "r");
	if (!f)
		return -errno;
	if (fscanf(f, "%d", &id) != 1)
		id = -EINVAL;
	fclose(f);
	return id;
}

static void remove_event(const char *event)
{
	char line[128];

	snprintf(line, sizeof(line), "-:%s/%s\n", EVENT_GROUP, event);
	append_kprobe_events(line);
}

int kretprobe__default_maxactive(void)
{
	long cpus = sysconf(_SC_NPROCESSORS_CONF);
	long n = 64 + 16 * (cpus > 0 ? cpus : 1);

	return n > MAXACTIVE_MAX ? MAXACTIVE_MAX : (int)n;
}

struct bpf_link *kretprobe__attach(struct bpf_program *prog, const char *func, int maxactive,
				   char *event)
{
	/*
	 * Unique in this process across every probe set (watch groups, the
	 * probe floor): a name reused while in use would be taken for a
	 * leftover and removed from under its probe.
	 */
	static unsigned long seq;
	struct perf_event_attr attr = { .size = sizeof(attr), .type = PERF_TYPE_TRACEPOINT,
					.sample_period = 1, .wakeup_events = 1 };
	struct bpf_link *link;
	char line[256];
	int ret, pfd;

	snprintf(event, KRETPROBE_EVENT_LEN, "lps_%d_%lu", (int)getpid(), seq++);
	remove_event(event);	/* a leftover of a crashed run that had our pid */
	snprintf(line, sizeof(line), "r%d:%s/%s %s\n", maxactive, EVENT_GROUP, event, func);
	ret = append_kprobe_events(line);
	if (ret) {
		event[0] = '\0';
		errno = -ret;
		return NULL;
	}
	ret = read_event_id(event);
	if (ret < 0)
		goto fail;
	attr.config = (__u64)ret;
	pfd = (int)syscall(SYS_perf_event_open, &attr, -1, 0, -1, PERF_FLAG_FD_CLOEXEC);
	if (pfd < 0) {
		ret = -errno;
		goto fail;
	}
	link = bpf_program__attach_perf_event(prog, pfd);
	if (!link) {
		ret = -errno;
		close(pfd);
		goto fail;
	}
	return link;	/* the link owns pfd now */
fail:
	kretprobe__remove(event);
	errno = -ret;
	return NULL;
}

void kretprobe__remove(char *event)
{
	if (!event[0])
		return;
	remove_event(event);
	event[0] = '\0';
}
