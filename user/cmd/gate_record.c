// SPDX-License-Identifier: GPL-2.0
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <json-c/json.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>
#include "gate_record.h"
#include "klp_control.h"
#include "klp_params.h"
#include "klp_sysfs.h"
#include "log.h"
#include "safe_file.h"
#include "text.h"

#define PREFIX "gate."

int gate_record__write(const char *patch, const char *module, const char *params,
		       const char *step)
{
	char path[PATH_MAX], tmp[PATH_MAX + 8], buf[PATH_MAX + KLP_PARAMS_MAX + 512];
	int fd, n, ret = 0;

	if (mkdir(GATE_RECORD_DIR, 0700) && errno != EEXIST)
		return -errno;
	snprintf(path, sizeof(path), "%s/%s%s", GATE_RECORD_DIR, PREFIX, patch);
	snprintf(tmp, sizeof(tmp), "%s.tmp", path);
	/* One line: pid, start (unix s), step, module file, its parameters; read back by status. */
	n = snprintf(buf, sizeof(buf), "%d %lld %s\t%s\t%s\n", getpid(), (long long)time(NULL),
		     step, module, params);
	if (n < 0 || (size_t)n >= sizeof(buf))	/* never written cut short (nor past buf) */
		return -ENAMETOOLONG;
	fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC | O_NOFOLLOW, 0600);
	if (fd < 0)
		return -errno;
	if (write(fd, buf, (size_t)n) != n)
		ret = errno ? -errno : -EIO;
	close(fd);
	if (!ret && rename(tmp, path))
		ret = -errno;
	if (ret)
		unlink(tmp);
	return ret;
}

void gate_record__remove(const char *patch)
{
	char path[PATH_MAX];

	snprintf(path, sizeof(path), "%s/%s%s", GATE_RECORD_DIR, PREFIX, patch);
	unlink(path);
}

/* The patch's livepatch state now: "enabled", "disabled", "transition" or NULL when not there. */
static const char *livepatch_state(const char *patch)
{
	struct klp_patch_entry p;
	const char *s;

	if (klp_sysfs__read_patch(KLP_SYSFS_ROOT_DEFAULT, patch, &p))
		return NULL;
	s = p.transition == 1 ? "in transition" : p.enabled == 1 ? "enabled" : "disabled";
	klp_patch_entry__free(&p);
	return s;
}

static void report_one(FILE *f, struct json_object *arr, const char *patch, int pid, long long since,
		       const char *step, const char *module, const char *params)
{
	bool running = pid > 0 && (kill(pid, 0) == 0 || errno == EPERM);
	bool loaded = klp_control__module_loaded(patch);
	const char *lp = livepatch_state(patch);

	if (arr) {
		struct json_object *o = json_object_new_object();

		json_object_object_add(o, "patch", json_object_new_string(patch));
		json_object_object_add(o, "pid", json_object_new_int(pid));
		json_object_object_add(o, "running", json_object_new_boolean(running));
		json_object_object_add(o, "step", json_object_new_string(step));
		json_object_object_add(o, "since", json_object_new_int64(since));
		json_object_object_add(o, "module", json_object_new_string(module));
		json_object_object_add(o, "params", json_object_new_string(params));
		json_object_object_add(o, "module_loaded", json_object_new_boolean(loaded));
		json_object_object_add(o, "livepatch", lp ? json_object_new_string(lp) : NULL);
		json_object_array_add(arr, o);
		return;
	}
	if (running) {
		fprintf(f, "gate pid %d is handling %s (%s)\n", pid, patch, step);
		return;
	}
	fprintf(f, "%s: left half-handled by gate pid %d, which is gone (last step: %s); livepatch %s, "
		"module %s%s%s%s; finish with: lpsentinel revert %s --unload\n", patch, pid, step,
		lp ? lp : "gone", loaded ? "loaded" : "not loaded", params[0] ? " (loaded with " : "",
		params, params[0] ? ")" : "", patch);
}

int gate_record__report(FILE *f, struct json_object *arr)
{
	DIR *d = opendir(GATE_RECORD_DIR);
	struct dirent *e;
	int n = 0;

	if (!d)
		return 0;
	while ((e = readdir(d))) {
		const char *patch = e->d_name + strlen(PREFIX);
		char path[PATH_MAX], step[256], module[PATH_MAX], params[KLP_PARAMS_MAX] = "";
		char why[128], *buf = NULL;
		long long since;
		int pid, off = 0, ok, fields = 0;
		size_t len;

		/* Hostile or stray names are skipped: only gate.<module name> is ours. */
		if (strncmp(e->d_name, PREFIX, strlen(PREFIX)) || !text__is_module(patch))
			continue;
		snprintf(path, sizeof(path), "%s/%s", GATE_RECORD_DIR, e->d_name);
		if (safe_file__read(AT_FDCWD, path, SAFE_NOFOLLOW | SAFE_ROOT_ONLY, 4096, &buf, &len,
				    why, sizeof(why)))
			continue;
		/* A note of an older gate has no parameters field: read as none. */
		ok = sscanf(buf, "%d %lld %n", &pid, &since, &off) == 2 && off &&
		     (fields = sscanf(buf + off, "%255[^\t]\t%4095[^\t\n]\t%1023[^\n]", step, module,
				      params)) >= 2;
		if (fields == 2)
			params[0] = '\0';
		free(buf);
		if (!ok)
			continue;
		text__escape_inplace(step, sizeof(step));
		text__escape_inplace(module, sizeof(module));
		text__escape_inplace(params, sizeof(params));
		/* Nothing of it left in the kernel: nothing half-handled. */
		if (!klp_control__module_loaded(patch) && !livepatch_state(patch))
			continue;
		report_one(f, arr, patch, pid, since, step, module, params);
		n++;
	}
	closedir(d);
	return n;
}
