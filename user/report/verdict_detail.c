// SPDX-License-Identifier: GPL-2.0
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "verdict_detail.h"
#include "verdict_read_int.h"

/* A finite number field; missing or null: dflt (when optional). */
static int get_num(struct json_object *o, const char *at, const char *key, bool optional,
		   double dflt, double *out, char *why, size_t len)
{
	struct json_object *v = vread__get(o, key);

	*out = dflt;
	if (!v && optional)
		return 0;
	if (!v || !(json_object_is_type(v, json_type_double) ||
		    json_object_is_type(v, json_type_int)) || !isfinite(json_object_get_double(v)))
		return vread__bad(why, len, "%s.%s is not a number", at, key);
	*out = json_object_get_double(v);
	return 0;
}

/*
 * Seconds since the load (or of the baseline): 0 to VD_MAX_SECONDS, as gate
 * and the daemon write them. A far value (1e308) would overflow the plots'
 * arithmetic into inf and nan.
 */
static int get_secs(struct json_object *o, const char *at, const char *key, bool optional,
		    double dflt, double *out, char *why, size_t len)
{
	int ret = get_num(o, at, key, optional, dflt, out, why, len);

	if (ret || !vread__get(o, key))
		return ret;
	if (*out < 0 || *out > VD_MAX_SECONDS)
		return vread__bad(why, len, "%s.%s is %g, not 0 to %g seconds", at, key, *out,
				  VD_MAX_SECONDS);
	return 0;
}

/* An optional array field: NULL when missing, -EINVAL (said) when not an array or too long. */
static int get_array(struct json_object *o, const char *at, const char *key, size_t max,
		     struct json_object **arr, char *why, size_t len)
{
	*arr = vread__get(o, key);
	if (!*arr)
		return 0;
	if (!json_object_is_type(*arr, json_type_array))
		return vread__bad(why, len, "%s%s%s is not an array", at, *at ? "." : "", key);
	if (json_object_array_length(*arr) > max)
		return vread__bad(why, len, "%s%s%s has more than %zu entries", at, *at ? "." : "",
				  key, max);
	return 0;
}

/* An optional object field: NULL when missing. */
static int get_object(struct json_object *o, const char *at, const char *key,
		      struct json_object **out, char *why, size_t len)
{
	*out = vread__get(o, key);
	if (*out && !json_object_is_type(*out, json_type_object))
		return vread__bad(why, len, "%s%s%s is not an object", at, *at ? "." : "", key);
	return 0;
}

/* "thresholds": {"name": number...} as "name value, ..."; names of symbol characters only. */
static int read_thresholds(struct json_object *c, const char *at, char *out, size_t size,
			   char *why, size_t len)
{
	struct json_object *t;
	size_t used = 0;
	int ret = get_object(c, at, "thresholds", &t, why, len);

	out[0] = '\0';
	if (ret || !t)
		return ret;
	json_object_object_foreach(t, key, val) {
		double v;

		if (strspn(key, "abcdefghijklmnopqrstuvwxyz_") != strlen(key) || strlen(key) > 40)
			return vread__bad(why, len, "%s.thresholds has a key that is not a setting",
					  at);
		if ((ret = get_num(t, at, key, false, 0, &v, why, len)))
			return ret;
		if (used < size)
			used += (size_t)snprintf(out + used, size - used, "%s%s %g",
						 used ? ", " : "", key, v);
	}
	return 0;
}

static int read_checks(struct json_object *o, const char *at, struct vd_check *c, size_t *n,
		       char *why, size_t len)
{
	struct json_object *arr;
	char where[96];
	int ret = get_array(o, at, "checks", VD_MAX_CHECKS, &arr, why, len);

	*n = 0;
	for (size_t k = 0; !ret && arr && k < json_object_array_length(arr); k++) {
		struct json_object *e = json_object_array_get_idx(arr, k);

		snprintf(where, sizeof(where), "%s.checks[%zu]", at, k);
		if (!e || !json_object_is_type(e, json_type_object))
			return vread__bad(why, len, "%s is not an object", where);
		if ((ret = vread__str(e, where, "check", false, c[k].check, sizeof(c[k].check), why,
				      len)) ||
		    (ret = vread__str(e, where, "result", false, c[k].result, sizeof(c[k].result),
				      why, len)) ||
		    (ret = vread__str(e, where, "detail", true, c[k].detail, sizeof(c[k].detail),
				      why, len)) ||
		    (ret = vread__str(e, where, "coverage", true, c[k].coverage,
				      sizeof(c[k].coverage), why, len)) ||
		    (ret = get_num(e, where, "p", true, 1, &c[k].p, why, len)) ||
		    (ret = get_num(e, where, "alpha", true, -1, &c[k].alpha, why, len)) ||
		    (ret = read_thresholds(e, where, c[k].thresholds, sizeof(c[k].thresholds), why,
					   len)))
			return ret;
		*n = k + 1;
	}
	return ret;
}

/* A kernel stack: printable lines, newlines allowed (klp_tasks.c escapes the rest). */
static int read_stack(struct json_object *b, const char *at, char *out, size_t size, char *why,
		      size_t len)
{
	struct json_object *v = vread__get(b, "stack");
	const char *s;

	out[0] = '\0';
	if (!v)
		return 0;
	if (!json_object_is_type(v, json_type_string))
		return vread__bad(why, len, "%s.stack is not a string", at);
	s = json_object_get_string(v);
	for (const char *c = s; *c; c++)
		if (((unsigned char)*c < 0x20 && *c != '\n') || *c == 0x7f)
			return vread__bad(why, len, "%s.stack holds a control character", at);
	/* A long stack is cut, not refused: the report shows its top. */
	snprintf(out, size, "%s", s);
	return 0;
}

static int read_stall(struct json_object *sys, struct verdict_detail *d, char *why, size_t len)
{
	struct json_object *st, *ti, *bl;
	int ret = get_object(sys, "system", "stalled_transition", &st, why, len);

	if (ret || !st)
		return ret;
	d->have_stall = true;
	if ((ret = get_object(st, "system.stalled_transition", "transition_info", &ti, why, len)) ||
	    !ti)
		return ret;
	if ((ret = get_secs(ti, "transition_info", "elapsed_s", true, -1, &d->stall_elapsed_s, why,
			   len)) ||
	    (ret = get_array(ti, "transition_info", "blockers", VD_MAX_BLOCKERS, &bl, why, len)) ||
	    !bl)
		return ret;
	d->blockers = calloc(json_object_array_length(bl) + 1, sizeof(*d->blockers));
	if (!d->blockers)
		return -ENOMEM;
	for (size_t i = 0; i < json_object_array_length(bl); i++) {
		struct json_object *b = json_object_array_get_idx(bl, i);
		struct vd_blocker *x = &d->blockers[i];
		char at[64];
		__u64 pid;

		snprintf(at, sizeof(at), "transition_info.blockers[%zu]", i);
		if (!b || !json_object_is_type(b, json_type_object))
			return vread__bad(why, len, "%s is not an object", at);
		if ((ret = vread__u64(b, at, "pid", &pid, why, len)) ||
		    (ret = vread__str(b, at, "comm", true, x->comm, sizeof(x->comm), why, len)) ||
		    (ret = read_stack(b, at, x->stack, sizeof(x->stack), why, len)))
			return ret;
		x->pid = (__s64)(pid & 0x7fffffff);
		d->nblockers = i + 1;
	}
	return 0;
}

static int read_system(struct json_object *doc, struct verdict_detail *d, char *why, size_t len)
{
	struct json_object *sys, *faults;
	int ret = get_object(doc, "", "system", &sys, why, len);

	if (ret || !sys)
		return ret;
	if ((ret = read_checks(sys, "system", d->sys, &d->nsys, why, len)) ||
	    (ret = get_array(sys, "system", "kernel_faults", ~(size_t)0, &faults, why, len)))
		return ret;
	for (size_t i = 0; faults && i < json_object_array_length(faults) && i < VD_MAX_FAULTS;
	     i++) {
		struct json_object *f = json_object_array_get_idx(faults, i);
		char at[48];

		snprintf(at, sizeof(at), "system.kernel_faults[%zu]", i);
		if (!f || !json_object_is_type(f, json_type_object))
			return vread__bad(why, len, "%s is not an object", at);
		if ((ret = vread__str(f, at, "line", false, d->faults[i], sizeof(d->faults[i]), why,
				      len)))
			return ret;
		d->nfaults = i + 1;
	}
	return read_stall(sys, d, why, len);
}

static int read_look(struct json_object *l, size_t i, struct vd_look *x, char *why, size_t len)
{
	char at[48];
	int ret;

	snprintf(at, sizeof(at), "timeline.looks[%zu]", i);
	if (!l || !json_object_is_type(l, json_type_object))
		return vread__bad(why, len, "%s is not an object", at);
	if ((ret = get_secs(l, at, "t_s", false, 0, &x->t_s, why, len)) ||
	    (ret = vread__u64(l, at, "calls", &x->calls, why, len)) ||
	    (ret = get_num(l, at, "alpha", false, 0, &x->alpha, why, len)) ||
	    (ret = get_num(l, at, "p", true, 1, &x->p, why, len)) ||
	    (ret = vread__str(l, at, "decision", false, x->decision, sizeof(x->decision), why,
			      len)) ||
	    (ret = vread__str(l, at, "check", true, x->check, sizeof(x->check), why, len)) ||
	    (ret = vread__str(l, at, "function", true, x->function, sizeof(x->function), why,
			      len)) ||
	    (ret = vread__str(l, at, "result", true, x->result, sizeof(x->result), why, len)))
		return ret;
	return 0;
}

static int read_timeline(struct json_object *doc, struct verdict_detail *d, char *why, size_t len)
{
	struct json_object *t, *tr, *looks, *rv;
	int ret = get_object(doc, "", "timeline", &t, why, len);

	if (ret || !t)
		return ret;
	d->have_timeline = true;
	if ((ret = get_secs(t, "timeline", "baseline_s", true, 0, &d->baseline_s, why, len)) ||
	    (ret = get_object(t, "timeline", "transition", &tr, why, len)) ||
	    (tr && (ret = vread__str(tr, "timeline.transition", "result", true, d->transition,
				     sizeof(d->transition), why, len))) ||
	    (ret = get_array(t, "timeline", "looks", VD_MAX_LOOKS, &looks, why, len)) ||
	    (ret = get_object(t, "timeline", "revert", &rv, why, len)))
		return ret;
	d->completed_s = -1;
	if (tr && (ret = get_secs(tr, "timeline.transition", "completed_s", true, -1,
				 &d->completed_s, why, len)))
		return ret;
	if (vread__get(t, "looks_not_listed") &&
	    (ret = vread__u64(t, "timeline", "looks_not_listed", &d->not_listed, why, len)))
		return ret;
	d->ntl = looks ? json_object_array_length(looks) : 0;
	d->tl = calloc(d->ntl + 1, sizeof(*d->tl));
	if (!d->tl)
		return -ENOMEM;
	for (size_t i = 0; i < d->ntl; i++)
		if ((ret = read_look(json_object_array_get_idx(looks, i), i, &d->tl[i], why, len)))
			return ret;
	if (!rv)
		return 0;
	d->have_revert = true;
	if ((ret = get_secs(rv, "timeline.revert", "started_s", true, -1, &d->revert_start_s, why,
			   len)) ||
	    (ret = get_secs(rv, "timeline.revert", "ended_s", true, -1, &d->revert_end_s, why,
			   len)))
		return ret;
	return vread__str(rv, "timeline.revert", "result", true, d->revert_result,
			  sizeof(d->revert_result), why, len);
}

int verdict_detail__read(struct json_object *doc, size_t nfns, struct verdict_detail *d,
			 char *why, size_t len)
{
	struct json_object *fns = vread__get(doc, "functions"), *op = vread__get(doc, "operational");
	int ret;

	if ((ret = vread__str(doc, "", "patch", true, d->patch, sizeof(d->patch), why, len)) ||
	    (ret = vread__str(doc, "", "params", true, d->params, sizeof(d->params), why, len)) ||
	    (ret = vread__str(doc, "", "inconclusive_policy", true, d->policy, sizeof(d->policy),
			      why, len)) ||
	    (ret = vread__str(doc, "", "revert_error", true, d->revert_error,
			      sizeof(d->revert_error), why, len)) ||
	    (ret = vread__str(doc, "", "revert_overrun", true, d->revert_overrun,
			      sizeof(d->revert_overrun), why, len)))
		goto fail;
	if (vread__get(doc, "looks") && (ret = vread__u64(doc, "", "looks", &d->looks, why, len)))
		goto fail;
	if (op && !json_object_is_type(op, json_type_boolean)) {
		ret = vread__bad(why, len, "operational is not a boolean");
		goto fail;
	}
	d->operational = op && json_object_get_boolean(op);
	d->fns = calloc(nfns + 1, sizeof(*d->fns));
	if (!d->fns) {
		ret = -ENOMEM;
		goto fail;
	}
	for (size_t i = 0; i < nfns; i++) {
		struct json_object *f = json_object_array_get_idx(fns, i);
		char at[48];

		snprintf(at, sizeof(at), "functions[%zu]", i);
		if ((ret = vread__str(f, at, "verdict", true, d->fns[i].verdict,
				      sizeof(d->fns[i].verdict), why, len)) ||
		    (ret = vread__str(f, at, "attach", true, d->fns[i].attach,
				      sizeof(d->fns[i].attach), why, len)) ||
		    (ret = read_checks(f, at, d->fns[i].checks, &d->fns[i].n, why, len)))
			goto fail;
	}
	if ((ret = read_system(doc, d, why, len)) || (ret = read_timeline(doc, d, why, len)))
		goto fail;
	return 0;
fail:
	if (ret == -ENOMEM)
		snprintf(why, len, "out of memory");
	verdict_detail__free(d);
	return ret;
}

void verdict_detail__free(struct verdict_detail *d)
{
	free(d->fns);
	free(d->blockers);
	free(d->tl);
	memset(d, 0, sizeof(*d));
}
