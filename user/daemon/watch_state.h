/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The watch daemon's state file: every watched function's baseline and every
 * patch already judged, so a restarted daemon carries on. zlib-compressed,
 * CRC-32 checked, written atomically (temp file, fsync, rename, directory
 * fsync); a truncated or corrupted file is refused, never trusted.
 *
 * Every file is opened relative to the state directory's descriptor, never
 * through a symbolic link: the directory was checked once (root's, not
 * writable by anyone else), and a name in it cannot send a write elsewhere.
 */
#ifndef LPS_WATCH_STATE_H
#define LPS_WATCH_STATE_H

#include <stddef.h>
#include <linux/types.h>
#include "lpsentinel.h"

#define WATCH_STATE_FILE "state.lps"
#define WATCH_NAME_MAX 128

struct state_baseline {
	char function[WATCH_NAME_MAX];
	double seconds;			/* how long the window lasted */
	struct lps_hist hist;
	char attach[8];			/* "fentry" or "kprobe": what measured it */
};

struct state_patch {
	char patch[WATCH_NAME_MAX];
	__u32 verdict;			/* enum verdict */
	char state[20];			/* "kept", "reverted", "failed", "gone", "judging" */
	__s64 judged_at;		/* unix seconds */
};

struct watch_state {
	char kernel[65];		/* uname release the baselines were taken on */
	char boot_id[40];		/* the boot the patch verdicts belong to */
	struct state_baseline *funcs;
	size_t nfuncs;
	struct state_patch *patches;
	size_t npatches;
};

/*
 * Opens the state directory DIR (made, 0700, when missing) and checks that
 * only root can change what is in it. Returns its descriptor, or -errno with
 * one sentence in WHY.
 */
int watch_state__open_dir(const char *dir, char *why, size_t len);
/* Writes st to state.lps in the directory DIRFD atomically; -errno. */
int watch_state__save(int dirfd, const struct watch_state *st);
/*
 * Reads state.lps of the directory DIRFD into st. -ENOENT when there is
 * none; -EBADMSG when it is truncated, corrupted, of another format, or not
 * a regular file (a link, a FIFO: why says which); -errno else.
 */
int watch_state__load(int dirfd, struct watch_state *st, char *why, size_t len);
/* The same on a buffer (the file's bytes), for tests. */
int watch_state__decode(const unsigned char *buf, size_t n, struct watch_state *st, char *why,
			size_t len);
/*
 * The state file's bytes for st, malloc'd into *out (*n bytes); -ENOMEM.
 * watch_state__wrap is the same around a payload already laid out (the fuzz
 * harness wraps its input so that it reaches the payload's checks).
 */
int watch_state__encode(const struct watch_state *st, unsigned char **out, size_t *n);
int watch_state__wrap(const void *raw, size_t raw_len, unsigned char **out, size_t *n);
void watch_state__free(struct watch_state *st);

/*
 * Writes len bytes to NAME in the directory DIRFD atomically: a new temporary
 * file (O_EXCL, never through a link), fsync, rename over NAME, directory
 * fsync. On any failure NAME is as it was and the temporary file is gone.
 */
int watch_state__write_atomic(int dirfd, const char *name, const void *data, size_t len);

#endif
