// SPDX-License-Identifier: GPL-2.0
#define _GNU_SOURCE	/* qsort_r */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "ksyms.h"

struct name_entry {
	char *name;
	char *module;	/* NULL: vmlinux */
	__u64 addr;	/* kallsyms only; 0 when hidden (kptr_restrict) */
	size_t seq;	/* line order: the kernel's sympos counts symbols of a name in it */
};

struct name_table {
	struct name_entry *v;
	size_t n, cap;
	size_t *by_addr;	/* indexes into v in address order, built on first use */
	size_t naddr;
};

static int table_push(struct name_table *t, const char *name, const char *module, __u64 addr)
{
	if (t->n == t->cap) {
		size_t cap = t->cap ? t->cap * 2 : 4096;
		struct name_entry *v = realloc(t->v, cap * sizeof(*v));

		if (!v)
			return -ENOMEM;
		t->v = v;
		t->cap = cap;
	}
	t->v[t->n].name = strdup(name);
	t->v[t->n].module = module ? strdup(module) : NULL;
	t->v[t->n].addr = addr;
	t->v[t->n].seq = t->n;
	if (!t->v[t->n].name || (module && !t->v[t->n].module)) {
		free(t->v[t->n].name);
		free(t->v[t->n].module);
		return -ENOMEM;
	}
	t->n++;
	return 0;
}

static int cmp_name(const void *a, const void *b)
{
	return strcmp(((const struct name_entry *)a)->name, ((const struct name_entry *)b)->name);
}

/* By name, then in file order (qsort is not stable). */
static int cmp_entry(const void *a, const void *b)
{
	const struct name_entry *x = a, *y = b;
	int c = strcmp(x->name, y->name);

	return c ? c : x->seq < y->seq ? -1 : x->seq > y->seq;
}

void name_table__free(struct name_table *t)
{
	if (!t)
		return;
	for (size_t i = 0; i < t->n; i++) {
		free(t->v[i].name);
		free(t->v[i].module);
	}
	free(t->v);
	free(t->by_addr);
	free(t);
}

/* Module names appear as "[mod]" at the end of a line in both files. */
static const char *strip_module(char *tok)
{
	size_t len;

	if (!tok || tok[0] != '[')
		return NULL;
	len = strlen(tok);
	if (len < 3 || tok[len - 1] != ']')
		return NULL;
	tok[len - 1] = '\0';
	return tok + 1;
}

/*
 * Reads a symbol file. kallsyms lines are "addr type name [mod]" and only text
 * symbols count; available_filter_functions lines are "name [mod]".
 */
int name_table__load_file(const char *path, bool kallsyms, struct name_table **out)
{
	struct name_table *t;
	char line[512];
	FILE *f;
	int err = 0;

	f = fopen(path, "r");
	if (!f)
		return -errno;
	t = calloc(1, sizeof(*t));
	if (!t) {
		err = -ENOMEM;
		goto cleanup;
	}
	while (fgets(line, sizeof(line), f)) {
		char *save = NULL, *name, *mod, *addr_s = NULL;

		if (kallsyms) {
			char *type;

			addr_s = strtok_r(line, " \t\n", &save);
			if (!addr_s)
				continue;
			type = strtok_r(NULL, " \t\n", &save);
			if (!type || (type[0] != 't' && type[0] != 'T'))
				continue;
			name = strtok_r(NULL, " \t\n", &save);
		} else {
			name = strtok_r(line, " \t\n", &save);
		}
		if (!name)
			continue;
		mod = strtok_r(NULL, " \t\n", &save);
		err = table_push(t, name, strip_module(mod), addr_s ? strtoull(addr_s, NULL, 16) : 0);
		if (err)
			goto cleanup;
	}
	if (ferror(f)) {
		err = -EIO;
		goto cleanup;
	}
	qsort(t->v, t->n, sizeof(*t->v), cmp_entry);
	*out = t;
	t = NULL;
cleanup:
	name_table__free(t);
	fclose(f);
	return err;
}

int ksyms__load(struct name_table **out)
{
	return name_table__load_file("/proc/kallsyms", true, out);
}

int ftrace_funcs__load(struct name_table **out)
{
	int err = name_table__load_file("/sys/kernel/tracing/available_filter_functions", false, out);

	if (err == -ENOENT)	/* tracefs only reachable through debugfs */
		err = name_table__load_file("/sys/kernel/debug/tracing/available_filter_functions", false, out);
	return err;
}

size_t name_table__count(const struct name_table *t, const char *name, const char **module)
{
	struct name_entry key = { .name = (char *)name };
	struct name_entry *hit;
	size_t lo, hi;

	hit = bsearch(&key, t->v, t->n, sizeof(*t->v), cmp_name);
	if (!hit)
		return 0;
	lo = hi = (size_t)(hit - t->v);
	while (lo > 0 && !strcmp(t->v[lo - 1].name, name))
		lo--;
	while (hi + 1 < t->n && !strcmp(t->v[hi + 1].name, name))
		hi++;
	if (module)
		*module = t->v[lo].module;
	return hi - lo + 1;
}

size_t name_table__count_in(const struct name_table *t, const char *name, const char *module)
{
	struct name_entry key = { .name = (char *)name };
	struct name_entry *hit = bsearch(&key, t->v, t->n, sizeof(*t->v), cmp_name);
	size_t lo, n = 0;

	if (!hit)
		return 0;
	lo = (size_t)(hit - t->v);
	while (lo > 0 && !strcmp(t->v[lo - 1].name, name))
		lo--;
	for (; lo < t->n && !strcmp(t->v[lo].name, name); lo++) {
		const char *m = t->v[lo].module;

		n += module ? m && !strcmp(m, module) : !m;
	}
	return n;
}

static int cmp_addr(const void *a, const void *b, void *arg)
{
	const struct name_table *t = arg;
	__u64 x = t->v[*(const size_t *)a].addr, y = t->v[*(const size_t *)b].addr;

	return x < y ? -1 : x > y;
}

/* The address index, built on first use; false without memory. */
static bool addr_index(struct name_table *t)
{
	if (t->by_addr)
		return true;
	t->by_addr = calloc(t->n ? t->n : 1, sizeof(*t->by_addr));
	if (!t->by_addr)
		return false;
	for (size_t i = 0; i < t->n; i++)
		if (t->v[i].addr)
			t->by_addr[t->naddr++] = i;
	/* Hidden (zero) addresses are left out of the index. */
	qsort_r(t->by_addr, t->naddr, sizeof(*t->by_addr), cmp_addr, t);
	return true;
}

/* Index (into by_addr) of the first symbol above addr (or_equal: at or above). */
static size_t addr_bound(const struct name_table *t, __u64 addr, bool or_equal)
{
	size_t lo = 0, hi = t->naddr;

	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		__u64 a = t->v[t->by_addr[mid]].addr;

		if (or_equal ? a < addr : a <= addr)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo;
}

static bool same_module(const char *a, const char *b)
{
	return a && b ? !strcmp(a, b) : a == b;
}

__u64 name_table__addr_in(const struct name_table *t, const char *name, const char *module,
			  size_t nth)
{
	struct name_entry key = { .name = (char *)name };
	struct name_entry *hit = bsearch(&key, t->v, t->n, sizeof(*t->v), cmp_name);
	size_t lo;

	if (!hit || !nth)
		return 0;
	lo = (size_t)(hit - t->v);
	while (lo > 0 && !strcmp(t->v[lo - 1].name, name))
		lo--;
	for (; lo < t->n && !strcmp(t->v[lo].name, name); lo++)
		if (same_module(t->v[lo].module, module) && !--nth)
			return t->v[lo].addr;
	return 0;
}

bool name_table__has_module(const struct name_table *t, const char *module)
{
	for (size_t i = 0; i < t->n; i++)
		if (t->v[i].module && !strcmp(t->v[i].module, module))
			return true;
	return false;
}

const char *name_table__alias(struct name_table *t, __u64 addr, const char *module,
			      const struct name_table *listed)
{
	if (!addr || !addr_index(t))
		return NULL;
	for (size_t i = addr_bound(t, addr, true); i < t->naddr; i++) {
		const struct name_entry *e = &t->v[t->by_addr[i]];

		if (e->addr != addr)
			break;
		if (same_module(e->module, module) && name_table__count_in(listed, e->name, module))
			return e->name;
	}
	return NULL;
}

const char *name_table__at(struct name_table *t, __u64 addr, const char **module)
{
	size_t lo;

	if (!addr_index(t))
		return NULL;
	/* The last symbol at or below addr. */
	lo = addr_bound(t, addr, false);
	if (lo == 0)
		return NULL;
	if (module)
		*module = t->v[t->by_addr[lo - 1]].module;
	return t->v[t->by_addr[lo - 1]].name;
}
