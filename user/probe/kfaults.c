// SPDX-License-Identifier: GPL-2.0
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "kfaults.h"

/* Openings of a fault report, as the kernel prints them. */
static const struct {
	const char *needle;
	const char *kind;
} openers[] = {
	{ "watchdog: BUG: soft lockup", "soft_lockup" },
	{ "WARNING: CPU:", "warning" },
	{ "kernel BUG at", "bug" },
	{ "BUG: ", "bug" },
	{ "Oops: ", "oops" },
	{ "general protection fault", "oops" },
	{ "detected stalls on CPUs/tasks", "rcu_stall" },
	{ "self-detected stall on CPU", "rcu_stall" },
	{ "rcu_tasks detected stalls", "rcu_stall" },
	{ "blocked for more than", "hung_task" },
};

static const char *opener(const char *text)
{
	for (size_t i = 0; i < sizeof(openers) / sizeof(openers[0]); i++)
		if (strstr(text, openers[i].needle))
			return openers[i].kind;
	return NULL;
}

/*
 * A call trace line: " func+0x1a/0x40 [mod]", possibly after "? " or a
 * "RIP: 0010:" prefix. Copies the function name into name; false otherwise.
 */
static bool trace_function(const char *text, char *name, size_t len)
{
	const char *p = text, *plus;
	size_t n;

	if (!strncmp(p, "RIP: ", 5)) {
		p = strchr(p, ':');
		p = p ? strchr(p + 1, ':') : NULL;
		if (!p)
			return false;
		p++;
	}
	while (*p == ' ' || *p == '\t')
		p++;
	if (!strncmp(p, "? ", 2))
		return false;	/* a guess from stale stack contents: not evidence */
	plus = strstr(p, "+0x");
	if (!plus || !strchr(plus, '/'))
		return false;
	n = (size_t)(plus - p);
	if (!n || n >= len || memchr(p, ' ', n))
		return false;
	memcpy(name, p, n);
	name[n] = '\0';
	return true;
}

int kfault_log__feed(struct kfault_log *l, const char *text)
{
	const char *kind = opener(text);
	char name[128];

	if (kind) {
		struct kfault *nv = realloc(l->v, (l->n + 1) * sizeof(*nv));

		if (!nv)
			return -ENOMEM;
		l->v = nv;
		memset(&l->v[l->n], 0, sizeof(l->v[l->n]));
		l->v[l->n].kind = kind;
		snprintf(l->v[l->n].line, sizeof(l->v[l->n].line), "%s", text);
		l->n++;
		l->in_trace = true;
		return 0;
	}
	if (!l->in_trace || !l->n)
		return 0;
	/* Lockup, stall and hung-task reports have no end marker: their task stack's end is one. */
	if (strstr(text, "---[ end trace") || strstr(text, "</TASK>")) {
		l->in_trace = false;
		return 0;
	}
	if (trace_function(text, name, sizeof(name))) {
		struct kfault *f = &l->v[l->n - 1];

		if (f->ntrace < KFAULT_TRACE_MAX) {
			f->trace[f->ntrace] = strdup(name);
			if (!f->trace[f->ntrace])
				return -ENOMEM;
			f->ntrace++;
		}
	}
	return 0;
}

const char *kfault__names(const struct kfault *f, const char *const *names)
{
	for (size_t i = 0; i < f->ntrace; i++)
		for (size_t k = 0; names && names[k]; k++)
			if (!strcmp(f->trace[i], names[k]))
				return names[k];
	return NULL;
}

void kfault_log__free(struct kfault_log *l)
{
	for (size_t i = 0; i < l->n; i++)
		for (size_t k = 0; k < l->v[i].ntrace; k++)
			free(l->v[i].trace[k]);
	free(l->v);
	memset(l, 0, sizeof(*l));
}

size_t kfault_log__count_naming(const struct kfault_log *l, const char *const *names,
				const char **first)
{
	size_t n = 0;

	*first = NULL;
	for (size_t k = 0; k < l->n; k++) {
		if (!kfault__names(&l->v[k], names))
			continue;
		if (!n++)
			*first = l->v[k].line;
	}
	return n;
}
