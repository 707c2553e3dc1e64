// SPDX-License-Identifier: GPL-2.0
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <json-c/json.h>
#include "hist.h"
#include "safe_file.h"
#include "verdict_read.h"
#include "verdict_read_int.h"

/* JSON nesting a verdict never needs more of: deeper is refused by the parser. */
#define VERDICT_MAX_DEPTH 16
/*
 * Counts a window can hold (2^53: a billion calls a second for over three
 * months), and that a double still holds exactly; more is a crafted file.
 */
#define VERDICT_MAX_COUNT (1ULL << 53)

__attribute__((format(printf, 3, 4)))
int vread__bad(char *why, size_t len, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(why, len, fmt, ap);
	va_end(ap);
	return -EINVAL;
}

struct json_object *vread__get(struct json_object *o, const char *key)
{
	struct json_object *v = NULL;

	return json_object_object_get_ex(o, key, &v) ? v : NULL;
}

/* A non-negative integer field. */
int vread__u64(struct json_object *o, const char *at, const char *key, __u64 *out, char *why,
		   size_t len)
{
	struct json_object *v = vread__get(o, key);

	if (!v || !json_object_is_type(v, json_type_int))
		return vread__bad(why, len, "%s.%s is not an integer", at, key);
	errno = 0;
	if (json_object_get_int64(v) < 0)
		return vread__bad(why, len, "%s.%s is negative", at, key);
	*out = json_object_get_uint64(v);
	return 0;
}

/* A count: as get_u64, at most VERDICT_MAX_COUNT. */
static int get_count(struct json_object *o, const char *at, const char *key, __u64 *out,
		     char *why, size_t len)
{
	int ret = vread__u64(o, at, key, out, why, len);

	if (!ret && *out > VERDICT_MAX_COUNT)
		return vread__bad(why, len, "%s.%s is %llu, more than any window counts", at, key,
			   (unsigned long long)*out);
	return ret;
}

/*
 * A string field copied into out (printable, fits). optional: a missing or
 * null field is "". The text is shown to people, so control bytes are refused.
 */
int vread__str(struct json_object *o, const char *at, const char *key, bool optional,
		   char *out, size_t size, char *why, size_t len)
{
	struct json_object *v = vread__get(o, key);
	const char *s;

	out[0] = '\0';
	if (!v && optional)
		return 0;
	if (!v || !json_object_is_type(v, json_type_string))
		return vread__bad(why, len, "%s%s%s is not a string", at, *at ? "." : "", key);
	s = json_object_get_string(v);
	if ((size_t)json_object_get_string_len(v) >= size)
		return vread__bad(why, len, "%s%s%s is longer than %zu bytes", at, *at ? "." : "", key,
			   size - 1);
	for (const char *c = s; *c; c++)
		if ((unsigned char)*c < 0x20 || *c == 0x7f)
			return vread__bad(why, len, "%s%s%s holds a control character", at, *at ? "." : "",
				   key);
	snprintf(out, size, "%s", s);
	return 0;
}

/* The bucket whose edges are [ge, le], searching from *idx on (buckets come in order). */
static int bucket_of(__u64 ge, __u64 le, __u32 *idx)
{
	for (; *idx < HIST_BUCKETS; ++*idx)
		if (hist_bucket_lower(*idx) == ge)
			return hist_bucket_upper(*idx) - 1 == le ? 0 : -EINVAL;
		else if (hist_bucket_lower(*idx) > ge)
			break;
	return -EINVAL;
}

/* A STATS object (report__stats_json) back into a histogram. */
static int read_stats(struct json_object *o, const char *at, struct lps_hist *h, char *why,
		      size_t len)
{
	struct json_object *arr, *mean;
	__u64 recorded, sum = 0;
	__u32 idx = 0;
	char where[96];
	size_t n;
	int ret;

	memset(h, 0, sizeof(*h));
	if (!json_object_is_type(o, json_type_object) || !o)
		return vread__bad(why, len, "%s is not an object", at);
	if ((ret = get_count(o, at, "calls", &h->calls, why, len)) ||
	    (ret = get_count(o, at, "errors", &h->errors, why, len)) ||
	    (ret = get_count(o, at, "unmatched", &h->unmatched, why, len)) ||
	    (ret = vread__u64(o, at, "max_ns", &h->max_ns, why, len)) ||
	    (ret = get_count(o, at, "recorded", &recorded, why, len)))
		return ret;
	mean = vread__get(o, "mean_ns");
	if (!mean || !(json_object_is_type(mean, json_type_double) ||
		       json_object_is_type(mean, json_type_int)) ||
	    !isfinite(json_object_get_double(mean)) || json_object_get_double(mean) < 0)
		return vread__bad(why, len, "%s.mean_ns is not a non-negative number", at);
	arr = vread__get(o, "histogram");
	if (!arr || !json_object_is_type(arr, json_type_array))
		return vread__bad(why, len, "%s.histogram is not an array", at);
	n = json_object_array_length(arr);
	if (n > HIST_BUCKETS)
		return vread__bad(why, len, "%s.histogram has %zu buckets, more than %u", at, n, HIST_BUCKETS);
	for (size_t i = 0; i < n; i++) {
		struct json_object *b = json_object_array_get_idx(arr, i);
		__u64 ge, le, count;

		snprintf(where, sizeof(where), "%s.histogram[%zu]", at, i);
		if (!json_object_is_type(b, json_type_object) || !b)
			return vread__bad(why, len, "%s is not an object", where);
		if ((ret = vread__u64(b, where, "ge_ns", &ge, why, len)) ||
		    (ret = vread__u64(b, where, "le_ns", &le, why, len)) ||
		    (ret = get_count(b, where, "count", &count, why, len)))
			return ret;
		if (bucket_of(ge, le, &idx))
			return vread__bad(why, len, "%s is not one of lpsentinel's buckets in order "
				   "(%llu-%llu ns)", where, (unsigned long long)ge,
				   (unsigned long long)le);
		if (!count || count > ~0ULL - sum)
			return vread__bad(why, len, "%s.count is %s", where, count ? "too large" : "0");
		h->buckets[idx++] = count;
		sum += count;
	}
	if (sum != recorded)
		return vread__bad(why, len, "%s: the histogram holds %llu latencies, \"recorded\" says %llu",
			   at, (unsigned long long)sum, (unsigned long long)recorded);
	h->sum_ns = (__u64)fmin(json_object_get_double(mean) * (double)recorded, 1.8e19);
	return 0;
}

static int read_signals(struct json_object *o, const char *at, struct lps_func_signals *s,
			char *why, size_t len)
{
	int ret;

	if (!json_object_is_type(o, json_type_object) || !o)
		return vread__bad(why, len, "%s is not an object", at);
	if ((ret = get_count(o, at, "lock_contentions", &s->contended, why, len)) ||
	    (ret = vread__u64(o, at, "lock_wait_ns", &s->contention_ns, why, len)) ||
	    (ret = get_count(o, at, "page_faults", &s->page_faults, why, len)))
		return ret;
	return 0;
}

static int read_function(struct json_object *f, size_t i, struct verdict_fn *fn, char *why,
			 size_t len)
{
	struct json_object *base, *sb, *so;
	char at[48], where[80];
	int ret;

	snprintf(at, sizeof(at), "functions[%zu]", i);
	if (!json_object_is_type(f, json_type_object) || !f)
		return vread__bad(why, len, "%s is not an object", at);
	if ((ret = vread__str(f, at, "function", false, fn->function, sizeof(fn->function), why, len)) ||
	    (ret = vread__str(f, at, "object", false, fn->object, sizeof(fn->object), why, len)))
		return ret;
	/* The watch daemon writes null for a function first seen already patched. */
	base = vread__get(f, "baseline");
	fn->none = !base;
	snprintf(where, sizeof(where), "%s.baseline", at);
	if (base && (ret = read_stats(base, where, &fn->base, why, len)))
		return ret;
	snprintf(where, sizeof(where), "%s.observed", at);
	if ((ret = read_stats(vread__get(f, "observed"), where, &fn->obs, why, len)))
		return ret;
	sb = vread__get(f, "baseline_signals");
	so = vread__get(f, "observed_signals");
	fn->signals = sb && so;
	snprintf(where, sizeof(where), "%s.baseline_signals", at);
	if (sb && (ret = read_signals(sb, where, &fn->sbase, why, len)))
		return ret;
	snprintf(where, sizeof(where), "%s.observed_signals", at);
	if (so && (ret = read_signals(so, where, &fn->sobs, why, len)))
		return ret;
	return 0;
}

static int read_identity(struct json_object *doc, struct lps_identity *id, char *why, size_t len)
{
	struct json_object *o = vread__get(doc, "identity"), *k, *p;
	int ret;

	if (!o || !json_object_is_type(o, json_type_object))
		return vread__bad(why, len, "no \"identity\" object (written by an lpsentinel before "
			   "pooling, or not a verdict)");
	k = vread__get(o, "kernel");
	p = vread__get(o, "patch");
	if (!k || !json_object_is_type(k, json_type_object))
		return vread__bad(why, len, "identity.kernel is not an object");
	if (!p || !json_object_is_type(p, json_type_object))
		return vread__bad(why, len, "identity.patch is not an object");
	if ((ret = vread__str(o, "identity", "host", true, id->host, sizeof(id->host), why, len)) ||
	    (ret = vread__str(k, "identity.kernel", "release", true, id->release, sizeof(id->release),
			   why, len)) ||
	    (ret = vread__str(k, "identity.kernel", "build_id", true, id->kernel_build_id,
			   sizeof(id->kernel_build_id), why, len)) ||
	    (ret = vread__str(p, "identity.patch", "name", true, id->patch, sizeof(id->patch), why,
			   len)) ||
	    (ret = vread__str(p, "identity.patch", "build_id", true, id->patch_build_id,
			   sizeof(id->patch_build_id), why, len)))
		return ret;
	return 0;
}

static int read_doc(struct json_object *doc, struct verdict_doc *out, struct verdict_detail *more,
		    char *why, size_t len)
{
	struct json_object *fns, *sys, *faults;
	int ret;

	if (!json_object_is_type(doc, json_type_object) || !doc)
		return vread__bad(why, len, "not a JSON object");
	if ((ret = read_identity(doc, &out->id, why, len)) ||
	    (ret = vread__str(doc, "", "verdict", false, out->verdict, sizeof(out->verdict), why, len)) ||
	    (ret = vread__str(doc, "", "action", false, out->action, sizeof(out->action), why, len)) ||
	    (ret = vread__str(doc, "", "reason", false, out->reason, sizeof(out->reason), why, len)))
		return ret;
	fns = vread__get(doc, "functions");
	if (!fns || !json_object_is_type(fns, json_type_array))
		return vread__bad(why, len, "functions is not an array");
	out->n = json_object_array_length(fns);
	if (out->n > VERDICT_READ_MAX_FUNCS)
		return vread__bad(why, len, "%zu functions, more than %d", out->n, VERDICT_READ_MAX_FUNCS);
	out->fns = calloc(out->n ? out->n : 1, sizeof(*out->fns));
	if (!out->fns) {
		snprintf(why, len, "out of memory");
		return -ENOMEM;
	}
	for (size_t i = 0; i < out->n; i++) {
		if ((ret = read_function(json_object_array_get_idx(fns, i), i, &out->fns[i], why, len)))
			return ret;
		/* A function twice would count its host twice in the pool. */
		for (size_t e = 0; e < i; e++)
			if (verdict_fn__same(&out->fns[e], &out->fns[i]))
				return vread__bad(why, len, "functions[%zu] is %s of %s again", i,
					   out->fns[i].function, out->fns[i].object);
	}
	sys = vread__get(doc, "system");
	faults = sys && json_object_is_type(sys, json_type_object) ? vread__get(sys, "kernel_faults") : NULL;
	if (faults && !json_object_is_type(faults, json_type_array))
		return vread__bad(why, len, "system.kernel_faults is not an array");
	out->sys_faults = faults ? json_object_array_length(faults) : 0;
	if (out->sys_faults &&
	    (ret = vread__str(json_object_array_get_idx(faults, 0), "system.kernel_faults[0]",
			      "line", false, out->fault_line, sizeof(out->fault_line), why, len)))
		return ret;
	return more ? verdict_detail__read(doc, out->n, more, why, len) : 0;
}

int verdict_read__buf_detail(const char *buf, size_t size, struct verdict_doc *out,
			     struct verdict_detail *more, char *why, size_t len)
{
	enum json_tokener_error e;
	struct json_tokener *tok = NULL;
	struct json_object *doc = NULL;
	size_t end;
	int ret = 0;

	memset(out, 0, sizeof(*out));
	if (more)
		memset(more, 0, sizeof(*more));
	tok = json_tokener_new_ex(VERDICT_MAX_DEPTH);
	if (!tok) {
		snprintf(why, len, "out of memory");
		return -ENOMEM;
	}
	if (size > INT_MAX) {
		ret = vread__bad(why, len, "not a JSON document: too large");
		goto cleanup;
	}
	doc = json_tokener_parse_ex(tok, buf, (int)size);
	end = json_tokener_get_parse_end(tok);
	e = json_tokener_get_error(tok);
	/*
	 * A number or literal that ends the bytes (a file holding just 1) waits
	 * for more: the end of the input completes it, so it is said to be no
	 * object, not a document that ends early.
	 */
	if (!doc && e == json_tokener_continue) {
		doc = json_tokener_parse_ex(tok, "", 1);
		end = size;
		if (doc || json_tokener_get_error(tok) == json_tokener_success)
			e = json_tokener_success;
	}
	if (!doc && e == json_tokener_success) {
		ret = vread__bad(why, len, "not a JSON object");	/* null */
		goto cleanup;
	}
	if (!doc || e != json_tokener_success) {
		ret = vread__bad(why, len, "not a JSON document: %s", e == json_tokener_continue ?
				 "it ends early" : json_tokener_error_desc(e));
		goto cleanup;
	}
	/* One document, and nothing after it but the newline cli__print_json ends with. */
	for (size_t i = end; i < size; i++)
		if (!buf[i] || !strchr(" \t\r\n", buf[i])) {
			ret = vread__bad(why, len, "something follows the JSON document");
			goto cleanup;
		}
	ret = read_doc(doc, out, more, why, len);
cleanup:
	if (ret) {
		verdict_doc__free(out);
		if (more)
			verdict_detail__free(more);
	}
	json_object_put(doc);
	json_tokener_free(tok);
	return ret;
}

int verdict_read__buf(const char *buf, size_t size, struct verdict_doc *out, char *why,
		      size_t len)
{
	return verdict_read__buf_detail(buf, size, out, NULL, why, len);
}

int verdict_read__file_detail(const char *path, struct verdict_doc *out,
			      struct verdict_detail *more, char *why, size_t len)
{
	char *buf = NULL;
	size_t size;
	int ret;

	memset(out, 0, sizeof(*out));
	ret = safe_file__read(AT_FDCWD, path, 0, VERDICT_READ_MAX_BYTES, &buf, &size, why, len);
	if (ret)
		return ret;
	ret = verdict_read__buf_detail(buf, size, out, more, why, len);
	free(buf);
	return ret;
}

int verdict_read__file(const char *path, struct verdict_doc *out, char *why, size_t len)
{
	return verdict_read__file_detail(path, out, NULL, why, len);
}

void verdict_doc__free(struct verdict_doc *d)
{
	free(d->fns);
	memset(d, 0, sizeof(*d));
}
