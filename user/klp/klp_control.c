// SPDX-License-Identifier: GPL-2.0
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <unistd.h>
#include "clock.h"
#include "kfile.h"
#include "klp_control.h"
#include "safe_file.h"

int klp_control__write(const char *root, const char *patch, const char *attr, const char *value)
{
	char path[PATH_MAX];

	snprintf(path, sizeof(path), "%s/%s/%s", root, patch, attr);
	return kfile__write(path, 0, value);
}

int klp_control__wait_gone(const char *root, const char *patch, double deadline)
{
	char path[PATH_MAX];

	snprintf(path, sizeof(path), "%s/%s", root, patch);
	for (;;) {
		double left;

		if (access(path, F_OK) && errno == ENOENT)
			return 0;
		left = deadline - clock__now_s();
		if (left <= 0)
			return -ETIMEDOUT;
		clock__nap(left < 0.05 ? left : 0.05);
	}
}

int klp_control__module_loaded(const char *name)
{
	char path[PATH_MAX];

	snprintf(path, sizeof(path), "/sys/module/%s", name);
	return access(path, F_OK) == 0;
}

int klp_control__is_livepatch(const char *name)
{
	char path[PATH_MAX], why[128], *buf;
	size_t len;
	int ret;

	snprintf(path, sizeof(path), "/sys/module/%s/taint", name);
	ret = safe_file__read(AT_FDCWD, path, SAFE_NOFOLLOW, SAFE_FILE_MAX_TEXT, &buf, &len, why,
			      sizeof(why));
	if (ret)
		return ret == -ENOENT ? 0 : ret;	/* built in, or not loaded */
	ret = strchr(buf, 'K') != NULL;
	free(buf);
	return ret;
}

int klp_control__unload(const char *name, double deadline)
{
	int lp = klp_control__is_livepatch(name);
	double until = clock__now_s() + 5;

	if (lp <= 0)
		return lp < 0 ? lp : -EPERM;
	/*
	 * The sysfs directory goes before the patch drops its module reference
	 * (the kernel frees the patch from a work item): an unload right after
	 * the unpatch can meet EAGAIN. Retried for up to 5 s, 50 ms apart, and
	 * not past the caller's deadline: the revert has a bound.
	 */
	if (deadline < until)
		until = deadline;
	for (;;) {
		if (!syscall(SYS_delete_module, name, O_NONBLOCK))
			return 0;
		if (errno != EAGAIN && errno != EBUSY)
			return -errno;
		if (clock__now_s() + 0.05 > until)
			return -EAGAIN;
		clock__nap(0.05);
	}
}
