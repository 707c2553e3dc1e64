// SPDX-License-Identifier: GPL-2.0
#include <ctype.h>
#include <stdbool.h>
#include <dirent.h>
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "klp_tasks.h"
#include "kmsg.h"
#include "text.h"

static int read_small(const char *path, char *buf, size_t len)
{
	FILE *f = fopen(path, "r");
	size_t n;

	if (!f)
		return -errno;
	n = fread(buf, 1, len - 1, f);
	buf[n] = '\0';
	fclose(f);
	return 0;
}

/*
 * A kernel stack, line by line, each line escaped: symbol names come from
 * modules, and the reports print the lines as they are. At most 64 KiB.
 */
static char *read_stack(const char *path)
{
	char *buf = NULL, line[512], esc[sizeof(line) * 4];
	size_t len = 0, total = 0;
	FILE *f = fopen(path, "r");
	FILE *m;

	if (!f)
		return NULL;
	m = open_memstream(&buf, &len);
	if (m) {
		while (total < (64 << 10) && fgets(line, sizeof(line), f)) {
			line[strcspn(line, "\n")] = '\0';
			text__escape(line, esc, sizeof(esc));
			total += (size_t)fprintf(m, "%s\n", esc);
		}
		fclose(m);
	}
	fclose(f);
	return buf;
}

static int push(struct klp_blocker **v, size_t *n, size_t *cap, const struct klp_blocker *b)
{
	if (*n == *cap) {
		size_t c = *cap ? *cap * 2 : 8;
		struct klp_blocker *nv = realloc(*v, c * sizeof(**v));

		if (!nv)
			return -ENOMEM;
		*v = nv;
		*cap = c;
	}
	(*v)[(*n)++] = *b;
	return 0;
}

static bool is_number(const char *s)
{
	if (!*s)
		return false;
	for (; *s; s++)
		if (!isdigit((unsigned char)*s))
			return false;
	return true;
}

int klp_tasks__blockers(const char *proc_root, int target_state, struct klp_blocker **out,
			size_t *n)
{
	struct klp_blocker *v = NULL;
	size_t cnt = 0, cap = 0;
	struct dirent *p, *t;
	int ret = 0;
	DIR *pd;

	pd = opendir(proc_root);
	if (!pd)
		return -errno;
	while (!ret && (p = readdir(pd))) {
		char tdir[PATH_MAX];
		DIR *td;

		if (!is_number(p->d_name))
			continue;
		snprintf(tdir, sizeof(tdir), "%s/%s/task", proc_root, p->d_name);
		td = opendir(tdir);
		if (!td)
			continue;	/* exited meanwhile */
		while (!ret && (t = readdir(td))) {
			char path[PATH_MAX + NAME_MAX + 32], buf[64];
			struct klp_blocker b = { 0 };

			if (!is_number(t->d_name))
				continue;
			snprintf(path, sizeof(path), "%s/%s/patch_state", tdir, t->d_name);
			if (read_small(path, buf, sizeof(buf)))
				continue;
			b.state = atoi(buf);
			if (b.state == -1 || b.state == target_state)
				continue;
			b.pid = atoi(p->d_name);
			b.tid = atoi(t->d_name);
			snprintf(path, sizeof(path), "%s/%s/comm", tdir, t->d_name);
			if (!read_small(path, buf, 17)) {	/* TASK_COMM_LEN and the newline */
				buf[strcspn(buf, "\n")] = '\0';
				text__escape(buf, b.comm, sizeof(b.comm));
			}
			snprintf(path, sizeof(path), "%s/%s/stack", tdir, t->d_name);
			b.stack = read_stack(path);
			ret = push(&v, &cnt, &cap, &b);
			if (ret)
				free(b.stack);
		}
		closedir(td);
	}
	closedir(pd);
	if (ret) {
		klp_blockers__free(v, cnt);
		return ret;
	}
	*out = v;
	*n = cnt;
	return 0;
}

void klp_blockers__free(struct klp_blocker *b, size_t n)
{
	for (size_t i = 0; i < n; i++)
		free(b[i].stack);
	free(b);
}

struct transition_start {
	char needle[160];
	__u64 ts;
};

/* Remembers the last "'<patch>': starting (un)patching transition" record. */
static int find_start(const char *text, __u64 ts, void *arg)
{
	struct transition_start *s = arg;

	if (strstr(text, s->needle) && strstr(text, "patching transition"))
		s->ts = ts;
	return 0;
}

int klp_transition_info__read(const struct klp_patch_entry *p, struct klp_transition_info *t)
{
	struct transition_start s = { 0 };

	memset(t, 0, sizeof(*t));
	t->target = p->enabled ? 1 : 0;
	t->elapsed_s = -1;
	snprintf(s.needle, sizeof(s.needle), "'%s': starting ", p->name);
	if (!kmsg__scan("/dev/kmsg", find_start, &s) && s.ts)
		t->elapsed_s = (double)(kmsg__now_usec() - s.ts) / 1e6;
	return klp_tasks__blockers("/proc", t->target, &t->blockers, &t->nblockers);
}

void klp_transition_info__free(struct klp_transition_info *t)
{
	klp_blockers__free(t->blockers, t->nblockers);
	memset(t, 0, sizeof(*t));
}
