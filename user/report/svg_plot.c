// SPDX-License-Identifier: GPL-2.0
#include <math.h>
#include <string.h>
#include "hist.h"
#include "html.h"
#include "svg_plot.h"

#define W 1200.0
#define ML 80.0		/* left margin: the y axis' labels */
#define MR 44.0
#define MT 28.0
#define MB 46.0

#define C_BEFORE "#3b6fb6"
#define C_AFTER "#e0741a"

struct axes {
	double h;			/* the plot's height */
	double x0, x1, y0, y1;		/* data ranges; x in log10 for histograms */
};

/*
 * A coordinate as printed: never inf or nan (an empty range or a far value
 * would make one), kept a little past the picture on either side.
 */
static double clamp(double v, double hi)
{
	return isnan(v) ? 0 : fmin(fmax(v, -hi), 2 * hi);
}

static double px(const struct axes *a, double x)
{
	return clamp(ML + (x - a->x0) / (a->x1 - a->x0) * (W - ML - MR), W);
}

static double py(const struct axes *a, double y)
{
	return clamp(a->h - MB - (y - a->y0) / (a->y1 - a->y0) * (a->h - MT - MB), a->h);
}

static void open_svg(FILE *f, double h, const char *label)
{
	fprintf(f, "<svg viewBox=\"0 0 %.0f %.0f\" "
		"role=\"img\" aria-label=\"%s\" class=\"plot\">\n"
		"<rect x=\"0\" y=\"0\" width=\"%.0f\" height=\"%.0f\" fill=\"#fbfcfe\"/>\n",
		W, h, label, W, h);
}

static void frame(FILE *f, const struct axes *a, const char *xlabel, const char *ylabel)
{
	fprintf(f, "<rect x=\"%.1f\" y=\"%.1f\" width=\"%.1f\" height=\"%.1f\" fill=\"none\" "
		"stroke=\"#8890a0\"/>\n", ML, MT, W - ML - MR, a->h - MT - MB);
	fprintf(f, "<text x=\"%.1f\" y=\"%.1f\" font-size=\"13\" text-anchor=\"middle\">%s</text>\n",
		(ML + W - MR) / 2, a->h - 8, xlabel);
	fprintf(f, "<text x=\"14\" y=\"%.1f\" font-size=\"13\" text-anchor=\"middle\" "
		"transform=\"rotate(-90 14 %.1f)\">%s</text>\n", (a->h) / 2, a->h / 2, ylabel);
}

static void ytick(FILE *f, const struct axes *a, double y, const char *label)
{
	fprintf(f, "<line x1=\"%.1f\" x2=\"%.1f\" y1=\"%.1f\" y2=\"%.1f\" stroke=\"#dde1e8\"/>"
		"<text x=\"%.1f\" y=\"%.1f\" font-size=\"12\" text-anchor=\"end\">%s</text>\n",
		ML, W - MR, py(a, y), py(a, y), ML - 6, py(a, y) + 4, label);
}

static void xtick(FILE *f, const struct axes *a, double x, const char *label)
{
	fprintf(f, "<line x1=\"%.1f\" x2=\"%.1f\" y1=\"%.1f\" y2=\"%.1f\" stroke=\"#dde1e8\"/>"
		"<text x=\"%.1f\" y=\"%.1f\" font-size=\"12\" text-anchor=\"middle\">%s</text>\n",
		px(a, x), px(a, x), MT, a->h - MB, px(a, x), a->h - MB + 16, label);
}

/* A round step (1, 2 or 5 times a power of ten) that cuts span into about n parts. */
static double nice_step(double span, int n)
{
	double raw = span / n, mag = pow(10, floor(log10(raw))), r = raw / mag;

	return (r < 1.5 ? 1 : r < 3.5 ? 2 : r < 7.5 ? 5 : 10) * mag;
}

/* Ticks at round values across a's x (or y) range, about n of them. */
static void round_ticks(FILE *f, const struct axes *a, bool x, int n)
{
	double lo = x ? a->x0 : a->y0, hi = x ? a->x1 : a->y1;
	double step = nice_step(hi - lo, n);

	if (!(step > 0) || !isfinite(step))
		return;
	/* Counted, not summed: a hostile range far from 0 cannot loop for ever. */
	for (int k = 0; k <= 4 * n; k++) {
		double v = (ceil(lo / step) + k) * step;
		char t[32];

		if (v > hi + step * 1e-9)
			break;

		/* -0 and 1e-17 from the sum read as 0 */
		snprintf(t, sizeof(t), "%.3g", fabs(v) < step * 1e-6 ? 0 : v);
		if (x)
			xtick(f, a, v, t);
		else
			ytick(f, a, v, t);
	}
}

/* The non-empty buckets' span of h as log10 ns edges; false when nothing was recorded. */
static bool span(const struct lps_hist *h, double *lo, double *hi)
{
	bool any = false;

	for (__u32 i = 0; h && i < HIST_BUCKETS; i++) {
		if (!h->buckets[i])
			continue;
		*lo = fmin(*lo, log10(fmax(0.5, (double)hist_bucket_lower(i))));
		*hi = fmax(*hi, log10((double)hist_bucket_upper(i)));
		any = true;
	}
	return any;
}

static double peak(const struct lps_hist *h)
{
	double rec = h ? (double)hist_recorded(h) : 0, m = 0;

	for (__u32 i = 0; rec > 0 && i < HIST_BUCKETS; i++)
		m = fmax(m, (double)h->buckets[i] / rec);
	return m;
}

static void bars(FILE *f, const struct axes *a, const struct lps_hist *h, const char *colour)
{
	double rec = (double)hist_recorded(h);

	fprintf(f, "<g fill=\"%s\" fill-opacity=\"0.55\">\n", colour);
	for (__u32 i = 0; rec > 0 && i < HIST_BUCKETS; i++) {
		double x0, x1, y;

		if (!h->buckets[i])
			continue;
		x0 = px(a, log10(fmax(0.5, (double)hist_bucket_lower(i))));
		x1 = px(a, log10((double)hist_bucket_upper(i)));
		y = py(a, (double)h->buckets[i] / rec);
		fprintf(f, "<rect x=\"%.2f\" y=\"%.2f\" width=\"%.2f\" height=\"%.2f\"/>\n", x0, y,
			fmax(1.0, x1 - x0), fmax(0.5, py(a, 0) - y));
	}
	fputs("</g>\n", f);
}

/* p50, p90, p99 of h as dashed lines with their labels, stacked by row (before above after). */
static void percentiles(FILE *f, const struct axes *a, const struct lps_hist *h,
			const char *colour, int row)
{
	static const double q[] = { 0.5, 0.9, 0.99 };
	static const char *const name[] = { "p50", "p90", "p99" };

	if (!hist_recorded(h))
		return;
	for (size_t k = 0; k < 3; k++) {
		double v = hist_percentile(h, q[k]), x = px(a, log10(fmax(0.5, v)));
		char t[32];

		fmt_ns(t, sizeof(t), v);
		fprintf(f, "<line x1=\"%.1f\" x2=\"%.1f\" y1=\"%.1f\" y2=\"%.1f\" stroke=\"%s\" "
			"stroke-width=\"2\" stroke-dasharray=\"%s\"/>\n", x, x, MT, a->h - MB, colour,
			k == 0 ? "6 3" : k == 1 ? "3 3" : "1 3");
		fprintf(f, "<text x=\"%.1f\" y=\"%.1f\" font-size=\"11\" fill=\"%s\" "
			"text-anchor=\"start\">%s %s</text>\n", x + 3, MT + 12 + 13 * (row * 3 + k),
			colour, name[k], t);
	}
}

void svg_plot__hist(FILE *f, const struct lps_hist *base, const struct lps_hist *obs)
{
	struct axes a = { .h = 300, .x0 = 1e9, .x1 = -1e9, .y0 = 0 };
	bool any = span(base, &a.x0, &a.x1);

	any = span(obs, &a.x0, &a.x1) || any;
	open_svg(f, a.h, "latency histograms before and after");
	if (!any) {
		a.x0 = 0;
		a.x1 = 1;
		a.y1 = 1;
		frame(f, &a, "latency (log scale)", "share of calls");
		fprintf(f, "<text x=\"%.0f\" y=\"%.0f\" font-size=\"16\" text-anchor=\"middle\" "
			"fill=\"#5a6272\">no latency recorded in either window</text>\n</svg>\n",
			W / 2, a.h / 2);
		return;
	}
	/* Whole decades, at least two, so the ticks mean something. */
	a.x0 = floor(a.x0);
	a.x1 = fmax(ceil(a.x1), a.x0 + 2);
	a.y1 = fmax(peak(base), peak(obs)) * 1.1;
	frame(f, &a, "latency per call (log scale)", "share of calls");
	for (double d = a.x0; d <= a.x1 + 1e-9; d++) {
		char t[32];

		fmt_ns(t, sizeof(t), pow(10, d));
		xtick(f, &a, d, t);
	}
	for (int k = 0; k <= 4; k++) {
		char t[32];

		snprintf(t, sizeof(t), "%.1f%%", a.y1 * k / 4 * 100);
		ytick(f, &a, a.y1 * k / 4, t);
	}
	if (base)
		bars(f, &a, base, C_BEFORE);
	bars(f, &a, obs, C_AFTER);
	if (base)
		percentiles(f, &a, base, C_BEFORE, 0);
	percentiles(f, &a, obs, C_AFTER, 1);
	fprintf(f, "<rect x=\"%.0f\" y=\"6\" width=\"12\" height=\"12\" fill=\"%s\"/>"
		"<text x=\"%.0f\" y=\"17\" font-size=\"12\">before%s</text>"
		"<rect x=\"%.0f\" y=\"6\" width=\"12\" height=\"12\" fill=\"%s\"/>"
		"<text x=\"%.0f\" y=\"17\" font-size=\"12\">after</text>\n</svg>\n",
		W - 260, C_BEFORE, W - 244, base ? "" : " (none)", W - 120, C_AFTER, W - 104);
}

static const char *decision_colour(const char *d)
{
	const char *c = html__result_class(d);

	return !strcmp(c, "pass") ? "#2f8f3a" : !strcmp(c, "fail") ? "#c62828" :
	       !strcmp(c, "inconclusive") ? "#c98a00" : "#6b7385";
}

static double minus_log10(double p)
{
	return p > 0 ? fmin(-log10(p), 300) : 300;
}

void svg_plot__looks(FILE *f, const struct vd_look *l, size_t n)
{
	struct axes a = { .h = 280, .x0 = 0, .x1 = 1e-9, .y0 = 0, .y1 = 1 };
	double top = 0;

	for (size_t i = 0; i < n; i++) {
		a.x1 = fmax(a.x1, l[i].t_s);
		a.x0 = fmin(a.x0, l[i].t_s);
		top = fmax(top, minus_log10(l[i].alpha));
	}
	/*
	 * The scale is the boundary's: a p far past it (1e-291 is common) is
	 * drawn at the top with its value, so the line stays readable.
	 */
	a.x1 = a.x1 * 1.05 + 0.1;
	a.y1 = ceil(fmax(10, 2.5 * top));
	open_svg(f, a.h, "looks over time");
	frame(f, &a, "seconds since the load", "-log10 p");
	round_ticks(f, &a, true, 6);
	round_ticks(f, &a, false, 5);
	/* The boundary: a look's deciding p below its alpha is above this line. */
	fputs("<polyline fill=\"none\" stroke=\"#c62828\" stroke-width=\"2\" "
	      "stroke-dasharray=\"6 4\" points=\"", f);
	for (size_t i = 0; i < n; i++)
		fprintf(f, "%.1f,%.1f ", px(&a, l[i].t_s), py(&a, minus_log10(l[i].alpha)));
	fputs("\"/>\n<polyline fill=\"none\" stroke=\"#3b6fb6\" stroke-width=\"2\" points=\"", f);
	for (size_t i = 0; i < n; i++)
		fprintf(f, "%.1f,%.1f ", px(&a, l[i].t_s), py(&a, fmin(a.y1, minus_log10(l[i].p))));
	fputs("\"/>\n", f);
	for (size_t i = 0; i < n; i++) {
		double x = px(&a, l[i].t_s), y = py(&a, fmin(a.y1, minus_log10(l[i].p)));

		/* Each look's alpha as a tick too: one look makes no line. */
		fprintf(f, "<line x1=\"%.1f\" x2=\"%.1f\" y1=\"%.1f\" y2=\"%.1f\" "
			"stroke=\"#c62828\" stroke-width=\"3\"/>\n", x - 9, x + 9,
			py(&a, minus_log10(l[i].alpha)), py(&a, minus_log10(l[i].alpha)));
		fprintf(f, "<circle cx=\"%.1f\" cy=\"%.1f\" r=\"6\" fill=\"%s\"/>\n", x, y,
			decision_colour(l[i].decision));
		if (minus_log10(l[i].p) > a.y1)
			fprintf(f, "<text x=\"%.1f\" y=\"%.1f\" font-size=\"11\" "
				"text-anchor=\"end\">p=%.2g &#8593;</text>\n", x - 8, y + 14, l[i].p);
	}
	fprintf(f, "<line x1=\"%.0f\" x2=\"%.0f\" y1=\"12\" y2=\"12\" stroke=\"#c62828\" "
		"stroke-width=\"2\" stroke-dasharray=\"6 4\"/><text x=\"%.0f\" y=\"16\" "
		"font-size=\"12\">-log10 alpha of the look</text>"
		"<line x1=\"%.0f\" x2=\"%.0f\" y1=\"12\" y2=\"12\" stroke=\"#3b6fb6\" "
		"stroke-width=\"2\"/><text x=\"%.0f\" y=\"16\" font-size=\"12\">-log10 p of the "
		"deciding check (dot: the look's decision; arrow: off the scale)</text>\n</svg>\n",
		ML, ML + 30, ML + 36, ML + 230, ML + 260, ML + 266);
}

/* A labelled span of the course: [x0, x1] in seconds on row (0 top). */
static void span_bar(FILE *f, const struct axes *a, double x0, double x1, int row,
		     const char *colour, const char *label)
{
	double y = MT + 8 + row * 34;

	fprintf(f, "<rect x=\"%.1f\" y=\"%.1f\" width=\"%.1f\" height=\"22\" fill=\"%s\" "
		"fill-opacity=\"0.8\"/>\n<text x=\"%.1f\" y=\"%.1f\" font-size=\"12\">", px(a, x0), y,
		fmax(3, px(a, x1) - px(a, x0)), colour, px(a, x0) + 4, y + 15);
	html__text(f, label);
	fputs("</text>\n", f);
}

void svg_plot__course(FILE *f, const struct verdict_detail *d)
{
	/* A negative baseline (not what gate writes) must not turn the axis round. */
	struct axes a = { .h = 220, .x0 = -fmax(0, d->baseline_s), .x1 = 1e-9, .y0 = 0, .y1 = 1 };
	double end_tr = d->completed_s >= 0 ? d->completed_s : 0;
	char t[96];

	for (size_t i = 0; i < d->ntl; i++)
		a.x1 = fmax(a.x1, d->tl[i].t_s);
	if (d->have_revert)
		a.x1 = fmax(a.x1, fmax(d->revert_start_s, d->revert_end_s));
	if (d->have_stall && d->stall_elapsed_s > 0)
		a.x1 = fmax(a.x1, d->stall_elapsed_s);
	a.x1 += (a.x1 - a.x0) * 0.05 + 0.1;
	open_svg(f, a.h, "the patch's course from the baseline to the decision");
	frame(f, &a, "seconds since the load", "");
	round_ticks(f, &a, true, 7);
	snprintf(t, sizeof(t), "baseline %.1fs", d->baseline_s);
	span_bar(f, &a, a.x0, 0, 0, "#9db7dc", t);
	if (d->completed_s >= 0) {
		snprintf(t, sizeof(t), "transition %.2fs", d->completed_s);
		span_bar(f, &a, 0, d->completed_s, 1, "#8fc98f", t);
	} else if (!strcmp(d->transition, "stalled") || d->have_stall) {
		end_tr = d->stall_elapsed_s > 0 ? d->stall_elapsed_s : a.x1 * 0.9;
		span_bar(f, &a, 0, end_tr, 1, "#e57373", "transition stalled");
	}
	if (d->ntl) {
		snprintf(t, sizeof(t), "observed: %zu look%s", d->ntl, d->ntl == 1 ? "" : "s");
		span_bar(f, &a, end_tr, d->tl[d->ntl - 1].t_s, 2, "#f2b27a", t);
	}
	for (size_t i = 0; i < d->ntl; i++)
		fprintf(f, "<circle cx=\"%.1f\" cy=\"%.1f\" r=\"4\" fill=\"%s\"/>\n",
			px(&a, d->tl[i].t_s), MT + 8 + 2 * 34 + 11, decision_colour(d->tl[i].decision));
	if (d->have_revert && d->revert_start_s >= 0) {
		snprintf(t, sizeof(t), "revert %.2fs: ", d->revert_end_s >= 0 ?
			 d->revert_end_s - d->revert_start_s : 0);
		strncat(t, d->revert_result, sizeof(t) - strlen(t) - 1);
		span_bar(f, &a, d->revert_start_s, d->revert_end_s >= 0 ? d->revert_end_s :
			 d->revert_start_s, 3, "#c62828", t);
	}
	fprintf(f, "<line x1=\"%.1f\" x2=\"%.1f\" y1=\"%.1f\" y2=\"%.1f\" stroke=\"#1d2330\" "
		"stroke-width=\"2\"/><text x=\"%.1f\" y=\"%.1f\" font-size=\"12\">load</text>\n"
		"</svg>\n", px(&a, 0), px(&a, 0), MT, a.h - MB, px(&a, 0) + 3, a.h - MB - 4);
}
