/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The daemon's rolling windows: a cursor over per-tick slots. The items live
 * in the caller's arrays (histograms, signal counters, tick lengths), all
 * indexed by the same cursor, so one tick advances them together.
 */
#ifndef LPS_RING_H
#define LPS_RING_H

#include <stddef.h>

struct ring {
	size_t len;		/* slots */
	size_t pos;		/* the slot the next tick writes */
	size_t fill;		/* slots holding a tick */
};

void ring__init(struct ring *r, size_t len);
/* A tick was written at r->pos: move on. */
void ring__advance(struct ring *r);
/* Forget every tick (the code they measured is gone). */
void ring__reset(struct ring *r);
/*
 * Adds every slot but the newest into out: the newest tick may already have
 * seen a patch that appeared during it. Items are item bytes apart.
 */
void ring__sum(const struct ring *r, const void *items, size_t item,
	       void (*add)(void *out, const void *slot), void *out);
/* How many ticks ring__sum covers. */
size_t ring__older(const struct ring *r);

#endif
