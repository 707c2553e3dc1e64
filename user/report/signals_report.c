// SPDX-License-Identifier: GPL-2.0
#include "hist.h"
#include "report.h"
#include "signals_report.h"

void signals_report__add_fields(struct json_object *o, const struct lps_func_signals *s)
{
	json_object_object_add(o, "lock_contentions", json_object_new_uint64(s->contended));
	json_object_object_add(o, "lock_wait_ns", json_object_new_uint64(s->contention_ns));
	json_object_object_add(o, "page_faults", json_object_new_uint64(s->page_faults));
}

struct json_object *signals_report__json(const struct lps_func_signals *s)
{
	struct json_object *o = json_object_new_object();

	signals_report__add_fields(o, s);
	return o;
}

void signals_report__text(FILE *f, const char *indent, const struct lps_func_signals *s)
{
	char wait[32];

	fmt_ns(wait, sizeof(wait), (double)s->contention_ns);
	fprintf(f, "%slock contentions %llu (%s waited), page faults %llu\n", indent,
		(unsigned long long)s->contended, wait, (unsigned long long)s->page_faults);
}

struct json_object *signals_report__system_json(const struct signals_snapshot *s,
						const char *lock_mode)
{
	struct json_object *o = json_object_new_object(), *lost = json_object_new_object();

	json_object_object_add(o, "lock_probes", json_object_new_string(lock_mode));
	json_object_object_add(o, "lock_contentions", json_object_new_uint64(s->sys.contended));
	json_object_object_add(o, "lock_wait_ns", json_object_new_uint64(s->sys.contention_ns));
	json_object_object_add(o, "runqueue", report__stats_json(&s->runq));
	json_object_object_add(lost, "no_task_storage",
			       json_object_new_uint64(s->drops[LPS_SDROP_NO_STORAGE]));
	json_object_object_add(lost, "lock_callers_full",
			       json_object_new_uint64(s->drops[LPS_SDROP_CALLERS_FULL]));
	json_object_object_add(lost, "no_stack", json_object_new_uint64(s->drops[LPS_SDROP_NO_STACK]));
	json_object_object_add(lost, "stale_frames",
			       json_object_new_uint64(s->drops[LPS_SDROP_STALE_FRAMES]));
	json_object_object_add(o, "not_recorded", lost);
	return o;
}

void signals_report__system_text(FILE *f, const struct signals_snapshot *s)
{
	char p50[32], p99[32], wait[32];

	fmt_ns(p50, sizeof(p50), hist_percentile(&s->runq, 0.5));
	fmt_ns(p99, sizeof(p99), hist_percentile(&s->runq, 0.99));
	fmt_ns(wait, sizeof(wait), (double)s->sys.contention_ns);
	fprintf(f, "system: run queue p50 %s p99 %s (%llu waits); lock contentions %llu (%s waited)\n",
		p50, p99, (unsigned long long)s->runq.calls, (unsigned long long)s->sys.contended, wait);
}
