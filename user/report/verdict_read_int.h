/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The field readers verdict_read.c checks a verdict with, shared with
 * verdict_detail.c (what only the HTML report reads), so that both parts of
 * a verdict are checked by the same rules. Not for other readers.
 */
#ifndef LPS_VERDICT_READ_INT_H
#define LPS_VERDICT_READ_INT_H

#include <stdbool.h>
#include <stddef.h>
#include <json-c/json.h>
#include <linux/types.h>

/* One line into why; -EINVAL. */
__attribute__((format(printf, 3, 4)))
int vread__bad(char *why, size_t len, const char *fmt, ...);
/* o[key], NULL when missing (or null). */
struct json_object *vread__get(struct json_object *o, const char *key);
/* A non-negative integer field. */
int vread__u64(struct json_object *o, const char *at, const char *key, __u64 *out, char *why,
	       size_t len);
/* A printable string that fits out; optional: missing or null is "". */
int vread__str(struct json_object *o, const char *at, const char *key, bool optional,
	       char *out, size_t size, char *why, size_t len);

#endif
