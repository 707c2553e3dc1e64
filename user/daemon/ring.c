// SPDX-License-Identifier: GPL-2.0
#include "ring.h"

void ring__init(struct ring *r, size_t len)
{
	r->len = len;
	r->pos = 0;
	r->fill = 0;
}

void ring__advance(struct ring *r)
{
	r->pos = (r->pos + 1) % r->len;
	if (r->fill < r->len)
		r->fill++;
}

void ring__reset(struct ring *r)
{
	r->fill = 0;
}

size_t ring__older(const struct ring *r)
{
	return r->fill ? r->fill - 1 : 0;
}

void ring__sum(const struct ring *r, const void *items, size_t item,
	       void (*add)(void *out, const void *slot), void *out)
{
	/* k = 0 is the newest slot, left out. */
	for (size_t k = 1; k < r->fill; k++) {
		size_t slot = (r->pos + r->len - 1 - k) % r->len;

		add(out, (const char *)items + slot * item);
	}
}
