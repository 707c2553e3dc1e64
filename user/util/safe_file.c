// SPDX-License-Identifier: GPL-2.0
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include "safe_file.h"

static const char *kind_of(mode_t m)
{
	return S_ISFIFO(m) ? "a FIFO" : S_ISCHR(m) ? "a character device" :
	       S_ISBLK(m) ? "a block device" : S_ISSOCK(m) ? "a socket" :
	       S_ISDIR(m) ? "a directory" : S_ISLNK(m) ? "a symbolic link" : "not a file";
}

int safe_file__root_only(const struct stat *st, const char *what, char *why, size_t why_len)
{
	if (st->st_uid != 0) {
		snprintf(why, why_len, "%s is owned by uid %u, not root: refused", what,
			 (unsigned int)st->st_uid);
		return -EPERM;
	}
	if (st->st_mode & (S_IWGRP | S_IWOTH)) {
		snprintf(why, why_len, "%s is writable by %s (mode %04o): refused", what,
			 st->st_mode & S_IWOTH ? "every user" : "its group",
			 (unsigned int)(st->st_mode & 07777));
		return -EPERM;
	}
	return 0;
}

int safe_file__check_fd(int fd, unsigned int flags, size_t max, char *why, size_t why_len)
{
	struct stat st;

	if (fstat(fd, &st)) {
		snprintf(why, why_len, "cannot stat: %s", strerror(errno));
		return -errno;
	}
	if (!S_ISREG(st.st_mode)) {
		snprintf(why, why_len, "is %s, not a regular file", kind_of(st.st_mode));
		return S_ISDIR(st.st_mode) ? -EISDIR : -EINVAL;
	}
	if ((unsigned long long)st.st_size > max) {
		snprintf(why, why_len, "is %lld bytes, more than the %zu this file may have",
			 (long long)st.st_size, max);
		return -EFBIG;
	}
	if (flags & SAFE_ROOT_ONLY)
		return safe_file__root_only(&st, "the file", why, why_len);
	return 0;
}

int safe_file__open(int dirfd, const char *path, unsigned int flags, size_t max,
		    char *why, size_t why_len)
{
	int oflags = O_RDONLY | O_NONBLOCK | O_CLOEXEC | O_NOCTTY, fd, ret;

	if (flags & SAFE_NOFOLLOW)
		oflags |= O_NOFOLLOW;
	/* O_NONBLOCK: opening a FIFO without a writer must not wait for one. */
	fd = openat(dirfd, path, oflags);
	if (fd < 0) {
		ret = -errno;
		snprintf(why, why_len, "%s", ret == -ELOOP && (flags & SAFE_NOFOLLOW) ?
			 "is a symbolic link: refused" : strerror(-ret));
		return ret;
	}
	ret = safe_file__check_fd(fd, flags, max, why, why_len);
	if (!ret && fcntl(fd, F_SETFL, 0)) {
		ret = -errno;
		snprintf(why, why_len, "fcntl: %s", strerror(errno));
	}
	if (ret) {
		close(fd);
		return ret;
	}
	return fd;
}

int safe_file__read_fd(int fd, size_t max, char **buf, size_t *len)
{
	size_t cap = 4096, n = 0;
	char *b = malloc(cap + 1), *nb;
	ssize_t r;

	if (!b)
		return -ENOMEM;
	for (;;) {
		if (n == cap) {
			if (cap > max)
				break;
			cap = cap * 2 > max + 1 ? max + 1 : cap * 2;
			nb = realloc(b, cap + 1);
			if (!nb) {
				free(b);
				return -ENOMEM;
			}
			b = nb;
		}
		r = read(fd, b + n, cap - n);
		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0) {
			r = -errno;
			free(b);
			return r;
		}
		if (r == 0)
			break;
		n += r;
	}
	if (n > max) {
		free(b);
		return -EFBIG;
	}
	b[n] = '\0';
	*buf = b;
	*len = n;
	return 0;
}

int safe_file__read(int dirfd, const char *path, unsigned int flags, size_t max,
		    char **buf, size_t *len, char *why, size_t why_len)
{
	int fd = safe_file__open(dirfd, path, flags, max, why, why_len), ret;

	if (fd < 0)
		return fd;
	ret = safe_file__read_fd(fd, max, buf, len);
	if (ret)
		snprintf(why, why_len, "%s", ret == -EFBIG ? "grew past its size limit while read" :
			 strerror(-ret));
	close(fd);
	return ret;
}
