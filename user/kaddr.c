// SPDX-License-Identifier: GPL-2.0
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "kaddr.h"

struct kaddr_sym {
	__u64 addr;
	char *name;
	char *module;
};

struct kaddr_table {
	struct kaddr_sym *v;
	size_t n;
};

static int by_addr(const void *a, const void *b)
{
	const struct kaddr_sym *x = a, *y = b;

	return x->addr < y->addr ? -1 : x->addr > y->addr;
}

void kaddr__free(struct kaddr_table *t)
{
	if (!t)
		return;
	for (size_t i = 0; i < t->n; i++) {
		free(t->v[i].name);
		free(t->v[i].module);
	}
	free(t->v);
	free(t);
}

int kaddr__load(const char *path, struct kaddr_table **out)
{
	struct kaddr_table *t = calloc(1, sizeof(*t));
	size_t cap = 0;
	char line[512];
	FILE *f = NULL;
	int ret = 0;

	if (!t)
		return -ENOMEM;
	f = fopen(path, "re");
	if (!f) {
		ret = -errno;
		goto cleanup;
	}
	while (fgets(line, sizeof(line), f)) {
		char type, name[256], mod[128] = "";
		unsigned long long addr;
		int k = sscanf(line, "%llx %c %255s [%127[^]]]", &addr, &type, name, mod);

		if (k < 3 || (type != 't' && type != 'T') || !addr)
			continue;
		if (t->n == cap) {
			size_t ncap = cap ? cap * 2 : 65536;
			struct kaddr_sym *nv = realloc(t->v, ncap * sizeof(*nv));

			if (!nv) {
				ret = -ENOMEM;
				goto cleanup;
			}
			t->v = nv;
			cap = ncap;
		}
		t->v[t->n].addr = addr;
		t->v[t->n].name = strdup(name);
		t->v[t->n].module = mod[0] ? strdup(mod) : NULL;
		if (!t->v[t->n].name || (mod[0] && !t->v[t->n].module)) {
			free(t->v[t->n].name);
			ret = -ENOMEM;
			goto cleanup;
		}
		t->n++;
	}
	if (!t->n) {
		ret = -EPERM;	/* addresses hidden (kptr_restrict) or not a kallsyms file */
		goto cleanup;
	}
	qsort(t->v, t->n, sizeof(*t->v), by_addr);
cleanup:
	if (f)
		fclose(f);
	if (ret) {
		kaddr__free(t);
		return ret;
	}
	*out = t;
	return 0;
}

const char *kaddr__lookup(const struct kaddr_table *t, __u64 addr, const char **module)
{
	size_t lo = 0, hi = t->n;

	/* The last symbol at or below addr. */
	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;

		if (t->v[mid].addr <= addr)
			lo = mid + 1;
		else
			hi = mid;
	}
	if (lo == 0)
		return NULL;
	if (module)
		*module = t->v[lo - 1].module;
	return t->v[lo - 1].name;
}
