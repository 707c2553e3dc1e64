// SPDX-License-Identifier: GPL-2.0
#include <dirent.h>
#include <limits.h>
#include <stdio.h>
#include <string.h>
#include "klp_sysfs.h"

/* Function directories are "<function>,<sympos>" under <patch>/<object>/. */
static bool object_has_func(const char *dir, const char *func)
{
	size_t len = strlen(func);
	struct dirent *e;
	bool found = false;
	DIR *d = opendir(dir);

	if (!d)
		return false;
	while (!found && (e = readdir(d)))
		found = !strncmp(e->d_name, func, len) && e->d_name[len] == ',';
	closedir(d);
	return found;
}

bool klp_sysfs__is_patched(const char *root, const char *func)
{
	char path[PATH_MAX];	/* root/patch */
	struct dirent *p, *o;
	bool found = false;
	DIR *pd, *od;

	pd = opendir(root);
	if (!pd)
		return false;
	while (!found && (p = readdir(pd))) {
		if (p->d_name[0] == '.')
			continue;
		snprintf(path, sizeof(path), "%s/%s", root, p->d_name);
		od = opendir(path);
		if (!od)
			continue;
		while (!found && (o = readdir(od))) {
			char obj[PATH_MAX + NAME_MAX + 2];

			if (o->d_name[0] == '.' || o->d_type != DT_DIR)
				continue;
			snprintf(obj, sizeof(obj), "%s/%s", path, o->d_name);
			found = object_has_func(obj, func);
		}
		closedir(od);
	}
	closedir(pd);
	return found;
}
