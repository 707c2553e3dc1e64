// SPDX-License-Identifier: GPL-2.0
/*
 * The control socket's requests and replies as text: parsed and checked
 * here, field by field, before anything acts on them (control.c moves the
 * bytes, watch_clients.c acts).
 */
#include <errno.h>
#include <math.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>
#include "control.h"

/* How deep a request nests (it does not) and a verdict does (five levels). */
#define REQUEST_DEPTH 4
#define REPLY_DEPTH 16

/*
 * One JSON object from buf[0..len), with nothing but white space after it.
 * json-c's own parser, bounded in depth; a NUL inside is refused (json-c
 * would stop there and the rest would go unread).
 */
static int parse_object(const char *buf, size_t len, int depth, struct json_object **doc,
			char *why, size_t why_len)
{
	struct json_tokener *tok;
	enum json_tokener_error err;
	size_t end;

	*doc = NULL;
	if (memchr(buf, 0, len)) {
		snprintf(why, why_len, "a NUL byte in the JSON text");
		return -EINVAL;
	}
	tok = json_tokener_new_ex(depth);
	if (!tok) {
		snprintf(why, why_len, "out of memory");
		return -ENOMEM;
	}
	json_tokener_set_flags(tok, JSON_TOKENER_STRICT);
	*doc = json_tokener_parse_ex(tok, buf, (int)len);
	err = json_tokener_get_error(tok);
	end = json_tokener_get_parse_end(tok);
	json_tokener_free(tok);
	if (!*doc || err != json_tokener_success) {
		snprintf(why, why_len, "not JSON: %s", err == json_tokener_continue ?
			 "it ends too early" : json_tokener_error_desc(err));
		goto bad;
	}
	for (; end < len; end++)
		if (!strchr(" \t\r\n", buf[end])) {
			snprintf(why, why_len, "not one JSON document: text after it at byte %zu", end);
			goto bad;
		}
	if (!json_object_is_type(*doc, json_type_object)) {
		snprintf(why, why_len, "not a JSON object");
		goto bad;
	}
	return 0;
bad:
	json_object_put(*doc);
	*doc = NULL;
	return -EINVAL;
}

static int path_field(const char *key, struct json_object *v, char *out, char *why, size_t len)
{
	const char *s = json_object_get_string(v);
	size_t n;

	if (!json_object_is_type(v, json_type_string)) {
		snprintf(why, len, "%s must be a string (an absolute path)", key);
		return -EINVAL;
	}
	n = (size_t)json_object_get_string_len(v);
	if (n != strlen(s) || s[0] != '/' || n >= PATH_MAX) {
		snprintf(why, len, "%s must be an absolute path of fewer than %d bytes, without NUL",
			 key, PATH_MAX);
		return -EINVAL;
	}
	memcpy(out, s, n + 1);
	return 0;
}

static int seconds_field(const char *key, struct json_object *v, double *out, char *why,
			 size_t len)
{
	double d;

	if (!json_object_is_type(v, json_type_double) && !json_object_is_type(v, json_type_int)) {
		snprintf(why, len, "%s must be a number of seconds", key);
		return -EINVAL;
	}
	d = json_object_get_double(v);
	if (!isfinite(d) || d < CONTROL_SECONDS_MIN || d > CONTROL_SECONDS_MAX) {
		snprintf(why, len, "%s must be between %g and %g seconds", key, CONTROL_SECONDS_MIN,
			 CONTROL_SECONDS_MAX);
		return -EINVAL;
	}
	*out = d;
	return 0;
}

/* params: an array of PARAM=VALUE strings, each checked as gate checks its own. */
static int params_field(struct json_object *v, char *out, size_t outlen, char *why, size_t len)
{
	const char *items[KLP_PARAMS_MAX / 2];
	size_t n = json_object_is_type(v, json_type_array) ? json_object_array_length(v) : 0;
	bool ok = json_object_is_type(v, json_type_array) && n <= KLP_PARAMS_MAX / 2;

	for (size_t i = 0; ok && i < n; i++) {
		struct json_object *e = json_object_array_get_idx(v, i);

		/* A NUL inside would hide the rest from the check: refused like a path's. */
		items[i] = json_object_get_string(e);
		ok = json_object_is_type(e, json_type_string) &&
		     (size_t)json_object_get_string_len(e) == strlen(items[i]);
	}
	if (!ok) {
		snprintf(why, len, "params must be an array of at most %d PARAM=VALUE strings",
			 KLP_PARAMS_MAX / 2);
		return -EINVAL;
	}
	return klp_params__join(items, n, out, outlen, why, len) ? -EINVAL : 0;
}

int control__parse_request(const char *buf, size_t len, struct control_request *req, char *why,
			   size_t why_len)
{
	struct json_object *doc;
	bool have_op = false;
	int ret = parse_object(buf, len, REQUEST_DEPTH, &doc, why, why_len);

	memset(req, 0, sizeof(*req));
	if (ret)
		return ret;
	/* Unknown fields are refused: a request this daemon does not fully understand is not run. */
	json_object_object_foreach(doc, key, v) {
		if (!strcmp(key, "op")) {
			have_op = json_object_is_type(v, json_type_string) &&
				  !strcmp(json_object_get_string(v), "gate");
			if (!have_op) {
				snprintf(why, why_len, "op must be \"gate\"");
				ret = -EINVAL;
			}
		} else if (!strcmp(key, "module")) {
			ret = path_field(key, v, req->module, why, why_len);
		} else if (!strcmp(key, "rules")) {
			ret = path_field(key, v, req->rules, why, why_len);
		} else if (!strcmp(key, "baseline_s")) {
			ret = seconds_field(key, v, &req->baseline_s, why, why_len);
		} else if (!strcmp(key, "observe_s")) {
			ret = seconds_field(key, v, &req->observe_s, why, why_len);
		} else if (!strcmp(key, "params")) {
			ret = params_field(v, req->params, sizeof(req->params), why, why_len);
		} else {
			char name[64];

			snprintf(name, sizeof(name), "%s", key);
			for (char *p = name; *p; p++)	/* a key is hostile text: printable only */
				if (*p < 0x20 || *p >= 0x7f || *p == '"' || *p == '\\')
					*p = '?';
			snprintf(why, why_len, "unknown field \"%s\" (op, module, rules, baseline_s, "
				 "observe_s, params)", name);
			ret = -EINVAL;
		}
		if (ret)
			break;
	}
	if (!ret && (!have_op || !req->module[0])) {
		snprintf(why, why_len, "a request needs op \"gate\" and module");
		ret = -EINVAL;
	}
	json_object_put(doc);
	return ret;
}

int control__parse_reply(const char *buf, size_t len, struct json_object **doc, char *why,
			 size_t why_len)
{
	if (len > CONTROL_REPLY_MAX) {
		snprintf(why, why_len, "over %lu bytes", CONTROL_REPLY_MAX);
		return -EPROTO;
	}
	return parse_object(buf, len, REPLY_DEPTH, doc, why, why_len) ? -EPROTO : 0;
}
