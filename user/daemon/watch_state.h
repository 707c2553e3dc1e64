/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The watch daemon's state file: every watched function's baseline and every
 * patch already judged, so a restarted daemon carries on. zlib-compressed,
 * CRC-32 checked, written atomically (temp file, fsync, rename, directory
 * fsync); a truncated or corrupted file is refused, never trusted.
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

/* Writes st to dir/state.lps atomically; -errno. */
int watch_state__save(const char *dir, const struct watch_state *st);
/*
 * Reads dir/state.lps into st. -ENOENT when there is none; -EBADMSG when it
 * is truncated, corrupted or of another format (why says which); -errno else.
 */
int watch_state__load(const char *dir, struct watch_state *st, char *why, size_t len);
/* The same on a buffer (the file's bytes), for tests. */
int watch_state__decode(const unsigned char *buf, size_t n, struct watch_state *st, char *why,
			size_t len);
void watch_state__free(struct watch_state *st);

/* Writes len bytes to dir/name atomically (temp, fsync, rename, dir fsync). */
int watch_state__write_atomic(const char *dir, const char *name, const void *data, size_t len);

#endif
