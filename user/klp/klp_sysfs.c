// SPDX-License-Identifier: GPL-2.0
#include <dirent.h>
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "klp_sysfs.h"
#include "text.h"

/* An integer attribute; -1 when the kernel does not have it. */
static int read_int_attr(const char *dir, const char *attr)
{
	char path[PATH_MAX + 32];
	FILE *f;
	int v;

	snprintf(path, sizeof(path), "%s/%s", dir, attr);
	f = fopen(path, "r");
	if (!f)
		return -1;
	if (fscanf(f, "%d", &v) != 1)
		v = -1;
	fclose(f);
	return v;
}

static int cmp_name(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

/* Names of the subdirectories of dir, sorted. */
static int list_subdirs(const char *dir, char ***out, size_t *n)
{
	char **v = NULL;
	size_t cnt = 0, cap = 0;
	struct dirent *e;
	int ret = 0;
	DIR *d;

	d = opendir(dir);
	if (!d)
		return -errno;
	while ((e = readdir(d))) {
		if (e->d_name[0] == '.' || e->d_type != DT_DIR)
			continue;
		if (cnt == cap) {
			char **nv;

			cap = cap ? cap * 2 : 8;
			nv = realloc(v, cap * sizeof(*v));
			if (!nv) {
				ret = -ENOMEM;
				goto cleanup;
			}
			v = nv;
		}
		v[cnt] = strdup(e->d_name);
		if (!v[cnt]) {
			ret = -ENOMEM;
			goto cleanup;
		}
		cnt++;
	}
	if (cnt > 1)	/* qsort(NULL, 0, ...) is undefined */
		qsort(v, cnt, sizeof(*v), cmp_name);
	*out = v;
	*n = cnt;
	v = NULL;
cleanup:
	if (v) {
		while (cnt)
			free(v[--cnt]);
		free(v);
	}
	closedir(d);
	return ret;
}

/*
 * A name from a directory the kernel made of what a module says (patch,
 * object and function names): escaped as it comes in, so no printer can be
 * made to write a control character. A valid name is unchanged.
 */
static char *dup_escaped(const char *name)
{
	size_t len = strlen(name) * 4 + 1;
	char *s = malloc(len);

	return s ? text__escape(name, s, len) : NULL;
}

static void free_names(char **v, size_t n)
{
	for (size_t i = 0; i < n; i++)
		free(v[i]);
	free(v);
}

/* Fills entry from subdirectory name of dir: 0, 1 to leave it out, or -errno. */
typedef int read_entry_fn(const char *dir, char *name, void *entry);

/*
 * One entry per subdirectory of dir, in name order: *out gets a zeroed array
 * of elem-sized entries with room for all (at least one), *count the entries
 * read and the one that failed, if one did: what the caller frees.
 */
static int read_subdirs(const char *dir, size_t elem, read_entry_fn *read, void **out,
			size_t *count)
{
	char **names = NULL;
	size_t n = 0;
	int ret = list_subdirs(dir, &names, &n);

	*out = NULL;
	*count = 0;
	if (ret)
		return ret;
	*out = calloc(n ? n : 1, elem);
	if (!*out)
		ret = -ENOMEM;
	for (size_t i = 0; !ret && i < n; i++) {
		ret = read(dir, names[i], (char *)*out + *count * elem);
		if (ret <= 0)
			(*count)++;
		if (ret > 0)
			ret = 0;
	}
	free_names(names, n);
	return ret;
}

/* A "<function>,<sympos>" directory. */
static int read_func(const char *dir, char *name, void *entry)
{
	struct klp_func_entry *f = entry;
	char *comma = strrchr(name, ',');

	(void)dir;
	if (!comma)
		return 1;
	*comma = '\0';
	f->sympos = strtoul(comma + 1, NULL, 10);
	f->name = dup_escaped(name);
	return f->name ? 0 : -ENOMEM;
}

/* An object of the patch in patch_dir, and its functions. */
static int read_object(const char *patch_dir, char *name, void *entry)
{
	struct klp_object_entry *o = entry;
	char dir[PATH_MAX + NAME_MAX + 2];
	void *funcs;
	int ret;

	snprintf(dir, sizeof(dir), "%s/%s", patch_dir, name);
	o->name = dup_escaped(name);
	o->patched = read_int_attr(dir, "patched");
	if (!o->name)
		return -ENOMEM;
	ret = read_subdirs(dir, sizeof(*o->funcs), read_func, &funcs, &o->nfuncs);
	o->funcs = funcs;
	return ret;
}

int klp_sysfs__read_patch(const char *root, const char *name, struct klp_patch_entry *p)
{
	char dir[PATH_MAX];
	void *objs;
	int ret;

	memset(p, 0, sizeof(*p));
	snprintf(dir, sizeof(dir), "%s/%s", root, name);
	p->enabled = read_int_attr(dir, "enabled");
	if (p->enabled < 0)
		return -ENOENT;
	p->transition = read_int_attr(dir, "transition");
	p->replace = read_int_attr(dir, "replace");
	p->stack_order = read_int_attr(dir, "stack_order");
	p->name = dup_escaped(name);
	if (!p->name)
		return -ENOMEM;
	ret = read_subdirs(dir, sizeof(*p->objs), read_object, &objs, &p->nobjs);
	p->objs = objs;
	if (ret)
		klp_patch_entry__free(p);
	return ret;
}

void klp_patch_entry__free(struct klp_patch_entry *p)
{
	for (size_t i = 0; p->objs && i < p->nobjs; i++) {
		for (size_t j = 0; j < p->objs[i].nfuncs; j++)
			free(p->objs[i].funcs[j].name);
		free(p->objs[i].funcs);
		free(p->objs[i].name);
	}
	free(p->objs);
	free(p->name);
	memset(p, 0, sizeof(*p));
}

void klp_patch_list__free(struct klp_patch_list *l)
{
	for (size_t i = 0; i < l->n; i++)
		klp_patch_entry__free(&l->v[i]);
	free(l->v);
	l->v = NULL;
	l->n = 0;
}

/* A patch of the list; one gone since readdir (unpatched meanwhile) is left out. */
static int read_listed_patch(const char *root, char *name, void *entry)
{
	int ret = klp_sysfs__read_patch(root, name, entry);

	return ret == -ENOENT ? 1 : ret;
}

int klp_sysfs__list(const char *root, struct klp_patch_list *out)
{
	void *v;
	int ret = read_subdirs(root, sizeof(*out->v), read_listed_patch, &v, &out->n);

	out->v = v;
	if (ret)
		klp_patch_list__free(out);
	return ret;
}

bool klp_patch_entry__has_func(const struct klp_patch_entry *p, const char *func)
{
	for (size_t i = 0; i < p->nobjs; i++)
		for (size_t j = 0; j < p->objs[i].nfuncs; j++)
			if (!strcmp(p->objs[i].funcs[j].name, func))
				return true;
	return false;
}

bool klp_sysfs__is_patched(const char *root, const char *func)
{
	struct klp_patch_list l;
	bool found = false;

	if (klp_sysfs__list(root, &l))
		return false;
	for (size_t i = 0; i < l.n && !found; i++)
		found = klp_patch_entry__has_func(&l.v[i], func);
	klp_patch_list__free(&l);
	return found;
}

void klp_patch_name(const char *module, char *out, size_t len)
{
	const char *base = strrchr(module, '/');
	size_t n;

	base = base ? base + 1 : module;
	snprintf(out, len, "%s", base);
	n = strlen(out);
	if (n > 3 && !strcmp(out + n - 3, ".ko"))
		out[n - 3] = '\0';
	for (char *c = out; *c; c++)
		if (*c == '-')
			*c = '_';
}

void klp_sysfs__fill_stack_order(struct klp_patch_list *l, const char *proc_modules)
{
	char line[512], name[128];
	size_t seen = 0, missing = 0;
	FILE *f;

	for (size_t i = 0; i < l->n; i++)
		missing += l->v[i].stack_order < 0;
	if (!missing)
		return;
	f = fopen(proc_modules, "r");
	if (!f)
		return;
	/* Newest first: the k-th patch module met gets order missing - k. */
	while (seen < missing && fgets(line, sizeof(line), f)) {
		if (sscanf(line, "%127s", name) != 1)
			continue;
		for (size_t i = 0; i < l->n; i++) {
			if (l->v[i].stack_order < 0 && !strcmp(l->v[i].name, name)) {
				l->v[i].stack_order = (int)(missing - seen);
				seen++;
				break;
			}
		}
	}
	fclose(f);
}

void klp_sysfs__fill_patch_stack_order(const char *root, struct klp_patch_entry *p,
				       const char *proc_modules)
{
	struct klp_patch_list l;

	if (p->stack_order >= 0 || !p->name || klp_sysfs__list(root, &l))
		return;
	/* Its place among all patches, counted as for the whole list (status). */
	klp_sysfs__fill_stack_order(&l, proc_modules);
	for (size_t i = 0; i < l.n; i++)
		if (!strcmp(l.v[i].name, p->name))
			p->stack_order = l.v[i].stack_order;
	klp_patch_list__free(&l);
}

int klp_patch_entry__functions(const struct klp_patch_entry *p, const char ***out)
{
	size_t total = 0, n = 0;
	const char **names;

	for (size_t o = 0; o < p->nobjs; o++)
		total += p->objs[o].nfuncs;
	names = calloc(total + 1, sizeof(*names));
	if (!names)
		return -ENOMEM;
	for (size_t o = 0; o < p->nobjs; o++)
		for (size_t f = 0; f < p->objs[o].nfuncs; f++) {
			bool dup = false;

			for (size_t k = 0; k < n; k++)
				dup |= !strcmp(names[k], p->objs[o].funcs[f].name);
			if (!dup)
				names[n++] = p->objs[o].funcs[f].name;
		}
	*out = names;
	return (int)n;
}
