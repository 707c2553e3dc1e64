// SPDX-License-Identifier: GPL-2.0
#include <string.h>
#include "hist.h"
#include "report.h"

/* Text histograms show at most this many rows; neighbours are merged to fit. */
#define TEXT_MAX_ROWS 24
#define BAR_WIDTH 40

static const char *ret_kind_name(__u32 kind)
{
	static const char *const names[] = {
		[LPS_RET_VOID] = "void", [LPS_RET_INT32] = "int32", [LPS_RET_INT64] = "int64",
		[LPS_RET_PTR] = "pointer", [LPS_RET_UNKNOWN] = "unknown", [LPS_RET_NEVER] = "none",
	};

	return kind < sizeof(names) / sizeof(names[0]) ? names[kind] : "unknown";
}

struct json_object *report__stats_json(const struct lps_hist *h)
{
	struct json_object *o = json_object_new_object(), *buckets = json_object_new_array();

	json_object_object_add(o, "calls", json_object_new_uint64(h->calls));
	json_object_object_add(o, "errors", json_object_new_uint64(h->errors));
	json_object_object_add(o, "recorded", json_object_new_uint64(hist_recorded(h)));
	json_object_object_add(o, "unmatched", json_object_new_uint64(h->unmatched));
	json_object_object_add(o, "mean_ns", json_object_new_double(hist_mean(h)));
	json_object_object_add(o, "p50_ns", json_object_new_double(hist_percentile(h, 0.50)));
	json_object_object_add(o, "p90_ns", json_object_new_double(hist_percentile(h, 0.90)));
	json_object_object_add(o, "p99_ns", json_object_new_double(hist_percentile(h, 0.99)));
	json_object_object_add(o, "max_ns", json_object_new_uint64(h->max_ns));
	/* Non-empty buckets only, each with its own count (not cumulative):
	 * every latency in it is >= ge_ns and <= le_ns. */
	for (__u32 i = 0; i < HIST_BUCKETS; i++) {
		struct json_object *b;

		if (!h->buckets[i])
			continue;
		b = json_object_new_object();
		json_object_object_add(b, "ge_ns", json_object_new_uint64(hist_bucket_lower(i)));
		json_object_object_add(b, "le_ns", json_object_new_uint64(hist_bucket_upper(i) - 1));
		json_object_object_add(b, "count", json_object_new_uint64(h->buckets[i]));
		json_object_array_add(buckets, b);
	}
	json_object_object_add(o, "histogram", buckets);
	return o;
}

struct json_object *report__function_json(const struct probe_info *info, const struct lps_hist *h)
{
	struct json_object *o = json_object_new_object(), *stats = report__stats_json(h);

	json_object_object_add(o, "function", json_object_new_string(info->name));
	json_object_object_add(o, "object",
			       json_object_new_string(info->module ? info->module : "vmlinux"));
	json_object_object_add(o, "attach", json_object_new_string(attach_mode__name(info->mode)));
	json_object_object_add(o, "return", json_object_new_string(ret_kind_name(info->ret_kind)));
	json_object_object_add(o, "verified", json_object_new_boolean(info->verified));
	/* Totals since attach (in intervals too): the kernel's counters cannot be split. */
	json_object_object_add(o, "skipped_entries", json_object_new_uint64(info->skipped_entries));
	json_object_object_add(o, "skipped_returns", json_object_new_uint64(info->skipped_returns));
	json_object_object_foreach(stats, key, val)
		json_object_object_add(o, key, json_object_get(val));
	json_object_put(stats);
	return o;
}

struct row {
	__u64 lo, hi, count;	/* [lo, hi) */
};

/* Non-empty span of buckets, merged pairwise until it fits TEXT_MAX_ROWS. */
static size_t text_rows(const struct lps_hist *h, struct row *rows)
{
	int first = -1, last = -1;
	size_t n = 0, width = 1;

	for (int i = 0; i < (int)HIST_BUCKETS; i++) {
		if (h->buckets[i]) {
			if (first < 0)
				first = i;
			last = i;
		}
	}
	if (first < 0)
		return 0;
	while ((size_t)(last - first) / width + 1 > TEXT_MAX_ROWS)
		width *= 2;
	for (int i = first; i <= last; i += (int)width) {
		int end = i + (int)width - 1 > last ? last : i + (int)width - 1;

		rows[n].lo = hist_bucket_lower((__u32)i);
		rows[n].hi = hist_bucket_upper((__u32)end);
		if (end == HIST_BUCKETS - 1)
			rows[n].hi = h->max_ns + 1;
		rows[n].count = 0;
		for (int j = i; j <= end; j++)
			rows[n].count += h->buckets[j];
		n++;
	}
	return n;
}

void report__function_text(FILE *f, const struct probe_info *info, const struct lps_hist *h)
{
	struct row rows[TEXT_MAX_ROWS + 1];
	char p50[32], p90[32], p99[32], max[32], mean[32], lo[32], hi[32];
	__u64 peak = 0;
	size_t n;

	fmt_ns(mean, sizeof(mean), hist_mean(h));
	fmt_ns(p50, sizeof(p50), hist_percentile(h, 0.50));
	fmt_ns(p90, sizeof(p90), hist_percentile(h, 0.90));
	fmt_ns(p99, sizeof(p99), hist_percentile(h, 0.99));
	fmt_ns(max, sizeof(max), (double)h->max_ns);
	fprintf(f, "%s [%s, %s%s]\n", info->name, info->module ? info->module : "vmlinux",
		attach_mode__name(info->mode), info->verified ? "" : ", unverified");
	fprintf(f, "  calls %llu  errors %llu  mean %s  p50 %s  p90 %s  p99 %s  max %s\n",
		(unsigned long long)h->calls, (unsigned long long)h->errors, mean, p50, p90,
		p99, max);
	if (h->unmatched)
		fprintf(f, "  %llu returns without a recorded entry (calls already running when "
			"the probe attached, or entries the kernel skipped): not timed\n",
			(unsigned long long)h->unmatched);
	if (info->skipped_entries || info->skipped_returns)
		fprintf(f, "  the kernel skipped %llu entry and %llu return probe runs since attach "
			"(a probe preempted on that CPU): those calls are counted, not timed\n",
			(unsigned long long)info->skipped_entries,
			(unsigned long long)info->skipped_returns);
	n = text_rows(h, rows);
	for (size_t i = 0; i < n; i++)
		if (rows[i].count > peak)
			peak = rows[i].count;
	for (size_t i = 0; i < n; i++) {
		int bar = (int)(rows[i].count * BAR_WIDTH / peak);

		fmt_ns(lo, sizeof(lo), (double)rows[i].lo);
		fmt_ns(hi, sizeof(hi), (double)rows[i].hi);
		fprintf(f, "  %9s .. %-9s %10llu |%-*.*s|\n", lo, hi,
			(unsigned long long)rows[i].count, BAR_WIDTH, bar,
			"****************************************");
	}
}
