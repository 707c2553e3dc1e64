/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The report's plots as inline SVG, drawn from the numbers (no script, no
 * font files): a function's latency before and after on a log axis with
 * p50/p90/p99 marked, the looks over time against their alpha, and the
 * patch's course from the baseline to the revert. Each is one <svg> with a
 * viewBox 1200 wide, scaled to the page by the style sheet.
 */
#ifndef LPS_SVG_PLOT_H
#define LPS_SVG_PLOT_H

#include <stdbool.h>
#include <stdio.h>
#include <linux/types.h>
#include "lpsentinel.h"
#include "verdict_detail.h"

/* base NULL: no baseline (a function first seen patched). */
void svg_plot__hist(FILE *f, const struct lps_hist *base, const struct lps_hist *obs);
/* -log10 p of each look's deciding check, and -log10 of the alpha it was tested at. */
void svg_plot__looks(FILE *f, const struct vd_look *l, size_t n);
/* Baseline, load, transition (completed or stalled), the looks, the revert. */
void svg_plot__course(FILE *f, const struct verdict_detail *d);

#endif
