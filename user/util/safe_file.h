/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Opening files lpsentinel did not write: every path a user, a rules file, a
 * client or a state directory names. Nothing here blocks (a FIFO or a device
 * is refused before it can be read), nothing reads without a size limit, and
 * a caller that must not follow links (a directory another user could write)
 * says so.
 */
#ifndef LPS_SAFE_FILE_H
#define LPS_SAFE_FILE_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/stat.h>
#include <sys/types.h>

/* Size limits for what lpsentinel reads (a crafted file is refused above them). */
#define SAFE_FILE_MAX_KO	(256UL << 20)	/* a livepatch module */
#define SAFE_FILE_MAX_TEXT	(4UL << 20)	/* rules, status.json, a control message */
#define SAFE_FILE_MAX_STATE	(64UL << 20)	/* the daemon's compressed state file */

enum safe_open_flags {
	SAFE_NOFOLLOW	= 1 << 0,	/* refuse a symbolic link as the last component */
	SAFE_ROOT_ONLY	= 1 << 1,	/* refuse a file a user other than root can write */
};

/*
 * Opens PATH (relative to DIRFD, or AT_FDCWD) read-only without blocking,
 * checks that it is a regular file of at most MAX bytes (and what FLAGS ask),
 * then makes the descriptor blocking again. Returns the descriptor, or -errno
 * with one sentence in WHY ("is a FIFO, not a regular file", ...).
 */
int safe_file__open(int dirfd, const char *path, unsigned int flags, size_t max,
		    char *why, size_t why_len);

/* The checks of safe_file__open on a descriptor opened elsewhere; 0 or -errno + WHY. */
int safe_file__check_fd(int fd, unsigned int flags, size_t max, char *why, size_t why_len);

/*
 * Reads all of FD (at most MAX bytes: -EFBIG above, for files that grow after
 * the check) into a NUL-terminated buffer the caller frees; *LEN is its length.
 */
int safe_file__read_fd(int fd, size_t max, char **buf, size_t *len);

/* safe_file__open + safe_file__read_fd; 0 or -errno with WHY. */
int safe_file__read(int dirfd, const char *path, unsigned int flags, size_t max,
		    char **buf, size_t *len, char *why, size_t why_len);

/*
 * Only root can change what ST describes: owned by root, not writable by
 * group or others. WHAT names it in WHY ("the state directory /var/lib/...").
 */
int safe_file__root_only(const struct stat *st, const char *what, char *why, size_t why_len);

#endif
